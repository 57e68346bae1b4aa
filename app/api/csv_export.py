"""A CSV export streamed from its own database session, refused before its first byte."""
from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi.responses import StreamingResponse
from sqlmodel import Session

from core.db import get_engine
from services.access.scope import Scope


def stream_csv(scope: Scope, rows: Callable[[Session], Iterator[str]], filename: str) -> StreamingResponse:
    """Stream `rows(session)` as a CSV download. The export outlives the route, so it owns its session (in the
    caller's scope, closed when the stream ends); bad filters or a refusal fail at the header, as a 4xx, never
    from inside a response already started."""
    session = Session(get_engine(), expire_on_commit=False)
    scope.enter(session)
    try:
        chunks = rows(session)
        header = next(chunks)
    except BaseException:
        session.close()
        raise

    def body() -> Iterator[str]:
        try:
            yield header
            yield from chunks
        finally:
            session.close()

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})
