"""Firmware management handlers: the exact frame answered and the entry left in the charger's audit trail."""
from __future__ import annotations

from sqlalchemy import func, select

from core.events import EventType
from models import AuditLog
from tests.ocpp_server.conftest import NOW


def _trail(session, charger) -> list[tuple]:
    rows = session.execute(select(AuditLog.organization_id, AuditLog.action, AuditLog.changes, AuditLog.created_at)
                           .where(AuditLog.entity == "charger", AuditLog.entity_id == str(charger.id))
                           .order_by(AuditLog.id)).all()
    return [tuple(r) for r in rows]


async def test_firmware_status_notification_is_answered_empty_and_kept_in_the_audit_trail(wire, session, charger):
    reply = await wire.send('[2,"f1","FirmwareStatusNotification",{"status":"Installed"}]')
    assert reply == '[3,"f1",{}]'
    assert _trail(session, charger) == [(charger.organization_id, EventType.FIRMWARE_STATUS, {"status": "Installed"},
                                         NOW)]


async def test_firmware_status_notification_with_an_unknown_status_is_a_property_violation(wire, session):
    reply = await wire.send('[2,"f2","FirmwareStatusNotification",{"status":"Flashing"}]')
    assert reply == (
        '[4,"f2","PropertyConstraintViolation","Payload is syntactically correct but at least one field contains '
        'an invalid value",{"cause":"status: \'Flashing\' is not one of [\'Downloaded\', \'DownloadFailed\', '
        '\'Downloading\', \'Idle\', \'InstallationFailed\', \'Installing\', \'Installed\']"}]')
    assert session.scalar(select(func.count()).select_from(AuditLog)) == 0


async def test_diagnostics_status_notification_is_answered_empty_and_kept_in_the_audit_trail(
        wire, session, charger):
    reply = await wire.send('[2,"g1","DiagnosticsStatusNotification",{"status":"Uploaded"}]')
    assert reply == '[3,"g1",{}]'
    assert _trail(session, charger) == [(charger.organization_id, EventType.DIAGNOSTICS_STATUS, {"status": "Uploaded"},
                                         NOW)]


async def test_diagnostics_status_notification_without_a_status_is_an_occurence_violation(wire, session):
    reply = await wire.send('[2,"g2","DiagnosticsStatusNotification",{}]')
    assert reply == ('[4,"g2","OccurenceConstraintViolation","Payload for Action is syntactically correct but at '
                     'least one of the fields violates occurence constraints",'
                     '{"cause":"\'status\' is a required property"}]')
    assert session.scalar(select(func.count()).select_from(AuditLog)) == 0
