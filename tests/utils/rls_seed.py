"""One row per tenant in every tenant table the hand-made world left empty, for the row-level security proof.

Each row is built from the table's own catalogue entry: foreign keys point at rows the tenant's own scope sees
(so the row belongs to that tenant by the same links its policy follows), a checked text column takes the first
value its CHECK allows, and the rest get plain values. A new table is therefore put to the test without anyone
remembering to; `OVERRIDES` holds the few values a table's multi-column checks need.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from graphlib import TopologicalSorter

from sqlalchemy import text
from sqlmodel import Session

from core.db import DbScope, get_engine, use_db_scope

FUTURE = datetime(2030, 1, 1, tzinfo=UTC)  # later than any default created_at, for "expires after created" checks
# Columns to leave empty (None) or set, where a check ties several columns together.
OVERRIDES: dict[str, dict[str, object]] = {
    "charging_asset": {"charger_id": None},            # a card: id_tag_id set, charger_id not
    "notification_delivery": {"customer_user_id": None},  # to a staff user
    "notification_preference": {"customer_user_id": None},
    "push_device": {"user_id": None},                   # an app user's phone
    "dr_policy": {"limit_kw": None, "limit_percent": 50},  # limited by percent
    "payment_refund": {"approved_by_id": None},         # not approved by its own requester
}


def _columns(s: Session, table: str) -> list[tuple]:
    return s.execute(text(
        "SELECT column_name, udt_name, is_nullable = 'YES', column_default IS NOT NULL OR is_identity = 'YES',"
        " character_maximum_length FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = :t ORDER BY ordinal_position"), {"t": table}).all()


def _foreign_keys(s: Session, table: str) -> dict[str, tuple[str, str]]:
    """column -> (parent table, parent column), single-column keys only."""
    rows = s.execute(text(
        "SELECT a.attname, c.confrelid::regclass::text, pa.attname FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]"
        " WHERE c.contype = 'f' AND c.conrelid = CAST(:t AS regclass) AND cardinality(c.conkey) = 1"),
        {"t": table}).all()
    return {col: (parent.strip('"'), pcol) for col, parent, pcol in rows}


def _allowed(s: Session, table: str) -> dict[str, str]:
    """column -> the first literal a CHECK (col = ANY (ARRAY['a', ...])) or (col = 'a') allows."""
    found: dict[str, str] = {}
    for (definition,) in s.execute(text(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'c' AND conrelid = CAST(:t AS regclass)"), {"t": table}):
        for col, literal in re.findall(r"\(+\"?(\w+)\"?\)::text = (?:ANY \(\(ARRAY\[)?'([^']*)'", definition):
            found.setdefault(col, literal)
    return found


def _visible_id(table: str, column: str, scope: DbScope) -> object:
    """A row of `table` the tenant's own scope sees (the application's role, so the policy decides)."""
    with Session(get_engine()) as s:
        use_db_scope(s, scope)
        return s.execute(text(f'SELECT "{column}" FROM "{table}" ORDER BY 1 LIMIT 1')).scalar()


def _value(udt: str, name: str, slug: str, length: int | None, n: int) -> object:
    if name == "currency":
        return "LKR"
    if udt in ("int2", "int4", "int8"):
        return 1
    if udt == "numeric":
        return 1
    if udt == "bool":
        return True
    if udt == "timestamptz":
        return FUTURE
    if udt == "date":
        return date(2026, 5, 1)
    if udt == "jsonb":
        return "{}"
    if udt.startswith("_"):
        return "{}"
    return f"{slug}-{name}-{n}"[: length or 64]


def seed_row(session: Session, table: str, slug: str, scope: DbScope) -> None:
    keys, allowed, overrides = _foreign_keys(session, table), _allowed(session, table), OVERRIDES.get(table, {})
    values: dict[str, object] = {}
    for n, (name, udt, nullable, has_default, length) in enumerate(_columns(session, table)):
        if name in overrides:
            values[name] = overrides[name]
        elif name == "organization_id" or (name in keys and keys[name][0] != table):
            parent = _visible_id(*keys.get(name, ("organization", "id")), scope)
            if parent is None and not nullable:
                raise AssertionError(f"{table}.{name}: the tenant sees no {keys[name][0]} row to point at")
            values[name] = parent
        elif has_default or nullable:
            continue
        elif name in allowed:
            values[name] = allowed[name]
        else:
            values[name] = _value(udt, name, slug, length, n)
    names = ", ".join(f'"{c}"' for c in values)
    binds = ", ".join(f":{c}" for c in values)  # psycopg sends text untyped: PostgreSQL casts it to the column
    session.execute(text(f'INSERT INTO "{table}" ({names}) VALUES ({binds})'), values)


def seed_empty_tables(session: Session, tenants: list[tuple[str, DbScope]], tables: set[str]) -> set[str]:
    """Seed every table in `tables` with one row per tenant, parents first; returns the tables seeded."""
    graph = {t: {p for p, _ in _foreign_keys(session, t).values() if p in tables and p != t} for t in tables}
    order = list(TopologicalSorter(graph).static_order())
    for table in order:
        for slug, scope in tenants:
            seed_row(session, table, slug, scope)
        session.commit()
    return set(order)
