"""The demo's customers: accounts of every kind, sessions linked through the OCPP services, last month's
reimbursement statements, and home chargers simulated apart from the network's (without the 30-day history, which
tests/demo/test_history.py covers)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from core.clock import utcnow
from demo.customers import SYSTEM, home_charger_ids, seed_customers
from demo.seed import DEMO_CHARGER_KEY, DEMO_PASSWORD, ORGS, demo_charger_ids
from models import (
    Charger,
    CustomerAccount,
    CustomerInvoice,
    EnterprisePlan,
    ReimbursementStatement,
    Tariff,
    Transaction,
)
from services.access import organizations as org_svc
from services.customers.assets import list_plans
from services.customers.auth import login
from services.customers.billing import reimbursement_amount
from services.network import chargers as charger_svc
from services.ocpp.authorize import authorize


def _berlin(session) -> None:
    for spec in ORGS[:3:2]:  # the operator, then Berlin eMobility
        spec = dict(spec)
        parent = spec.pop("parent")
        org_svc.create_organization(session=session, parent_slug=parent, **spec)
    org = org_svc.get_by_slug(session=session, slug="berlin-emobility")
    session.add(Tariff(organization_id=org.id, name="Standard", is_default=True, price_per_kwh=Decimal("0.49")))
    charger_svc.register_charger(session=session, ocpp_id="DE-BER-002", organization=org, auth_key=DEMO_CHARGER_KEY,
                                 connectors=2, simulated=True)  # a demo charger (issue 14 flag)
    session.commit()


def test_demo_customers_charge_through_ocpp_and_have_last_months_statements(session):
    _berlin(session)
    assert seed_customers(session=session, password=DEMO_PASSWORD, charger_key=DEMO_CHARGER_KEY) > 40
    accounts = session.execute(select(CustomerAccount)).scalars().all()
    assert sorted((a.kind, a.use or "") for a in accounts) == [
        ("business", ""), ("business", ""), ("consumer", ""), ("consumer", "employee"), ("consumer", "employee")]
    assert session.execute(select(func.count()).select_from(EnterprisePlan)).scalar_one() == 1
    linked = dict(session.execute(select(Transaction.customer_account_id, func.count())
                                  .where(Transaction.customer_account_id.is_not(None))
                                  .group_by(Transaction.customer_account_id)).all())
    assert len(linked) == 4 and all(n >= 5 for n in linked.values())  # 2 employees, the consumer, the fleet
    assert session.execute(select(func.count()).select_from(Transaction)
                           .where(Transaction.priced_at.is_(None))).scalar_one() == 0
    statements = session.execute(select(ReimbursementStatement)).scalars().all()
    assert len(statements) == 2 and {s.status for s in statements} == {"payable"}
    for s in statements:
        assert s.amount == reimbursement_amount(s.rate, s.energy_wh, "EUR") > 0
    assert session.execute(select(func.count()).select_from(CustomerInvoice)).scalar_one() >= 1
    assert home_charger_ids(session=session) == ["DE-HOME-001", "DE-HOME-002", "DE-TEGEL-DEPOT"]
    # The catalogue staff see on Billing plans: four on offer, one deactivated.
    plans = list_plans(session=session, scope=SYSTEM)
    assert len(plans) == 5 and [p.name for p in plans if not p.active] == ["Charge card 2025"]
    # The fleet's Enterprise plan has public charging off: its cards only at its depot, the depot only for them.
    depot, public = (session.execute(select(Charger.id).where(Charger.ocpp_id == o)).scalar_one()
                     for o in ("DE-TEGEL-DEPOT", "DE-BER-002"))
    answers = [authorize(session=session, charger_id=c, id_tag=t, now=utcnow())["status"]
               for c, t in ((depot, "TEGEL-0001"), (public, "TEGEL-0001"), (depot, "MIA-CARD-01"),
                            (public, "MIA-CARD-01"))]
    assert answers == ["Accepted", "Invalid", "Invalid", "Accepted"]
    assert demo_charger_ids(session=session) == ["DE-BER-002"]
    assert login(session=session, email="jonas@spree.local", password=DEMO_PASSWORD).kind == "customer"
    assert seed_customers(session=session, password=DEMO_PASSWORD, charger_key=DEMO_CHARGER_KEY) == 0
