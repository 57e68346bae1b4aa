"""Demo grid: Lanka Charge follows the demo grid (the recorded day, replayed) with demand response on and
its Kandy charger exempt (a fleet depot); Berlin eMobility reads ENTSO-E (the stand-in) with a demo token.
The last day of the recorded grid is stored so the charts are full from the start."""
from __future__ import annotations

import os
from datetime import timedelta

from sqlalchemy import select, text
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from models import Charger
from models.grid import DrPolicy, GridRegion
from services.access.scope import system_scope
from services.grid import policy, readings, regions
from services.grid.credentials import seal
from services.grid.sources.replay import ReplaySource

DEMO_ENTSOE_TOKEN = "demo-entsoe-token"
STANDIN_PORT = 8741
# Berlin eMobility's VEN registers with the stand-in VTN (demo/vtn_standin.py), which sends it one
# OpenADR event a few minutes after `make run`.
VTN_STANDIN_PORT, DEMO_VEN, VTN_EVENT_AFTER, VTN_EVENT_MINUTES = 8742, "berlin-emobility", 240, 10


def vtn_port() -> int:
    return int(os.environ.get("VTN_STANDIN_PORT", VTN_STANDIN_PORT))
# The demo plays the recorded day three times faster, polled every 5 s, with the frequency drop (recorded
# at 12:00) starting about two and a half minutes after `make run`.
DEMO_SPEED, DEMO_POLL, DROP_AT, DROP_AFTER = 3, 5, 43200, 150


def demo_grid_env(environ: dict[str, str]) -> dict[str, str]:
    """Settings for the demo's processes, unless the environment already sets them: the real-source URLs
    point at the stand-in, and the replay is timed so the excursion comes soon."""
    port = environ.get("GRID_STANDIN_PORT", str(STANDIN_PORT))
    speed = float(environ.get("GRID_REPLAY_SPEED", DEMO_SPEED))
    anchor = utcnow() + timedelta(seconds=DROP_AFTER - DROP_AT / speed)
    wanted = {"GRID_STANDIN_PORT": port, "GRID_BMRS_URL": f"http://127.0.0.1:{port}",
              "GRID_ENTSOE_URL": f"http://127.0.0.1:{port}/api", "GRID_CEB_URL": f"http://127.0.0.1:{port}",
              "GRID_REPLAY_SPEED": str(speed), "GRID_REPLAY_ANCHOR": anchor.isoformat(),
              "GRID_POLL_SECONDS": str(DEMO_POLL)}
    return {k: v for k, v in wanted.items() if k not in environ}


def seed_grid(*, session: Session) -> int:
    regions.ensure_built_in(session=session)
    created = 0
    berlin_vtn = {"vtn_url": f"http://127.0.0.1:{vtn_port()}/OpenADR2/Simple/2.0b", "ven_name": DEMO_VEN}
    plans = [("lanka-charge", "DEMO", ["LK-KAN-001"], {}), ("berlin-emobility", "DE_LU", [], berlin_vtn)]
    for slug, region, exempt_ids, vtn in plans:
        org_id = session.execute(text("SELECT id FROM organization WHERE slug = :s"), {"s": slug}).scalar()
        if org_id is None or session.execute(select(DrPolicy.id).where(DrPolicy.organization_id == org_id)).first():
            continue
        exempt = list(session.execute(select(Charger.id).where(Charger.ocpp_id.in_(exempt_ids))).scalars())
        policy.save_policy(session=session, scope=system_scope(org_id), organization_id=org_id, region=region,
                           enabled=True, limit_percent="50", exempt_charger_ids=exempt, max_duration_minutes=30,
                           chargers_as_sensors=True, **vtn)
        created += 1
    de = session.get(GridRegion, "DE_LU")
    if de.credential is None:
        de.credential = seal(DEMO_ENTSOE_TOKEN)
        session.add(de)
    if not session.execute(text("SELECT 1 FROM grid_reading WHERE region = 'DEMO' LIMIT 1")).first():
        s = get_settings()
        source, now = ReplaySource(anchor=s.grid_replay_anchor, speed=s.grid_replay_speed), utcnow()
        # The last day at 5-minute steps (what the demand and generation chart shows), then the stored window.
        since, batch = now - timedelta(days=1), []
        while since < now:
            until = min(since + timedelta(minutes=10), now)
            batch += [r for r in source.fetch(since=since, until=until) if r.demand_mw is not None]
            since = until
        created += readings.store(session=session, region="DEMO", source=source.name, readings=batch)
    session.flush()
    return created
