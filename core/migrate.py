"""Apply Alembic migrations from code (manage.py migrate, make run, tests), then row-level security."""
from __future__ import annotations

from alembic.config import Config
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from alembic import command
from core import rls
from core.config import ROOT
from core.db import database_url, owner_database_url


def upgrade(url: str | None = None, *, app_role: str | None = None) -> list[rls.Rule]:
    """Migrate as the owner (`url`, else owner_database_url()), then (re)apply the policies and grant the
    application role (`app_role`, else DATABASE_URL's role when it is not the owner) what it needs."""
    owner = url or owner_database_url()
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["configure_logger"] = False
    cfg.attributes["url"] = owner
    command.upgrade(cfg, "head")
    role = app_role or make_url(database_url()).username
    if role == make_url(owner).username:
        role = None  # the application is the owner: the policies still apply (FORCE), nothing to grant
    engine = create_engine(owner, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            if role == rls.APP_ROLE:
                rls.ensure_role(conn, role)
            return rls.apply(conn, app_role=role)
    finally:
        engine.dispose()
