"""Past charging sessions for the demo, recorded through the same services the OCPP server uses.

Each session is started and stopped with `services.ocpp.transactions` (so it is flagged, snapshotted
and priced exactly like a live one) with meter values every 15 minutes. Runs once: a database that
already has sessions is left alone.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from core.clock import utcnow
from models import Charger, IdTag, Transaction
from services.ocpp.transactions import start_transaction, stop_transaction

SAMPLE_EVERY = timedelta(minutes=15)


def _samples(start: datetime, stop: datetime, meter_start: int, power_w: float) -> list[dict]:
    out, t = [], start + SAMPLE_EVERY
    while t < stop:
        wh = meter_start + int(power_w * (t - start).total_seconds() / 3600)
        out.append({"timestamp": t.isoformat(), "sampledValue": [
            {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh",
             "context": "Sample.Periodic"},
            {"value": f"{power_w:.0f}", "measurand": "Power.Active.Import", "unit": "W",
             "context": "Sample.Periodic"},
        ]})
        t += SAMPLE_EVERY
    return out


def seed_history(*, session: Session, days: int = 30, seed: int = 2026) -> int:
    """Create about `days` days of completed sessions on every demo charger. Returns how many."""
    if session.execute(select(Transaction.id).limit(1)).first():
        return 0
    rnd = random.Random(seed)
    now = utcnow()
    made = 0
    for charger in session.execute(select(Charger).order_by(Charger.id)).scalars().all():
        tags = list(session.execute(select(IdTag.tag).where(IdTag.organization_id == charger.organization_id))
                    .scalars())
        if not tags:
            continue
        meter, t = 0, now - timedelta(days=days)
        while True:
            t += timedelta(hours=rnd.uniform(4, 16))
            duration = timedelta(minutes=rnd.uniform(25, 160))
            if t + duration > now - timedelta(hours=1):
                break
            power_w = rnd.choice([7400, 11000, 22000]) * rnd.uniform(0.55, 0.95)
            energy = int(power_w * duration.total_seconds() / 3600)
            stop = t + duration
            tag = rnd.choice(tags)
            started = start_transaction(session=session, charger_id=charger.id, connector_id=1, id_tag=tag,
                                        meter_start=meter, timestamp=t, reservation_id=None, now=t)
            stop_transaction(session=session, charger_id=charger.id, transaction_id=started.transaction_id,
                             meter_stop=meter + energy, timestamp=stop, reason="EVDisconnected", id_tag=tag,
                             transaction_data=_samples(t, stop, meter, power_w), now=stop)
            meter += energy
            made += 1
        session.flush()
    return made
