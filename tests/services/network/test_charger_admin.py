"""Creating and editing chargers from the web app: validation, scope, audit, the key shown once, detail."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.config import get_settings
from core.errors import Conflict, NotFound, ValidationError
from models import AuditLog, ChargerCommand, ChargerStatusEvent, Connector, UnknownCharger
from services.access.permissions import PermissionDenied
from services.access.scope import scope_for
from services.network import chargers as svc
from services.network import unknown_chargers
from services.ocpp.presence import record_unknown
from tests.utils.factories import make_charger, make_location_owner, make_org, make_tariff, make_user


@pytest.fixture
def net(session):
    a, b = make_org(session, slug="alpha"), make_org(session, slug="bravo")
    nm = make_user(session, role="network_manager", orgs=[a])
    return a, b, nm, scope_for(session, nm)


def _create(session, scope, user, org, seen=True, **fields):
    """Register a charger; `seen`: its id has knocked on the OCPP server first (as a real charger does)."""
    args = dict(ocpp_id="NEW-1", organization_id=org.id, name="Harbour", address="1 Quay", latitude="52.5",
                longitude="13.4", connectors=2)
    args.update(fields)
    if seen:
        record_unknown(session=session, ocpp_id=args["ocpp_id"], remote_address="192.0.2.1", now=datetime.now(UTC))
        session.commit()
    charger, key = svc.create_charger(session=session, scope=scope, user_id=user.id, **args)
    session.commit()
    return charger, key


@pytest.mark.parametrize(("lat", "lon", "field"), [("91", "13", "latitude"), ("abc", "13", "latitude"),
                                                   ("52", "-180.5", "longitude"), ("52", "", "longitude")])
def test_out_of_range_or_unreadable_coordinates_are_refused_and_nothing_is_saved(session, net, lat, lon, field):
    a, _, nm, scope = net
    with pytest.raises(ValidationError) as err:
        _create(session, scope, nm, a, latitude=lat, longitude=lon)
    assert err.value.field == field
    session.rollback()
    assert svc.list_chargers(session=session, scope=scope)[1] == 0


def test_created_charger_has_its_connectors_an_audit_entry_and_a_key_that_only_its_hash_keeps(session, net):
    a, _, nm, scope = net
    charger, key = _create(session, scope, nm, a)
    assert charger.latitude == Decimal("52.500000") and charger.name == "Harbour"
    assert len(session.execute(select(Connector).where(Connector.charger_id == charger.id)).all()) == 2
    assert key and svc.check_auth_key(key, charger.auth_key_hash) and key not in charger.auth_key_hash
    entry = session.execute(select(AuditLog).where(AuditLog.entity == "charger")).scalar_one()
    assert entry.action == "create" and entry.changes["ocpp_id"]["new"] == "NEW-1" and entry.user_id == nm.id


def test_a_duplicate_id_tariff_or_owner_of_another_organization_is_refused(session, net):
    a, b, nm, scope = net
    make_charger(session, a, ocpp_id="TAKEN")
    with pytest.raises(Exception, match="already exists"):
        _create(session, scope, nm, a, ocpp_id="TAKEN")
    session.rollback()
    with pytest.raises(ValidationError, match="tariff does not belong"):
        _create(session, scope, nm, a, tariff_id=make_tariff(session, b).id)
    session.rollback()
    with pytest.raises(ValidationError, match="location owner does not belong"):
        _create(session, scope, nm, a, location_owner_id=make_location_owner(session, b).id)
    session.rollback()
    with pytest.raises(ValidationError, match="organization you manage"):
        _create(session, scope, nm, b)


def test_read_only_roles_may_not_create_or_edit(session, net):
    a, _, _, _ = net
    cpo = make_user(session, role="cpo", orgs=[a])
    charger = make_charger(session, a)
    with pytest.raises(PermissionDenied):
        _create(session, scope_for(session, cpo), cpo, a)
    with pytest.raises(PermissionDenied):
        svc.update_charger(session=session, scope=scope_for(session, cpo), user_id=cpo.id, charger_id=charger.id,
                           name="x")


def test_editing_writes_only_the_changes_to_the_audit_log_and_resizes_connectors(session, net):
    a, _, nm, scope = net
    charger, _ = _create(session, scope, nm, a)
    svc.update_charger(session=session, scope=scope, user_id=nm.id, charger_id=charger.id, name="Harbour North",
                       lifecycle_status="Maintenance", visible=False, connectors=1, address="1 Quay")
    session.commit()
    entry = session.execute(select(AuditLog).where(AuditLog.action == "update")).scalar_one()
    assert entry.changes == {"name": {"old": "Harbour", "new": "Harbour North"},
                             "lifecycle_status": {"old": "Active", "new": "Maintenance"},
                             "visible": {"old": True, "new": False}, "connectors": {"old": 2, "new": 1}}
    with pytest.raises(ValidationError, match="Lifecycle status"):
        svc.update_charger(session=session, scope=scope, user_id=nm.id, charger_id=charger.id,
                           lifecycle_status="Broken")


def test_another_organizations_charger_cannot_be_edited_or_opened(session, net):
    _, b, nm, scope = net
    other = make_charger(session, b)
    with pytest.raises(NotFound):
        svc.update_charger(session=session, scope=scope, user_id=nm.id, charger_id=other.id, name="mine now")
    with pytest.raises(NotFound):
        svc.charger_detail(session=session, scope=scope, charger_id=other.id)
    with pytest.raises(NotFound):
        svc.regenerate_auth_key(session=session, scope=scope, user_id=nm.id, charger_id=other.id)


def test_regenerating_the_key_retires_the_old_one(session, net):
    a, _, nm, scope = net
    charger, old = _create(session, scope, nm, a)
    new = svc.regenerate_auth_key(session=session, scope=scope, user_id=nm.id, charger_id=charger.id)
    session.commit()
    assert svc.check_auth_key(new, charger.auth_key_hash) and not svc.check_auth_key(old, charger.auth_key_hash)


def test_registering_an_unknown_charger_removes_it_from_the_unknown_list(session, net):
    a, _, nm, _ = net
    operator = scope_for(session, make_user(session, role="technical"))
    session.add(UnknownCharger(ocpp_id="STRAY-7", remote_address="10.0.0.9", attempts=3))
    session.add(UnknownCharger(ocpp_id="STRAY-7", remote_address="10.0.0.10"))
    session.add(UnknownCharger(ocpp_id="STRAY-8"))
    session.commit()
    rows, total = unknown_chargers.list_unknown(session=session, scope=operator)
    assert total == 3 and {r.ocpp_id for r in rows} == {"STRAY-7", "STRAY-8"}
    _create(session, scope_for(session, nm), nm, a, seen=False, ocpp_id="STRAY-7")
    rows, total = unknown_chargers.list_unknown(session=session, scope=operator)
    assert [r.ocpp_id for r in rows] == ["STRAY-8"]


def test_only_roles_that_manage_the_whole_network_see_unknown_chargers(session, net):
    a, _, _, _ = net
    sub = make_org(session, slug="alpha-north", parent=a)
    session.add(UnknownCharger(ocpp_id="STRAY-7", remote_address="10.0.0.9"))
    session.commit()
    for role in ("admin", "technical"):
        scope = scope_for(session, make_user(session, role=role))
        rows, _ = unknown_chargers.list_unknown(session=session, scope=scope)
        assert [r.remote_address for r in rows] == ["10.0.0.9"]
    for role, orgs in (("network_manager", [sub]), ("network_manager", [a]), ("cpo", [a]), ("accounts", [])):
        with pytest.raises(PermissionDenied):
            unknown_chargers.list_unknown(session=session, scope=scope_for(session, make_user(session, role=role,
                                                                                               orgs=orgs)))


def test_unknown_attempts_are_counted_per_id_and_address_and_capped_per_address(session, monkeypatch):
    monkeypatch.setattr(get_settings(), "ocpp_unknown_per_address_per_minute", 10)
    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    # The audit's flood: 300 attempts from one address, mostly new ids, within a second.
    recorded = [record_unknown(session=session, ocpp_id=f"FLOOD-{i % 150}", remote_address="203.0.113.7",
                               now=t0 + timedelta(milliseconds=3 * i)) for i in range(300)]
    session.commit()
    rows = session.execute(select(UnknownCharger).order_by(UnknownCharger.id)).scalars().all()
    assert len(rows) == 10 and sum(recorded) == 20  # 10 new rows, then their second attempts
    assert {r.attempts for r in rows} == {2} and rows[0].first_seen_at == t0
    assert rows[0].last_seen_at == t0 + timedelta(milliseconds=3 * 150)
    # Another address is not held back by the first, and a minute later the first may open new rows again.
    assert record_unknown(session=session, ocpp_id="FLOOD-99", remote_address="198.51.100.1", now=t0)
    assert record_unknown(session=session, ocpp_id="FLOOD-99", remote_address="203.0.113.7",
                          now=t0 + timedelta(minutes=1, seconds=1))
    session.commit()
    assert session.execute(select(func.count()).select_from(UnknownCharger)
                           .where(UnknownCharger.ocpp_id == "FLOOD-99")).scalar_one() == 2


def test_table_filters_by_organization_and_visibility(session, net):
    a, b, _, _ = net
    make_charger(session, a, ocpp_id="A1")
    make_charger(session, a, ocpp_id="A2", visible=False)
    make_charger(session, b, ocpp_id="B1")
    scope = scope_for(session, make_user(session, role="admin"))
    rows, total = svc.list_chargers(session=session, scope=scope, organization_id=a.id)
    assert [r.ocpp_id for r in rows] == ["A1", "A2"]
    rows, _ = svc.list_chargers(session=session, scope=scope, visible=False)
    assert [r.ocpp_id for r in rows] == ["A2"]
    rows, _ = svc.list_chargers(session=session, scope=scope, sort="organization", descending=True)
    assert rows[0].ocpp_id == "B1"


def test_detail_shows_connectors_history_and_the_last_configuration_answer(session, net):
    a, _, nm, scope = net
    charger = make_charger(session, a, ocpp_id="DET-1", connectors=2, vendor="ABB", model="Terra",
                           firmware_version="1.2.3")
    t = datetime(2026, 11, 1, 8, tzinfo=UTC)
    session.add(ChargerStatusEvent(charger_id=charger.id, connector_id=1, status="Faulted",
                                   error_code="GroundFailure", received_at=t))
    session.add(ChargerCommand(charger_id=charger.id, action="GetConfiguration", status="done", completed_at=t,
                               result={"configurationKey": [{"key": "HeartbeatInterval", "value": "300",
                                                             "readonly": False}], "unknownKey": ["Foo"]}))
    session.commit()
    d = svc.charger_detail(session=session, scope=scope, charger_id=charger.id)
    assert [c.connector_id for c in d.connectors] == [1, 2]
    assert d.charger.vendor == "ABB" and d.history[0].error_code == "GroundFailure"
    assert d.configuration == [{"key": "HeartbeatInterval", "value": "300", "readonly": False},
                               {"key": "Foo", "value": "(unknown key)", "readonly": True}]


# --- the id rule (docs/adr/0004-scoping.md) ---------------------------------------------------------------

NEUTRAL = "cannot be registered here"


def test_a_network_manager_cannot_squat_an_id_no_charger_has_used_yet(session, net):
    a, _, nm, scope = net
    with pytest.raises(Conflict, match=NEUTRAL):
        _create(session, scope, nm, a, seen=False, ocpp_id="FUTURE-1")
    session.rollback()
    assert svc.list_chargers(session=session, scope=scope)[1] == 0
    # Once the charger has knocked, its id can be registered.
    charger, _ = _create(session, scope, nm, a, seen=True, ocpp_id="FUTURE-1")
    assert charger.organization_id == a.id


def test_the_operator_may_register_an_id_never_seen(session, net):
    a, _, _, _ = net
    tech = make_user(session, role="technical")
    charger, _ = _create(session, scope_for(session, tech), tech, a, seen=False, ocpp_id="PLANNED-1")
    assert charger.ocpp_id == "PLANNED-1"


def test_an_id_registered_in_another_tenant_gets_the_same_answer_as_one_never_seen(session, net):
    a, b, nm, scope = net
    make_charger(session, b, ocpp_id="BRAVO-1")
    session.commit()
    with pytest.raises(Conflict) as taken:
        _create(session, scope, nm, a, ocpp_id="BRAVO-1")
    session.rollback()
    with pytest.raises(Conflict) as unseen:
        _create(session, scope, nm, a, seen=False, ocpp_id="NOBODY-1")
    session.rollback()
    assert str(taken.value).replace("BRAVO-1", "X") == str(unseen.value).replace("NOBODY-1", "X")
    assert "already exists" not in str(taken.value) and "Bravo" not in str(taken.value)
