"""Tariffs: one default per organization, overridable per charger, with time-of-day bands.

Every create and edit writes a TariffRevision effective from that moment, so pricing uses the
prices in force when a session started (services.charging.pricing.terms_at). Edits are audited.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from core.clock import utcnow
from core.errors import Conflict, ValidationError
from core.validation import decimal_in_range, required_text
from models import Charger, Organization, Tariff, TariffRevision
from services.access import audit
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope
from services.charging.pricing import parse_hhmm, tariff_prices

MAX_PRICE = Decimal("1000000")
MAX_BANDS = 12
PRICE_FIELDS = ("price_per_kwh", "price_per_minute", "session_fee", "idle_fee_per_minute")
EDITABLE = PRICE_FIELDS + ("name", "idle_grace_minutes", "vat_inclusive", "bands", "is_default")
LABELS = {"price_per_kwh": "price per kWh", "price_per_minute": "price per minute", "session_fee": "session fee",
          "idle_fee_per_minute": "idle fee per minute"}


@dataclass(frozen=True)
class TariffRow:
    id: int
    organization_id: int
    name: str
    price_per_kwh: Decimal
    price_per_minute: Decimal
    session_fee: Decimal
    idle_fee_per_minute: Decimal
    idle_grace_minutes: int
    vat_inclusive: bool
    bands: list[dict[str, Any]]
    is_default: bool


def row(t: Tariff) -> TariffRow:
    return TariffRow(t.id, t.organization_id, t.name, t.price_per_kwh, t.price_per_minute, t.session_fee,
                     t.idle_fee_per_minute, t.idle_grace_minutes, t.vat_inclusive, list(t.bands or []), t.is_default)


def price(value: object, field: str, label: str | None = None) -> Decimal:
    """A non-negative price with at most 4 decimals (what the database keeps)."""
    return decimal_in_range(value, field, low=Decimal(0), high=MAX_PRICE, places=4,
                            label=label or LABELS.get(field, field))


def validate_bands(raw: Any) -> list[dict[str, str]]:
    """[{"start": "HH:MM", "end": "HH:MM", "price_per_kwh": "0.40"}]; may wrap midnight; no overlaps."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, (list, tuple)):
        raise ValidationError("Time-of-day bands must be a list.", "bands")
    if len(raw) > MAX_BANDS:
        raise ValidationError(f"A tariff has at most {MAX_BANDS} time-of-day bands.", "bands")
    taken = [False] * 1440
    out = []
    for n, band in enumerate(raw, 1):
        if not isinstance(band, dict):
            raise ValidationError(f"Band {n} must have a start, an end and a price per kWh.", "bands")
        try:
            start, end = parse_hhmm(band.get("start", "")), parse_hhmm(band.get("end", ""))
        except (ValueError, AttributeError):
            raise ValidationError(f"Band {n}: start and end must be times like 07:00 or 22:30 (end may be 24:00).",
                                  "bands") from None
        if start == 1440:
            raise ValidationError(f"Band {n}: a band cannot start at 24:00.", "bands")
        if start == end % 1440:
            raise ValidationError(f"Band {n}: start and end must differ.", "bands")
        p = price(band.get("price_per_kwh"), "bands", f"band {n} price per kWh")
        minutes = range(start, end) if start < end else [*range(start, 1440), *range(0, end)]
        for m in minutes:
            if taken[m]:
                raise ValidationError(f"Band {n} overlaps another band.", "bands")
            taken[m] = True
        out.append({"start": f"{start // 60:02d}:{start % 60:02d}", "end": f"{end // 60:02d}:{end % 60:02d}",
                    "price_per_kwh": str(p)})
    return out


