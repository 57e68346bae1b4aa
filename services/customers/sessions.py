"""A customer's own charging sessions (and its sub-accounts'), with their cost, and the CSV of them.

The rows are the Transaction rows linked to the accounts of the customer's Scope (`transaction_filter`, which
for a customer adds `customer_account_id`); a customer sees the price it paid (gross), never the operator's split.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from core.errors import ValidationError
from core.money import round_money
from models import Charger, CustomerAccount, Organization, Transaction
from services.access.permissions import Cap
from services.access.scope import Scope
from services.charging.transactions import _cell

CSV_HEADER = ["session_id", "account", "charger", "connector", "id_tag", "status", "started_at", "stopped_at",
              "timezone", "energy_kwh", "currency", "cost"]


@dataclass(frozen=True)
class SessionRow:
    id: int
    account: str
    charger: str
    connector_id: int
    id_tag: str
    status: str
    started_at: datetime
    stopped_at: datetime | None
    timezone: str
    energy_kwh: Decimal | None
    currency: str
    cost: Decimal | None


def _require(scope: Scope) -> None:
    if not scope.is_customer:
        scope.require(Cap.VIEW_CUSTOMERS)


def _query(scope: Scope, account_id: int | None):
    where = [scope.transaction_filter(), Transaction.customer_account_id.is_not(None),
             scope.customer_account_filter(Transaction.customer_account_id)]
    if account_id is not None:
        where.append(Transaction.customer_account_id == account_id)
    return (select(Transaction, CustomerAccount.name, Charger.ocpp_id, Organization.timezone)
            .join(CustomerAccount, CustomerAccount.id == Transaction.customer_account_id)
            .join(Charger, Charger.id == Transaction.charger_id)
            .join(Organization, Organization.id == Transaction.organization_id)
            .where(*where).order_by(Transaction.started_at.desc(), Transaction.id.desc()))


def _row(t: Transaction, account: str, ocpp: str, tz: str) -> SessionRow:
    return SessionRow(t.id, account, ocpp, t.connector_id, t.id_tag, t.status, t.started_at, t.stopped_at, tz,
                      None if t.energy_wh is None else Decimal(t.energy_wh) / 1000, t.currency,
                      None if t.amount_gross is None else round_money(t.amount_gross, t.currency))


def list_sessions(*, session: Session, scope: Scope, account_id: int | None = None, limit: int = 50,
                  offset: int = 0) -> tuple[list[SessionRow], int]:
    """A page of sessions of the customer accounts in scope, newest first, and how many there are in all."""
    _require(scope)
    if not 1 <= limit <= 1000 or offset < 0:
        raise ValidationError("Page size must be 1 to 1000 and the offset 0 or more.", "limit")
    stmt = _query(scope, account_id)
    total = session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = [_row(*r) for r in session.execute(stmt.limit(limit).offset(offset))]
    return rows, total


def iter_csv(*, session: Session, scope: Scope, account_id: int | None = None) -> Iterator[str]:
    """The sessions as CSV text chunks, times in the organization's timezone."""
    _require(scope)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    yield buf.getvalue()
    for part in session.execute(_query(scope, account_id).execution_options(yield_per=2000)).partitions():
        buf.seek(0)
        buf.truncate()
        for t, account, ocpp, tz in part:
            r, zone = _row(t, account, ocpp, tz), ZoneInfo(tz)
            writer.writerow([r.id, _cell(r.account), _cell(r.charger), r.connector_id, _cell(r.id_tag), r.status,
                             r.started_at.astimezone(zone).isoformat(),
                             r.stopped_at.astimezone(zone).isoformat() if r.stopped_at else "", tz,
                             "" if r.energy_kwh is None else str(r.energy_kwh), r.currency,
                             "" if r.cost is None else str(r.cost)])
        yield buf.getvalue()
