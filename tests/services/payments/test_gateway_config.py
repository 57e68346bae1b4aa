"""Gateway configuration: credentials encrypted at rest and shown again only as their last four characters; a
disabled gateway takes no payments until enabled again."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from services.payments import routing
from services.payments.gateway_config import credentials, list_gateways, save_gateway
from services.payments.gateways.dialog import Dialog
from tests.services.payments.conftest import ADMIN, configure_dialog
from tests.utils import standins


def test_credentials_are_encrypted_at_rest_and_only_their_last_four_are_shown(session, org, dialog):
    row = configure_dialog(session, org, dialog)
    stored = session.execute(text("SELECT credentials FROM payment_gateway WHERE id = :id"), {"id": row.id}).scalar()
    assert standins.DIALOG_API_KEY not in stored and "api-key" not in stored
    shown = repr(list_gateways(session=session, scope=ADMIN))
    assert standins.DIALOG_API_KEY not in shown and row.credentials_last4 == standins.DIALOG_API_KEY[-4:]
    # Saving other fields keeps the secret; the adapter still authenticates with it.
    save_gateway(session=session, scope=ADMIN, organization_id=org.id, gateway="dialog", priority=5)
    session.commit()
    from models import PaymentGateway
    g = session.get(PaymentGateway, row.id)
    assert credentials(g).secret == standins.DIALOG_API_KEY
    dialog.add_card("04AA", Decimal("5"), "USD")
    assert Dialog(credentials(g)).card("04AA")["balance"] == "5"


def test_a_disabled_gateway_is_not_routed_until_enabled_again(session, org, dialog):
    configure_dialog(session, org, dialog)

    def routed():
        return [g.gateway for g in routing.routes(session, organization_id=org.id, method="fuel_card", bin=None,
                                                  currency="USD", amount=Decimal("10"))]

    assert routed() == ["dialog"]
    save_gateway(session=session, scope=ADMIN, organization_id=org.id, gateway="dialog", enabled=False)
    session.commit()
    assert routed() == []
    assert not list_gateways(session=session, scope=ADMIN)[0].enabled
    save_gateway(session=session, scope=ADMIN, organization_id=org.id, gateway="dialog", enabled=True)
    session.commit()
    assert routed() == ["dialog"]
