"""Transaction handlers, one CALL at a time: the exact frame answered and the transaction it leaves behind."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.clock import clock
from models import MeterValue, OcppMessage, Transaction
from models.stats import OrgDayStat
from models.transaction import TransactionStatus
from ocpp_server.connection import ChargerConnection
from services.access.scope import scope_for
from services.charging import transactions as tx_read
from services.ocpp import presence
from tests.ocpp_server.conftest import NOW, Wire
from tests.utils.factories import make_charger, make_org, make_user
from tests.utils.fake_ws import FakeWebSocket

START = ('[2,"t1","StartTransaction",{"connectorId":1,"idTag":"LANKA-0001","meterStart":1000,'
         '"timestamp":"2026-11-21T10:00:00Z"}]')


def _transactions(session) -> list[Transaction]:
    session.expire_all()
    return list(session.scalars(select(Transaction).order_by(Transaction.id)))


def _meter_values(minute: int, wh: int, tx_id: int | None = None, uid: str = "m1") -> str:
    payload = {"connectorId": 1, "meterValue": [{"timestamp": f"2026-11-21T10:{minute:02d}:00Z", "sampledValue": [
        {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]}
    if tx_id is not None:
        payload["transactionId"] = tx_id
    return json.dumps([2, uid, "MeterValues", payload], separators=(",", ":"))


async def _started(wire, session) -> int:
    await wire.send(START)
    return _transactions(session)[0].id


# --- StartTransaction --------------------------------------------------------------------------------------


async def test_start_transaction_opens_a_transaction_and_answers_its_id_with_accepted(wire, session, charger, tag):
    reply = await wire.send(START)
    [tx] = _transactions(session)
    assert reply == f'[3,"t1",{{"transactionId":{tx.id},"idTagInfo":{{"status":"Accepted"}}}}]'
    assert (tx.charger_id, tx.connector_id, tx.id_tag, tx.id_tag_id) == (charger.id, 1, "LANKA-0001", tag.id)
    assert (tx.status, tx.meter_start, tx.started_at, tx.flags, tx.currency) == (
        TransactionStatus.ACTIVE, 1000, NOW, [], "LKR")


async def test_start_transaction_sent_again_answers_the_same_id_and_opens_no_second_transaction(wire, session, tag):
    first = await wire.send(START)
    again = await wire.send(START)
    [tx] = _transactions(session)
    assert first == again == f'[3,"t1",{{"transactionId":{tx.id},"idTagInfo":{{"status":"Accepted"}}}}]'


async def test_start_transaction_with_an_unknown_tag_is_recorded_and_answered_invalid(wire, session, tag):
    reply = await wire.send('[2,"t2","StartTransaction",{"connectorId":2,"idTag":"NOPE","meterStart":0,'
                            '"timestamp":"2026-11-21T10:00:00Z"}]')
    [tx] = _transactions(session)  # OCPP: the transaction is recorded whatever the tag; the charger stops it
    assert reply == f'[3,"t2",{{"transactionId":{tx.id},"idTagInfo":{{"status":"Invalid"}}}}]'
    assert (tx.id_tag, tx.id_tag_id, tx.status) == ("NOPE", None, TransactionStatus.ACTIVE)


async def test_start_transaction_queued_offline_is_flagged_late(wire, session, tag):
    clock.advance(timedelta(hours=3))
    await wire.send(START)
    [tx] = _transactions(session)
    assert (tx.started_at, tx.flags) == (NOW, ["late_delivery"])


async def test_start_transaction_with_a_bad_timestamp_is_a_property_violation_and_opens_nothing(wire, session, tag):
    reply = await wire.send('[2,"t3","StartTransaction",{"connectorId":1,"idTag":"LANKA-0001","meterStart":0,'
                            '"timestamp":"yesterday"}]')
    assert reply == (
        '[4,"t3","PropertyConstraintViolation","Payload is syntactically correct but at least one field contains '
        'an invalid value",{"cause":"timestamp: \'yesterday\' is not a valid dateTime."}]')
    assert _transactions(session) == []


async def test_start_transaction_without_a_meter_start_is_an_occurence_violation_and_opens_nothing(
        wire, session, tag):
    reply = await wire.send('[2,"t4","StartTransaction",{"connectorId":1,"idTag":"LANKA-0001",'
                            '"timestamp":"2026-11-21T10:00:00Z"}]')
    assert reply == ('[4,"t4","OccurenceConstraintViolation","Payload for Action is syntactically correct but at '
                     'least one of the fields violates occurence constraints",'
                     '{"cause":"\'meterStart\' is a required property"}]')
    assert _transactions(session) == []


# --- StopTransaction ---------------------------------------------------------------------------------------


async def test_stop_transaction_completes_and_prices_the_transaction(wire, session, tag):
    tx_id = await _started(wire, session)
    clock.advance(timedelta(minutes=30))
    reply = await wire.send(f'[2,"p1","StopTransaction",{{"transactionId":{tx_id},"meterStop":5000,'
                            f'"timestamp":"2026-11-21T10:30:00Z","reason":"EVDisconnected"}}]')
    assert reply == '[3,"p1",{}]'
    [tx] = _transactions(session)
    assert (tx.status, tx.meter_stop, tx.energy_wh, tx.stopped_at, tx.stop_reason) == (
        TransactionStatus.COMPLETED, 5000, 4000, NOW + timedelta(minutes=30), "EVDisconnected")
    assert tx.amount_energy == Decimal("480.00") and tx.priced_at is not None


async def test_stop_transaction_with_an_id_tag_answers_its_status(wire, session, tag):
    tx_id = await _started(wire, session)
    reply = await wire.send(f'[2,"p2","StopTransaction",{{"transactionId":{tx_id},"meterStop":1000,'
                            f'"timestamp":"2026-11-21T10:00:00Z","idTag":"LANKA-0001"}}]')
    assert reply == '[3,"p2",{"idTagInfo":{"status":"Accepted"}}]'
    assert _transactions(session)[0].stop_reason == "Local"  # no reason given means Local (OCPP 1.6)


async def test_stop_transaction_sent_twice_is_counted_once(wire, session, tag):
    tx_id = await _started(wire, session)
    stop = (f'[2,"p3","StopTransaction",{{"transactionId":{tx_id},"meterStop":11000,'
            f'"timestamp":"2026-11-21T10:30:00Z"}}]')
    first = await wire.send(stop)
    [done] = _transactions(session)
    clock.advance(timedelta(minutes=5))
    again = await wire.send(stop)
    other = await wire.send(f'[2,"p4","StopTransaction",{{"transactionId":{tx_id},"meterStop":99000,'
                            f'"timestamp":"2026-11-21T12:00:00Z"}}]')
    assert first == again == '[3,"p3",{}]' and other == '[3,"p4",{}]'
    [tx] = _transactions(session)
    assert (tx.energy_wh, tx.meter_stop, tx.stopped_at) == (10000, 11000, NOW + timedelta(minutes=30))
    assert (tx.amount_energy, tx.amount_gross, tx.priced_at) == (Decimal("1200.00"), done.amount_gross,
                                                                 done.priced_at)


async def test_stop_transaction_below_meter_start_is_flagged_and_counts_no_energy_in_totals(wire, session, tag):
    tx_id = await _started(wire, session)  # meterStart 1000
    clock.advance(timedelta(minutes=30))
    reply = await wire.send(f'[2,"p7","StopTransaction",{{"transactionId":{tx_id},"meterStop":950,'
                            f'"timestamp":"2026-11-21T10:30:00Z"}}]')
    assert reply == '[3,"p7",{}]'
    [tx] = _transactions(session)
    assert (tx.meter_stop, tx.energy_wh, tx.flags, tx.amount_energy) == (950, 0, ["meter_backwards"],
                                                                         Decimal("0.00"))
    day = session.scalars(select(OrgDayStat).where(OrgDayStat.organization_id == tx.organization_id)).one()
    assert (day.sessions, day.energy_wh) == (1, 0)  # not -50


async def test_stop_transaction_for_an_unknown_transaction_answers_empty_and_opens_nothing(wire, session, tag):
    reply = await wire.send('[2,"p5","StopTransaction",{"transactionId":987654,"meterStop":1,'
                            '"timestamp":"2026-11-21T10:00:00Z"}]')
    assert reply == '[3,"p5",{}]'
    assert _transactions(session) == []


async def test_stop_transaction_writes_the_meter_values_still_queued_first(wire, session, tag):
    tx_id = await _started(wire, session)
    await wire.send(_meter_values(10, 3000, tx_id))  # queued for the batch writer, not yet written
    await wire.send(f'[2,"p6","StopTransaction",{{"transactionId":{tx_id},"meterStop":4000,'
                    f'"timestamp":"2026-11-21T10:20:00Z"}}]')
    assert session.scalars(select(MeterValue.value).where(MeterValue.transaction_id == tx_id)).all() == [
        Decimal(3000)]


# --- MeterValues -------------------------------------------------------------------------------------------


async def test_meter_values_are_answered_at_once_and_written_linked_to_the_transaction(wire, server, session, tag):
    tx_id = await _started(wire, session)
    assert await wire.send(_meter_values(5, 2500, tx_id)) == '[3,"m1",{}]'
    await server.meters.flush()  # what the batch writer does every quarter second
    row = session.scalars(select(MeterValue)).one()
    assert (row.transaction_id, row.connector_id, row.value, row.unit, row.flags) == (
        tx_id, 1, Decimal(2500), "Wh", [])
    assert row.timestamp == NOW + timedelta(minutes=5)


async def test_meter_values_for_an_unknown_transaction_are_kept_without_the_link(wire, server, session, charger):
    assert await wire.send(_meter_values(5, 2500, 987654, uid="m2")) == '[3,"m2",{}]'
    await server.meters.flush()
    row = session.scalars(select(MeterValue)).one()
    assert (row.charger_id, row.transaction_id, row.value) == (charger.id, None, Decimal(2500))


async def test_meter_values_with_a_value_that_is_not_a_number_is_a_property_violation_and_writes_nothing(
        wire, server, session, charger):
    reply = await wire.send('[2,"m3","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":'
                            '"2026-11-21T10:00:00Z","sampledValue":[{"value":"lots"}]}]}]')
    assert reply == (
        '[4,"m3","PropertyConstraintViolation","Payload is syntactically correct but at least one field contains '
        'an invalid value",{"cause":"sampledValue.value: Sampled value \'lots\' is not a number."}]')
    await server.meters.flush()
    assert session.scalar(select(func.count()).select_from(MeterValue)) == 0


# --- values the database cannot hold, connectors the charger does not have -------------------------------

PCV = ('"PropertyConstraintViolation","Payload is syntactically correct but at least one field contains an '
       'invalid value"')


def _start(uid: str, connector: int = 1, meter: int = 1000) -> str:
    return (f'[2,"{uid}","StartTransaction",{{"connectorId":{connector},"idTag":"LANKA-0001","meterStart":{meter},'
            f'"timestamp":"2026-11-21T10:00:00Z"}}]')


async def test_start_transaction_on_connector_0_is_a_property_constraint_violation(wire, session, tag):
    assert await wire.send(_start("c0", connector=0)) == (
        f'[4,"c0",{PCV},{{"cause":"connectorId: 0 is out of range (1 to 2147483647)."}}]')
    assert _transactions(session) == []


async def test_start_transaction_with_a_meter_beyond_any_register_is_refused(wire, session, tag):
    assert await wire.send(_start("c1", meter=10**20)) == (
        f'[4,"c1",{PCV},{{"cause":"meterStart: 100000000000000000000 is out of range (0 to 1000000000000000)."}}]')
    assert _transactions(session) == []


async def test_start_transaction_on_a_32_bit_overflowing_connector_is_refused(wire, session, tag):
    assert await wire.send(_start("c2", connector=2**31)) == (
        f'[4,"c2",{PCV},{{"cause":"connectorId: 2147483648 is out of range (1 to 2147483647)."}}]')
    assert _transactions(session) == []


async def test_start_transaction_on_a_connector_the_charger_does_not_have_is_refused(wire, session, tag):
    assert await wire.send(_start("c3", connector=3)) == (
        f'[4,"c3",{PCV},{{"cause":"connectorId: This charger has no connector 3."}}]')
    assert _transactions(session) == []


# --- repeated samples --------------------------------------------------------------------------------------


async def test_meter_values_resent_with_the_same_unique_id_are_stored_once(wire, server, session, tag):
    tx_id = await _started(wire, session)
    frame = _meter_values(5, 2500, tx_id, uid="r1")
    assert await wire.send(frame) == await wire.send(frame) == '[3,"r1",{}]'  # both answered
    await server.meters.flush()
    await wire.send(frame)  # and once more, after the first copy is in the database
    await server.meters.flush()
    assert session.scalars(select(MeterValue.value)).all() == [Decimal(2500)]


async def test_a_sample_with_the_same_timestamp_measurand_and_phase_is_stored_once(wire, server, session, tag):
    tx_id = await _started(wire, session)
    await wire.send(_meter_values(5, 2500, tx_id, uid="r2"))
    await wire.send(_meter_values(5, 2500, tx_id, uid="r3"))  # another frame, the same reading
    await wire.send(_meter_values(6, 2600, tx_id, uid="r4"))
    await server.meters.flush()
    assert session.scalars(select(MeterValue.value).order_by(MeterValue.timestamp)).all() == [
        Decimal(2500), Decimal(2600)]


async def test_a_start_delivered_late_does_not_close_the_connectors_newer_session_and_is_flagged(
        wire, session, tag):
    current = await _started(wire, session)  # at 10:00
    await wire.send('[2,"o1","StartTransaction",{"connectorId":1,"idTag":"LANKA-0001","meterStart":500,'
                    '"timestamp":"2026-11-21T09:00:00Z"}]')
    by_id = {t.id: t for t in _transactions(session)}
    [late] = [t for i, t in by_id.items() if i != current]
    assert (by_id[current].status, by_id[current].flags) == (TransactionStatus.ACTIVE, [])
    assert (late.status, late.flags) == (TransactionStatus.ACTIVE, ["late_delivery", "overlapping_session"])


# --- the session's frame log --------------------------------------------------------------------------------


async def test_another_tenants_charger_cannot_write_into_a_sessions_frame_log(wire, server, session, tag):
    tx_id = await _started(wire, session)
    intruder = make_charger(session, make_org(session, slug="elsewhere"), ocpp_id="EVIL-1", connectors=1)
    identity = presence.ChargerIdentity(intruder.id, intruder.ocpp_id, intruder.organization_id, 1)
    evil = Wire(ChargerConnection(server, FakeWebSocket(), identity), None)
    evil.ws = evil.conn.ws
    forged = (f'[2,"x1","StopTransaction",{{"transactionId":{tx_id},"meterStop":999999,'
              f'"timestamp":"2026-11-21T10:05:00Z"}}]')
    assert await evil.send(forged) == '[3,"x1",{}]'  # not its session: answered, and nothing changes
    await server.frames.flush()
    assert session.scalars(select(OcppMessage.transaction_id).where(
        OcppMessage.charger_id == intruder.id)).all() == [None, None]  # logged, but not linked to the session
    admin = scope_for(session, make_user(session, role="admin"))
    detail = tx_read.get_transaction(session=session, scope=admin, transaction_id=tx_id)
    assert detail.raw_messages and all("999999" not in m.frame for m in detail.raw_messages)
    assert _transactions(session)[0].status == TransactionStatus.ACTIVE


# --- Sessions whose StopTransaction was lost ------------------------------------------------------------------


def _status(uid: str, status: str, minute: int) -> str:
    return (f'[2,"{uid}","StatusNotification",{{"connectorId":1,"errorCode":"NoError","status":"{status}",'
            f'"timestamp":"2026-11-21T10:{minute:02d}:00Z"}}]')


async def test_status_available_closes_the_open_transaction_from_its_last_meter_value_flagged_and_priced(
        wire, session, tag):
    tx_id = await _started(wire, session)
    clock.set(NOW + timedelta(minutes=30))  # the sample and the status arrive as they happen
    await wire.send(_meter_values(20, 3000, tx_id))
    reply = await wire.send(_status("a1", "Available", 30))
    [tx] = _transactions(session)
    assert reply == '[3,"a1",{}]'
    assert (tx.status, tx.meter_stop, tx.energy_wh, tx.stopped_at, tx.stop_reason, tx.flags) == (
        TransactionStatus.COMPLETED, 3000, 2000, NOW + timedelta(minutes=20), "Other", ["closed_by_reconciliation"])
    assert tx.priced_at is not None and tx.amount_energy == Decimal("240.00")  # 2 kWh at 120 LKR


async def test_status_finishing_without_samples_closes_the_transaction_at_its_start_with_no_energy(
        wire, session, tag):
    await _started(wire, session)
    reply = await wire.send(_status("f1", "Finishing", 5))
    [tx] = _transactions(session)
    assert reply == '[3,"f1",{}]'
    assert (tx.status, tx.meter_stop, tx.energy_wh, tx.stopped_at, tx.flags) == (
        TransactionStatus.COMPLETED, 1000, 0, NOW, ["closed_by_reconciliation"])
    assert tx.priced_at is not None


@pytest.mark.parametrize("status", ["Preparing", "Charging", "SuspendedEV", "SuspendedEVSE"])
async def test_status_while_charging_never_closes_the_transaction(wire, session, tag, status):
    await _started(wire, session)
    reply = await wire.send(_status("c1", status, 5))
    [tx] = _transactions(session)
    assert reply == '[3,"c1",{}]'
    assert (tx.status, tx.flags, tx.priced_at) == (TransactionStatus.ACTIVE, [], None)


async def test_status_available_stamped_before_the_start_does_not_close_it(wire, session, tag):
    await _started(wire, session)
    await wire.send('[2,"e1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available",'
                    '"timestamp":"2026-11-21T09:59:00Z"}]')
    assert _transactions(session)[0].status == TransactionStatus.ACTIVE


async def test_the_lost_stop_arriving_after_reconciliation_corrects_the_estimate_once_and_counts_once(
        wire, session, tag):
    tx_id = await _started(wire, session)
    clock.set(NOW + timedelta(minutes=30))
    await wire.send(_meter_values(20, 3000, tx_id))
    await wire.send(_status("a1", "Available", 30))
    stop = (f'[2,"z1","StopTransaction",{{"transactionId":{tx_id},"meterStop":3500,'
            f'"timestamp":"2026-11-21T10:25:00Z","reason":"EVDisconnected"}}]')
    reply = await wire.send(stop)
    [tx] = _transactions(session)
    assert reply == '[3,"z1",{}]'
    assert (tx.status, tx.meter_stop, tx.energy_wh, tx.stopped_at, tx.stop_reason, tx.flags) == (
        TransactionStatus.COMPLETED, 3500, 2500, NOW + timedelta(minutes=25), "EVDisconnected", [])
    assert tx.priced_at is not None and tx.amount_energy == Decimal("300.00")  # 2.5 kWh at 120 LKR, once
    again = await wire.send(stop)
    [same] = _transactions(session)
    assert again == '[3,"z1",{}]'
    assert (same.meter_stop, same.energy_wh, same.amount_energy, same.priced_at) == (
        3500, 2500, Decimal("300.00"), tx.priced_at)
    day = session.scalars(select(OrgDayStat).where(OrgDayStat.organization_id == tx.organization_id)).one()
    assert (day.sessions, day.energy_wh) == (1, 2500)  # the corrected session, counted once
