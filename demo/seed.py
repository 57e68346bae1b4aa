"""Demo data: an operator, three client organizations, one user per role, chargers and id tags.

Idempotent: running it again creates only what is missing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from core.clock import utcnow
from demo.customers import home_charger_ids, seed_customers
from demo.grid import seed_grid
from demo.history import seed_history
from demo.notifications_seed import seed_notifications
from demo.oem import seed_oem
from demo.payments import seed_payments
from demo.security import seed_security
from models import Charger, CommissionContract, IdTag, LocationOwner, Organization, Tariff, User
from models.contract import ContractKind
from services.access import organizations as org_svc
from services.access import users as user_svc
from services.charging import idtags as idtag_svc
from services.network import chargers as charger_svc

DEMO_PASSWORD = "voltdesk-demo"
# Shared OCPP AuthorizationKey of the demo chargers, so the simulator can connect. Demo only.
DEMO_CHARGER_KEY = "demo-charger-key-0001"

ORGS = [
    dict(slug="voltdesk", name="Voltdesk Operator", currency="USD", timezone="UTC", region="US", parent=None,
         legal_name="Voltdesk Networks Ltd", address="1 Grid Street, London", tax_number="GB123456789",
         billing_email="finance@voltdesk.local"),
    dict(slug="lanka-charge", name="Lanka Charge", currency="LKR", timezone="Asia/Colombo", region="MENA",
         parent="voltdesk", vat_rate=Decimal("18"), ssc_levy_rate=Decimal("2.5"),
         platform_commission_rate=Decimal("10"), gateway_fee_percent=Decimal("2.5"), gateway_fee_fixed=Decimal("10"),
         legal_name="Lanka Charge (Pvt) Ltd", address="42 Galle Road, Colombo 03", billing_email="billing@lanka.local"),
    dict(slug="berlin-emobility", name="Berlin eMobility", currency="EUR", timezone="Europe/Berlin", region="EU",
         parent="voltdesk", vat_rate=Decimal("19"), platform_commission_rate=Decimal("8"),
         gateway_fee_percent=Decimal("1.4"), gateway_fee_fixed=Decimal("0.25"), billing_cycle="weekly", billing_day=1,
         legal_name="Berlin eMobility GmbH", address="Friedrichstraße 10, 10117 Berlin",
         billing_email="rechnung@berlin.local"),
    dict(slug="berlin-mitte", name="Berlin Mitte Parking", currency="EUR", timezone="Europe/Berlin", region="EU",
         parent="berlin-emobility", vat_rate=Decimal("19")),
    dict(slug="gotham-power", name="Gotham Power", currency="USD", timezone="America/New_York", region="US",
         parent="voltdesk", vat_rate=Decimal("8.875"), platform_commission_rate=Decimal("12"),
         gateway_fee_percent=Decimal("2.9"), gateway_fee_fixed=Decimal("0.30"), billing_cycle="quarterly",
         billing_day=1, legal_name="Gotham Power Inc.", address="350 5th Ave, New York, NY",
         billing_email="ap@gotham.local"),
]

TARIFFS = {
    "lanka-charge": dict(price_per_kwh=Decimal("120"), session_fee=Decimal("50"),
                         bands=[{"start": "18:00", "end": "22:00", "price_per_kwh": "150"}]),
    "berlin-emobility": dict(price_per_kwh=Decimal("0.49"), price_per_minute=Decimal("0.02"),
                             idle_fee_per_minute=Decimal("0.10"), idle_grace_minutes=30, vat_inclusive=True),
    "berlin-mitte": dict(price_per_kwh=Decimal("0.45")),
    "gotham-power": dict(price_per_kwh=Decimal("0.35"), session_fee=Decimal("1.00"),
                         bands=[{"start": "16:00", "end": "21:00", "price_per_kwh": "0.48"}]),
}

CHARGERS = [
    # ocpp_id, org, name, address, lat, lon, connectors, location owner name
    ("LK-COL-001", "lanka-charge", "Colombo City Centre", "137 Sir James Peiris Mawatha, Colombo", 6.9167, 79.8553, 2,
     "Galle Face Hotel"),
    ("LK-COL-002", "lanka-charge", "Galle Face Green", "Galle Road, Colombo 03", 6.9271, 79.8450, 2,
     "Galle Face Hotel"),
    ("LK-KAN-001", "lanka-charge", "Kandy Lake Car Park", "Dalada Veediya, Kandy", 7.2936, 80.6413, 1, None),
    ("DE-BER-001", "berlin-emobility", "Alexanderplatz", "Alexanderplatz 1, Berlin", 52.5219, 13.4132, 2,
     "Alexa Mall"),
    ("DE-BER-002", "berlin-emobility", "Potsdamer Platz", "Potsdamer Platz 1, Berlin", 52.5096, 13.3759, 2, None),
    ("DE-BER-003", "berlin-mitte", "Mitte Parkhaus", "Torstraße 1, Berlin", 52.5290, 13.4010, 1, None),
    ("US-NYC-001", "gotham-power", "Hudson Yards", "20 Hudson Yards, New York, NY", 40.7539, -74.0020, 2,
     "Hudson Realty"),
    ("US-NYC-002", "gotham-power", "Brooklyn Navy Yard", "63 Flushing Ave, Brooklyn, NY", 40.7000, -73.9700, 2, None),
]

USERS = [
    ("admin@voltdesk.local", "admin", ["voltdesk"], "Ada Admin"),
    ("tech@voltdesk.local", "technical", ["voltdesk"], "Tom Technical"),
    ("accounts@voltdesk.local", "accounts", ["voltdesk"], "Anna Accounts"),
    ("network@voltdesk.local", "network_manager", ["voltdesk"], "Nina Network"),
    ("support@voltdesk.local", "customer_support", ["voltdesk"], "Sam Support"),
    ("cpo@lanka.local", "cpo", ["lanka-charge"], "Chamari CPO"),
    ("cpo@berlin.local", "cpo", ["berlin-emobility"], "Bernd CPO"),
    ("owner@galleface.local", "location_owner", [], "Galle Face Hotel"),
]


@dataclass(frozen=True)
class SeedResult:
    created: int
    logins: list[tuple[str, str, str]]  # (role, email, password)


def _org(session: Session, slug: str) -> Organization | None:
    return org_svc.get_by_slug(session=session, slug=slug)


# The demo location owner's contact and contract: 10 % of each session's subtotal, in force before the history
# starts, so its sessions carry commission and the billing worker makes last month's statement (issue 14).
OWNER_TERMS = {"Galle Face Hotel": dict(contact_name="Nimal Perera", email="ops@gallefacehotel.lk",
                                        phone="+94 11 254 1010", address="2 Galle Road, Colombo 3", rate="10")}
OWNER_SINCE_DAYS = 60


def _owner_terms(session: Session, org: Organization, owner: LocationOwner) -> int:
    terms = dict(OWNER_TERMS.get(owner.name, {}))
    if not terms:
        return 1
    since = utcnow() - timedelta(days=OWNER_SINCE_DAYS)
    rate = Decimal(terms.pop("rate"))
    for field, value in terms.items():
        setattr(owner, field, value)
    owner.created_at = since  # a partner since before the history, so its first statement is last month's
    session.add(owner)
    session.add(CommissionContract(organization_id=org.id, kind=ContractKind.LOCATION_OWNER,
                                   location_owner_id=owner.id, rate=rate, effective_from=since,
                                   note="Demo: 10 % of each session's subtotal"))
    session.flush()
    return 2


def seed_demo(*, session: Session) -> SeedResult:
    created = 0
    for spec in ORGS:
        spec = dict(spec)
        if _org(session, spec["slug"]):
            continue
        parent = spec.pop("parent")
        org_svc.create_organization(session=session, parent_slug=parent, **spec)
        created += 1

    for slug, prices in TARIFFS.items():
        org = _org(session, slug)
        if not session.execute(select(Tariff.id).where(Tariff.organization_id == org.id)).first():
            session.add(Tariff(organization_id=org.id, name="Standard", is_default=True, **prices))
            created += 1
    session.flush()

    owners: dict[str, LocationOwner] = {}
    for ocpp_id, slug, name, address, lat, lon, n_conn, owner_name in CHARGERS:
        org = _org(session, slug)
        owner = None
        if owner_name:
            owner = session.execute(select(LocationOwner).where(
                LocationOwner.organization_id == org.id, LocationOwner.name == owner_name)).scalar_one_or_none()
            if owner is None:
                owner = user_svc.create_location_owner(session=session, organization=org, name=owner_name)
                created += _owner_terms(session, org, owner)
            owners[owner_name] = owner
        if (existing := charger_svc.get_by_ocpp_id(session=session, ocpp_id=ocpp_id)) is not None:
            existing.simulated = existing.simulated or existing.organization_id == org.id  # a demo from before the flag
            continue
        tariff_id = session.execute(select(Tariff.id).where(Tariff.organization_id == org.id)).scalar()
        charger_svc.register_charger(
            session=session, ocpp_id=ocpp_id, organization=org, name=name, address=address,
            auth_key=DEMO_CHARGER_KEY, connectors=n_conn, latitude=Decimal(str(lat)), longitude=Decimal(str(lon)),
            vendor="Voltdesk Sim", model="VS-22", location_owner_id=owner.id if owner else None, tariff_id=tariff_id,
            simulated=True,
        )
        created += 1

    for i, slug in enumerate(s["slug"] for s in ORGS if s["parent"]):
        org = _org(session, slug)
        for n in range(1, 4):
            tag = f"{slug[:6].upper()}-{n:04d}"
            if not session.execute(select(IdTag.id).where(IdTag.tag == tag)).first():
                idtag_svc.create_id_tag(session=session, tag=tag, organization=org, holder_name=f"Driver {i}{n}")
                created += 1

    logins = []
    for email, role, slugs, full_name in USERS:
        if not session.execute(select(User.id).where(User.email == email)).first():
            owner_id = owners["Galle Face Hotel"].id if role == "location_owner" else None
            user_svc.create_user(session=session, email=email, password=DEMO_PASSWORD, role=role, org_slugs=slugs,
                                 full_name=full_name, location_owner_id=owner_id)
            created += 1
        logins.append((role, email, DEMO_PASSWORD))
    session.flush()
    created += seed_history(session=session)
    # Customers (issue 9) after the history: their sessions are recorded with their cards and home chargers.
    created += seed_customers(session=session, password=DEMO_PASSWORD, charger_key=DEMO_CHARGER_KEY)
    created += seed_notifications(session=session)
    created += seed_payments(session=session)  # payments (issue 10)
    created += seed_grid(session=session)
    created += seed_security(session=session)  # signed firmware and security events (issue 13)
    # The OEM tier (issue 15): two clients with a client admin, an API key and a branded app.
    made, client_logins, keys = seed_oem(session=session, password=DEMO_PASSWORD)
    for key in keys:
        print(f"Demo API key (shown once) for {key}")
    return SeedResult(created=created + made, logins=logins + client_logins)


def demo_charger_ids(*, session: Session) -> list[str]:
    """The demo's own chargers (flagged `simulated`): chargers a user adds are never simulated, and customers'
    home chargers have their own simulator (demo/stack.py)."""
    home = set(home_charger_ids(session=session))
    return [c for c in session.execute(select(Charger.ocpp_id).where(Charger.simulated).order_by(Charger.ocpp_id))
            .scalars() if c not in home]
