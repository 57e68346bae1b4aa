"""Gateway configuration per organization: where each gateway is, its credentials (encrypted at rest and never
shown again: only their last four characters), routing fields and rate limit; the adapter for a row."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from core.errors import Conflict, ValidationError
from core.money import validate_currency
from core.validation import check_text
from models import Organization, PaymentGateway
from models.payment import GatewayName
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope
from services.payments.amounts import check_amount
from services.payments.gateways.amex import Amex
from services.payments.gateways.base import Credentials, Gateway, GatewayError, GatewayTimeout, GatewayUnavailable
from services.payments.gateways.cybersource import CyberSource
from services.payments.gateways.dialog import Dialog
from services.payments.secrets import seal, unseal

METHODS = ("visa", "mastercard", "amex", "fuel_card")
_ADAPTERS: dict[tuple[int, Any], Gateway] = {}


@dataclass(frozen=True)
class GatewayRow:
    id: int
    organization_id: int
    gateway: str
    enabled: bool
    priority: int
    base_url: str
    merchant_id: str
    key_id: str
    credentials_last4: str
    methods: list[str]
    bin_prefixes: list[str]
    currencies: list[str]
    min_amount: Decimal | None
    max_amount: Decimal | None
    rate_limit_per_second: int
    updated_at: datetime | None


def row(g: PaymentGateway) -> GatewayRow:
    return GatewayRow(g.id, g.organization_id, g.gateway, g.enabled, g.priority, g.base_url, g.merchant_id, g.key_id,
                      g.credentials_last4, list(g.methods), list(g.bin_prefixes), list(g.currencies),
                      g.min_amount, g.max_amount, g.rate_limit_per_second, g.updated_at)


def _clean(changes: dict[str, Any], currency: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if value is None and key not in ("min_amount", "max_amount"):
            continue
        if key == "base_url":
            value = check_text(str(value).strip(), "base_url")
            if not value.startswith(("https://", "http://")) or len(value) > 300:
                raise ValidationError("The gateway URL must start with https:// (at most 300 characters).", key)
        elif key in ("merchant_id", "key_id"):
            value = check_text(str(value).strip(), key)
            if len(value) > 100 or (key == "merchant_id" and not value):
                raise ValidationError(f"{key.replace('_', ' ').capitalize()}: 1 to 100 characters.", key)
        elif key == "methods":
            value = [str(m).strip().lower() for m in value if str(m).strip()]
            if any(m not in METHODS for m in value):
                raise ValidationError(f"Methods are among: {', '.join(METHODS)}.", key)
        elif key == "bin_prefixes":
            value = [str(b).strip() for b in value if str(b).strip()]
            if any(not b.isdigit() or len(b) > 8 for b in value):
                raise ValidationError("BIN prefixes are 1 to 8 digits.", key)
        elif key == "currencies":
            value = [validate_currency(c) for c in value if str(c).strip()]
        elif key in ("min_amount", "max_amount"):
            value = None if value in (None, "") else check_amount(value, currency, field=key)
        elif key in ("priority", "rate_limit_per_second"):
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ValidationError(f"{key.replace('_', ' ').capitalize()} must be a whole number.", key) from None
            if not (1 if key == "rate_limit_per_second" else 0) <= value <= 10_000:
                raise ValidationError(f"{key.replace('_', ' ').capitalize()} must be between 1 and 10000.", key)
        elif key == "enabled":
            value = bool(value)
        else:
            raise ValidationError(f"Unknown field {key}.", key)
        out[key] = value
    return out


def save_gateway(*, session: Session, scope: Scope, organization_id: int, gateway: str,
                 secret: str | None = None, webhook_secret: str | None = None, **changes: Any) -> GatewayRow:
    """Create or edit an organization's gateway. Credentials are written only when given (never read back)."""
    scope.require(Cap.MANAGE_GATEWAYS)
    org = get_in_scope(session, Organization, organization_id, scope)
    if gateway not in set(GatewayName):
        raise ValidationError(f"Unknown gateway '{gateway}'.", "gateway")
    fields = _clean(changes, org.currency)
    existing = session.execute(select(PaymentGateway).where(
        PaymentGateway.organization_id == org.id, PaymentGateway.gateway == gateway).with_for_update()
    ).scalar_one_or_none()
    for name, value in (("secret", secret), ("webhook_secret", webhook_secret)):
        if value is not None and (len(value) > 500 or not value.strip()):
            raise ValidationError("A credential is 1 to 500 characters.", name)
    if existing is None:
        if not secret or "base_url" not in fields or "merchant_id" not in fields:
            raise ValidationError("A new gateway needs its URL, merchant id and secret.", "secret")
        existing = PaymentGateway(organization_id=org.id, gateway=gateway, credentials="")
        old: dict[str, str] = {}
    else:
        old = unseal(existing.credentials)
    for key, value in fields.items():
        setattr(existing, key, value)
    if secret is not None or webhook_secret is not None:
        new = {"secret": secret if secret is not None else old.get("secret", ""),
               "webhook_secret": webhook_secret if webhook_secret is not None else old.get("webhook_secret", "")}
        existing.credentials = seal(new)
        existing.credentials_last4 = new["secret"][-4:]
    if existing.min_amount is not None and existing.max_amount is not None \
            and existing.min_amount > existing.max_amount:
        raise ValidationError("The smallest amount is above the largest.", "min_amount")
    existing.updated_at = utcnow()
    session.add(existing)
    try:
        session.flush()
    except Exception as exc:  # the unique (organization, gateway) raced
        raise Conflict("That gateway was configured at the same time; reload.") from exc
    return row(existing)


