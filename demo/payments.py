"""Demo payments: Lanka Charge's gateways point at the stand-ins (python -m demo.standins), a few customer
accounts with wallets and cards, and finished sessions whose payments the worker takes once the stack runs.
Idempotent: nothing is added when Lanka Charge already has gateways."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from core.clock import utcnow
from demo.standins.__main__ import DEMO_AMEX, DEMO_CYBERSOURCE, DEMO_DIALOG, PORTS
from models import Charger, CustomerAccount, CustomerUser, PaymentCard, PaymentGateway, Transaction
from services.access import organizations as org_svc
from services.access.permissions import Role
from services.access.scope import Scope
from services.ocpp import transactions as ocpp_tx
from services.payments import wallets
from services.payments.gateway_config import save_gateway

ORG = "lanka-charge"
FUEL_CARD_UID = "04A1B2C3D4"
_SCOPE = Scope(user_id=0, role=Role.ADMIN, org_ids=None)
# (name, wallet top-up, card brand/bin/last4 or None)
ACCOUNTS = [
    ("Nimal Perera", "15000.00", None),
    ("Ceylon Fleet Services", "0", ("visa", "411111", "1111")),
    ("Kumari Silva", "2500.00", ("amex", "371449", "8431")),
    # A Dialog fuel card: its UID is the idTag the charger reads (demo/standins/dialog.py knows it).
    ("Lanka Logistics", "0", ("fuel_card", "", FUEL_CARD_UID)),
]
# (account index, charger, connector, hours ago, kWh)
SESSIONS = [(0, "LK-KAN-001", 1, 5, 18.4), (1, "LK-COL-002", 2, 4, 32.0), (2, "LK-KAN-001", 1, 3, 11.2),
            (1, "LK-COL-002", 2, 2, 0.0), (0, "LK-KAN-001", 1, 1, 6.5), (3, "LK-COL-002", 2, 1, 21.0)]


def seed_payments(*, session: Session) -> int:
    org = org_svc.get_by_slug(session=session, slug=ORG)
    if org is None or session.execute(select(PaymentGateway.id).where(
            PaymentGateway.organization_id == org.id)).first():
        return 0
    save_gateway(session=session, scope=_SCOPE, organization_id=org.id, gateway="cybersource", priority=1,
                 base_url=f"http://127.0.0.1:{PORTS['cybersource']}", merchant_id=DEMO_CYBERSOURCE["merchant_id"],
                 key_id=DEMO_CYBERSOURCE["key_id"], secret=DEMO_CYBERSOURCE["secret"],
                 webhook_secret=DEMO_CYBERSOURCE["webhook_key"], methods=["visa", "mastercard"],
                 rate_limit_per_second=20)
    save_gateway(session=session, scope=_SCOPE, organization_id=org.id, gateway="amex", priority=2,
                 base_url=f"http://127.0.0.1:{PORTS['amex']}", merchant_id=DEMO_AMEX["merchant_id"],
                 secret=DEMO_AMEX["password"], webhook_secret=DEMO_AMEX["notification_secret"], methods=["amex"],
                 rate_limit_per_second=10)
    save_gateway(session=session, scope=_SCOPE, organization_id=org.id, gateway="dialog", priority=3,
                 base_url=f"http://127.0.0.1:{PORTS['dialog']}", merchant_id=DEMO_DIALOG["merchant_id"],
                 secret=DEMO_DIALOG["api_key"], methods=["fuel_card"], rate_limit_per_second=10)
    accounts = []
    for name, balance, card in ACCOUNTS:
        account = CustomerAccount(organization_id=org.id, kind="consumer", status="active", name=name)
        session.add(account)
        session.flush()
        wallet = wallets.open_wallet(session, customer_account_id=account.id)
        if Decimal(balance):
            wallets.top_up(session, wallet=wallet, amount=Decimal(balance), currency=org.currency,
                           memo="opening balance")
        if card:
            fuel = card[0] == "fuel_card"
            session.add(PaymentCard(customer_account_id=account.id, brand=card[0], bin=card[1],
                                    last4=card[2][-4:], is_default=not fuel,
                                    token=card[2] if fuel else f"tok_demo_{card[0]}_{account.id}"))
        accounts.append(account)
    now = utcnow().replace(microsecond=0)
    for i, ocpp_id, connector, hours, kwh in SESSIONS:
        charger = session.execute(select(Charger).where(Charger.ocpp_id == ocpp_id)).scalar_one()
        start = now - timedelta(hours=hours)
        stop = start + timedelta(minutes=40)
        started = ocpp_tx.start_transaction(session=session, charger_id=charger.id, connector_id=connector,
                                            id_tag=FUEL_CARD_UID if ACCOUNTS[i][2] and ACCOUNTS[i][2][0] == "fuel_card"
                                            else f"DEMO-PAY-{i}", meter_start=100_000, timestamp=start,
                                            reservation_id=None, now=start)
        tx_id = started.transaction_id
        # The customers work names the paying account at start; the demo names it here.
        tx = session.get(Transaction, tx_id)
        tx.customer_account_id = accounts[i].id
        session.add(tx)
        session.flush()
        ocpp_tx.stop_transaction(session=session, charger_id=charger.id, transaction_id=tx_id,
                                 meter_stop=100_000 + int(kwh * 1000), timestamp=stop, reason="Local", id_tag=None,
                                 transaction_data=None, now=stop)
    return len(accounts) + len(SESSIONS) + 3 + _portal_card(session)


# The customer portal's demo consumer (demo/customers.py) tops up her wallet by card at Berlin eMobility.
PORTAL_ORG, PORTAL_EMAIL = "berlin-emobility", "mia@example.local"


def _portal_card(session: Session) -> int:
    org = org_svc.get_by_slug(session=session, slug=PORTAL_ORG)
    user = session.execute(select(CustomerUser).where(CustomerUser.email == PORTAL_EMAIL)).scalar_one_or_none() \
        if org else None
    if user is None:
        return 0
    save_gateway(session=session, scope=_SCOPE, organization_id=org.id, gateway="cybersource", priority=1,
                 base_url=f"http://127.0.0.1:{PORTS['cybersource']}", merchant_id=DEMO_CYBERSOURCE["merchant_id"],
                 key_id=DEMO_CYBERSOURCE["key_id"], secret=DEMO_CYBERSOURCE["secret"],
                 webhook_secret=DEMO_CYBERSOURCE["webhook_key"], methods=["visa", "mastercard"])
    session.add(PaymentCard(customer_account_id=user.account_id, brand="visa", bin="424242", last4="4242",
                            token=f"tok_demo_visa_{user.account_id}", is_default=False))
    session.flush()
    return 2


def webhook_urls(*, session: Session, public_url: str) -> dict[str, str]:
    """Where each stand-in sends its webhooks: Lanka Charge's gateway endpoints."""
    org = org_svc.get_by_slug(session=session, slug=ORG)
    if org is None:
        return {}
    rows = session.execute(select(PaymentGateway.gateway, PaymentGateway.id)
                           .where(PaymentGateway.organization_id == org.id)).all()
    return {name: f"{public_url.rstrip('/')}/api/v1/payments/webhooks/{gid}" for name, gid in rows}
