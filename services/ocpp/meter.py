"""MeterValues: parsing sampled values and writing them in batches (one COPY per batch, never a commit per sample).

Suspect data is kept and flagged: an energy register lower than an earlier reading of the same session
(`meter_backwards`) and timestamps in the future (`future_timestamp`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import text
from sqlmodel import Session

from services.errors import ValidationError
from services.ocpp.common import FUTURE_TOLERANCE, parse_ts

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
    """Turn OCPP MeterValue objects into rows. Raises ValidationError on a value that is not a number."""
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


def insert_meter_rows(*, session: Session, rows: list[MeterRow]) -> int:
    """Write a batch with one COPY. Unknown transaction ids are dropped to NULL (the sample is kept)."""
    if not rows:
        return 0
    tx_ids = {r.transaction_id for r in rows if r.transaction_id is not None}
    known: dict[int, tuple[int, Decimal]] = {}  # transaction id -> (charger id, highest energy reading so far)
    if tx_ids:
        for tid, cid, meter_start, top in session.execute(text(
                "SELECT s.id, s.charger_id, s.meter_start,"
                " (SELECT max(CASE WHEN m.unit = 'kWh' THEN m.value * 1000 ELSE m.value END) FROM meter_value m"
                "   WHERE m.transaction_id = s.id AND m.measurand = :energy)"
                " FROM charging_session s WHERE s.id = ANY(:ids)"), {"ids": list(tx_ids), "energy": ENERGY}):
            known[tid] = (cid, max(Decimal(meter_start), top if top is not None else Decimal(meter_start)))
    for row in sorted(rows, key=lambda r: r.timestamp):
        if row.transaction_id is not None:
            entry = known.get(row.transaction_id)
            if entry is None or entry[0] != row.charger_id:
                row.transaction_id = None
            elif row.measurand == ENERGY and row.location in (None, "Outlet") and row.phase is None:
                wh = _wh(row)
                if wh < entry[1]:
                    row.flags.append("meter_backwards")
                else:
                    known[row.transaction_id] = (entry[0], wh)
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY meter_value ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row((r.charger_id, r.connector_id, r.transaction_id, r.timestamp, r.measurand[:64],
                                (r.phase or None) and r.phase[:8], (r.unit or None) and r.unit[:16],
                                (r.context or None) and r.context[:32], (r.location or None) and r.location[:16],
                                r.value, r.flags))
    return len(rows)