def _validate(changes: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in EDITABLE:
            raise ValidationError(f"Unknown tariff field '{key}'.", key)
        if key in PRICE_FIELDS:
            clean[key] = price(value, key)
        elif key == "name":
            clean[key] = required_text(value, "name", max_len=100)
        elif key == "idle_grace_minutes":
            try:
                minutes = int(str(value).strip()) if not isinstance(value, (bool, float)) else None
            except ValueError:
                minutes = None
            if minutes is None or not 0 <= minutes <= 24 * 60:
                raise ValidationError("Idle grace period must be a whole number of minutes from 0 to 1440.", key)
            clean[key] = minutes
        elif key in ("vat_inclusive", "is_default"):
            if not isinstance(value, bool):
                raise ValidationError(f"{key.replace('_', ' ').capitalize()} must be true or false.", key)
            clean[key] = value
        elif key == "bands":
            clean[key] = validate_bands(value)
    return clean


def _check_name(session: Session, org_id: int, name: str, tariff_id: int | None = None) -> None:
    stmt = select(Tariff.id).where(Tariff.organization_id == org_id, Tariff.name == name)
    if tariff_id is not None:
        stmt = stmt.where(Tariff.id != tariff_id)
    if session.execute(stmt).first():
        raise Conflict(f"A tariff named '{name}' already exists in this organization.", "name")


def _revise(session: Session, tariff: Tariff, user_id: int | None) -> None:
    session.add(TariffRevision(tariff_id=tariff.id, effective_from=utcnow(), prices=tariff_prices(tariff),
                               created_by_id=user_id))


def _make_default(session: Session, tariff: Tariff) -> None:
    session.execute(update(Tariff).where(Tariff.organization_id == tariff.organization_id, Tariff.id != tariff.id,
                                         Tariff.is_default).values(is_default=False))


def create_tariff(*, session: Session, scope: Scope, user_id: int | None, organization_id: int,
                  **fields: Any) -> Tariff:
    scope.require(Cap.MANAGE_TARIFFS)
    org = get_in_scope(session, Organization, organization_id, scope)
    if "name" not in fields:
        raise ValidationError("Name is required.", "name")
    clean = _validate(fields)
    _check_name(session, org.id, clean["name"])
    if not session.execute(select(Tariff.id).where(Tariff.organization_id == org.id, Tariff.is_default)).first():
        clean.setdefault("is_default", True)  # the first tariff of an organization is its default
    tariff = Tariff(organization_id=org.id, **clean)
    session.add(tariff)
    session.flush()
    if tariff.is_default:
        _make_default(session, tariff)
    _revise(session, tariff, user_id)
    audit.record(session=session, user_id=user_id, organization_id=org.id, entity="tariff", entity_id=tariff.id,
                 action="create", changes=audit.diff({}, clean))
    session.flush()
    return tariff


def update_tariff(*, session: Session, scope: Scope, user_id: int | None, tariff_id: int, **changes: Any) -> Tariff:
    scope.require(Cap.MANAGE_TARIFFS)
    tariff = get_in_scope(session, Tariff, tariff_id, scope)
    clean = _validate(changes)
    if "name" in clean:
        _check_name(session, tariff.organization_id, clean["name"], tariff.id)
    if clean.get("is_default") is False and tariff.is_default:
        raise ValidationError("Make another tariff the default instead; an organization keeps one default.",
                              "is_default")
    old = {k: getattr(tariff, k) for k in clean}
    changed = audit.diff(old, clean)
    if not changed:
        return tariff
    for key, value in clean.items():
        setattr(tariff, key, value)
    session.add(tariff)
    session.flush()
    if clean.get("is_default"):
        _make_default(session, tariff)
    if any(k in changed for k in PRICE_FIELDS + ("idle_grace_minutes", "vat_inclusive", "bands")):
        _revise(session, tariff, user_id)
    audit.record(session=session, user_id=user_id, organization_id=tariff.organization_id, entity="tariff",
                 entity_id=tariff.id, action="update", changes=changed)
    session.flush()
    return tariff


def list_tariffs(*, session: Session, scope: Scope, organization_id: int) -> list[TariffRow]:
    scope.require(Cap.VIEW_ORGANIZATIONS)
    org = get_in_scope(session, Organization, organization_id, scope)
    rows = session.execute(select(Tariff).where(Tariff.organization_id == org.id)
                           .order_by(Tariff.is_default.desc(), Tariff.name)).scalars()
    return [row(t) for t in rows]


def get_tariff(*, session: Session, scope: Scope, tariff_id: int) -> Tariff:
    scope.require(Cap.VIEW_ORGANIZATIONS)
    return get_in_scope(session, Tariff, tariff_id, scope)


def assign_tariff(*, session: Session, scope: Scope, user_id: int | None, charger_id: int,
                  tariff_id: int | None) -> Charger:
    """Give a charger its own tariff (None: back to the organization's default)."""
    scope.require(Cap.MANAGE_TARIFFS)
    charger = get_in_scope(session, Charger, charger_id, scope)
    if tariff_id is not None:
        tariff = session.get(Tariff, tariff_id)
        if tariff is None or tariff.organization_id != charger.organization_id:
            raise ValidationError("That tariff does not belong to the charger's organization.", "tariff_id")
    if charger.tariff_id != tariff_id:
        audit.record(session=session, user_id=user_id, organization_id=charger.organization_id, entity="charger",
                     entity_id=charger.id, action="assign_tariff",
                     changes={"tariff_id": {"old": charger.tariff_id, "new": tariff_id}})
        charger.tariff_id = tariff_id
        session.add(charger)
        session.flush()
    return charger
