"""Organization settings: profile, billing, tax and cost configuration, and the logo.

Only roles with Cap.MANAGE_ORGANIZATIONS may edit (checked here, not only in the UI). Every
field is validated before anything is written; one bad field refuses the whole edit. Each
edit is recorded in the audit log: who, when, old value → new value.

The platform commission is a commission contract (services.charging.contracts): changing it here adds
a platform contract effective now, so sessions that already started keep their rate.
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select, text
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from core.errors import ValidationError
from core.money import validate_currency
from core.validation import check_text, decimal_in_range, required_text, validate_email, validate_timezone
from models import Organization, Transaction
from models.base import values
from models.organization import Region
from services.access import audit
from services.access.organizations import OrgRow, validate_billing
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope
from services.charging import contracts

TEXT_FIELDS = {"legal_name": 200, "address": 500, "registration_number": 64, "tax_number": 64}
# (low, high, decimal places the column keeps, label) for percentages and amounts.
NUMBER_FIELDS = {
    "vat_rate": (Decimal(0), Decimal(50), 3, "VAT rate (%)"),
    "ssc_levy_rate": (Decimal(0), Decimal(20), 3, "SSC levy rate (%)"),
    "gateway_fee_percent": (Decimal(0), Decimal(20), 3, "gateway charge (%)"),
    "gateway_fee_fixed": (Decimal(0), Decimal(100000), 4, "gateway fixed fee"),
    "energy_cost_per_kwh": (Decimal(0), Decimal(100000), 4, "energy cost per kWh"),
    "platform_commission_rate": (Decimal(0), Decimal(100), 3, "platform commission (%)"),
}
EDITABLE = ("name", "currency", "timezone", "region", "billing_email", "billing_cycle", "billing_day",
            "payment_terms_days", *TEXT_FIELDS, *NUMBER_FIELDS)
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}
LOGO_MAX_SIDE = 4096


@dataclass(frozen=True)
class OrgDetail(OrgRow):
    """The organization's row, with its legal and billing settings."""
    logo_path: str | None
    legal_name: str | None
    address: str | None
    registration_number: str | None
    tax_number: str | None
    billing_email: str | None
    billing_cycle: str
    billing_day: int
    payment_terms_days: int
    vat_rate: Decimal
    ssc_levy_rate: Decimal
    gateway_fee_percent: Decimal
    gateway_fee_fixed: Decimal
    energy_cost_per_kwh: Decimal
    # The platform commission in force now (the latest contract, else the baseline).
    platform_commission_rate: Decimal


def detail(*, session: Session, scope: Scope, org_id: int) -> OrgDetail:
    org = get_in_scope(session, Organization, org_id, scope)
    rates = contracts.rates_in_force(session=session, organization=org, charger_id=None, location_owner_id=None,
                                     at=utcnow())
    names = [f for f in OrgDetail.__dataclass_fields__ if f != "platform_commission_rate"]
    return OrgDetail(**{f: getattr(org, f) for f in names}, platform_commission_rate=rates.platform_rate)


def _int(value: Any, field: str, message: str) -> int:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValidationError(message, field)
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValidationError(message, field) from None


def _number(value: Any, key: str) -> Decimal:
    low, high, places, label = NUMBER_FIELDS[key]
    return decimal_in_range(value, key, low=low, high=high, places=places, label=label)


