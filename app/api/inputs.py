"""One check of every request's input before any route runs (issue 12): text the database cannot store
(a NUL byte, a lone surrogate) and integers outside PostgreSQL's 32-bit columns answer 422 with a
message, instead of failing deep in a query with a 500."""
from __future__ import annotations

import types
import typing
from typing import Any

from fastapi import Request
from fastapi.dependencies.utils import get_flat_params

from core.validation import check_int32, check_text


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return int in typing.get_args(annotation)
    return False


def _int_params(request: Request) -> set[str]:
    """The path and query parameters the matched route declares as integers."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return set()
    return {f.alias for f in get_flat_params(dependant) if _is_int(f.field_info.annotation)}


def _walk(value: Any, field: str) -> None:
    if isinstance(value, str):
        check_text(value, field)
    elif isinstance(value, int) and not isinstance(value, bool):
        check_int32(value, field)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, field or "field name")
            _walk(item, key)
    elif isinstance(value, list):
        for item in value:
            _walk(item, field)


async def check_input(request: Request) -> None:
    """An app-wide dependency: raises ValidationError (422) for the first value that cannot be kept."""
    ints = _int_params(request)
    for key, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        check_text(value, key)
        if key in ints:
            try:
                check_int32(int(value), key)
            except ValueError:
                pass  # not a number: FastAPI's own validation says so
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            return  # FastAPI answers malformed JSON itself
        _walk(body, "")
