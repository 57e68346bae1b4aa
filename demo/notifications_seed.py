"""Demo notifications: an alert rule per client organization, an alert that opened before the demo started
(its charger reconnects when the simulator starts, so a resolved notice follows live), and app users with
devices for the composer, whose pushes reach the local FCM stand-in (demo/push_standins.py)."""
from __future__ import annotations

import json
import os
from datetime import timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlmodel import Session

from core.clock import utcnow
from core.secretbox import seal
from models import AlertRule, Charger, CustomerAccount, CustomerUser, Organization, PushCredential, PushDevice
from services.notifications import alerts

RULE_ORGS = ("lanka-charge", "berlin-emobility", "berlin-mitte", "gotham-power")
CUSTOMERS = [("lanka-charge", "dilani@example.lk", "Dilani Perera"),
             ("lanka-charge", "kasun@example.lk", "Kasun Silva"),
             ("lanka-charge", "nimal@example.lk", "Nimal Fernando"),
             ("gotham-power", "jo@example.com", "Jo Rivera")]
OFFLINE_BEFORE_DEMO = "US-NYC-002"


def _service_account(project_id: str, key: rsa.RSAPrivateKey) -> str:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    port = os.environ.get("FCM_STANDIN_PORT", "8721")
    return json.dumps({"type": "service_account", "project_id": project_id, "private_key_id": "demo",
                       "private_key": pem, "client_email": f"demo@{project_id}.iam.gserviceaccount.com",
                       "token_uri": f"http://127.0.0.1:{port}/token"})


def seed_notifications(*, session: Session) -> int:
    if session.execute(select(AlertRule.id)).first():
        return 0
    created = 0
    orgs = {o.slug: o for o in session.execute(select(Organization)).scalars()}
    for slug in RULE_ORGS:
        session.add(AlertRule(organization_id=orgs[slug].id, name="Chargers offline or faulted",
                              conditions=["offline", "faulted"], debounce_minutes=5,
                              roles=["admin", "network_manager"], location_owners=True, channels=["in_app", "email"],
                              escalate_after_minutes=60, escalate_roles=["technical"]))
        created += 1
    for slug, email, name in CUSTOMERS:
        account = CustomerAccount(organization_id=orgs[slug].id, kind="consumer", status="active", name=name)
        session.add(account)
        session.flush()
        user = CustomerUser(organization_id=orgs[slug].id, account_id=account.id, email=email, full_name=name,
                            status="active")
        session.add(user)
        session.flush()
        session.add(PushDevice(customer_user_id=user.id, kind="fcm", token=f"demo-{email}", label="Phone"))
        created += 2
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # one for the demo's two projects
    for slug in ("lanka-charge", "gotham-power"):
        session.add(PushCredential(organization_id=orgs[slug].id, project_id=f"{slug}-app",
                                   service_account_encrypted=seal(_service_account(f"{slug}-app", key))))
    charger = session.execute(select(Charger).where(Charger.ocpp_id == OFFLINE_BEFORE_DEMO)).scalar_one_or_none()
    if charger is not None:
        now = utcnow()
        charger.status, charger.status_changed_at = "Offline", now - timedelta(minutes=12)
        charger.last_heartbeat_at = now - timedelta(minutes=12)
        session.add(charger)
        session.flush()
        alerts.evaluate(session=session, now=now)
    return created
