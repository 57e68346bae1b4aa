"""Response and request models derived from the services' row dataclasses.

A row shape is declared once, as a dataclass in its service; the API's pydantic model is built from it
here, so a field added to the row shows in the API (and its OpenAPI document) without a second list.
"""
from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model


class RowModel(BaseModel):
    """Base of the derived response models: reads a service row (or any object) by attribute."""
    model_config = ConfigDict(from_attributes=True)


class InputModel(BaseModel):
    """Base of the derived request bodies: an unknown field is refused, not ignored."""
    model_config = ConfigDict(extra="forbid")


def model_of(row: type, name: str, *, base: type[BaseModel] = RowModel, only: Iterable[str] | None = None,
             exclude: Iterable[str] = (), optional: bool | Iterable[str] = (), defaults: dict[str, Any] | None = None,
             doc: str | None = None, **fields: Any) -> type[BaseModel]:
    """A pydantic model named `name` with the fields of the dataclass `row`, in its order.

    - only / exclude: which row fields the model keeps;
    - optional: True, or the names of fields, that become `T | None = None` (e.g. a partial update);
    - defaults: defaults for fields the row requires but a request may leave out;
    - fields: extra or replaced fields, as `type` or `(type, default or Field(...))`, e.g. nested models.
    Defaults of the dataclass itself are kept."""
    hints = typing.get_type_hints(row)
    keep = None if only is None else set(only)
    dropped, defaults = set(exclude), defaults or {}
    spec: dict[str, Any] = {}
    for f in dataclasses.fields(row):
        if f.name in dropped or (keep is not None and f.name not in keep):
            continue
        hint = hints[f.name]
        if optional is True or (optional is not False and f.name in set(optional)):
            spec[f.name] = (hint | None, None)
        elif f.name in defaults:
            spec[f.name] = (hint, defaults[f.name])
        elif f.default is not dataclasses.MISSING:
            spec[f.name] = (hint, f.default)
        else:
            spec[f.name] = (hint, ...)
    for key, value in fields.items():
        spec[key] = value if isinstance(value, tuple) else (value, ...)
    return create_model(name, __base__=base, __doc__=doc, __module__=__name__, **spec)


def rows_to(model: type[BaseModel], rows: Iterable[Any]) -> list[Any]:
    """Service rows as a list of the model."""
    return [model.model_validate(r) for r in rows]
