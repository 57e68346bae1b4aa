"""The HTTP calls the adapters share: one httpx client per credentials, errors turned into our three kinds."""
from __future__ import annotations

from typing import Any

import httpx

from services.payments.gateways.base import GatewayTimeout, GatewayUnavailable


def send(client: httpx.Client, method: str, url: str, *, content: bytes | None = None,
         headers: dict[str, str] | None = None, auth: Any = None) -> httpx.Response:
    try:
        response = client.request(method, url, content=content, headers=headers, auth=auth)
    except httpx.TimeoutException as exc:
        # A read timeout means the request went out; a connect timeout means it never did.
        if isinstance(exc, httpx.ConnectTimeout):
            raise GatewayUnavailable(f"{url}: could not connect") from exc
        raise GatewayTimeout(f"{url}: no answer in time") from exc
    except httpx.TransportError as exc:
        raise GatewayUnavailable(f"{url}: {exc.__class__.__name__}") from exc
    if response.status_code >= 500:
        raise GatewayUnavailable(f"{url}: HTTP {response.status_code}")
    return response
