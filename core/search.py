"""Free-text search: one clause for every search box, with LIKE's wildcards taken literally."""
from __future__ import annotations

from typing import Any

from sqlalchemy import or_

from core.validation import check_text

ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """An ILIKE pattern matching `text` anywhere, with `%`, `_` and the escape character matched as typed."""
    escaped = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped}%"


def search_clause(search: str | None, *columns: Any) -> Any | None:
    """WHERE clause: any of `columns` contains the search text (case-insensitive); None for a blank search.
    Text the database cannot hold (a NUL) is refused with a message, not a failed query."""
    text = check_text((search or "").strip(), "search")
    if not text:
        return None
    pattern = contains_pattern(text)
    return or_(*(column.ilike(pattern, escape=ESCAPE) for column in columns))
