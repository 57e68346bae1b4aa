"""Alembic environment: the URL comes from core.db, the tables from models."""
from logging.config import fileConfig

from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

import models  # noqa: F401  (registers the tables)
from alembic import context
from core.db import owner_database_url

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(url=owner_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.attributes.get("url") or owner_database_url()
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # Data migrations see every row: the tables' row-level security is forced on their owner too.
        connection.exec_driver_sql("SET voltdesk.mode = 'system'")
        connection.commit()
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
