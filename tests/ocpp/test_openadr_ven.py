"""An OpenADR 2.0b event from a VTN curtails real OCPP chargers: the organization's VEN (openleadr) registers
with the stand-in VTN over HTTP, receives the event and opts in; the engine sends SetChargingProfile to the
opted-in chargers (the exempt one gets none); the VTN cancels and ClearChargingProfile follows."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from core.db import SYSTEM, session_scope
from demo.vtn_standin import StandInVtn
from models.grid import DrEvent
from services.access.scope import system_scope
from services.grid import policy, regions, response
from services.grid.response import PROFILE_ID
from services.grid.ven import VenRunner
from tests.ocpp.conftest import connect, until
from tests.ocpp.test_demand_response import GridCharger, _limits
from tests.utils.factories import make_charger

VEN = "lanka-ven"


def _event(session) -> DrEvent | None:
    session.expire_all()
    return session.execute(select(DrEvent)).scalar_one_or_none()


async def test_a_vtn_event_limits_the_opted_in_chargers_and_its_cancellation_clears_them(server, session, engine,
                                                                                        org):
    regions.ensure_built_in(session=session)
    make_charger(session, org, ocpp_id="CP-A", connectors=1, auth_key="test-auth-key-0123456789")
    depot = make_charger(session, org, ocpp_id="CP-DEPOT", connectors=1, auth_key="test-auth-key-0123456789")
    vtn = StandInVtn(poll=timedelta(seconds=1)).start()
    # The grid policy is off: only the VTN starts events here.
    policy.save_policy(session=session, scope=system_scope(org.id), organization_id=org.id, region="DEMO",
                       enabled=False, limit_percent="50", exempt_charger_ids=[depot.id], vtn_url=vtn.url,
                       ven_name=VEN)
    session.commit()
    stop = asyncio.Event()
    vens = asyncio.create_task(VenRunner(sessions=lambda: session_scope(SYSTEM), recheck_seconds=0.5).run(stop))
    try:
        async with (connect(server, "CP-A", cls=GridCharger) as cp_a,
                    connect(server, "CP-DEPOT", cls=GridCharger) as cp_depot):
            await until(lambda: VEN in vtn.registered, timeout=30)
            vtn_event = vtn.call(vtn.add_event, VEN, minutes=20, level=2)
            event = await until(lambda: _event(session), timeout=30)
            assert (event.origin, event.external_id, event.status) == ("openadr", vtn_event, "active")
            await until(lambda: vtn.responses, timeout=30)
            assert vtn.responses == [{"ven_id": VEN, "event_id": vtn_event, "opt_type": "optIn"}]

            await asyncio.to_thread(response.step, engine=engine, organization_id=org.id)
            assert _limits(cp_a) == [Decimal("15.9")]  # 50 % of 22 kW, amperes per phase
            assert cp_a.profiles[0]["charging_profile_id"] == PROFILE_ID and cp_depot.profiles == []

            vtn.call(vtn.cancel_event, VEN, vtn_event)
            await until(lambda: _event(session).status == "ending", timeout=30)
            step = await asyncio.to_thread(response.step, engine=engine, organization_id=org.id)
            assert step.status == "ended"
            assert cp_a.cleared == [{"id": PROFILE_ID}] and cp_depot.cleared == []
        assert _event(session).end_reason == "cancelled by the VTN"
    finally:
        stop.set()
        await vens
        vtn.stop()
