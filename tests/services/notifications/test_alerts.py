"""Escalation after no acknowledgement, acknowledging, and alerts raised straight from a charger event."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.clock import clock
from models import Charger
from services.access.scope import scope_for
from services.notifications import alerts
from tests.utils.factories import make_charger, make_org, make_user
from tests.utils.notifications import inbox, make_rule

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def _offline_since(session, charger: Charger, when: datetime) -> None:
    """The state the OCPP server leaves behind when a charger's connection drops (see tests/ocpp)."""
    charger.status, charger.status_changed_at, charger.last_heartbeat_at = "Offline", when, when
    session.add(charger)
    session.commit()


def _evaluate(session, minutes: float):
    result = alerts.evaluate(session=session, now=T0 + timedelta(minutes=minutes))
    session.commit()
    return result


def test_an_unacknowledged_alert_escalates_from_the_network_manager_to_technical_after_an_hour(session):
    org = make_org(session)
    manager = make_user(session, role="network_manager", orgs=[org])
    technical = make_user(session, role="technical")
    make_rule(session, org, escalate_after_minutes=60, escalate_roles=["technical"])
    _offline_since(session, make_charger(session, org, ocpp_id="CP-E"), T0)
    assert _evaluate(session, 6).opened == 1
    assert inbox(session, technical.id) == []
    assert _evaluate(session, 65).escalated == 0            # an hour after opening is 66 minutes
    assert _evaluate(session, 66).escalated == 1
    assert _evaluate(session, 120).escalated == 0           # once
    [note] = inbox(session, technical.id)
    assert note.kind == "alert_escalated" and "CP-E" in note.title
    assert [n.kind for n in inbox(session, manager.id)] == ["alert_opened"]


def test_an_acknowledged_alert_does_not_escalate(session):
    org = make_org(session)
    manager = make_user(session, role="network_manager", orgs=[org])
    technical = make_user(session, role="technical")
    make_rule(session, org, escalate_after_minutes=60, escalate_roles=["technical"])
    _offline_since(session, make_charger(session, org, ocpp_id="CP-A"), T0)
    _evaluate(session, 6)
    [note] = inbox(session, manager.id)
    alerts.acknowledge(session=session, scope=scope_for(session, manager), alert_id=note.alert_id,
                       now=T0 + timedelta(minutes=10))
    session.commit()
    assert _evaluate(session, 90).escalated == 0
    assert inbox(session, technical.id) == []


def test_a_charger_in_maintenance_never_alerts(session):
    org = make_org(session)
    make_user(session, role="network_manager", orgs=[org])
    make_rule(session, org)
    charger = make_charger(session, org, ocpp_id="CP-M")
    charger.lifecycle_status = "Maintenance"
    _offline_since(session, charger, T0)
    assert _evaluate(session, 60).opened == 0


def test_a_charger_event_raises_a_critical_alert_to_the_rule_recipients(session):
    org = make_org(session)
    manager = make_user(session, role="network_manager", orgs=[org])
    make_rule(session, org)
    charger = make_charger(session, org, ocpp_id="CP-S")
    clock.set(T0)
    alerts.raise_charger_alert(session=session, charger_id=charger.id, title="CP-S: FirmwareTampered",
                               body="The charger reported a critical security event.", critical=True, now=T0)
    session.commit()
    [note] = inbox(session, manager.id)
    assert note.critical and note.title == "CP-S: FirmwareTampered"
