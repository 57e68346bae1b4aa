import os

import reflex as rx
from reflex_base.plugins.sitemap import SitemapPlugin

from core.config import WebSettings

config = rx.Config(
    app_name="app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # Several backend workers share state through Redis when REDIS_URL is set.
    redis_url=os.environ.get("REDIS_URL") or None,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(appearance="light", accent_color="teal", radius="medium"))],
    disable_plugins=[SitemapPlugin],
    # Reflex's default "*" reflects any origin with credentials; only our own (CORS_ORIGINS) may.
    cors_allowed_origins=WebSettings().allowed_origins,
)
