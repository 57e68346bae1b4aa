"""The app's pages, declared by the page modules and added to the app once by app/app.py.

`rx.page` queues a page for Reflex to add at every compile. `reflex run --env prod` compiles in the
supervisor and again in each backend worker it forks from it, so every queued page was added a second
time there and Reflex printed "Page … is being redefined" for each. Pages declared here are added once,
with `App.add_page`, when app/app.py builds the app; nothing is left queued for a later compile.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

PAGES: list[tuple[Callable[[], rx.Component], dict[str, Any]]] = []


def page(*, route: str, title: str, on_load: Any = None) -> Callable:
    """Declare a page (the same arguments as `rx.page`)."""
    def decorator(render: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        PAGES.append((render, {"route": route, "title": title, **({} if on_load is None else {"on_load": on_load})}))
        return render

    return decorator


def add_pages(app: rx.App) -> None:
    """Add every declared page to `app`, once."""
    for render, options in PAGES:
        app.add_page(render, **options)
