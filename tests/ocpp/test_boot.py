"""BootNotification and Heartbeat."""
from __future__ import annotations

from ocpp.v16 import call

from models import Charger, ChargerStatusEvent
from tests.ocpp.conftest import connect


async def test_boot_stores_charger_details_and_answers_accepted_with_heartbeat_interval(server, session, charger):
    async with connect(server, "CP-1") as cp:
        conf = await cp.call(call.BootNotification(charge_point_vendor="ABB", charge_point_model="Terra 54",
                                                   charge_point_serial_number="SN-77", firmware_version="1.2.3"))
        beat = await cp.call(call.Heartbeat())
    assert conf.status == "Accepted"
    assert conf.interval == server.settings.ocpp_heartbeat_interval
    assert beat.current_time.endswith("Z")
    session.expire_all()
    row = session.get(Charger, charger.id)
    assert (row.vendor, row.model, row.serial_number, row.firmware_version) == ("ABB", "Terra 54", "SN-77", "1.2.3")
    assert row.last_boot_at is not None


async def test_connecting_brings_charger_online_and_dropping_makes_it_offline_with_events(server, session, charger):
    from tests.ocpp.conftest import until

    async with connect(server, "CP-1") as cp:
        await cp.call(call.Heartbeat())
        session.expire_all()
        row = session.get(Charger, charger.id)
        assert row.connected and row.status == "Available"

    def offline():
        session.expire_all()
        return session.get(Charger, charger.id).status == "Offline"

    await until(offline)
    statuses = [e.status for e in session.query(ChargerStatusEvent).filter_by(connector_id=0)
                .order_by(ChargerStatusEvent.id)]
    assert statuses == ["Available", "Offline"]
    assert session.get(Charger, charger.id).connected is False
