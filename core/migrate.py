"""Apply Alembic migrations from code (manage.py migrate, make run, tests), then row-level security."""
from __future__ import annotations

from alembic.config import Config
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from alembic import command
from core import rls
from core.config import ROOT
from core.db import database_url, owner_database_url, system_database_url


def upgrade(url: str | None = None, *, app_role: str | None = None,
            system_role: str | None = None) -> list[rls.Rule]:
    """Migrate as the owner (`url`, else owner_database_url()), then (re)apply the policies and grant the
    application role (`app_role`, else DATABASE_URL's role when it is not the owner) what it needs."""
    owner = url or owner_database_url()
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["configure_logger"] = False
    cfg.attributes["url"] = owner
    command.upgrade(cfg, "head")
    owner_role = make_url(owner).username
    role = app_role or make_url(database_url()).username
    system = system_role or make_url(system_database_url()).username
    role, system = (None if r == owner_role else r for r in (role, system))  # the owner needs no grant
    engine = create_engine(owner, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            if role == rls.APP_ROLE:
                rls.ensure_role(conn, role)
            if system == rls.SYSTEM_ROLE:
                rls.ensure_role(conn, system, bypass=True)
            return rls.apply(conn, app_role=role, system_role=system)
    finally:
        engine.dispose()
