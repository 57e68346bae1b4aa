"""StartTransaction and StopTransaction: idempotent, with suspect data flagged rather than dropped.

Sessions the charger ended without a StopTransaction we received (lost, e.g. during a database outage).
A connector charges one session at a time, so its active session is closed, never left open, when:
- a new StartTransaction arrives on the connector (the session started before the new one), or
- the connector reports StatusNotification Available or Finishing (the session started up to that status's
  time). Preparing, Charging and Suspended* never close a session.
Such a session (`close_open_sessions`):
- stops at its last energy reading taken up to that moment (samples flagged `future_timestamp` aside),
  or at its own start with no energy when it has none;
- it is flagged `closed_by_reconciliation`, its stop reason is "Other", and it is priced like any session;
- its own StopTransaction arriving later (many chargers report Finishing before they send it) replaces the
  estimate: the charger's meterStop, time and reason are stored, the flag is dropped and the session is priced
  again, once (a repeat of that Stop then changes nothing; totals count the session once, by its final values).
A StartTransaction stamped before an active session on its connector (a message delivered late) does not
close it: both stay, and the new one is flagged `overlapping_session`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from core.events import EventType, notify
from models import Charger, Organization, Transaction
from models.transaction import TransactionStatus
from services.charging.pricing import price_transaction
from services.customers.assets import account_for_session
from services.notifications import customer_messages
from services.ocpp.authorize import check_id_tag
from services.ocpp.common import FUTURE_TOLERANCE, LATE_AFTER, bounded, meter_reading, require_connector
from services.ocpp.meter import ENERGY, insert_meter_rows, parse_meter_values
from services.payments.sessions import enqueue as enqueue_payment

RECONCILED = "closed_by_reconciliation"
# The last energy-register reading of a session up to a moment (Wh), ignoring suspect future timestamps.
_LAST_READING_SQL = text(
    "SELECT timestamp, CASE WHEN unit = 'kWh' THEN value * 1000 ELSE value END FROM meter_value"
    " WHERE transaction_id = :tx AND measurand = :energy AND phase IS NULL"
    " AND coalesce(location, 'Outlet') = 'Outlet' AND timestamp <= :until"
    " AND NOT ('future_timestamp' = ANY(flags)) ORDER BY timestamp DESC, id DESC LIMIT 1")


@dataclass(frozen=True)
class StartResult:
    transaction_id: int
    id_tag_info: dict
    created: bool


def _transaction_event(session: Session, tx: Transaction) -> None:
    notify(session, {"type": EventType.TRANSACTION, "charger_id": tx.charger_id, "organization_id": tx.organization_id,
                     "transaction_id": tx.id, "status": tx.status})


def _time_flags(ts: datetime, now: datetime) -> list[str]:
    if ts > now + FUTURE_TOLERANCE:
        return ["future_timestamp"]
    if ts < now - LATE_AFTER:
        return ["late_delivery"]
    return []


def start_transaction(*, session: Session, charger_id: int, connector_id: int, id_tag: str, meter_start: int,
                      timestamp: datetime, reservation_id: int | None, now: datetime) -> StartResult:
    """Open a session. The same StartTransaction sent again returns the same transactionId (no second row).

    Per OCPP the session is recorded whatever the idTag's status; the charger stops it when not Accepted.
    Values the database cannot hold, and connectors the charger does not have, are refused first.
    """
    require_connector(session, charger_id=charger_id, connector_id=connector_id, zero=False)
    meter_reading(meter_start, "meterStart")
    if reservation_id is not None:
        bounded(reservation_id, "reservationId")
    charger = session.get(Charger, charger_id)
    info, tag = check_id_tag(session=session, charger_id=charger_id, id_tag=id_tag, now=now)
    flags = _time_flags(timestamp, now)
    # A session on this connector that started later and is still running, or ran over this moment:
    # this start is the late one (see the module docstring). Keep both, flag the new one.
    overlap = session.execute(text(
        "SELECT 1 FROM charging_session WHERE charger_id = :c AND connector_id = :n AND started_at > :t"
        " AND status = 'active' UNION ALL"
        " SELECT 1 FROM charging_session WHERE charger_id = :c AND connector_id = :n AND started_at <= :t"
        " AND stopped_at > :t AND NOT (id_tag = :tag AND started_at = :t AND meter_start = :m) LIMIT 1"),
        {"c": charger_id, "n": connector_id, "t": timestamp, "tag": id_tag, "m": meter_start}).first()
    if overlap:
        flags.append("overlapping_session")
    stmt = insert(Transaction).values(
        charger_id=charger_id, organization_id=charger.organization_id, connector_id=connector_id, id_tag=id_tag,
        id_tag_id=tag.id if tag else None, reservation_id=reservation_id, status=TransactionStatus.ACTIVE,
        meter_start=meter_start,
        started_at=timestamp, flags=flags, location_owner_id=charger.location_owner_id, created_at=now,
        currency=session.get(Organization, charger.organization_id).currency,
        customer_account_id=account_for_session(session, charger_id=charger_id, id_tag_id=tag.id if tag else None),
    ).on_conflict_do_nothing(index_elements=["charger_id", "connector_id", "id_tag", "started_at", "meter_start"])
    new_id = session.execute(stmt.returning(Transaction.id)).scalar_one_or_none()
    if new_id is None:
        existing = session.execute(select(Transaction.id).where(
            Transaction.charger_id == charger_id, Transaction.connector_id == connector_id,
            Transaction.id_tag == id_tag, Transaction.started_at == timestamp,
            Transaction.meter_start == meter_start)).scalar_one()
        return StartResult(existing, info, False)
    tx = session.get(Transaction, new_id)
    _transaction_event(session, tx)
    customer_messages.session_started(session=session, tx=tx, charger_name=charger.name or charger.ocpp_id, now=now)
    close_open_sessions(session=session, charger_id=charger_id, connector_id=connector_id, until=timestamp,
                        keep_id=new_id)
    enqueue_payment(session=session, transaction_id=new_id, action="start")  # the worker takes the payment
    return StartResult(new_id, info, True)


def close_open_sessions(*, session: Session, charger_id: int, connector_id: int, until: datetime,
                        keep_id: int | None = None) -> list[int]:
    """Close the connector's active sessions started up to `until` from their last meter value (the module
    docstring's rule); `keep_id` is the new session that caused it. Returns the ids closed."""
    where = [Transaction.charger_id == charger_id, Transaction.connector_id == connector_id,
             Transaction.status == TransactionStatus.ACTIVE, Transaction.started_at <= until]
    if keep_id is not None:
        where.append(Transaction.id != keep_id)
    older = session.execute(select(Transaction).where(*where).order_by(Transaction.id)
                            .with_for_update()).scalars().all()
    for tx in older:
        last = session.execute(_LAST_READING_SQL, {"tx": tx.id, "energy": ENERGY, "until": until}).first()
        stopped_at, reading = (last[0], int(last[1])) if last else (tx.started_at, tx.meter_start)
        tx.status = TransactionStatus.COMPLETED
        tx.meter_stop = reading
        tx.stopped_at = max(stopped_at, tx.started_at)
        tx.stop_reason = "Other"
        tx.energy_wh = max(reading - tx.meter_start, 0)
        tx.flags = [*tx.flags, RECONCILED] + (["meter_backwards"] if reading < tx.meter_start
                                               and "meter_backwards" not in tx.flags else [])
        session.add(tx)
        session.flush()
        price_transaction(session=session, transaction=tx)
        _transaction_event(session, tx)
        enqueue_payment(session=session, transaction_id=tx.id, action="stop")
    return [tx.id for tx in older]