def validate_changes(org: Organization, changes: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in EDITABLE:
            raise ValidationError(f"'{key}' cannot be changed here.", key)
        if key == "name":
            clean[key] = required_text(value, "name", max_len=200)
        elif key == "currency":
            clean[key] = validate_currency(value)
        elif key == "timezone":
            clean[key] = validate_timezone(value)
        elif key == "region":
            if value not in values(Region):
                raise ValidationError(f"Region must be one of: {', '.join(Region)}.", key)
            clean[key] = value
        elif key == "billing_email":
            clean[key] = validate_email(value) if (value or "").strip() else None
        elif key in TEXT_FIELDS:
            text = check_text((value or "").strip(), key)
            if len(text) > TEXT_FIELDS[key]:
                raise ValidationError(
                    f"{key.replace('_', ' ').capitalize()} must be at most {TEXT_FIELDS[key]} characters.", key)
            clean[key] = text or None
        elif key == "billing_cycle":
            clean[key] = value
        elif key == "billing_day":
            clean[key] = _int(value, key, "Billing day must be a whole number.")
        elif key == "payment_terms_days":
            days = _int(value, key, "Payment terms must be a whole number of days.")
            if not 0 <= days <= 365:
                raise ValidationError("Payment terms must be between 0 and 365 days.", key)
            clean[key] = days
        elif key in NUMBER_FIELDS:
            clean[key] = _number(value, key)
    if "billing_cycle" in clean or "billing_day" in clean:
        validate_billing(clean.get("billing_cycle", org.billing_cycle), clean.get("billing_day", org.billing_day))
    return clean


def _check_currency_change(session: Session, org: Organization, clean: dict[str, Any]) -> None:
    """A currency is fixed once the organization has sessions: their prices, invoices and roll-ups are in it.

    Decision (issue 14): refuse rather than effective-date the change, so no history is ever shown or summed
    in a currency it was not charged in. A new currency means a new organization.
    """
    if clean.get("currency", org.currency) == org.currency:
        return
    has_sessions = session.execute(select(Transaction.id).where(Transaction.organization_id == org.id)
                                   .limit(1)).first() is not None
    if has_sessions:
        raise ValidationError(f"The currency cannot change: {org.name} already has charging sessions in "
                              f"{org.currency}.", "currency")


def field_errors(*, session: Session, scope: Scope, org_id: int, changes: dict[str, Any]) -> dict[str, str]:
    """Every field's problem at once ({field: message}), for a form that marks each bad field.

    `update_organization` still validates again and refuses on the first problem."""
    scope.require(Cap.MANAGE_ORGANIZATIONS)
    org = get_in_scope(session, Organization, org_id, scope)
    errors: dict[str, str] = {}
    billing = {k: changes[k] for k in ("billing_cycle", "billing_day") if k in changes}
    for key, value in changes.items():
        if key in billing:
            continue
        try:
            validate_changes(org, {key: value})
        except ValidationError as exc:
            errors[key] = exc.message  # keyed by the form's field (some helpers name another)
    if "currency" in changes and "currency" not in errors:
        try:
            _check_currency_change(session, org, {"currency": validate_currency(changes["currency"])})
        except ValidationError as exc:
            errors["currency"] = exc.message
    if billing:  # cycle and day are only valid together
        try:
            validate_changes(org, billing)
        except ValidationError as exc:
            errors[exc.field if exc.field in billing else "billing_day"] = exc.message
    return errors


def update_organization(*, session: Session, scope: Scope, user_id: int | None, org_id: int,
                        changes: dict[str, Any]) -> Organization:
    """Apply a partial edit. Returns the organization; raises ValidationError with nothing saved."""
    scope.require(Cap.MANAGE_ORGANIZATIONS)
    org = get_in_scope(session, Organization, org_id, scope)
    clean = validate_changes(org, changes)
    _check_currency_change(session, org, clean)
    commission = clean.pop("platform_commission_rate", None)
    changed = audit.diff({k: getattr(org, k) for k in clean}, clean)
    for key in changed:
        setattr(org, key, clean[key])
    if changed:
        session.add(org)
        audit.record(session=session, user_id=user_id, organization_id=org.id, entity="organization",
                     entity_id=org.id, action="update", changes=changed)
    if commission is not None:
        now_rate = contracts.rates_in_force(session=session, organization=org, charger_id=None,
                                            location_owner_id=None, at=utcnow()).platform_rate
        if commission != now_rate:
            contracts.add_contract(session=session, scope=scope, user_id=user_id, organization_id=org.id,
                                   kind="platform", rate=commission)
    session.flush()
    if "timezone" in changed:
        # Dashboard roll-ups are keyed by local day; a new timezone moves every session's day.
        session.execute(text("SELECT rebuild_session_stats()"))
    return org


def _check_logo(data: bytes) -> tuple[str, int, int]:
    """(extension, width, height) of a valid logo, else ValidationError. Type comes from the bytes."""
    limit = get_settings().logo_max_bytes
    if not data:
        raise ValidationError("The logo file is empty.", "logo")
    if len(data) > limit:
        raise ValidationError(f"The logo is {len(data) / 1024:.0f} KB; the limit is {limit / 1024:.0f} KB.", "logo")
    not_image = ValidationError("The logo must be a PNG, JPEG, WebP or GIF image.", "logo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt, (width, height) = img.format, img.size
                img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise not_image from None
    if fmt not in LOGO_FORMATS:
        raise not_image
    if width > LOGO_MAX_SIDE or height > LOGO_MAX_SIDE:
        raise ValidationError(f"The logo must be at most {LOGO_MAX_SIDE}×{LOGO_MAX_SIDE} pixels.", "logo")
    return LOGO_FORMATS[fmt], width, height


def set_logo(*, session: Session, scope: Scope, user_id: int | None, org_id: int, data: bytes) -> Organization:
    """Validate and store an uploaded logo; `logo_path` is relative to settings.upload_dir."""
    scope.require(Cap.MANAGE_ORGANIZATIONS)
    org = get_in_scope(session, Organization, org_id, scope)
    ext, _, _ = _check_logo(data)
    # Content-addressed name: an upload retried writes the same file.
    rel = f"logos/org-{org.id}-{hashlib.sha256(data).hexdigest()[:16]}.{ext}"
    path = get_settings().upload_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    if org.logo_path != rel:
        audit.record(session=session, user_id=user_id, organization_id=org.id, entity="organization",
                     entity_id=org.id, action="set_logo", changes={"logo_path": {"old": org.logo_path, "new": rel}})
        org.logo_path = rel
        session.add(org)
        session.flush()
    return org


def logo_file(org: Organization) -> Path | None:
    return get_settings().upload_dir / org.logo_path if org.logo_path else None


def audit_trail(*, session: Session, scope: Scope, org_id: int, limit: int = 100) -> list[audit.AuditRow]:
    get_in_scope(session, Organization, org_id, scope)
    return audit.list_entries(session=session, scope=scope, organization_id=org_id, limit=limit)
