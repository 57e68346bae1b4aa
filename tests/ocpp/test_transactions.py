"""Status, Authorize, StartTransaction, MeterValues, StopTransaction: happy path, duplicates, late and suspect data."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ocpp.v16 import call
from sqlalchemy import select

from core.clock import clock
from models import (
    Charger,
    ChargerStatusEvent,
    Connector,
    IdTag,
    MeterValue,
    OcppMessage,
    Tariff,
    Transaction,
)
from services.charging import idtags as idtag_svc
from tests.ocpp.conftest import connect, until
from tests.utils.factories import make_org

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


@pytest.fixture
def tag(session, org):
    session.add(Tariff(organization_id=org.id, name="Std", is_default=True, price_per_kwh=Decimal(120)))
    row = idtag_svc.create_id_tag(session=session, tag="LANKA--0001", organization=org)
    session.commit()
    return row


def _energy(value: int, ts: datetime) -> list[dict]:
    return [{"timestamp": iso(ts), "sampledValue": [{"value": str(value), "measurand": "Energy.Active.Import.Register",
                                                     "unit": "Wh"}]}]


async def test_status_notification_updates_live_status_and_writes_events(server, session, charger):
    async with connect(server, "CP-1") as cp:
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        await cp.call(call.StatusNotification(connector_id=2, error_code="GroundFailure", status="Faulted",
                                              vendor_error_code="E42"))
        await cp.call(call.StatusNotification(connector_id=0, error_code="NoError", status="Available"))
        session.expire_all()
        rows = session.scalars(select(Connector).where(Connector.charger_id == charger.id))
        conns = {c.connector_id: c for c in rows}
        assert conns[1].status == "Charging"
        assert (conns[2].status, conns[2].error_code) == ("Faulted", "GroundFailure")
        assert session.get(Charger, charger.id).status == "Available"
        events = session.scalars(select(ChargerStatusEvent).where(ChargerStatusEvent.vendor_error_code == "E42")).all()
        assert len(events) == 1 and events[0].error_code == "GroundFailure"


async def test_late_status_with_older_timestamp_is_recorded_but_does_not_override_newer(server, session, charger):
    clock.set(NOW)
    async with connect(server, "CP-1") as cp:
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available",
                                              timestamp=iso(NOW)))
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging",
                                              timestamp=iso(NOW - timedelta(hours=1))))
        session.expire_all()
        conn = session.scalars(select(Connector).where(Connector.charger_id == charger.id,
                                                       Connector.connector_id == 1)).one()
        assert conn.status == "Available"
    assert session.scalars(select(ChargerStatusEvent).where(ChargerStatusEvent.status == "Charging")).first()


async def test_authorize_checks_status_expiry_blocking_and_organization(server, session, org, charger):
    clock.set(NOW)
    idtag_svc.create_id_tag(session=session, tag="GOOD", organization=org)
    idtag_svc.create_id_tag(session=session, tag="OLD", organization=org, expires_at=NOW - timedelta(days=1))
    idtag_svc.create_id_tag(session=session, tag="BAD", organization=org, status="Blocked")
    other = make_org(session, slug="elsewhere")
    idtag_svc.create_id_tag(session=session, tag="FOREIGN", organization=other)
    session.commit()
    async with connect(server, "CP-1") as cp:
        answers = {t: (await cp.call(call.Authorize(id_tag=t))).id_tag_info["status"]
                   for t in ("GOOD", "OLD", "BAD", "FOREIGN", "NOPE")}
    assert answers == {"GOOD": "Accepted", "OLD": "Expired", "BAD": "Blocked", "FOREIGN": "Invalid",
                       "NOPE": "Invalid"}


async def test_full_session_start_meter_values_stop_prices_and_links_frames(server, session, charger, tag):
    clock.set(NOW)
    async with connect(server, "CP-1") as cp:
        start = await cp.call(call.StartTransaction(connector_id=1, id_tag="LANKA--0001", meter_start=1000,
                                                    timestamp=iso(NOW)))
        tx_id = start.transaction_id
        assert start.id_tag_info["status"] == "Accepted"
        for i in range(1, 4):
            await cp.call(call.MeterValues(connector_id=1, transaction_id=tx_id,
                                           meter_value=_energy(1000 + i * 1000, NOW + timedelta(minutes=i))))
        stop = await cp.call(call.StopTransaction(meter_stop=5000, timestamp=iso(NOW + timedelta(minutes=5)),
                                                  transaction_id=tx_id, reason="EVDisconnected", id_tag="LANKA--0001"))
        assert stop.id_tag_info["status"] == "Accepted"
    session.expire_all()
    tx = session.get(Transaction, tx_id)
    assert (tx.status, tx.energy_wh, tx.stop_reason, tx.flags) == ("completed", 4000, "EVDisconnected", [])
    assert tx.amount_energy == Decimal("480.00") and tx.currency == "LKR"
    values = session.scalars(select(MeterValue.value).where(MeterValue.transaction_id == tx_id)
                             .order_by(MeterValue.timestamp)).all()
    assert values == [Decimal(2000), Decimal(3000), Decimal(4000)]
    await until(lambda: session.scalar(select(OcppMessage.id).where(OcppMessage.transaction_id == tx_id,
                                                                    OcppMessage.action == "StopTransaction",
                                                                    OcppMessage.direction == "out")))
    actions = session.scalars(select(OcppMessage.action).where(OcppMessage.transaction_id == tx_id,
                                                               OcppMessage.direction == "in")).all()
    assert sorted(actions) == ["MeterValues"] * 3 + ["StartTransaction", "StopTransaction"]


async def test_start_transaction_sent_twice_returns_same_id_and_creates_one_session(server, session, charger, tag):
    clock.set(NOW)
    msg = call.StartTransaction(connector_id=1, id_tag="LANKA--0001", meter_start=500, timestamp=iso(NOW))
    async with connect(server, "CP-1") as cp:
        first = await cp.call(msg)
        again = await cp.call(msg)
    assert first.transaction_id == again.transaction_id
    assert session.scalar(select(Transaction.id).where(Transaction.charger_id == charger.id).order_by(
        Transaction.id.desc())) == first.transaction_id
    assert len(session.scalars(select(Transaction)).all()) == 1


async def test_stop_repeated_unknown_or_closed_is_answered_without_double_counting(server, session, charger, tag):
    clock.set(NOW)
    async with connect(server, "CP-1") as cp:
        tx_id = (await cp.call(call.StartTransaction(connector_id=1, id_tag="LANKA--0001", meter_start=0,
                                                     timestamp=iso(NOW)))).transaction_id
        stop = call.StopTransaction(meter_stop=10000, timestamp=iso(NOW + timedelta(minutes=30)),
                                    transaction_id=tx_id)
        await cp.call(stop)
        session.expire_all()
        priced = session.get(Transaction, tx_id)
        first_amount, first_priced_at = priced.amount_gross, priced.priced_at
        await cp.call(stop)  # sent again
        await cp.call(call.StopTransaction(meter_stop=99999, timestamp=iso(NOW + timedelta(hours=2)),
                                           transaction_id=tx_id))  # already closed, other values
        unknown = await cp.call(call.StopTransaction(meter_stop=1, timestamp=iso(NOW), transaction_id=987654))
    assert unknown.id_tag_info is None
    session.expire_all()
    tx = session.get(Transaction, tx_id)
    assert (tx.energy_wh, tx.meter_stop, tx.amount_gross, tx.priced_at) == (10000, 10000, first_amount,
                                                                          first_priced_at)
    assert tx.stop_reason == "Local"
    assert len(session.scalars(select(Transaction)).all()) == 1


async def test_offline_queued_messages_with_past_timestamps_are_processed_in_order(server, session, charger, tag):
    clock.set(NOW)
    past = NOW - timedelta(hours=3)
    async with connect(server, "CP-1") as cp:
        # What a charger delivers after being offline: a whole session, in order, with its original times.
        tx_id = (await cp.call(call.StartTransaction(connector_id=1, id_tag="LANKA--0001", meter_start=100,
                                                     timestamp=iso(past)))).transaction_id
        await cp.call(call.MeterValues(connector_id=1, transaction_id=tx_id,
                                       meter_value=_energy(2100, past + timedelta(minutes=10))))
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Finishing",
                                              timestamp=iso(past + timedelta(minutes=20))))
        await cp.call(call.StopTransaction(meter_stop=3100, timestamp=iso(past + timedelta(minutes=20)),
                                           transaction_id=tx_id))
    session.expire_all()
    tx = session.get(Transaction, tx_id)
    assert tx.started_at == past and tx.stopped_at == past + timedelta(minutes=20)
    assert tx.energy_wh == 3000 and "late_delivery" in tx.flags
    mv = session.scalars(select(MeterValue).where(MeterValue.transaction_id == tx_id)).one()
    assert mv.timestamp == past + timedelta(minutes=10) and mv.flags == []


async def test_suspect_data_is_kept_and_flagged(server, session, charger, tag):
    clock.set(NOW)
    async with connect(server, "CP-1") as cp:
        tx_id = (await cp.call(call.StartTransaction(connector_id=1, id_tag="LANKA--0001", meter_start=5000,
                                                     timestamp=iso(NOW)))).transaction_id
        await cp.call(call.MeterValues(connector_id=1, transaction_id=tx_id,
                                       meter_value=_energy(6000, NOW + timedelta(minutes=1))))
        await cp.call(call.MeterValues(connector_id=1, transaction_id=tx_id,
                                       meter_value=_energy(5500, NOW + timedelta(minutes=2))))  # backwards
        await cp.call(call.MeterValues(connector_id=1, transaction_id=tx_id,
                                       meter_value=_energy(7000, NOW + timedelta(days=2))))  # future
        await cp.call(call.StopTransaction(meter_stop=4000, timestamp=iso(NOW + timedelta(minutes=4)),
                                           transaction_id=tx_id))
    session.expire_all()
    rows = session.scalars(select(MeterValue).where(MeterValue.transaction_id == tx_id)
                           .order_by(MeterValue.timestamp)).all()
    assert [(int(r.value), r.flags) for r in rows] == [(6000, []), (5500, ["meter_backwards"]),
                                                      (7000, ["future_timestamp"])]
    first = session.get(Transaction, tx_id)
    assert "meter_backwards" in first.flags and first.energy_wh == 0  # flagged, and counted as no energy
    assert first.amount_gross == Decimal("0.00")  # nothing billed for a meter that ran backwards


async def test_start_with_blocked_tag_is_recorded_and_answered_blocked(server, session, org, charger):
    idtag_svc.create_id_tag(session=session, tag="BLOCKED", organization=org, status="Blocked")
    session.commit()
    async with connect(server, "CP-1") as cp:
        conf = await cp.call(call.StartTransaction(connector_id=2, id_tag="BLOCKED", meter_start=0,
                                                   timestamp=iso(datetime.now(UTC))))
    assert conf.id_tag_info["status"] == "Blocked"
    tx = session.get(Transaction, conf.transaction_id)
    assert tx.status == "active" and tx.id_tag_id == session.scalar(select(IdTag.id).where(IdTag.tag == "BLOCKED"))


async def test_meter_values_for_an_unknown_session_are_kept_without_the_link(server, session, charger):
    async with connect(server, "CP-1") as cp:
        await cp.call(call.MeterValues(connector_id=1, transaction_id=424242,
                                       meter_value=_energy(1234, datetime.now(UTC))))
    await server.meters.flush()
    row = session.scalars(select(MeterValue)).one()
    assert (row.transaction_id, int(row.value), row.charger_id) == (None, 1234, charger.id)


async def test_stop_transaction_stores_its_transaction_data_as_meter_values(server, session, charger, tag):
    clock.set(NOW)
    async with connect(server, "CP-1") as cp:
        tx_id = (await cp.call(call.StartTransaction(connector_id=2, id_tag="LANKA--0001", meter_start=0,
                                                     timestamp=iso(NOW)))).transaction_id
        await cp.call(call.StopTransaction(
            meter_stop=2000, timestamp=iso(NOW + timedelta(minutes=10)), transaction_id=tx_id, reason="Remote",
            transaction_data=[{"timestamp": iso(NOW), "sampledValue": [{"value": "0", "context": "Transaction.Begin"}]},
                              {"timestamp": iso(NOW + timedelta(minutes=10)),
                               "sampledValue": [{"value": "2", "unit": "kWh", "context": "Transaction.End"}]}]))
    rows = session.scalars(select(MeterValue).where(MeterValue.transaction_id == tx_id)
                           .order_by(MeterValue.timestamp)).all()
    assert [(r.context, r.unit, int(r.value), r.connector_id) for r in rows] == [
        ("Transaction.Begin", None, 0, 2), ("Transaction.End", "kWh", 2, 2)]
    tx = session.get(Transaction, tx_id)
    assert (tx.stop_reason, tx.energy_wh) == ("Remote", 2000)


async def test_a_second_start_on_a_busy_connector_closes_the_older_session_from_its_last_meter_value(
        server, session, charger, tag):
    clock.set(NOW + timedelta(minutes=10))
    async with connect(server, "CP-1") as cp:
        older = (await cp.call(call.StartTransaction(connector_id=1, id_tag="LANKA--0001", meter_start=5000,
                                                     timestamp=iso(NOW)))).transaction_id
        await cp.call(call.MeterValues(connector_id=1, transaction_id=older,
                                       meter_value=_energy(8000, NOW + timedelta(minutes=2))))
        # Its StopTransaction was lost; the charger starts the next session on the same connector.
        newer = (await cp.call(call.StartTransaction(connector_id=1, id_tag="LANKA--0001", meter_start=8100,
                                                     timestamp=iso(NOW + timedelta(minutes=5))))).transaction_id
        session.expire_all()
        closed = session.get(Transaction, older)
        assert (closed.status, closed.meter_stop, closed.energy_wh, closed.stopped_at, closed.stop_reason) == (
            "completed", 8000, 3000, NOW + timedelta(minutes=2), "Other")
        assert closed.flags == ["closed_by_reconciliation"]
        assert closed.priced_at is not None and closed.amount_gross > 0
        # The lost Stop arriving late corrects the estimate with the charger's own values.
        late_stop = await cp.call(call.StopTransaction(meter_stop=8050, timestamp=iso(NOW + timedelta(minutes=4)),
                                                       transaction_id=older))
    session.expire_all()
    closed, running = session.get(Transaction, older), session.get(Transaction, newer)
    assert (closed.status, closed.meter_stop, closed.energy_wh, closed.stopped_at, closed.flags) == (
        "completed", 8050, 3050, NOW + timedelta(minutes=4), [])
    assert closed.priced_at is not None and closed.amount_gross > 0
    assert (running.status, running.flags) == ("active", [])
    assert late_stop.id_tag_info is None


async def test_available_closes_the_session_whose_stop_was_lost_and_its_late_stop_counts_once(
        server, session, charger, tag):
    clock.set(NOW + timedelta(minutes=10))
    async with connect(server, "CP-1") as cp:
        tx_id = (await cp.call(call.StartTransaction(connector_id=1, id_tag="LANKA--0001", meter_start=5000,
                                                     timestamp=iso(NOW)))).transaction_id
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging",
                                              timestamp=iso(NOW + timedelta(minutes=1))))
        await cp.call(call.MeterValues(connector_id=1, transaction_id=tx_id,
                                       meter_value=_energy(8000, NOW + timedelta(minutes=2))))
        # The database was down when the charger sent its StopTransaction; it did not resend it.
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available",
                                              timestamp=iso(NOW + timedelta(minutes=5))))
        session.expire_all()
        closed = session.get(Transaction, tx_id)
        assert (closed.status, closed.meter_stop, closed.energy_wh, closed.stopped_at, closed.flags) == (
            "completed", 8000, 3000, NOW + timedelta(minutes=2), ["closed_by_reconciliation"])
        assert closed.priced_at is not None and closed.amount_gross > 0
        gross = closed.amount_gross
        stop = call.StopTransaction(meter_stop=8000, timestamp=iso(NOW + timedelta(minutes=3)), transaction_id=tx_id)
        await cp.call(stop)
        await cp.call(stop)  # sent twice: still counted once
    session.expire_all()
    after = session.get(Transaction, tx_id)
    assert (after.energy_wh, after.stopped_at, after.flags, after.amount_gross) == (
        3000, NOW + timedelta(minutes=3), [], gross)
