"""Plans and charging assets: eligibility, one account per card or charger, claim codes."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import Conflict, ValidationError
from models import IdTag
from services.customers import accounts, assets
from tests.utils.customers import active_customer, make_plan, open_signup
from tests.utils.factories import make_charger


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
