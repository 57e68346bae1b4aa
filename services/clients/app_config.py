"""The App Builder: a client's white-label app (name, logo, colours, support links, feature switches and
the API key the app uses), and the configuration the app fetches with that key at start-up."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlmodel import Session

from core.clock import utcnow
from core.errors import NotFound, ValidationError
from core.validation import check_text, validate_email
from models import ApiKey, AppConfig, Organization
from models.organization import OrganizationKind
from services.access import audit
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope

# The feature switches a white-label app understands, with their labels.
FEATURES = {
    "map": "Charger map",
    "remote_start": "Start charging from the app",
    "history": "Charging history",
    "payments": "Payments",
    "favourites": "Favourite chargers",
    "support_chat": "Support contact",
}
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
URL_FIELDS = ("logo_url", "support_url", "terms_url", "privacy_url")
TEXT_FIELDS = {"app_name": 60, "support_phone": 40}


@dataclass(frozen=True)
class AppConfigRow:
    organization_id: int
    app_name: str
    logo_url: str | None = None
    primary_color: str = "#0B6E4F"
    accent_color: str = "#F2A541"
    support_email: str | None = None
    support_phone: str | None = None
    support_url: str | None = None
    terms_url: str | None = None
    privacy_url: str | None = None
    features: dict[str, bool] = field(default_factory=dict)
    api_key_id: int | None = None


EDITABLE = tuple(f for f in AppConfigRow.__dataclass_fields__ if f != "organization_id")


def _row(c: AppConfig) -> AppConfigRow:
    return AppConfigRow(c.organization_id, c.app_name, c.logo_url, c.primary_color, c.accent_color,
                        c.support_email, c.support_phone, c.support_url, c.terms_url, c.privacy_url,
                        {k: bool(c.features.get(k, False)) for k in FEATURES}, c.api_key_id)


def _client(session: Session, scope: Scope, organization_id: int) -> Organization:
    org = get_in_scope(session, Organization, organization_id, scope)
    if org.kind != OrganizationKind.CLIENT:
        raise ValidationError("Branded apps belong to a client organization.", "organization_id")
    return org


def get_config(*, session: Session, scope: Scope, organization_id: int) -> AppConfigRow:
    """The client's app configuration; a client without one gets the defaults, named after it."""
    scope.require(Cap.MANAGE_APPS)
    org = _client(session, scope, organization_id)
    found = session.get(AppConfig, org.id)
    return _row(found) if found else AppConfigRow(org.id, org.name[:60], features=dict.fromkeys(FEATURES, True))


def _url(value: str | None, name: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    check_text(value, name)
    if len(value) > 500 or not re.match(r"^https?://[^\s]+$", value):
        raise ValidationError(f"{name.replace('_', ' ').capitalize()} must be an http(s) address of at most "
                              "500 characters.", name)
    return value


def _validated(session: Session, org: Organization, changes: dict) -> dict:
    out: dict = {}
    for key, value in changes.items():
        if key not in EDITABLE:
            raise ValidationError(f"Unknown field: {str(key)[:40]}.", str(key)[:40])
        if key in URL_FIELDS:
            out[key] = _url(value, key)
        elif key in TEXT_FIELDS:
            text = check_text((value or "").strip(), key)
            if key == "app_name" and not text:
                raise ValidationError("Enter the app's name.", key)
            if len(text) > TEXT_FIELDS[key]:
                raise ValidationError(f"{key.replace('_', ' ').capitalize()} must be at most {TEXT_FIELDS[key]} "
                                      "characters.", key)
            out[key] = text or None if key != "app_name" else text
        elif key in ("primary_color", "accent_color"):
            if not isinstance(value, str) or not _COLOR.match(value):
                raise ValidationError(f"{key.replace('_', ' ').capitalize()} must read like #1A2B3C.", key)
            out[key] = value.upper()
        elif key == "support_email":
            out[key] = validate_email(value) if (value or "").strip() else None
        elif key == "features":
            if not isinstance(value, dict) or set(value) - set(FEATURES):
                raise ValidationError(f"Feature switches are: {', '.join(FEATURES)}.", key)
            out[key] = {k: bool(value.get(k, False)) for k in FEATURES}
        elif key == "api_key_id":
            if value is not None:
                key_row = session.get(ApiKey, value) if isinstance(value, int) else None
                if key_row is None or key_row.organization_id != org.id or key_row.revoked_at is not None:
                    raise ValidationError("Choose one of this client's current API keys.", key)
            out[key] = value
    return out


def save_config(*, session: Session, scope: Scope, user_id: int, organization_id: int, changes: dict) -> AppConfigRow:
    scope.require(Cap.MANAGE_APPS)
    org = _client(session, scope, organization_id)
    current = get_config(session=session, scope=scope, organization_id=org.id)
    values = _validated(session, org, changes)
    row = session.get(AppConfig, org.id, with_for_update=True)
    if row is None:
        row = AppConfig(**{k: getattr(current, k) for k in ("organization_id", *EDITABLE)})
    old = _row(row).__dict__ if row.organization_id else {}
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    changed = audit.diff(old, _row(row).__dict__)
    if changed:
        audit.record(session=session, user_id=user_id, organization_id=org.id, entity="app_config",
                     entity_id=org.id, action="update", changes=changed)
    return _row(row)


def config_for_key(*, session: Session, key: ApiKey) -> AppConfigRow:
    """The configuration of the app using this key (or, during a rotation's grace period, its successor)."""
    ids = [key.id] + ([key.replaced_by_id] if key.replaced_by_id else [])
    found = session.execute(select(AppConfig).where(AppConfig.organization_id == key.organization_id,
                                                    or_(*(AppConfig.api_key_id == i for i in ids)))).scalar()
    if found is None:
        raise NotFound("No app uses this API key. Choose it in the App Builder.")
    return _row(found)