def list_gateways(*, session: Session, scope: Scope, organization_id: int | None = None) -> list[GatewayRow]:
    scope.require(Cap.VIEW_PAYMENTS)
    q = select(PaymentGateway).where(scope.payment_filter(PaymentGateway))
    if organization_id is not None:
        q = q.where(PaymentGateway.organization_id == organization_id)
    return [row(g) for g in session.execute(q.order_by(PaymentGateway.organization_id,
                                                       PaymentGateway.priority, PaymentGateway.id)).scalars()]


def credentials(g: PaymentGateway) -> Credentials:
    values = unseal(g.credentials)
    return Credentials(base_url=g.base_url, merchant_id=g.merchant_id, key_id=g.key_id,
                       secret=values.get("secret", ""), webhook_secret=values.get("webhook_secret", ""),
                       timeout=get_settings().payments_gateway_timeout_seconds)


def adapter_for(g: PaymentGateway) -> Gateway:
    """The adapter for a configured gateway; kept per row version so its HTTP connections are reused."""
    key = (g.id, g.updated_at)
    adapter = _ADAPTERS.get(key)
    if adapter is None:
        creds = credentials(g)
        if g.gateway == GatewayName.CYBERSOURCE:
            adapter = CyberSource(creds)
        elif g.gateway == GatewayName.AMEX:
            adapter = Amex(creds)
        elif g.gateway == GatewayName.DIALOG:
            adapter = Dialog(creds)
        else:
            raise ValidationError(f"The {g.gateway} gateway has no adapter.", "gateway")
        _ADAPTERS[key] = adapter
    return adapter


@dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    message: str
    latency_ms: int


def test_connection(*, session: Session, scope: Scope, gateway_id: int) -> ConnectionTest:
    """Ask the gateway about a reference that does not exist: an answer proves the URL and credentials."""
    scope.require(Cap.MANAGE_GATEWAYS)
    g = get_in_scope(session, PaymentGateway, gateway_id, scope)
    started = time.perf_counter()
    try:
        adapter_for(g).query(reference=f"{get_settings().payments_reference_prefix}-CONNECTION-TEST",
                             gateway_reference=None)
        ok, message = True, "Connected: the gateway answered and accepted the credentials."
    except GatewayError as exc:
        ok, message = False, f"The gateway refused the request: {exc}"
    except (GatewayUnavailable, GatewayTimeout) as exc:
        ok, message = False, f"The gateway could not be reached: {exc}"
    return ConnectionTest(ok, message, int((time.perf_counter() - started) * 1000))