@dataclass(frozen=True)
class StopResult:
    id_tag_info: dict | None
    outcome: str  # "stopped", "already_stopped" or "unknown"


def stop_transaction(*, session: Session, charger_id: int, transaction_id: int, meter_stop: int,
                     timestamp: datetime, reason: str | None, id_tag: str | None,
                     transaction_data: list[dict] | None, now: datetime) -> StopResult:
    """Close the session, store its stop data and price it once.

    A StopTransaction sent again, or for a session that is unknown or already closed, is answered
    without touching anything (no double counting). A session closed by reconciliation takes its first
    real StopTransaction as the correction of its estimate (module docstring).
    """
    bounded(transaction_id, "transactionId", low=-(2**31))
    meter_reading(meter_stop, "meterStop")
    info = check_id_tag(session=session, charger_id=charger_id, id_tag=id_tag, now=now)[0] if id_tag else None
    tx = session.execute(select(Transaction).where(Transaction.id == transaction_id,
                                                   Transaction.charger_id == charger_id)
                         .with_for_update()).scalar_one_or_none()
    if tx is None:
        return StopResult(info, "unknown")
    reconciled = RECONCILED in tx.flags
    if tx.status == TransactionStatus.COMPLETED and not reconciled:
        return StopResult(info, "already_stopped")
    # A reconciled session's flags from the estimate give way to the charger's own stop data.
    flags = [f for f in tx.flags if not (reconciled and f in (RECONCILED, "meter_backwards"))]
    for flag in _time_flags(timestamp, now):
        if flag not in flags:
            flags.append(flag)
    if meter_stop < tx.meter_start and "meter_backwards" not in flags:
        flags.append("meter_backwards")
    if timestamp < tx.started_at and "stopped_before_start" not in flags:
        flags.append("stopped_before_start")
    tx.status = TransactionStatus.COMPLETED
    tx.meter_stop = meter_stop
    tx.stopped_at = timestamp
    tx.stop_reason = reason or "Local"  # OCPP 1.6: absent reason means Local
    tx.energy_wh = max(meter_stop - tx.meter_start, 0)  # a meter that ran backwards is flagged and counts 0 Wh
    tx.flags = flags
    tx.priced_at = None  # a reconciled session is priced again from the charger's own stop
    session.add(tx)
    if transaction_data:
        rows = parse_meter_values(charger_id=charger_id, connector_id=tx.connector_id, transaction_id=tx.id,
                                  meter_value=transaction_data, now=now)
        session.flush()
        insert_meter_rows(session=session, rows=rows)
    session.flush()
    price_transaction(session=session, transaction=tx)
    _transaction_event(session, tx)
    charger = session.get(Charger, charger_id)
    customer_messages.session_ended(session=session, tx=tx, charger_name=charger.name or charger.ocpp_id, now=now)
    enqueue_payment(session=session, transaction_id=tx.id, action="stop")  # the worker settles the payment
    return StopResult(info, "stopped")
