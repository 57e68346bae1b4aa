"""Demand response with real OCPP chargers: the replay source drops the frequency to 49.7 Hz, the opted-in
chargers get SetChargingProfile with the policy's limit (exempt ones nothing), recovery clears it, the report
shows the curtailment, and a restart in the middle of an event resumes and still clears every profile."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ocpp.routing import on
from ocpp.v16 import call, call_result
from sqlalchemy import select
from sqlmodel import Session

from core.clock import clock
from models.grid import DrAction, DrEvent
from services.access.scope import system_scope
from services.grid import classify, monitor, readings, regions, report, response
from services.grid import policy as policy_svc
from services.grid.response import PROFILE_ID
from services.grid.sources import Reading
from tests.ocpp.conftest import Charger, connect, until
from tests.utils.factories import make_charger

DAY = datetime(2026, 12, 3, tzinfo=UTC)
BEFORE = DAY.replace(hour=11, minute=59)
DROP = DAY.replace(hour=12, minute=2)  # the recorded day is at 49.7 Hz
RECOVERED = DAY.replace(hour=12, minute=12)


class GridCharger(Charger):
    """Keeps every smart-charging call it receives; rejects them when told to."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.profiles: list[dict] = []
        self.cleared: list[dict] = []
        self.answer = "Accepted"

    @on("SetChargingProfile")
    def set_profile(self, connector_id, cs_charging_profiles):
        self.profiles.append({"connector_id": connector_id, **cs_charging_profiles})
        return call_result.SetChargingProfile(status=self.answer)

    @on("ClearChargingProfile")
    def clear_profile(self, **kwargs):
        self.cleared.append(kwargs)
        return call_result.ClearChargingProfile(status="Accepted")


