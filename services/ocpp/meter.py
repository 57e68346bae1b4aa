"""MeterValues: parsing sampled values and writing them in batches (one statement per batch, never a commit per
sample).

Suspect data is kept and flagged: an energy register lower than an earlier reading of the same session
(`meter_backwards`) and timestamps in the future (`future_timestamp`).

A sample is stored once: a MeterValues resent (the same UniqueId after a lost answer) or another sample with
the same connector, timestamp, measurand, phase and location is the same reading (unique index
`uq_meter_value_sample`). Batches are inserted from arrays with ON CONFLICT DO NOTHING.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

import psycopg
from sqlmodel import Session

from core.errors import ValidationError
from services.ocpp.common import FUTURE_TOLERANCE, bounded, parse_ts

ENERGY = "Energy.Active.Import.Register"
COLUMNS = ("charger_id", "connector_id", "transaction_id", "timestamp", "measurand", "phase", "unit", "context",
           "location", "value", "flags")


@dataclass
class MeterRow:
    charger_id: int
    connector_id: int
    transaction_id: int | None
    timestamp: datetime
    measurand: str
    phase: str | None
    unit: str | None
    context: str | None
    location: str | None
    value: Decimal
    flags: list[str] = field(default_factory=list)


def parse_meter_values(*, charger_id: int, connector_id: int, transaction_id: int | None, meter_value: list[dict],
                       now: datetime) -> list[MeterRow]:
    """Turn OCPP MeterValue objects into rows. Raises ValidationError on a value that is not a number, or an
    id the database cannot hold."""
    bounded(connector_id, "connectorId")
    if transaction_id is not None:
        bounded(transaction_id, "transactionId", low=-(2**31))
    rows = []
    for mv in meter_value:
        ts = parse_ts(mv.get("timestamp"), "meterValue.timestamp")
        for sv in mv.get("sampledValue", []):
            if sv.get("format") == "SignedData":
                continue  # signed blobs are kept in the raw frame log, not as numbers
            try:
                value = Decimal(sv["value"])
            except (InvalidOperation, KeyError, TypeError) as exc:
                raise ValidationError(f"Sampled value '{sv.get('value')}' is not a number.",
                                      "sampledValue.value") from exc
            if not value.is_finite() or abs(value) >= Decimal("1e15"):
                raise ValidationError(f"Sampled value '{sv.get('value')}' is not a number.", "sampledValue.value")
            flags = ["future_timestamp"] if ts > now + FUTURE_TOLERANCE else []
            rows.append(MeterRow(charger_id, connector_id, transaction_id, ts, sv.get("measurand") or ENERGY,
                                 sv.get("phase"), sv.get("unit"), sv.get("context"), sv.get("location"), value,
                                 flags))
    return rows


def _wh(row: MeterRow) -> Decimal:
    return row.value * 1000 if (row.unit or "Wh") == "kWh" else row.value


# Each session's highest reading so far is one row (session_meter_high), not a scan of its samples.
_KNOWN_SQL = (
    "SELECT s.id, s.charger_id, s.meter_start, h.wh FROM charging_session s"
    " LEFT JOIN session_meter_high h ON h.transaction_id = s.id WHERE s.id = ANY(%(ids)s)"
)
# Raised, never lowered; ids sorted so two writers lock the rows in the same order.
_HIGH_SQL = (
    "INSERT INTO session_meter_high (transaction_id, wh)"
    " SELECT * FROM unnest(%(high_ids)s::integer[], %(high_wh)s::numeric[]) ORDER BY 1"
    " ON CONFLICT (transaction_id) DO UPDATE SET wh = greatest(session_meter_high.wh, excluded.wh)"
)
# One statement writes a batch: the highs it raises and its samples (the conflict target is the unique index of
# migration 0019_ocpp18). On an autocommit connection it is atomic on its own: one round trip and no temporary
# table, where staging a COPY took six round trips, a DDL statement and a truncation at each commit.
_WRITE_SQL = (
    f"WITH high AS ({_HIGH_SQL})"
    f" INSERT INTO meter_value ({', '.join(COLUMNS)})"
    " SELECT c, k, t, ts, m, p, u, x, l, v, coalesce(string_to_array(nullif(f, ''), ','), '{}')"
    " FROM unnest(%(charger)s::integer[], %(connector)s::integer[], %(tx)s::integer[], %(ts)s::timestamptz[],"
    " %(measurand)s::text[], %(phase)s::text[], %(unit)s::text[], %(context)s::text[], %(location)s::text[],"
    " %(value)s::numeric[], %(flags)s::text[]) AS r(c, k, t, ts, m, p, u, x, l, v, f)"
    " ON CONFLICT (charger_id, connector_id, timestamp, measurand, (coalesce(phase, '')),"
    " (coalesce(location, ''))) DO NOTHING"
)


def _tx_ids(rows: list[MeterRow]) -> list[int]:
    return list({r.transaction_id for r in rows if r.transaction_id is not None})


def _flag(rows: list[MeterRow], found: list[tuple]) -> dict[int, Decimal]:
    """Link rows to known sessions of their own charger and flag energy readings that go backwards.
    Returns the sessions whose highest reading rose, with the new high."""
    known: dict[int, tuple[int, Decimal]] = {}  # transaction id -> (charger id, highest energy reading so far)
    for tid, cid, meter_start, top in found:
        known[tid] = (cid, max(Decimal(meter_start), top if top is not None else Decimal(meter_start)))
    raised: dict[int, Decimal] = {}
    for row in sorted(rows, key=lambda r: r.timestamp):
        if row.transaction_id is None:
            continue
        entry = known.get(row.transaction_id)
        if entry is None or entry[0] != row.charger_id:
            row.transaction_id = None  # unknown session: the sample is kept without the link
        elif row.measurand == ENERGY and row.location in (None, "Outlet") and row.phase is None:
            wh = _wh(row)
            if wh < entry[1]:
                row.flags.append("meter_backwards")
            else:
                known[row.transaction_id] = (entry[0], wh)
                raised[row.transaction_id] = wh
    return raised


def _write_params(rows: list[MeterRow], raised: dict[int, Decimal]) -> dict:
    ids = sorted(raised)  # see _HIGH_SQL
    return {"high_ids": ids, "high_wh": [raised[i] for i in ids],
            "charger": [r.charger_id for r in rows], "connector": [r.connector_id for r in rows],
            "tx": [r.transaction_id for r in rows], "ts": [r.timestamp for r in rows],
            "measurand": [r.measurand[:64] for r in rows], "phase": [(r.phase or None) and r.phase[:8] for r in rows],
            "unit": [(r.unit or None) and r.unit[:16] for r in rows],
            "context": [(r.context or None) and r.context[:32] for r in rows],
            "location": [(r.location or None) and r.location[:16] for r in rows],
            "value": [r.value for r in rows], "flags": [",".join(r.flags) for r in rows]}


def insert_meter_rows(*, session: Session, rows: list[MeterRow]) -> int:
    """Write a batch inside the caller's transaction; samples already stored are skipped."""
    if not rows:
        return 0
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur:
        ids = _tx_ids(rows)
        raised = _flag(rows, cur.execute(_KNOWN_SQL, {"ids": ids}).fetchall() if ids else [])
        cur.execute(_WRITE_SQL, _write_params(rows, raised))
    return len(rows)


async def insert_meter_rows_async(*, conn: psycopg.AsyncConnection, rows: list[MeterRow]) -> int:
    """The same on an async autocommit connection (the OCPP server's writer): a read of the sessions' highs, then
    one statement, atomic on its own. The read needs no lock: the write raises a high only with greatest()."""
    if not rows:
        return 0
    async with conn.cursor() as cur:
        ids = _tx_ids(rows)
        found = await (await cur.execute(_KNOWN_SQL, {"ids": ids})).fetchall() if ids else []
        await cur.execute(_WRITE_SQL, _write_params(rows, _flag(rows, found)))
    return len(rows)
