"""Builds the Reflex app: pages register themselves on import; the REST API is mounted at /api/v1."""
import reflex as rx

from app.api.main import create_api

app = rx.App(api_transformer=create_api())

from app import pages  # noqa: E402,F401  (registers the pages)