async def _draw(cp: GridCharger, kw: float, at: datetime) -> None:
    """The charger reports the power it draws."""
    await cp.call(call.MeterValues(connector_id=1, meter_value=[{
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sampledValue": [{"value": str(kw), "measurand": "Power.Active.Import", "unit": "kW"}]}]))


def _limits(cp: GridCharger) -> list:
    return [p["charging_schedule"]["charging_schedule_period"][0]["limit"] for p in cp.profiles]


@pytest.fixture
def grid_org(session, org):
    regions.ensure_built_in(session=session)
    session.commit()
    return org


def _policy(session, org, exempt, **kw):
    policy_svc.save_policy(session=session, scope=system_scope(org.id), organization_id=org.id, region="DEMO",
                           enabled=True, limit_percent=kw.pop("limit_percent", "50"), exempt_charger_ids=exempt,
                           max_duration_minutes=60, **kw)
    session.commit()


def _poll(engine):
    with Session(engine) as s:
        result = monitor.poll(session=s, region=s.get(regions.GridRegion, "DEMO"))
        s.commit()
        return result.state


async def _tick(engine, org, when):
    clock.set(when)
    state = await asyncio.to_thread(_poll, engine)
    return state, await asyncio.to_thread(response.step, engine=engine, organization_id=org.id)


async def test_frequency_drop_limits_opted_in_chargers_and_recovery_clears_them(server, session, engine, grid_org):
    org = grid_org
    a = make_charger(session, org, ocpp_id="CP-A", connectors=2, auth_key="test-auth-key-0123456789")
    b = make_charger(session, org, ocpp_id="CP-B", connectors=1, auth_key="test-auth-key-0123456789")
    depot = make_charger(session, org, ocpp_id="CP-DEPOT", connectors=2, auth_key="test-auth-key-0123456789")
    _policy(session, org, [depot.id])
    clock.set(BEFORE)
    async with (connect(server, "CP-A", cls=GridCharger) as cp_a, connect(server, "CP-B", cls=GridCharger) as cp_b,
                connect(server, "CP-DEPOT", cls=GridCharger) as cp_depot):
        for minute in range(1, 8):  # drawing 22 kW each before the event
            for cp in (cp_a, cp_b):
                await _draw(cp, 22, DROP - timedelta(minutes=minute))
        state, step = await _tick(engine, org, BEFORE)
        assert state == "normal" and step.event_id is None and not cp_a.profiles

        state, step = await _tick(engine, org, DROP)  # the replay is at 49.7 Hz
        assert state == "alert" and step.status == "active"
        # 50 % of 2 x 22 kW = 22 kW = 31.8 A per phase; 50 % of 22 kW = 15.9 A.
        assert _limits(cp_a) == [Decimal("31.8")] and _limits(cp_b) == [Decimal("15.9")]
        profile = cp_a.profiles[0]
        assert (profile["connector_id"], profile["charging_profile_id"], profile["charging_profile_purpose"],
                profile["charging_schedule"]["charging_rate_unit"]) == (0, PROFILE_ID, "ChargePointMaxProfile", "A")
        assert cp_depot.profiles == []

        for minute in range(1, 8):  # limited: 11 kW each
            for cp in (cp_a, cp_b):
                await _draw(cp, 11, DROP + timedelta(minutes=minute))
        await until(lambda: _samples(session) == 28)
        state, step = await _tick(engine, org, DROP + timedelta(minutes=1))  # still low: nothing sent again
        assert step.sent == 0 and len(cp_a.profiles) == 1

        state, step = await _tick(engine, org, RECOVERED)
        assert state == "normal" and step.status == "ended"
        assert cp_a.cleared == [{"id": PROFILE_ID}] and cp_b.cleared == [{"id": PROFILE_ID}]
        assert cp_depot.cleared == []

    rep = report.event_report(session=session, scope=_admin(org), event_id=step.event_id)
    assert rep.curtailed_kw == Decimal("22.00")
    assert {(line.charger_id, line.before_kw, line.during_kw) for line in rep.chargers} == {
        (a.id, Decimal("22.00"), Decimal("11.00")), (b.id, Decimal("22.00"), Decimal("11.00"))}
    trail = session.execute(select(DrAction.charger_id, DrAction.action, DrAction.ok, DrAction.answer)
                            .order_by(DrAction.id)).all()
    assert [(c, act, ok) for c, act, ok, _ in trail] == [
        (a.id, "SetChargingProfile", True), (b.id, "SetChargingProfile", True),
        (a.id, "ClearChargingProfile", True), (b.id, "ClearChargingProfile", True)]
    assert trail[0].answer == {"status": "Accepted"}


def _samples(session) -> int:
    return session.connection().exec_driver_sql("SELECT count(*) FROM meter_value").scalar()


def _admin(org):
    return system_scope(org.id)


async def test_rejecting_and_offline_chargers_are_listed_and_the_others_still_limited(server, session, engine,
                                                                                      grid_org):
    org = grid_org
    make_charger(session, org, ocpp_id="CP-A", auth_key="test-auth-key-0123456789")
    stubborn = make_charger(session, org, ocpp_id="CP-NO", auth_key="test-auth-key-0123456789")
    away = make_charger(session, org, ocpp_id="CP-AWAY", auth_key="test-auth-key-0123456789")
    _policy(session, org, [], limit_percent=None, limit_kw="1")  # 1 kW: below the minimum, so 6 A
    async with connect(server, "CP-A", cls=GridCharger) as cp_a, connect(server, "CP-NO", cls=GridCharger) as cp_no:
        cp_no.answer = "Rejected"
        _, step = await _tick(engine, org, DROP)
        assert _limits(cp_a) == [6]
        assert len(cp_no.profiles) == 1
    problems = {r.charger_id: r.error for r in session.execute(select(DrAction).where(~DrAction.ok)).scalars()}
    assert problems == {stubborn.id: "Rejected", away.id: "Charger is offline"}


async def test_restart_mid_event_resumes_and_clears_every_profile(server, session, engine, grid_org):
    org = grid_org
    a = make_charger(session, org, ocpp_id="CP-A", auth_key="test-auth-key-0123456789")
    b = make_charger(session, org, ocpp_id="CP-B", auth_key="test-auth-key-0123456789")
    _policy(session, org, [])
    async with connect(server, "CP-A", cls=GridCharger) as cp_a, connect(server, "CP-B", cls=GridCharger) as cp_b:
        clock.set(DROP)
        await asyncio.to_thread(_poll, engine)
        # The worker decides and writes its intents, then dies before sending anything.
        with Session(engine, expire_on_commit=False) as s:
            event, orders = response._decide(s, org.id)
            s.commit()
        assert len(orders) == 2 and not cp_a.profiles and not cp_b.profiles
        # A new worker: the event is still active in the database; it resumes and sends the profiles.
        _, step = await _tick(engine, org, DROP + timedelta(seconds=30))
        assert step.event_id == event.id and len(cp_a.profiles) == len(cp_b.profiles) == 1
        # It dies again just after deciding to end (the grid is back): the next worker clears them all.
        clock.set(RECOVERED)
        await asyncio.to_thread(_poll, engine)
        with Session(engine, expire_on_commit=False) as s:
            response._decide(s, org.id)
            s.commit()
        _, step = await _tick(engine, org, RECOVERED + timedelta(seconds=30))
        assert step.status == "ended"
        assert len(cp_a.cleared) >= 1 and len(cp_b.cleared) >= 1
    assert session.execute(select(DrEvent.status)).scalar_one() == "ended"
    assert {a.id, b.id} == set(session.execute(select(DrAction.charger_id).where(
        DrAction.action == "ClearChargingProfile", DrAction.ok)).scalars())


async def test_maximum_duration_ends_the_event_and_it_does_not_restart_while_the_stress_lasts(server, session,
                                                                                            engine, grid_org):
    org = grid_org
    make_charger(session, org, ocpp_id="CP-A", auth_key="test-auth-key-0123456789")
    _policy(session, org, [])
    async with connect(server, "CP-A", cls=GridCharger) as cp_a:
        _, step = await _tick(engine, org, DROP)
        first = step.event_id
        profile = cp_a.profiles[0]
        # The charger's own copy ends with the event, even if Voltdesk never clears it.
        assert profile["charging_schedule"]["duration"] == 3600
        clock.set(DROP + timedelta(minutes=61))
        step = await asyncio.to_thread(response.step, engine=engine, organization_id=org.id)
        assert step.status == "ended" and cp_a.cleared == [{"id": PROFILE_ID}]
        # The frequency is still low an hour later: the same episode, no new event.
        with Session(engine) as s:
            readings.store(session=s, region="DEMO", source="replay", readings=[
                Reading(ts=DROP + timedelta(minutes=61), frequency_hz=Decimal("49.7"))])
            assert classify.update_state(session=s, region=s.get(regions.GridRegion, "DEMO")).state == "alert"
            s.commit()
        step = await asyncio.to_thread(response.step, engine=engine, organization_id=org.id)
        assert step.event_id is None and len(cp_a.profiles) == 1
    event = session.get(DrEvent, first)
    assert event.end_reason == "maximum duration reached"
