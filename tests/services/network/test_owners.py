"""A CPO manages its location owners: create with contact details, assign per charger or in bulk, contracts."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.clock import clock
from core.config import get_settings
from core.errors import NotFound, ValidationError
from models import AuditLog, Charger, Transaction
from services.access import invitations
from services.access.permissions import PermissionDenied
from services.access.scope import scope_for
from services.charging import contracts
from services.network import chargers as charger_svc
from services.network import owners
from tests.utils.factories import make_charger, make_location_owner, make_org, make_priced_session, make_user


@pytest.fixture
def lanka(session):
    clock.set(datetime(2026, 11, 1, tzinfo=UTC))
    org = make_org(session, slug="lanka", currency="LKR", timezone="Asia/Colombo")
    cpo = make_user(session, role="cpo", orgs=[org])
    return org, cpo, scope_for(session, cpo)


def test_a_cpo_creates_an_owner_assigns_two_chargers_at_once_and_clears_one(session, lanka):
    org, cpo, scope = lanka
    a, b = make_charger(session, org, ocpp_id="LK-A"), make_charger(session, org, ocpp_id="LK-B")
    hotel = owners.create_owner(session=session, scope=scope, user_id=cpo.id, organization_id=org.id,
                                name="Galle Face Hotel", contact_name="Nimal Perera", email="ops@gallefacehotel.lk",
                                phone="+94 11 254 1010", address="2 Galle Road, Colombo 3")
    session.commit()
    assert owners.assign_owner(session=session, scope=scope, user_id=cpo.id, charger_ids=[a.id, b.id],
                               location_owner_id=hotel.id) == 2
    session.commit()
    rows, _ = charger_svc.list_chargers(session=session, scope=scope)
    assert {r.ocpp_id: r.location_owner for r in rows} == {"LK-A": "Galle Face Hotel", "LK-B": "Galle Face Hotel"}
    owners.assign_owner(session=session, scope=scope, user_id=cpo.id, charger_ids=[b.id], location_owner_id=None)
    session.commit()
    [row] = owners.list_owners(session=session, scope=scope)
    assert (row.name, row.contact_name, row.phone, row.chargers) == ("Galle Face Hotel", "Nimal Perera",
                                                                      "+94 11 254 1010", 1)
    audited = session.execute(select(AuditLog.entity_id, AuditLog.changes).where(
        AuditLog.action == "assign_owner").order_by(AuditLog.id)).all()
    assert [(e, c["location_owner_id"]["new"]) for e, c in audited] == [
        (str(a.id), hotel.id), (str(b.id), hotel.id), (str(b.id), None)]


def test_changing_the_owner_applies_from_now_earlier_sessions_keep_theirs(session, lanka):
    org, cpo, scope = lanka
    first, second = make_location_owner(session, org, name="First"), make_location_owner(session, org, name="Second")
    ch = make_charger(session, org, location_owner=first)
    make_priced_session(session, ch, stopped_at=datetime(2026, 11, 1, 8, tzinfo=UTC), energy="5")
    owners.assign_owner(session=session, scope=scope, user_id=cpo.id, charger_ids=[ch.id],
                        location_owner_id=second.id)
    session.commit()
    make_priced_session(session, session.get(Charger, ch.id), stopped_at=datetime(2026, 11, 1, 10, tzinfo=UTC),
                        energy="5")
    held = session.execute(select(Transaction.location_owner_id).order_by(Transaction.id)).scalars().all()
    assert held == [first.id, second.id]


def test_a_cpo_cannot_reach_another_organizations_chargers_or_owners(session, lanka):
    org, cpo, scope = lanka
    other = make_org(session, slug="berlin")
    theirs = make_location_owner(session, other, name="Adlon")
    their_charger = make_charger(session, other)
    mine = make_charger(session, org)
    with pytest.raises(NotFound):
        owners.assign_owner(session=session, scope=scope, user_id=cpo.id, charger_ids=[their_charger.id],
                            location_owner_id=None)
    with pytest.raises(NotFound):
        owners.assign_owner(session=session, scope=scope, user_id=cpo.id, charger_ids=[mine.id],
                            location_owner_id=theirs.id)
    with pytest.raises(NotFound):
        owners.create_owner(session=session, scope=scope, user_id=cpo.id, organization_id=other.id, name="X")
    with pytest.raises(ValidationError, match="Name must be at most 200"):
        owners.create_owner(session=session, scope=scope, user_id=cpo.id, organization_id=org.id, name="x" * 201)
    support = scope_for(session, make_user(session, role="customer_support", orgs=[org]))
    with pytest.raises(PermissionDenied):
        owners.assign_owner(session=session, scope=support, user_id=None, charger_ids=[mine.id],
                            location_owner_id=None)


def test_the_cpo_sees_each_owners_commission_contract(session, lanka):
    org, cpo, scope = lanka
    hotel = make_location_owner(session, org, name="Hotel")
    make_charger(session, org, location_owner=hotel)
    admin = scope_for(session, make_user(session, role="admin"))
    contracts.add_contract(session=session, scope=admin, user_id=None, organization_id=org.id,
                           kind="location_owner", rate=Decimal("12.5"), location_owner_id=hotel.id)
    session.commit()
    [row] = owners.list_owners(session=session, scope=scope)
    assert row.commission_rate == Decimal("12.5") and row.contract_from is not None
    [c] = owners.owner_contracts(session=session, scope=scope, location_owner_id=hotel.id)
    assert c.rate == Decimal("12.5")


def test_a_cpo_invites_its_owners_users_by_mail_and_no_other_role(session, lanka, monkeypatch, tmp_path):
    monkeypatch.setattr(get_settings(), "smtp_url", None)
    monkeypatch.setattr(get_settings(), "outbox_dir", tmp_path)
    org, cpo, scope = lanka
    hotel = make_location_owner(session, org, name="Hotel")
    result = invitations.invite_user(session=session, scope=scope, email="manager@hotel.lk", role="location_owner",
                                     location_owner_id=hotel.id)
    assert "queued for delivery" in result.message
    [eml] = tmp_path.glob("invitation-*.eml")
    assert "/activate/" in eml.read_text()
    with pytest.raises(PermissionDenied):
        invitations.invite_user(session=session, scope=scope, email="x@hotel.lk", role="customer_support",
                                organization_id=org.id)
