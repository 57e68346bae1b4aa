"""Shared set-up for the payments tests: an organization with a tariff and a charger, stand-in gateways."""
from __future__ import annotations

import pytest

from core.config import get_settings
from services.access.permissions import Role
from services.access.scope import Scope
from services.payments.gateway_config import save_gateway
from tests.utils import standins
from tests.utils.factories import make_charger, make_org, make_tariff

ADMIN = Scope(user_id=0, role=Role.ADMIN, org_ids=None)


@pytest.fixture
def org(session):
    return make_org(session, currency="USD", timezone="UTC")


@pytest.fixture
def charger(session, org):
    # 0.50 per kWh, no tax: the hold for 30 kWh and 120 minutes is 15.00.
    make_tariff(session, org, price_per_kwh="0.50")
    return make_charger(session, org)


@pytest.fixture
def fast_gateways(monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "payments_gateway_timeout_seconds", 1.0)
    monkeypatch.setattr(settings, "payments_circuit_failures", 2)


@pytest.fixture
def cybersource(fast_gateways):
    server = standins.cybersource()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def amex(fast_gateways):
    server = standins.amex()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def dialog(fast_gateways):
    server = standins.dialog()
    yield server
    server.shutdown()
    server.server_close()


def configure_dialog(session, org, server, **fields):
    creds = standins.dialog_credentials(server)
    row = save_gateway(session=session, scope=ADMIN, organization_id=org.id, gateway="dialog", base_url=server.url,
                       merchant_id=creds.merchant_id, secret=creds.secret, methods=["fuel_card"], **fields)
    session.commit()
    return row


def configure_cybersource(session, org, server, **fields):
    creds = standins.cybersource_credentials(server)
    row = save_gateway(session=session, scope=ADMIN, organization_id=org.id, gateway="cybersource",
                       base_url=server.url, merchant_id=creds.merchant_id, key_id=creds.key_id, secret=creds.secret,
                       webhook_secret=creds.webhook_secret, **fields)
    session.commit()
    return row


def configure_amex(session, org, server, **fields):
    creds = standins.amex_credentials(server)
    row = save_gateway(session=session, scope=ADMIN, organization_id=org.id, gateway="amex", base_url=server.url,
                       merchant_id=creds.merchant_id, secret=creds.secret, webhook_secret=creds.webhook_secret,
                       **fields)
    session.commit()
    return row
