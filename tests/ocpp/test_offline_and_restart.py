"""Offline detection (dropped connection, missed heartbeats) and a server restart in the middle of a session."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocpp.v16 import call
from sqlalchemy import select

from core.clock import clock
from models import Charger, ChargerStatusEvent, Connector, MeterValue, Transaction
from services.charging import idtags as idtag_svc
from tests.ocpp.conftest import connect, until


def _charger(session, charger_id):
    session.expire_all()
    return session.get(Charger, charger_id)


async def test_charger_missing_heartbeats_beyond_grace_goes_offline_and_reconnect_restores_it(server, session,
                                                                                            charger):
    start = datetime.now(UTC)
    clock.set(start)
    async with connect(server, "CP-1") as cp:
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
        await server.sweep_offline()
        assert _charger(session, charger.id).status == "Preparing"  # within interval + grace: still online
        s = server.settings
        clock.set(start + timedelta(seconds=s.ocpp_heartbeat_interval + s.ocpp_offline_grace_seconds + 1))
        assert await server.sweep_offline() == [charger.id]
        row = _charger(session, charger.id)
        assert (row.status, row.connected) == ("Offline", False)
        offline = session.scalars(select(ChargerStatusEvent).where(ChargerStatusEvent.status == "Offline",
                                                                   ChargerStatusEvent.connector_id == 0)).one()
        assert offline.info == "Missed heartbeats"
        await until(lambda: cp._connection.state.name == "CLOSED")  # the silent socket is dropped
    async with connect(server, "CP-1"):
        row = _charger(session, charger.id)
        assert (row.status, row.connected) == ("Preparing", True)
        conn = session.scalars(select(Connector).where(Connector.charger_id == charger.id,
                                                       Connector.connector_id == 1)).one()
        assert conn.status == "Preparing"


async def test_old_connection_closing_after_a_reconnect_does_not_mark_the_charger_offline(server, session, charger):
    async with connect(server, "CP-1") as first:
        async with connect(server, "CP-1") as second:
            await until(lambda: first._connection.state.name == "CLOSED")  # the server dropped the stale socket
            await second.call(call.Heartbeat())
            row = _charger(session, charger.id)
            assert row.connected and row.status == "Available"


async def test_server_restart_mid_session_keeps_the_session_and_its_meter_values(session, engine, charger):
    from ocpp_server.server import OcppServer

    idtag_svc.create_id_tag(session=session, tag="LANKA--0001", organization=session.get(
        __import__("models").Organization, charger.organization_id))
    session.commit()
    now = datetime.now(UTC).replace(microsecond=0)
    first = await OcppServer(engine=engine).start(host="127.0.0.1", port=0)
    async with connect(first, "CP-1") as cp:
        tx_id = (await cp.call(call.StartTransaction(connector_id=1, id_tag="LANKA--0001", meter_start=0,
                                                     timestamp=now.isoformat()))).transaction_id
        await cp.call(call.MeterValues(connector_id=1, transaction_id=tx_id, meter_value=[
            {"timestamp": now.isoformat(), "sampledValue": [{"value": "1500"}]}]))
        await first.stop()  # acknowledged samples are flushed on a clean stop
    assert _charger(session, charger.id).status == "Offline"
    second = await OcppServer(engine=engine).start(host="127.0.0.1", port=0)
    try:
        async with connect(second, "CP-1") as cp:
            await cp.call(call.MeterValues(connector_id=1, transaction_id=tx_id, meter_value=[
                {"timestamp": (now + timedelta(minutes=1)).isoformat(), "sampledValue": [{"value": "2500"}]}]))
            await cp.call(call.StopTransaction(meter_stop=3000, timestamp=(now + timedelta(minutes=2)).isoformat(),
                                               transaction_id=tx_id))
    finally:
        await second.stop()
    session.expire_all()
    tx = session.get(Transaction, tx_id)
    assert (tx.status, tx.energy_wh) == ("completed", 3000)
    values = session.scalars(select(MeterValue.value).where(MeterValue.transaction_id == tx_id)
                             .order_by(MeterValue.timestamp)).all()
    assert [int(v) for v in values] == [1500, 2500]
