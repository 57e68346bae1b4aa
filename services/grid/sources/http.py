"""The one HTTP helper the JSON sources share: a GET with a timeout, a clear SourceError otherwise."""
from __future__ import annotations

import json
from typing import Any

import httpx

from services.grid.sources import SourceError

TIMEOUT = 10.0


def get_json(url: str, params: dict[str, Any] | None = None) -> Any:
    try:
        response = httpx.get(url, params=params, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise SourceError(f"no answer from {url}: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise SourceError(f"{url} answered HTTP {response.status_code}")
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"{url} answered something that is not JSON") from exc
