"""Core profile handlers, one CALL at a time: the exact frame answered and what it leaves in the database."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.clock import clock
from core.errors import Conflict
from models import Charger, ChargerStatusEvent, Connector, OcppMessage
from models.charger import ChargerStatus, IdTagStatus
from services.charging import idtags as idtag_svc
from tests.ocpp_server.conftest import NOW
from tests.utils.factories import make_org


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


# --- BootNotification ------------------------------------------------------------------------------------


async def test_boot_notification_is_accepted_with_our_time_and_interval_and_records_the_hardware(
        wire, session, charger):
    reply = await wire.send('[2,"b1","BootNotification",{"chargePointVendor":"Alfen BV",'
                            '"chargePointModel":"ICU Eve Mini","chargePointSerialNumber":"SN-7",'
                            '"firmwareVersion":"4.1.0"}]')
    assert reply == '[3,"b1",{"status":"Accepted","currentTime":"2026-11-21T10:00:00Z","interval":600}]'
    session.expire_all()
    row = session.get(Charger, charger.id)
    assert (row.vendor, row.model, row.serial_number, row.firmware_version) == ("Alfen BV", "ICU Eve Mini",
                                                                                 "SN-7", "4.1.0")
    assert row.last_boot_at == NOW


async def test_boot_notification_takes_the_charge_box_serial_when_the_charge_point_has_none(
        wire, session, charger):
    reply = await wire.send('[2,"b2","BootNotification",{"chargePointVendor":"V","chargePointModel":"M",'
                            '"chargeBoxSerialNumber":"BOX-1"}]')
    assert reply == '[3,"b2",{"status":"Accepted","currentTime":"2026-11-21T10:00:00Z","interval":600}]'
    session.expire_all()
    assert session.get(Charger, charger.id).serial_number == "BOX-1"


async def test_boot_notification_without_a_model_is_an_occurence_violation_and_changes_nothing(
        wire, session, charger):
    reply = await wire.send('[2,"b3","BootNotification",{"chargePointVendor":"V"}]')
    assert reply == ('[4,"b3","OccurenceConstraintViolation","Payload for Action is syntactically correct but at '
                     'least one of the fields violates occurence constraints",'
                     '{"cause":"\'chargePointModel\' is a required property"}]')
    session.expire_all()
    assert session.get(Charger, charger.id).vendor is None


# --- Heartbeat ---------------------------------------------------------------------------------------------


async def test_heartbeat_answers_our_current_time_and_marks_the_charger_seen(wire, server, session, charger):
    clock.advance(timedelta(minutes=3))
    assert await wire.send('[2,"h1","Heartbeat",{}]') == '[3,"h1",{"currentTime":"2026-11-21T10:03:00Z"}]'
    await server._flush_seen()  # what the liveness loop does every second
    session.expire_all()
    assert session.get(Charger, charger.id).last_heartbeat_at == NOW + timedelta(minutes=3)


async def test_heartbeat_with_a_payload_is_a_formation_violation(wire):
    assert await wire.send('[2,"h2","Heartbeat",{"extra":1}]') == (
        '[4,"h2","FormationViolation","Payload for Action is syntactically incorrect or not conform the PDU '
        'structure for Action",{"cause":"Additional properties are not allowed (\'extra\' was unexpected)"}]')


# --- StatusNotification ----------------------------------------------------------------------------------


async def test_status_notification_sets_the_connector_and_the_charger_and_keeps_the_event(
        wire, session, charger):
    clock.advance(timedelta(minutes=1))  # connected at NOW; the fault happened 30 s later, reported at once
    reply = await wire.send('[2,"s1","StatusNotification",{"connectorId":2,"errorCode":"GroundFailure",'
                            '"status":"Faulted","vendorErrorCode":"E42","timestamp":"2026-11-21T10:00:30Z"}]')
    assert reply == '[3,"s1",{}]'
    session.expire_all()
    conn = session.scalars(select(Connector).where(Connector.charger_id == charger.id,
                                                   Connector.connector_id == 2)).one()
    assert (conn.status, conn.error_code, conn.status_at) == (ChargerStatus.FAULTED, "GroundFailure",
                                                              NOW + timedelta(seconds=30))
    assert session.get(Charger, charger.id).status == ChargerStatus.AVAILABLE  # connector 1 is still Available
    event = session.scalars(select(ChargerStatusEvent).where(ChargerStatusEvent.status == ChargerStatus.FAULTED)).one()
    assert (event.connector_id, event.vendor_error_code, event.received_at) == (2, "E42",
                                                                                NOW + timedelta(minutes=1))


async def test_status_notification_sent_late_is_kept_but_does_not_override_a_newer_status(
        wire, session, charger):
    await wire.send('[2,"s2","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Charging",'
                    '"timestamp":"2026-11-21T10:00:00Z"}]')
    reply = await wire.send('[2,"s3","StatusNotification",{"connectorId":1,"errorCode":"NoError",'
                            '"status":"Preparing","timestamp":"2026-11-21T09:00:00Z"}]')
    assert reply == '[3,"s3",{}]'
    session.expire_all()
    conn = session.scalars(select(Connector).where(Connector.charger_id == charger.id,
                                                   Connector.connector_id == 1)).one()
    assert conn.status == ChargerStatus.CHARGING
    assert session.get(Charger, charger.id).status == ChargerStatus.CHARGING
    assert _count(session, ChargerStatusEvent, ChargerStatusEvent.status == ChargerStatus.PREPARING) == 1


async def test_status_notification_stamped_a_day_ahead_does_not_freeze_the_live_status_and_is_flagged(
        wire, session, charger):
    await wire.send('[2,"f1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Charging",'
                    '"timestamp":"2026-11-22T10:00:00Z"}]')  # the charger's clock is a day ahead
    clock.advance(timedelta(minutes=1))
    reply = await wire.send('[2,"f2","StatusNotification",{"connectorId":1,"errorCode":"NoError",'
                            '"status":"Available","timestamp":"2026-11-21T10:01:00Z"}]')
    assert reply == '[3,"f2",{}]'
    session.expire_all()
    conn = session.scalars(select(Connector).where(Connector.charger_id == charger.id,
                                                   Connector.connector_id == 1)).one()
    assert (conn.status, conn.status_at) == (ChargerStatus.AVAILABLE, NOW + timedelta(minutes=1))
    flags = dict(session.execute(select(ChargerStatusEvent.status, ChargerStatusEvent.flags).where(
        ChargerStatusEvent.connector_id == 1)).all())
    assert flags == {ChargerStatus.CHARGING: ["future_timestamp"], ChargerStatus.AVAILABLE: []}


async def test_status_notification_with_an_unknown_status_is_a_property_violation_and_records_nothing(
        wire, session):
    reply = await wire.send('[2,"s4","StatusNotification",{"connectorId":1,"errorCode":"NoError",'
                            '"status":"Sleeping"}]')
    assert reply == (
        '[4,"s4","PropertyConstraintViolation","Payload is syntactically correct but at least one field contains '
        'an invalid value",{"cause":"status: \'Sleeping\' is not one of [\'Available\', \'Preparing\', '
        '\'Charging\', \'SuspendedEVSE\', \'SuspendedEV\', \'Finishing\', \'Reserved\', \'Unavailable\', '
        '\'Faulted\']"}]')
    assert _count(session, ChargerStatusEvent, ChargerStatusEvent.status == "Sleeping") == 0


async def test_status_notification_with_a_bad_timestamp_is_a_property_violation_and_records_nothing(
        wire, session):
    reply = await wire.send('[2,"s5","StatusNotification",{"connectorId":1,"errorCode":"NoError",'
                            '"status":"Charging","timestamp":"yesterday"}]')
    assert reply == (
        '[4,"s5","PropertyConstraintViolation","Payload is syntactically correct but at least one field contains '
        'an invalid value",{"cause":"timestamp: \'yesterday\' is not a valid dateTime."}]')
    assert _count(session, ChargerStatusEvent, ChargerStatusEvent.status == ChargerStatus.CHARGING) == 0


async def test_status_notification_for_a_connector_the_charger_does_not_have_is_refused_not_created(
        wire, session, charger):
    reply = await wire.send('[2,"s6","StatusNotification",{"connectorId":3,"errorCode":"NoError",'
                            '"status":"Available"}]')
    assert reply == (
        '[4,"s6","PropertyConstraintViolation","Payload is syntactically correct but at least one field contains '
        'an invalid value",{"cause":"connectorId: This charger has no connector 3."}]')
    assert _count(session, Connector, Connector.charger_id == charger.id) == 2
    assert _count(session, ChargerStatusEvent, ChargerStatusEvent.connector_id == 3) == 0


# --- Authorize ---------------------------------------------------------------------------------------------


async def test_authorize_accepts_a_tag_of_the_chargers_organization(wire, session, org):
    idtag_svc.create_id_tag(session=session, tag="GOOD", organization=org)
    session.commit()
    assert await wire.send('[2,"a1","Authorize",{"idTag":"GOOD"}]') == '[3,"a1",{"idTagInfo":{"status":"Accepted"}}]'


async def test_authorize_answers_invalid_for_an_unknown_tag(wire):
    assert await wire.send('[2,"a2","Authorize",{"idTag":"NOPE"}]') == '[3,"a2",{"idTagInfo":{"status":"Invalid"}}]'


async def test_authorize_answers_invalid_for_a_tag_of_another_organization(wire, session):
    idtag_svc.create_id_tag(session=session, tag="FOREIGN", organization=make_org(session, slug="elsewhere"))
    session.commit()
    assert await wire.send('[2,"a3","Authorize",{"idTag":"FOREIGN"}]') == (
        '[3,"a3",{"idTagInfo":{"status":"Invalid"}}]')


async def test_authorize_answers_blocked_and_expired_with_the_expiry_date(wire, session, org):
    idtag_svc.create_id_tag(session=session, tag="BAD", organization=org, status=IdTagStatus.BLOCKED)
    idtag_svc.create_id_tag(session=session, tag="OLD", organization=org, expires_at=NOW - timedelta(days=1))
    session.commit()
    assert await wire.send('[2,"a4","Authorize",{"idTag":"BAD"}]') == '[3,"a4",{"idTagInfo":{"status":"Blocked"}}]'
    assert await wire.send('[2,"a5","Authorize",{"idTag":"OLD"}]') == (
        '[3,"a5",{"idTagInfo":{"status":"Expired","expiryDate":"2026-11-20T10:00:00+00:00"}}]')


async def test_authorize_tells_nothing_about_another_tenants_blocked_expiring_or_child_tag(wire, session):
    foreign = make_org(session, slug="elsewhere")
    idtag_svc.create_id_tag(session=session, tag="F-BLOCKED", organization=foreign, status=IdTagStatus.BLOCKED)
    child = idtag_svc.create_id_tag(session=session, tag="F-CHILD", organization=foreign,
                                    expires_at=NOW - timedelta(days=1))
    child.parent_tag = "F-PARENT"
    session.commit()
    assert await wire.send('[2,"a7","Authorize",{"idTag":"F-BLOCKED"}]') == (
        '[3,"a7",{"idTagInfo":{"status":"Invalid"}}]')
    assert await wire.send('[2,"a8","Authorize",{"idTag":"F-CHILD"}]') == (
        '[3,"a8",{"idTagInfo":{"status":"Invalid"}}]')  # no expiryDate, no parentIdTag, not Expired


async def test_authorize_matches_an_id_tag_whatever_its_case(wire, session, org):
    idtag_svc.create_id_tag(session=session, tag="Card-AbC1", organization=org)
    session.commit()
    assert await wire.send('[2,"a9","Authorize",{"idTag":"CARD-ABC1"}]') == (
        '[3,"a9",{"idTagInfo":{"status":"Accepted"}}]')
    assert await wire.send('[2,"aa","Authorize",{"idTag":"card-abc1"}]') == (
        '[3,"aa",{"idTagInfo":{"status":"Accepted"}}]')


async def test_authorize_with_an_id_tag_over_20_characters_is_a_type_violation(wire):
    assert await wire.send('[2,"a6","Authorize",{"idTag":"ABCDEFGHIJKLMNOPQRSTU"}]') == (
        '[4,"a6","TypeConstraintViolation","Payload for Action is syntactically correct but at least one of the '
        'fields violates data type constraints (e.g. \\"somestring\\": 12)",'
        '{"cause":"idTag: \'ABCDEFGHIJKLMNOPQRSTU\' is too long"}]')


# --- DataTransfer ------------------------------------------------------------------------------------------


async def test_data_transfer_answers_unknown_vendor_and_keeps_both_frames_in_the_raw_log(
        wire, server, session, charger):
    frame = '[2,"d1","DataTransfer",{"vendorId":"com.example","messageId":"hello","data":"42"}]'
    assert await wire.send(frame) == '[3,"d1",{"status":"UnknownVendorId"}]'
    await server.frames.flush()
    logged = session.execute(select(OcppMessage.direction, OcppMessage.action, OcppMessage.frame)
                             .where(OcppMessage.charger_id == charger.id).order_by(OcppMessage.id)).all()
    assert [tuple(r) for r in logged] == [("in", "DataTransfer", frame),
                                          ("out", "DataTransfer", '[3,"d1",{"status":"UnknownVendorId"}]')]


def test_a_second_spelling_of_a_registered_id_tag_cannot_be_registered(session, org):
    idtag_svc.create_id_tag(session=session, tag="Card-AbC1", organization=org)
    with pytest.raises(Conflict, match="IdTag 'CARD-abc1' already exists."):
        idtag_svc.create_id_tag(session=session, tag="CARD-abc1", organization=make_org(session, slug="other"))
