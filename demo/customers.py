"""Demo customers (issue 9) on Berlin eMobility: a Business account with two Employee sub-accounts charging at
home on simulated chargers with reimbursement rates, a Consumer with a card, and an account on an Enterprise plan.

Everything goes through the services: support links, sign-up and invitations (mail to the outbox), plans, assets
and claim codes; the sessions are recorded with `services.ocpp.transactions` like live traffic, so they are linked
to their accounts and priced by the organization. Last month's reimbursement statements and the last closed
billing period's subscription invoices are made as the worker would. Runs once.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlmodel import Session

from core.clock import utcnow
from models import Charger, ChargingAsset, CustomerAccount, CustomerUser, EnterprisePlan, Organization
from services.access.permissions import Role
from services.access.scope import Scope
from services.billing.periods import local_today, period_containing
from services.customers import accounts, assets, billing, mail_links, support_links
from services.network import chargers as charger_svc
from services.ocpp.transactions import start_transaction, stop_transaction

ORG = "berlin-emobility"
HOME_CHARGERS = [("DE-HOME-001", "Jonas's garage", "Kastanienallee 12, Berlin", 52.5381, 13.4100),
                 ("DE-HOME-002", "Lea's carport", "Schillerstraße 5, Potsdam", 52.3906, 13.0645)]
HOME_TAGS = ["SPREE-JONAS", "SPREE-LEA"]
# Tegel Fleet's Enterprise plan has public charging off: its cards charge at its own depot charger only, and the
# depot takes only its cards (a SPREE or MIA card there, or a TEGEL card on a public charger, is Invalid).
DEPOT = ("DE-TEGEL-DEPOT", "Tegel Fleet depot", "Flughafen Tegel, Berlin", 52.5588, 13.2884)
FLEET_TAGS = ["TEGEL-0001", "TEGEL-0002"]
SYSTEM = Scope(user_id=0, role=Role.ADMIN, org_ids=None)
# (who, email) of the customer logins `make run` prints; the password is the demo's.
LOGINS = [("Business owner", "fleet@spree.local"), ("Employee", "jonas@spree.local"),
          ("Consumer", "mia@example.local"), ("Enterprise plan", "fleet@tegel.local")]


def _customer(session: Session, org: Organization, email: str) -> CustomerUser:
    return session.execute(select(CustomerUser).where(CustomerUser.organization_id == org.id,
                                                      CustomerUser.email == email)).scalar_one()


def _activate(session: Session, org: Organization, result: accounts.MailResult, name: str, password: str,
              kind: str = "consumer", company: accounts.Company | None = None) -> None:
    """What the customer does with the invitation mail (the link is minted again here: the outbox has the other)."""
    user = session.get(CustomerUser, result.customer_user_id)
    token = mail_links.issue(session, user, "invite", None)
    session.commit()
    accounts.activate(session=session, token=token, full_name=name, password=password, accept_terms=True,
                      kind=kind, name=name if kind == "consumer" else "", company=company)


def _session(session: Session, charger: Charger, tag: str, start: datetime, minutes: int, kw: float,
             meter: int, connector: int) -> int:
    energy = int(kw * 1000 * minutes / 60)
    stop = start + timedelta(minutes=minutes)
    started = start_transaction(session=session, charger_id=charger.id, connector_id=connector, id_tag=tag,
                                meter_start=meter, timestamp=start, reservation_id=None, now=start)
    stop_transaction(session=session, charger_id=charger.id, transaction_id=started.transaction_id,
                     meter_stop=meter + energy, timestamp=stop, reason="EVDisconnected", id_tag=tag,
                     transaction_data=None, now=stop)
    return energy


def seed_customers(*, session: Session, password: str, charger_key: str) -> int:
    """The demo customers; 0 when they exist already."""
    if session.execute(select(CustomerAccount.id).limit(1)).first():
        return 0
    org = session.execute(select(Organization).where(Organization.slug == ORG)).scalar_one_or_none()
    if org is None:
        return 0
    support_links.set_links(session=session, scope=SYSTEM, organization_id=org.id,
                            terms_url="https://berlin-emobility.example/terms",
                            privacy_url="https://berlin-emobility.example/privacy",
                            support_contact="kundenservice@berlin.local")
    home = assets.create_plan(session=session, scope=SYSTEM, organization_id=org.id, name="Home charger",
                              price=Decimal("4.90"), for_card=False)
    card = assets.create_plan(session=session, scope=SYSTEM, organization_id=org.id, name="Charge card",
                              price=Decimal("2.99"), session_fee=Decimal("0.25"), fee_kind="fixed",
                              for_ac=False, for_dc=False)
    assets.create_plan(session=session, scope=SYSTEM, organization_id=org.id, name="Business yearly",
                       price=Decimal("99.00"), interval="year", session_fee=Decimal("2"), fee_kind="percent")
    assets.create_plan(session=session, scope=SYSTEM, organization_id=org.id, name="DC fast monthly",
                       price=Decimal("14.90"), session_fee=Decimal("0.50"), fee_kind="fixed", for_card=False,
                       for_ac=False)
    old = assets.create_plan(session=session, scope=SYSTEM, organization_id=org.id, name="Charge card 2025",
                             price=Decimal("3.49"), for_ac=False, for_dc=False)
    assets.set_plan_active(session=session, scope=SYSTEM, plan_id=old.id, active=False)  # no longer offered

    # Business account with two Employee sub-accounts charging at home.
    spree = accounts.invite_account(session=session, scope=SYSTEM, organization_id=org.id, email="fleet@spree.local",
                                    name="Spree Logistics")
    _activate(session, org, spree, "Sven Spree", password, "business",
              accounts.Company("Spree Logistics GmbH", "HRB 204711 B", "DE298765432", "Am Spreebord 5, 10589 Berlin"))
    subs = []
    for (name, email, rate), (ocpp_id, label, address, lat, lon), tag in zip(
            [("Jonas Becker", "jonas@spree.local", "0.30"), ("Lea Wagner", "lea@spree.local", "0.28")],
            HOME_CHARGERS, HOME_TAGS, strict=True):
        sub = accounts.invite_sub_account(session=session, scope=SYSTEM, account_id=spree.account_id, use="employee",
                                          name=name, email=email, kind="consumer", reimbursement_rate=rate)
        _activate(session, org, sub, name, password)
        charger, _ = charger_svc.register_charger(
            session=session, ocpp_id=ocpp_id, organization=org, name=label, address=address, auth_key=charger_key,
            connectors=1, latitude=Decimal(str(lat)), longitude=Decimal(str(lon)), vendor="Voltdesk Sim",
            model="VS-Home")
        session.commit()
        code = assets.claim_code(session=session, scope=SYSTEM, charger_id=charger.id)
        assets.activate_asset(session=session, scope=SYSTEM, account_id=sub.account_id, kind="charger",
                              ocpp_id=ocpp_id, claim_code=code, plan_id=home.id)
        assets.activate_asset(session=session, scope=SYSTEM, account_id=sub.account_id, kind="card", id_tag=tag,
                              plan_id=card.id)
        subs.append((charger, tag))

    # A Consumer with a card, and an account on an Enterprise plan.
    mia = accounts.invite_account(session=session, scope=SYSTEM, organization_id=org.id, email="mia@example.local")
    _activate(session, org, mia, "Mia Schulz", password)
    assets.activate_asset(session=session, scope=SYSTEM, account_id=mia.account_id, kind="card", id_tag="MIA-CARD-01",
                          plan_id=card.id)
    tegel = accounts.invite_account(session=session, scope=SYSTEM, organization_id=org.id, email="fleet@tegel.local",
                                    name="Tegel Fleet", enterprise=accounts.EnterpriseTerms("9.00", False))
    _activate(session, org, tegel, "Tegel Fleet", password, "business",
              accounts.Company("Tegel Fleet Services GmbH", "HRB 99881 B", "DE311223344", "Flughafen Tegel, Berlin"))
    for tag in FLEET_TAGS:
        assets.activate_asset(session=session, scope=SYSTEM, account_id=tegel.account_id, kind="card", id_tag=tag)
    ocpp_id, label, address, lat, lon = DEPOT
    depot, _ = charger_svc.register_charger(
        session=session, ocpp_id=ocpp_id, organization=org, name=label, address=address, auth_key=charger_key,
        connectors=1, latitude=Decimal(str(lat)), longitude=Decimal(str(lon)), vendor="Voltdesk Sim", model="VS-Depot")
    session.commit()
    assets.activate_asset(session=session, scope=SYSTEM, account_id=tegel.account_id, kind="charger",
                          ocpp_id=ocpp_id, claim_code=assets.claim_code(session=session, scope=SYSTEM,
                                                                        charger_id=depot.id))

    # The customers joined two months ago: their assets were active through the history below.
    rnd, now = random.Random(9), utcnow()
    session.execute(update(ChargingAsset).values(activated_at=now - timedelta(days=60)))
    session.execute(update(EnterprisePlan).values(started_on=(now - timedelta(days=60)).date()))
    session.commit()
    # History over the normal OCPP path: 45 days of evening sessions at home, the fleet at its depot, and public
    # charging on connector 2.
    public = session.execute(select(Charger).where(Charger.ocpp_id == "DE-BER-002")).scalar_one_or_none()
    public_meter = 5_000_000
    made = 0
    for charger, tag in subs:
        meter = 0
        for days in range(45, 0, -2):
            start = (now - timedelta(days=days)).replace(hour=18, minute=rnd.randrange(60), second=0, microsecond=0)
            meter += _session(session, charger, tag, start, rnd.randrange(90, 240), rnd.uniform(5.5, 7.2), meter, 1)
            made += 1
    depot_meter = 0
    for days in range(40, 0, -3):
        start = (now - timedelta(days=days)).replace(hour=7, minute=rnd.randrange(60), second=0, microsecond=0)
        depot_meter += _session(session, depot, FLEET_TAGS[days % 2], start, rnd.randrange(45, 120),
                                rnd.uniform(9, 11), depot_meter, 1)
        made += 1
    if public is not None:
        for days in range(40, 0, -6):
            start = (now - timedelta(days=days)).replace(hour=13, minute=0, second=0, microsecond=0)
            public_meter += _session(session, public, "MIA-CARD-01", start, rnd.randrange(30, 90),
                                     rnd.uniform(9, 20), public_meter, 2)
            made += 1
    session.commit()

    # What the worker makes: last month's statements and the last closed billing period's invoices.
    today = local_today(org.timezone, now)
    billing.make_statements(session=session, org=org, month=billing.month_of(today.replace(day=1) - timedelta(days=1)))
    current = period_containing(org.billing_cycle, org.billing_day, today)
    billing.bill_subscriptions(session=session, org=org, period=period_containing(
        org.billing_cycle, org.billing_day, current.start - timedelta(days=1)))
    return made


def home_charger_ids(*, session: Session) -> list[str]:
    """The chargers customers activated (simulated by their own process, charging with the owners' cards)."""
    return list(session.execute(select(Charger.ocpp_id).join(ChargingAsset, ChargingAsset.charger_id == Charger.id)
                                .where(ChargingAsset.deactivated_at.is_(None)).order_by(Charger.ocpp_id)).scalars())
