"""Customer sessions over the real OCPP path: a customer's card or charger links the session to its account."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ocpp.v16 import call
from sqlalchemy import update

from core.clock import clock
from models import CustomerAccount, Tariff, Transaction
from services.access.scope import scope_for
from services.charging import idtags as idtag_svc
from services.customers import accounts, assets
from tests.ocpp.conftest import KEY, connect
from tests.utils.customers import active_customer, make_plan, open_signup
from tests.utils.factories import make_charger, make_user

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


async def test_card_and_home_charger_sessions_are_linked_and_keep_the_organization_pricing(
        server, session, org, charger):
    clock.set(NOW)
    session.add(Tariff(organization_id=org.id, name="Std", is_default=True, price_per_kwh=Decimal(100)))
    session.commit()
    staff = scope_for(session, make_user(session, role="admin"))
    open_signup(session, staff, org)
    plan = make_plan(session, staff, org)
    alice = active_customer(session, org, "alice@x.test")
    bob = active_customer(session, org, "bob@x.test")
    assets.activate_asset(session=session, scope=staff, account_id=alice.account_id, kind="card",
                          id_tag="ALICE-CARD", plan_id=plan.id)
    code = assets.claim_code(session=session, scope=staff, charger_id=charger.id)
    assets.activate_asset(session=session, scope=staff, account_id=bob.account_id, kind="charger",
                          ocpp_id="CP-1", claim_code=code, plan_id=plan.id)
    idtag_svc.create_id_tag(session=session, tag="GUEST", organization=org)
    session.commit()
    async with connect(server, "CP-1") as cp:
        card = await cp.call(call.StartTransaction(connector_id=1, id_tag="alice-card", meter_start=0,
                                                   timestamp=iso(NOW)))
        guest = await cp.call(call.StartTransaction(connector_id=2, id_tag="GUEST", meter_start=0,
                                                    timestamp=iso(NOW + timedelta(minutes=1))))
        assert card.id_tag_info["status"] == "Accepted"
        await cp.call(call.StopTransaction(meter_stop=2000, timestamp=iso(NOW + timedelta(minutes=30)),
                                           transaction_id=card.transaction_id))
    session.expire_all()
    tx = session.get(Transaction, card.transaction_id)
    # The card's account pays, even on another customer's charger; the organization's tariff priced it.
    assert tx.customer_account_id == alice.account_id and tx.amount_energy == Decimal("200.00")
    assert session.get(Transaction, guest.transaction_id).customer_account_id == bob.account_id


async def test_a_card_of_an_account_that_is_not_verified_cannot_charge(server, session, org, charger):
    clock.set(NOW)
    staff = scope_for(session, make_user(session, role="admin"))
    open_signup(session, staff, org)
    plan = make_plan(session, staff, org)
    made = accounts.signup(session=session, organization_slug=org.slug, email="new@x.test",
                           password="charge-me-up-please", kind="consumer", accept_terms=True)
    assets.activate_asset(session=session, scope=staff, account_id=made.account_id, kind="card", id_tag="NEW-CARD",
                          plan_id=plan.id)
    async with connect(server, "CP-1") as cp:
        answer = await cp.call(call.Authorize(id_tag="NEW-CARD"))
    assert answer.id_tag_info["status"] == "Blocked"


async def test_an_enterprise_plan_without_public_charging_keeps_its_cards_and_chargers_to_itself(
        server, session, org, charger):
    """Public charging off: the fleet's cards charge on the fleet's own chargers (a sub-account's too), are Invalid
    on any other charger, and the fleet's chargers refuse other cards. Public charging on lifts both."""
    clock.set(NOW)
    staff = scope_for(session, make_user(session, role="admin"))
    open_signup(session, staff, org)
    plan = make_plan(session, staff, org)
    fleet = accounts.invite_account(session=session, scope=staff, organization_id=org.id, email="fleet@x.test",
                                    name="Fleet", send_invitation=False,
                                    enterprise=accounts.EnterpriseTerms("9.00", public_charging=False))
    session.execute(update(CustomerAccount).where(CustomerAccount.id == fleet.account_id).values(status="active"))
    session.commit()
    driver = accounts.invite_sub_account(session=session, scope=staff, account_id=fleet.account_id, use="employee",
                                         name="Driver", email="driver@x.test", kind="consumer",
                                         reimbursement_rate="0.30")
    depot = make_charger(session, org, ocpp_id="DEPOT-1", connectors=1, auth_key=KEY)
    code = assets.claim_code(session=session, scope=staff, charger_id=depot.id)
    assets.activate_asset(session=session, scope=staff, account_id=driver.account_id, kind="charger",
                          ocpp_id="DEPOT-1", claim_code=code)
    assets.activate_asset(session=session, scope=staff, account_id=fleet.account_id, kind="card",
                          id_tag="FLEET-CARD")
    alice = active_customer(session, org, "alice@x.test")
    assets.activate_asset(session=session, scope=staff, account_id=alice.account_id, kind="card",
                          id_tag="ALICE-CARD", plan_id=plan.id)
    session.commit()

    async with connect(server, "CP-1") as public, connect(server, "DEPOT-1") as own:
        assert (await own.call(call.Authorize(id_tag="FLEET-CARD"))).id_tag_info == {"status": "Accepted"}
        assert (await public.call(call.Authorize(id_tag="fleet-card"))).id_tag_info == {"status": "Invalid"}
        assert (await own.call(call.Authorize(id_tag="ALICE-CARD"))).id_tag_info == {"status": "Invalid"}
        assert (await public.call(call.Authorize(id_tag="ALICE-CARD"))).id_tag_info == {"status": "Accepted"}
        # A charger that starts without asking first gets the same answer, and the session stays the fleet's.
        start = await public.call(call.StartTransaction(connector_id=1, id_tag="FLEET-CARD", meter_start=0,
                                                        timestamp=iso(NOW)))
        assert start.id_tag_info == {"status": "Invalid"}
        accounts.set_enterprise_plan(session=session, scope=staff, account_id=fleet.account_id,
                                     terms=accounts.EnterpriseTerms("9.00", public_charging=True))
        assert (await public.call(call.Authorize(id_tag="FLEET-CARD"))).id_tag_info == {"status": "Accepted"}
        assert (await own.call(call.Authorize(id_tag="ALICE-CARD"))).id_tag_info == {"status": "Accepted"}
    session.expire_all()
    assert session.get(Transaction, start.transaction_id).customer_account_id == fleet.account_id
