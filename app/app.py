"""Builds the Reflex app: pages register themselves on import; the REST API is mounted at /api/v1."""
import reflex as rx

from app.api.main import create_api
from app.middleware import hardened
from core.config import get_settings
from state.live import attach_app, run_listener

# The API is mounted first; the hardening wraps everything, pages included (app/middleware.py).
app = rx.App(api_transformer=[create_api(), hardened(get_settings())],
             # long words wrap (assets/wrap.css); the network map's cluster icons (assets/network_map.css)
             stylesheets=["/wrap.css", "/network_map.css"])
# One LISTEN per web process fans status changes out to the open pages (docs/adr/0002-live-updates.md).
app.register_lifespan_task(run_listener)
attach_app(app)

from app import pages  # noqa: E402,F401  (declares the pages)
from app.components.pages import add_pages  # noqa: E402

add_pages(app)  # once: see app/components/pages.py
