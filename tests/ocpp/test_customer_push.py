"""A customer's session ends on a real charger: the push with its energy and cost reaches the FCM stand-in
through the organization's own Firebase project."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from ocpp.v16 import call

from core.config import get_settings
from demo.push_standins import Standins
from models import Transaction
from services.access.scope import scope_for
from services.charging import idtags as idtag_svc
from services.notifications import credentials, devices
from tests.ocpp.conftest import connect
from tests.utils.factories import make_tariff, make_user
from tests.utils.notifications import make_customer, service_account
from worker.jobs import notifications


@pytest.fixture
def fcm(monkeypatch):
    with Standins() as s:
        monkeypatch.setattr(get_settings(), "fcm_endpoint", s.fcm_url)
        yield s


async def test_a_customers_session_end_pushes_the_cost_to_the_fcm_endpoint(server, session, org, charger, fcm):
    make_tariff(session, org, price_per_kwh="50")                      # LKR 50 per kWh
    idtag_svc.create_id_tag(session=session, tag="DANA-1", organization=org)
    credentials.set_fcm_credential(session=session, scope=scope_for(session, make_user(session, role="admin")),
                                   organization_id=org.id,
                                   service_account_json=service_account("lanka-app", f"{fcm.fcm_url}/token"))
    account, user = make_customer(session, org)
    devices.register_device(session=session, customer_user_id=user.id, kind="fcm", token="dana-phone",
                            now=datetime.now(UTC))
    session.commit()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    async with connect(server, "CP-1") as cp:
        tx_id = (await cp.call(call.StartTransaction(connector_id=1, id_tag="DANA-1", meter_start=1000,
                                                     timestamp=start.isoformat()))).transaction_id
        tx = session.get(Transaction, tx_id)
        tx.customer_account_id = account.id      # the customer's idTag pays through this account
        session.commit()
        await cp.call(call.StopTransaction(meter_stop=13_500, timestamp=(start + timedelta(minutes=50)).isoformat(),
                                           transaction_id=tx_id))
    notifications()
    [got] = httpx.get(f"{fcm.fcm_url}/_received").json()
    message = got["message"]
    assert got["project"] == "lanka-app" and message["token"] == "dana-phone"
    assert message["notification"]["title"] == "Charging session ended"
    body = message["notification"]["body"]
    assert "12.50 kWh" in body and "625.00" in body and "LKR" in body   # 12.5 kWh × 50
    assert message["data"]["session_id"] == str(tx_id)
