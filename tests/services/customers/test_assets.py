"""Plans and charging assets: eligibility, one account per card or charger, claim codes."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.errors import Conflict, NotFound, ValidationError
from models import IdTag
from services.access.permissions import PermissionDenied
from services.access.scope import customer_scope, scope_for
from services.customers import accounts, assets
from tests.utils.customers import active_customer, make_plan, open_signup
from tests.utils.factories import make_charger, make_user


@pytest.fixture
def alpha(session, world):
    open_signup(session, world["scope"], world["alpha"])
    return world["alpha"]


def test_a_card_already_active_on_another_account_is_refused(session, world, alpha):
    plan = make_plan(session, world["scope"], alpha)
    one, two = active_customer(session, alpha, "one@x.test"), active_customer(session, alpha, "two@x.test")
    row = assets.activate_asset(session=session, scope=world["scope"], account_id=one.account_id, kind="card",
                                id_tag="CARD-1", plan_id=plan.id)
    assert (row.label, row.plan) == ("CARD-1", "Basic")
    with pytest.raises(Conflict, match="already active on another account"):
        assets.activate_asset(session=session, scope=world["scope"], account_id=two.account_id, kind="card",
                              id_tag="card-1", plan_id=plan.id)
    assert len(session.execute(select(IdTag)).all()) == 1


def test_a_charger_claim_needs_the_right_code_and_an_eligible_plan(session, world, alpha):
    charger = make_charger(session, alpha, ocpp_id="HOME-1")
    cards_only = make_plan(session, world["scope"], alpha, name="Cards", for_ac=False, for_dc=False)
    home = make_plan(session, world["scope"], alpha, name="Home", price="5", for_card=False)
    owner = active_customer(session, alpha, "home@x.test")
    code = assets.claim_code(session=session, scope=world["scope"], charger_id=charger.id)
    assert code == assets.claim_code(session=session, scope=world["scope"], charger_id=charger.id)

    def claim(**kw):
        args = dict(account_id=owner.account_id, kind="charger", ocpp_id="HOME-1", claim_code=code, plan_id=home.id)
        return assets.activate_asset(session=session, scope=world["scope"], **{**args, **kw})

    for bad in (dict(claim_code="WRONG123"), dict(ocpp_id="NOPE-1"), dict(claim_code="")):
        with pytest.raises(ValidationError, match="do not match"):
            claim(**bad)
    with pytest.raises(ValidationError, match="not available for AC chargers"):
        claim(plan_id=cards_only.id)
    with pytest.raises(ValidationError, match="Choose a billing plan"):
        claim(plan_id=None)
    assert claim().label == "HOME-1"
    other = active_customer(session, alpha, "thief@x.test")
    with pytest.raises(Conflict):
        claim(account_id=other.account_id)
    assets.set_claim_code(session=session, scope=world["scope"], charger_id=charger.id, code="label42")
    assert assets.claim_code(session=session, scope=world["scope"], charger_id=charger.id) == "LABEL42"


def test_plans_refuse_bad_input(session, world, alpha):
    for kw in (dict(price="-1"), dict(interval="week"), dict(session_fee="1"), dict(session_fee="101",
               fee_kind="percent"), dict(for_card=False, for_ac=False, for_dc=False), dict(name="")):
        with pytest.raises(ValidationError):
            make_plan(session, world["scope"], alpha, **kw)
    make_plan(session, world["scope"], alpha)
    with pytest.raises(Conflict):
        make_plan(session, world["scope"], alpha)


def test_an_enterprise_account_activates_assets_without_a_plan(session, world, alpha):
    made = accounts.invite_account(session=session, scope=world["scope"], organization_id=alpha.id,
                                   email="fleet@corp.test", name="Corp Fleet", send_invitation=False,
                                   enterprise=accounts.EnterpriseTerms("12.50", public_charging=False))
    row = assets.activate_asset(session=session, scope=world["scope"], account_id=made.account_id, kind="card",
                                id_tag="FLEET-1")
    assert row.plan == "Enterprise plan"
    detail = accounts.get_account(session=session, scope=world["scope"], account_id=made.account_id)
    assert str(detail.enterprise_price) == "12.5000" and detail.public_charging is False


def test_public_charging_off_refuses_the_fleets_cards_elsewhere_and_other_cards_at_its_chargers(session, world,
                                                                                              alpha):
    fleet = accounts.invite_account(session=session, scope=world["scope"], organization_id=alpha.id,
                                    email="fleet@corp.test", name="Corp Fleet", send_invitation=False,
                                    enterprise=accounts.EnterpriseTerms("12.50", public_charging=False))
    depot, street = make_charger(session, alpha, ocpp_id="DEPOT-1"), make_charger(session, alpha, ocpp_id="ST-1")
    code = assets.claim_code(session=session, scope=world["scope"], charger_id=depot.id)
    assets.activate_asset(session=session, scope=world["scope"], account_id=fleet.account_id, kind="charger",
                          ocpp_id="DEPOT-1", claim_code=code)
    assets.activate_asset(session=session, scope=world["scope"], account_id=fleet.account_id, kind="card",
                          id_tag="FLEET-1")
    plan = make_plan(session, world["scope"], alpha)
    mia = active_customer(session, alpha, "mia@x.test")
    assets.activate_asset(session=session, scope=world["scope"], account_id=mia.account_id, kind="card",
                          id_tag="MIA-1", plan_id=plan.id)
    tag = {t.tag: t.id for t in session.execute(select(IdTag)).scalars()}

    def refused(card: str, charger) -> bool:
        return assets.public_charging_refused(session, id_tag_id=tag[card], charger_id=charger.id)

    assert [refused("FLEET-1", depot), refused("FLEET-1", street), refused("MIA-1", depot),
            refused("MIA-1", street)] == [False, True, True, False]
    accounts.set_enterprise_plan(session=session, scope=world["scope"], account_id=fleet.account_id,
                                 terms=accounts.EnterpriseTerms("12.50", public_charging=True))
    assert not refused("FLEET-1", street) and not refused("MIA-1", depot)


def test_plans_are_edited_and_deactivated_by_the_roles_the_table_allows(session, world, alpha):
    accounts_user = scope_for(session, make_user(session, role="accounts"))
    plan = make_plan(session, accounts_user, alpha, name="Home", price="4.90", for_card=False)
    owner = active_customer(session, alpha, "home@x.test")
    charger = make_charger(session, alpha, ocpp_id="HOME-1")
    code = assets.claim_code(session=session, scope=world["scope"], charger_id=charger.id)
    assets.activate_asset(session=session, scope=world["scope"], account_id=owner.account_id, kind="charger",
                          ocpp_id="HOME-1", claim_code=code, plan_id=plan.id)
    edited = assets.update_plan(session=session, scope=accounts_user, plan_id=plan.id, name="Home plus",
                                price="5.90", interval="year", session_fee="3", fee_kind="percent", for_card=False)
    assert (edited.name, edited.price, edited.interval, edited.session_fee, edited.assets) == (
        "Home plus", Decimal("5.90"), "year", Decimal(3), 1)
    other = make_plan(session, world["scope"], alpha, name="Cards", for_ac=False, for_dc=False)
    for bad, error in ((dict(price="-2"), ValidationError), (dict(name="cards"), Conflict),
                       (dict(name="x" * 101), ValidationError), (dict(for_ac=False, for_dc=False), ValidationError)):
        with pytest.raises(error):
            assets.update_plan(session=session, scope=accounts_user, plan_id=plan.id,
                               **{**dict(name="Home plus", price="5.90", for_card=False), **bad})
    assert assets.get_plan(session=session, scope=world["scope"], plan_id=plan.id).name == "Home plus"

    assert assets.set_plan_active(session=session, scope=world["scope"], plan_id=plan.id, active=False).active is False
    assert [p.name for p in assets.list_plans(session=session, scope=world["scope"], offered_only=True)] == ["Cards"]
    # Offered no more: a new asset cannot pick it, the one on it keeps it.
    other_charger = make_charger(session, alpha, ocpp_id="HOME-2")
    code = assets.claim_code(session=session, scope=world["scope"], charger_id=other_charger.id)
    with pytest.raises(ValidationError, match="no longer offered"):
        assets.activate_asset(session=session, scope=world["scope"], account_id=owner.account_id, kind="charger",
                              ocpp_id="HOME-2", claim_code=code, plan_id=plan.id)
    assert [a.plan for a in assets.list_assets(session=session, scope=world["scope"])] == ["Home plus"]
    customer = customer_scope(session, owner)
    assert [p.name for p in assets.list_plans(session=session, scope=customer)] == ["Cards"]

    # A CPO reads the catalogue but cannot change it; another organization's plan is not found.
    cpo = world["cpo_bravo"]
    with pytest.raises(PermissionDenied):
        assets.update_plan(session=session, scope=cpo, plan_id=other.id, name="Cards", price="1")
    with pytest.raises(PermissionDenied):
        make_plan(session, customer, alpha, name="Mine")
    bravo_plan = make_plan(session, world["admin"], world["bravo"], name="Bravo")
    with pytest.raises(NotFound):
        assets.set_plan_active(session=session, scope=world["scope"], plan_id=bravo_plan.id, active=False)


def test_a_customer_moves_its_asset_to_another_eligible_plan_on_offer(session, world, alpha):
    card_plan = make_plan(session, world["scope"], alpha, name="Card", for_ac=False, for_dc=False)
    card_plus = make_plan(session, world["scope"], alpha, name="Card plus", price="5", for_ac=False, for_dc=False)
    home = make_plan(session, world["scope"], alpha, name="Home", for_card=False)
    owner = active_customer(session, alpha, "owner@x.test")
    me = customer_scope(session, owner)
    row = assets.activate_asset(session=session, scope=me, account_id=owner.account_id, kind="card",
                                id_tag="MINE-1", plan_id=card_plan.id)
    with pytest.raises(ValidationError, match="not available for cards"):
        assets.change_plan(session=session, scope=me, asset_id=row.id, plan_id=home.id)
    assert assets.change_plan(session=session, scope=me, asset_id=row.id, plan_id=card_plus.id).plan == "Card plus"
    stranger = customer_scope(session, active_customer(session, alpha, "stranger@x.test"))
    with pytest.raises(NotFound):
        assets.change_plan(session=session, scope=stranger, asset_id=row.id, plan_id=card_plan.id)
    with pytest.raises(NotFound):
        assets.change_plan(session=session, scope=me, asset_id=2**40, plan_id=card_plan.id)
    assert assets.enterprise_account_ids(session=session, scope=me) == set()
