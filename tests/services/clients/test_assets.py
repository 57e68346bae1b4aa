"""Assigning apps and fleets to a client: what moves, what stays with the client that earned it, and what is
refused with a message that says why."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.clock import clock
from core.errors import Conflict, NotFound, ValidationError
from models import (
    AppConfig,
    AuditLog,
    ChargingAsset,
    CustomerAccount,
    CustomerUser,
    Transaction,
    Wallet,
)
from services.access import api_keys
from services.access.permissions import PermissionDenied
from services.access.scope import scope_for
from services.clients import app_config
from services.clients import assets as svc
from tests.utils.factories import make_charger, make_org, make_transaction, make_user, stop_transaction

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(session):
    clock.set(T0)
    a, b = make_org(session, slug="client-a"), make_org(session, slug="client-b")
    admin = make_user(session, role="admin")
    return dict(a=a, b=b, admin=admin, scope=scope_for(session, admin))


def _fleet(session, org, name="Acme Logistics", emails=("driver@acme.test",)):
    acct = CustomerAccount(organization_id=org.id, kind="business", name=name, legal_name=name + " Ltd",
                           status="active")
    session.add(acct)
    session.flush()
    sub = CustomerAccount(organization_id=org.id, parent_id=acct.id, use="employee", kind="consumer",
                          name="Driver", status="active")
    session.add(sub)
    session.flush()
    for email in emails:
        session.add(CustomerUser(organization_id=org.id, account_id=sub.id, email=email, status="active"))
    session.commit()
    return acct, sub


def test_a_fleet_moves_with_its_people_and_its_past_sessions_stay_with_the_client_that_earned_them(session, world):
    a, b = world["a"], world["b"]
    acct, sub = _fleet(session, a)
    tx = make_transaction(session, make_charger(session, a, ocpp_id="A1"), started_at=T0 - timedelta(hours=2))
    tx.customer_account_id = sub.id
    stop_transaction(session, tx, stopped_at=T0 - timedelta(hours=1), energy_wh=5000)
    session.add(Wallet(organization_id=a.id, customer_account_id=acct.id, currency="EUR"))
    session.commit()

    moved = svc.assign_fleet(session=session, scope=world["scope"], user_id=world["admin"].id, organization_id=b.id,
                             account_id=acct.id)
    session.commit()

    assert moved == 1
    assert {r.organization_id for r in session.execute(select(CustomerAccount)).scalars()} == {b.id}
    assert session.execute(select(CustomerUser.organization_id)).scalar_one() == b.id
    assert session.execute(select(Wallet.organization_id)).scalar_one() == b.id
    assert session.get(Transaction, tx.id).organization_id == a.id  # history stays with who earned it
    actions = {(e.organization_id, e.action) for e in session.execute(select(AuditLog)).scalars()}
    assert {(a.id, "unlink_fleet"), (b.id, "link_fleet")} <= actions
    _fleet(session, a, name="Bigger", emails=("x@big.test", "y@big.test"))
    fleets = {f.name: f for f in svc.list_fleets(session=session, scope=world["scope"])}
    assert (fleets["Acme Logistics"].organization_id, fleets["Acme Logistics"].users) == (b.id, 1)
    assert (fleets["Bigger"].users, fleets["Bigger"].sub_accounts) == (2, 1)


def test_a_fleet_with_live_cards_or_money_or_another_currency_is_refused_and_nothing_moves(session, world):
    a, b = world["a"], world["b"]
    acct, sub = _fleet(session, a)
    usd = make_org(session, slug="client-usd", currency="USD")
    with pytest.raises(ValidationError, match="billed in EUR and Client Usd in USD"):
        svc.assign_fleet(session=session, scope=world["scope"], user_id=world["admin"].id, organization_id=usd.id,
                         account_id=acct.id)
    session.rollback()
    charger = make_charger(session, a, ocpp_id="HOME-1")
    session.add(ChargingAsset(organization_id=a.id, account_id=sub.id, kind="charger", charger_id=charger.id))
    session.commit()
    with pytest.raises(Conflict, match="1 active card"):
        svc.assign_fleet(session=session, scope=world["scope"], user_id=world["admin"].id, organization_id=b.id,
                         account_id=acct.id)
    session.rollback()
    session.execute(ChargingAsset.__table__.update().values(deactivated_at=T0))
    session.add(Wallet(organization_id=a.id, customer_account_id=acct.id, currency="EUR", balance=Decimal("5.00")))
    session.commit()
    with pytest.raises(Conflict, match="wallet still holds money"):
        svc.assign_fleet(session=session, scope=world["scope"], user_id=world["admin"].id, organization_id=b.id,
                         account_id=acct.id)
    session.rollback()
    with pytest.raises(ValidationError, match="moves with its parent"):
        svc.assign_fleet(session=session, scope=world["scope"], user_id=world["admin"].id, organization_id=b.id,
                         account_id=sub.id)
    session.rollback()
    assert {r.organization_id for r in session.execute(select(CustomerAccount)).scalars()} == {a.id}


def test_a_fleet_whose_app_user_address_the_new_client_has_is_refused(session, world):
    acct, _ = _fleet(session, world["a"])
    _fleet(session, world["b"], name="Other", emails=("driver@acme.test",))
    with pytest.raises(Conflict, match="already has an app user driver@acme.test"):
        svc.assign_fleet(session=session, scope=world["scope"], user_id=world["admin"].id,
                         organization_id=world["b"].id, account_id=acct.id)


def test_only_the_operator_assigns_fleets_and_a_client_cannot_reach_another_clients(session, world):
    acct, _ = _fleet(session, world["a"])
    cpo_b = scope_for(session, make_user(session, role="cpo", orgs=[world["b"]]))
    with pytest.raises(PermissionDenied):
        svc.assign_fleet(session=session, scope=cpo_b, user_id=cpo_b.user_id, organization_id=world["b"].id,
                         account_id=acct.id)


def test_an_app_moves_to_a_client_without_the_old_clients_key(session, world):
    a, b = world["a"], world["b"]
    key = api_keys.create_key(session=session, scope=world["scope"], user_id=world["admin"].id, organization_id=a.id,
                              name="App", scopes=["view_chargers"])
    app_config.save_config(session=session, scope=world["scope"], user_id=world["admin"].id, organization_id=a.id,
                           changes={"app_name": "Alpha Charge", "primary_color": "#112233", "api_key_id": key.key.id})
    session.commit()

    moved = svc.assign_app(session=session, scope=world["scope"], user_id=world["admin"].id, organization_id=b.id,
                           from_organization_id=a.id)
    session.commit()

    assert moved.app_name == "Alpha Charge"
    row = session.get(AppConfig, b.id)
    assert (row.app_name, row.primary_color, row.api_key_id) == ("Alpha Charge", "#112233", None)
    assert session.get(AppConfig, a.id) is None
    with pytest.raises(NotFound, match="has no branded app"):
        svc.assign_app(session=session, scope=world["scope"], user_id=world["admin"].id, organization_id=b.id,
                       from_organization_id=a.id)
    session.rollback()
    app_config.save_config(session=session, scope=world["scope"], user_id=world["admin"].id, organization_id=a.id,
                           changes={"app_name": "Second"})
    session.commit()
    with pytest.raises(Conflict, match="already has a branded app"):
        svc.assign_app(session=session, scope=world["scope"], user_id=world["admin"].id, organization_id=b.id,
                       from_organization_id=a.id)
