"""Apply Alembic migrations from code (manage.py migrate, make run, tests)."""
from __future__ import annotations

from alembic.config import Config

from alembic import command
from core.config import ROOT


def upgrade(url: str | None = None) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["configure_logger"] = False
    if url:
        cfg.attributes["url"] = url
    command.upgrade(cfg, "head")
