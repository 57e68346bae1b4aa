"""Chargers as sensors: where the policy allows it, connected chargers are asked (ChangeConfiguration of
MeterValuesSampledData) for Frequency and Voltage; what they report becomes a per-site reading and the
region's live `chargers` reading."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ocpp.routing import on
from ocpp.v16 import call, call_result
from sqlalchemy import select
from sqlmodel import Session

from core.clock import clock
from models.grid import GridReading
from services.access.scope import system_scope
from services.grid import policy, regions, sensors
from tests.ocpp.conftest import Charger, connect, until
from tests.utils.factories import make_charger

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class SensorCharger(Charger):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.config: list[tuple[str, str]] = []

    @on("ChangeConfiguration")
    def change_config(self, key, value):
        self.config.append((key, value))
        return call_result.ChangeConfiguration(status="Accepted")


async def _report(cp, hz: str, volts: str, at: datetime) -> None:
    await cp.call(call.MeterValues(connector_id=1, meter_value=[{
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "sampledValue": [
            {"value": hz, "measurand": "Frequency"}, {"value": volts, "measurand": "Voltage", "unit": "V"}]}]))


async def test_chargers_are_asked_and_their_frequency_becomes_the_regions_live_reading(server, session, engine, org):
    regions.ensure_built_in(session=session)
    ids = [make_charger(session, org, ocpp_id=f"CP-{i}", latitude=Decimal("6.9"), longitude=Decimal("79.8"),
                        auth_key="test-auth-key-0123456789").id for i in (1, 2, 3)]
    policy.save_policy(session=session, scope=system_scope(org.id), organization_id=org.id, region="LK",
                       limit_percent="50", chargers_as_sensors=True)
    session.commit()
    clock.set(NOW)
    async with (connect(server, "CP-1", cls=SensorCharger) as c1, connect(server, "CP-2", cls=SensorCharger) as c2,
                connect(server, "CP-3", cls=SensorCharger) as c3):
        def ask() -> int:
            with Session(engine) as s:
                n = sensors.ask_chargers(session=s)
                s.commit()
                return n
        assert await asyncio.to_thread(ask) == 3
        await until(lambda: c1.config and c2.config and c3.config)
        assert c1.config == [("MeterValuesSampledData", "Energy.Active.Import.Register,Power.Active.Import,"
                                                        "Frequency,Voltage")]
        assert await asyncio.to_thread(ask) == 0  # asked once per boot
        await _report(c1, "50.01", "231", NOW - timedelta(seconds=10))
        await _report(c2, "49.98", "229", NOW - timedelta(seconds=8))
        await _report(c3, "80", "230", NOW - timedelta(seconds=5))  # one faulty meter does not move the median
        await until(lambda: session.connection().exec_driver_sql("SELECT count(*) FROM meter_value").scalar() == 6)

    stored = sensors.store_charger_readings(session=session)
    session.commit()
    assert stored == 1
    reading = session.execute(select(GridReading)).scalar_one()
    assert (reading.region, reading.source, reading.frequency_hz) == ("LK", "chargers", Decimal("50.0100"))
    sites = {s.charger_id: (s.frequency_hz, s.voltage_v) for s in
             sensors.site_readings(session=session, scope=system_scope(org.id))}
    assert sites[ids[0]] == (Decimal("50.01"), Decimal("231")) and len(sites) == 3
