"""Chargers: registration, the scoped table, create/edit with validation and audit, and the detail page."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import Session

from core.config import get_settings
from core.db import exists_anywhere
from core.errors import Conflict, NotFound, ValidationError
from core.events import EventType, notify
from core.search import search_clause
from models import (
    Charger,
    ChargerCommand,
    ChargerStatusEvent,
    Connector,
    LocationOwner,
    Organization,
    Tariff,
    Transaction,
    UnknownCharger,
)
from models.base import values
from models.charger import LifecycleStatus
from models.ops import CommandStatus
from services.access import audit, limits
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope

OCPP_ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")


def hash_auth_key(key: str) -> str:
    """Keyed hash (HMAC-SHA256 with SECRET_KEY) of a charger's OCPP AuthorizationKey."""
    secret = get_settings().secret_key.encode()
    return hmac.new(secret, key.encode("utf-8"), hashlib.sha256).hexdigest()


def check_auth_key(key: str, stored_hash: str | None) -> bool:
    if not stored_hash:
        return False
    return hmac.compare_digest(hash_auth_key(key), stored_hash)


def generate_auth_key() -> str:
    # OCPP 1.6 security whitepaper: AuthorizationKey is 16-40 bytes; this gives 32 hex-safe chars.
    return secrets.token_urlsafe(24)


def validate_ocpp_id(ocpp_id: str) -> str:
    ocpp_id = (ocpp_id or "").strip()
    if not 1 <= len(ocpp_id) <= 48 or not set(ocpp_id) <= OCPP_ID_CHARS:
        raise ValidationError("Charger id must be 1-48 characters: letters, digits, '.', '_', ':' or '-'.", "ocpp_id")
    return ocpp_id


def validate_auth_key(key: str) -> str:
    if not 16 <= len(key) <= 40:
        raise ValidationError("AuthorizationKey must be 16 to 40 characters.", "auth_key")
    return key


@dataclass(frozen=True)
class ChargerRow:
    id: int
    ocpp_id: str
    name: str
    organization_id: int
    organization_name: str
    address: str
    status: str
    lifecycle_status: str
    visible: bool
    connected: bool
    last_heartbeat_at: datetime | None
    location_owner_id: int | None
    timezone: str = "UTC"  # the organization's, for showing times
    location_owner: str = ""  # its name; empty without one


def register_charger(*, session: Session, ocpp_id: str, organization: Organization, name: str = "",
                     address: str = "", auth_key: str | None = None, security_profile: int = 1,
                     connectors: int = 1, **fields) -> tuple[Charger, str | None]:
    """Register a charger. Returns it with the plain AuthorizationKey (shown once) when one was set."""
    ocpp_id = validate_ocpp_id(ocpp_id)
    if security_profile not in (0, 1, 2):
        raise ValidationError("Security profile must be 0, 1 or 2.", "security_profile")
    if session.execute(select(Charger.id).where(Charger.ocpp_id == ocpp_id)).first():
        raise Conflict(f"A charger with id '{ocpp_id}' already exists.")
    if not 1 <= connectors <= 8:
        raise ValidationError("A charger has 1 to 8 connectors.", "connectors")
    plain = None
    if security_profile > 0:
        plain = validate_auth_key(auth_key) if auth_key else generate_auth_key()
    charger = Charger(ocpp_id=ocpp_id, organization_id=organization.id, name=name or ocpp_id, address=address,
                      security_profile=security_profile, auth_key_hash=hash_auth_key(plain) if plain else None,
                      **fields)
    session.add(charger)
    session.flush()
    for n in range(1, connectors + 1):
        session.add(Connector(charger_id=charger.id, connector_id=n))
    session.flush()
    return charger, plain


# Sort keys the charger table offers; anything else falls back to the OCPP id.
SORT_COLUMNS = {
    "ocpp_id": Charger.ocpp_id,
    "name": Charger.name,
    "organization": Organization.name,
    "address": Charger.address,
    "visible": Charger.visible,
    "status": Charger.status,
    "lifecycle_status": Charger.lifecycle_status,
    "last_heartbeat_at": Charger.last_heartbeat_at,
}


def list_chargers(*, session: Session, scope: Scope, search: str | None = None, limit: int = 50,
                  offset: int = 0, status: str | None = None, lifecycle_status: str | None = None,
                  organization_id: int | None = None, visible: bool | None = None,
                  sort: str = "ocpp_id", descending: bool = False) -> tuple[list[ChargerRow], int]:
    """One page of chargers in scope, and the total count. Filtering, sorting and paging happen in SQL."""
    scope.require(Cap.VIEW_CHARGERS)
    if organization_id is not None:
        scope = scope.narrowed(organization_id)
    where = [scope.charger_filter()]
    if visible is not None:
        where.append(Charger.visible.is_(visible))
    if (found := search_clause(search, Charger.ocpp_id, Charger.name, Charger.address)) is not None:
        where.append(found)
    if status:
        where.append(Charger.status == status)
    if lifecycle_status:
        where.append(Charger.lifecycle_status == lifecycle_status)
    total = session.execute(select(func.count()).select_from(Charger).where(*where)).scalar_one()
    column = SORT_COLUMNS.get(sort, Charger.ocpp_id)
    order = column.desc().nulls_last() if descending else column.asc().nulls_last()
    rows = session.execute(
        select(Charger, Organization.name, Organization.timezone, LocationOwner.name)
        .join(Organization, Organization.id == Charger.organization_id)
        .outerjoin(LocationOwner, LocationOwner.id == Charger.location_owner_id)
        .where(*where)
        .order_by(order, Charger.ocpp_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [_row(c, org_name, tz, owner) for c, org_name, tz, owner in rows], total


def _row(c: Charger, org_name: str, tz: str, owner: str | None = None) -> ChargerRow:
    return ChargerRow(c.id, c.ocpp_id, c.name, c.organization_id, org_name, c.address, c.status,
                      c.lifecycle_status, c.visible, c.connected, c.last_heartbeat_at, c.location_owner_id, tz,
                      owner or "")


def get_charger(*, session: Session, scope: Scope, charger_id: int) -> Charger:
    return get_in_scope(session, Charger, charger_id, scope)


def get_charger_row(*, session: Session, scope: Scope, charger_id: int) -> ChargerRow:
    """One charger in scope, as the list shows it."""
    c = get_charger(session=session, scope=scope, charger_id=charger_id)
    org = session.get(Organization, c.organization_id)
    owner = session.get(LocationOwner, c.location_owner_id) if c.location_owner_id else None
    return _row(c, org.name, org.timezone, owner.name if owner else None)


def get_by_ocpp_id(*, session: Session, ocpp_id: str) -> Charger | None:
    """Unscoped lookup, for the OCPP server (a charger identifies itself)."""
    return session.execute(select(Charger).where(Charger.ocpp_id == ocpp_id)).scalar_one_or_none()


# ---------------------------------------------------------------------------------------------------------
# Create and edit from the web app (Cap.MANAGE_CHARGERS), with validation, audit and the key shown once
# ---------------------------------------------------------------------------------------------------------

EDITABLE = ("name", "address", "latitude", "longitude", "connectors", "tariff_id", "location_owner_id",
            "lifecycle_status", "visible", "organization_id")


def parse_coordinate(value: object, field: str, limit: int) -> Decimal | None:
    """A latitude (limit 90) or longitude (limit 180) in degrees, or None when left empty."""
    label = "Latitude" if field == "latitude" else "Longitude"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(f"{label} must be a number of degrees, for example 52.520008.", field) from None
    if not number.is_finite() or not -limit <= number <= limit:
        raise ValidationError(f"{label} must be between -{limit} and {limit} degrees.", field)
    return number.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def _optional_id(value: object, field: str) -> int | None:
    if value in (None, "", "none"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"Choose a valid {field.replace('_id', '').replace('_', ' ')}.", field) from None


def _connectors(value: object) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError("Connectors must be a whole number from 1 to 8.", "connectors") from None
    if not 1 <= n <= 8:
        raise ValidationError("A charger has 1 to 8 connectors.", "connectors")
    return n


def _validated(session: Session, scope: Scope, fields: dict[str, Any]) -> dict[str, Any]:
    """Clean form input into column values; raises ValidationError naming the first bad field."""
    out: dict[str, Any] = {}
    if "organization_id" in fields:
        org_id = _optional_id(fields["organization_id"], "organization_id")
        if org_id is None:
            raise ValidationError("Choose the organization the charger belongs to.", "organization_id")
        try:
            out["organization_id"] = get_in_scope(session, Organization, org_id, scope).id
        except NotFound:
            raise ValidationError("Choose an organization you manage.", "organization_id") from None
    if "name" in fields:
        name = (fields["name"] or "").strip()
        if len(name) > 200:
            raise ValidationError("Name must be at most 200 characters.", "name")
        out["name"] = name
    if "address" in fields:
        address = (fields["address"] or "").strip()
        if len(address) > 500:
            raise ValidationError("Address must be at most 500 characters.", "address")
        out["address"] = address
    if "latitude" in fields:
        out["latitude"] = parse_coordinate(fields["latitude"], "latitude", 90)
    if "longitude" in fields:
        out["longitude"] = parse_coordinate(fields["longitude"], "longitude", 180)
    if ("latitude" in out or "longitude" in out) and (out.get("latitude") is None) != (out.get("longitude") is None):
        missing = "longitude" if out.get("longitude") is None else "latitude"
        raise ValidationError("Give both latitude and longitude, or leave both empty.", missing)
    if "connectors" in fields:
        out["connectors"] = _connectors(fields["connectors"])
    if "lifecycle_status" in fields:
        if fields["lifecycle_status"] not in values(LifecycleStatus):
            raise ValidationError(f"Lifecycle status must be one of: {', '.join(LifecycleStatus)}.",
                                  "lifecycle_status")
        out["lifecycle_status"] = fields["lifecycle_status"]
    if "visible" in fields:
        out["visible"] = bool(fields["visible"])
    if "tariff_id" in fields:
        out["tariff_id"] = _optional_id(fields["tariff_id"], "tariff_id")
    if "location_owner_id" in fields:
        out["location_owner_id"] = _optional_id(fields["location_owner_id"], "location_owner_id")
    return out


def _check_belongs(session: Session, org_id: int, tariff_id: int | None, owner_id: int | None) -> None:
    if tariff_id is not None:
        tariff = session.get(Tariff, tariff_id)
        if tariff is None or tariff.organization_id != org_id:
            raise ValidationError("That tariff does not belong to the charger's organization.", "tariff_id")
    if owner_id is not None:
        owner = session.get(LocationOwner, owner_id)
        if owner is None or owner.organization_id != org_id:
            raise ValidationError("That location owner does not belong to the charger's organization.",
                                  "location_owner_id")


def _announce(session: Session, charger: Charger) -> None:
    # Open dashboards refresh the card (or drop it when hidden) once this commits.
    notify(session, {"type": EventType.CHARGER, "charger_id": charger.id, "organization_id": charger.organization_id})


def _check_registrable(session: Session, scope: Scope, ocpp_id: str) -> None:
    """The id rule (docs/adr/0004-scoping.md): OCPP ids are global, since the OCPP URL carries them. An id
    never seen connecting may be registered only with REGISTER_NEW_CHARGER_IDS (the operator), so nobody
    squats an id another tenant will need. A refusal names no other tenant: an id registered elsewhere and
    one never seen get the same answer."""
    if session.execute(select(Charger.id).where(Charger.ocpp_id == ocpp_id, scope.charger_filter())).first():
        raise Conflict(f"A charger with id '{ocpp_id}' already exists.", "ocpp_id")
    registered = exists_anywhere(session, select(Charger.id).where(Charger.ocpp_id == ocpp_id))
    seen = exists_anywhere(session, select(UnknownCharger.id).where(UnknownCharger.ocpp_id == ocpp_id))
    if registered or not (seen or scope.can(Cap.REGISTER_NEW_CHARGER_IDS)):
        raise Conflict(f"The charger id '{ocpp_id}' cannot be registered here. Check the id set in the charger "
                       "and let it connect once, then register it; or ask the operator to register it.", "ocpp_id")


def create_charger(*, session: Session, scope: Scope, user_id: int | None, ocpp_id: str,
                   organization_id: object, name: str = "", address: str = "", latitude: object = None,
                   longitude: object = None, connectors: object = 1, tariff_id: object = None,
                   location_owner_id: object = None, lifecycle_status: str = "Active", visible: bool = True,
                   security_profile: int = 1) -> tuple[Charger, str | None]:
    """Register a charger from the web app. Returns it and its new AuthorizationKey (shown once)."""
    scope.require(Cap.MANAGE_CHARGERS)
    ocpp_id = validate_ocpp_id(ocpp_id)
    _check_registrable(session, scope, ocpp_id)
    v = _validated(session, scope, dict(
        organization_id=organization_id, name=name, address=address, latitude=latitude, longitude=longitude,
        connectors=connectors, tariff_id=tariff_id, location_owner_id=location_owner_id,
        lifecycle_status=lifecycle_status, visible=visible))
    _check_belongs(session, v["organization_id"], v["tariff_id"], v["location_owner_id"])
    limits.check_charger_room(session, v["organization_id"])
    org = session.get(Organization, v.pop("organization_id"))
    charger, plain = register_charger(session=session, ocpp_id=ocpp_id, organization=org,
                                      name=v.pop("name") or ocpp_id, address=v.pop("address"),
                                      security_profile=security_profile, connectors=v.pop("connectors"), **v)
    # Registering a charger that knocked earlier answers its entry in the unknown chargers list.
    session.execute(delete(UnknownCharger).where(UnknownCharger.ocpp_id == ocpp_id))
    audit.record(session=session, user_id=user_id, organization_id=org.id, entity="charger", entity_id=charger.id,
                 action="create", changes=audit.diff({}, {"ocpp_id": ocpp_id, **_snapshot(session, charger)}))
    _announce(session, charger)
    session.flush()
    return charger, plain


def _snapshot(session: Session, charger: Charger) -> dict[str, Any]:
    values = {k: getattr(charger, k) for k in EDITABLE if k != "connectors"}
    values["connectors"] = session.execute(select(func.count()).select_from(Connector)
                                           .where(Connector.charger_id == charger.id)).scalar_one()
    return values


def update_charger(*, session: Session, scope: Scope, user_id: int | None, charger_id: int,
                   **changes: Any) -> Charger:
    """Edit a charger's fields (EDITABLE). Only changed fields are written and audited."""
    scope.require(Cap.MANAGE_CHARGERS)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"Unknown field: {sorted(unknown)[0]}.", sorted(unknown)[0])
    charger = session.get(Charger, charger_id, with_for_update=True)
    if charger is None:
        raise NotFound("Charger not found.")
    charger = get_in_scope(session, Charger, charger_id, scope)
    v = _validated(session, scope, changes)
    old = _snapshot(session, charger)
    org_id = v.get("organization_id", charger.organization_id)
    tariff_id = v.get("tariff_id", charger.tariff_id)
    owner_id = v.get("location_owner_id", charger.location_owner_id)
    if org_id != charger.organization_id:
        if limits.client_of(session, org_id) != limits.client_of(session, charger.organization_id):
            limits.check_charger_room(session, org_id)
        # Moving to another organization: its tariff and owner cannot come along.
        tariff_id = v.get("tariff_id")
        owner_id = v.get("location_owner_id")
        v["tariff_id"], v["location_owner_id"] = tariff_id, owner_id
    _check_belongs(session, org_id, tariff_id, owner_id)
    count = v.pop("connectors", None)
    for key, value in v.items():
        setattr(charger, key, value)
    if count is not None and count != old["connectors"]:
        _resize_connectors(session, charger, count)
    session.add(charger)
    session.flush()
    changed = audit.diff(old, _snapshot(session, charger))
    if changed:
        audit.record(session=session, user_id=user_id, organization_id=charger.organization_id, entity="charger",
                     entity_id=charger.id, action="update", changes=changed)
        _announce(session, charger)
    return charger


def _resize_connectors(session: Session, charger: Charger, count: int) -> None:
    have = set(session.execute(select(Connector.connector_id).where(Connector.charger_id == charger.id)).scalars())
    for n in range(1, count + 1):
        if n not in have:
            session.add(Connector(charger_id=charger.id, connector_id=n))
    session.execute(delete(Connector).where(Connector.charger_id == charger.id, Connector.connector_id > count))


def regenerate_auth_key(*, session: Session, scope: Scope, user_id: int | None, charger_id: int) -> str:
    """A new AuthorizationKey for the charger (the old one stops working). Returned once, stored hashed."""
    scope.require(Cap.MANAGE_CHARGERS)
    charger = get_in_scope(session, Charger, charger_id, scope)
    plain = generate_auth_key()
    charger.auth_key_hash = hash_auth_key(plain)
    if charger.security_profile == 0:
        charger.security_profile = 1
    session.add(charger)
    audit.record(session=session, user_id=user_id, organization_id=charger.organization_id, entity="charger",
                 entity_id=charger.id, action="regenerate_key", changes={"auth_key": {"old": "***", "new": "***"}})
    session.flush()
    return plain


@dataclass(frozen=True)
class Choice:
    id: int
    name: str
    organization_id: int


@dataclass(frozen=True)
class FormOptions:
    organizations: list[Choice]
    tariffs: list[Choice]
    location_owners: list[Choice]


def form_options(*, session: Session, scope: Scope) -> FormOptions:
    """What the create/edit form offers: organizations in scope, and their tariffs and location owners."""
    scope.require(Cap.MANAGE_CHARGERS)
    orgs = session.execute(select(Organization.id, Organization.name).where(scope.org_filter(Organization.id))
                           .order_by(Organization.name)).all()
    tariffs = session.execute(select(Tariff.id, Tariff.name, Tariff.organization_id)
                              .where(scope.org_filter(Tariff.organization_id)).order_by(Tariff.name)).all()
    owners = session.execute(select(LocationOwner.id, LocationOwner.name, LocationOwner.organization_id)
                             .where(scope.org_filter(LocationOwner.organization_id))
                             .order_by(LocationOwner.name)).all()
    return FormOptions([Choice(i, n, i) for i, n in orgs], [Choice(*t) for t in tariffs],
                       [Choice(*o) for o in owners])


# ---------------------------------------------------------------------------------------------------------
# The detail page
# ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConnectorInfo:
    connector_id: int
    status: str
    error_code: str | None
    standard: str
    max_power_kw: Decimal | None
    status_at: datetime | None


@dataclass(frozen=True)
class StatusChange:
    received_at: datetime
    connector_id: int
    status: str
    error_code: str | None
    info: str | None


@dataclass(frozen=True)
class RecentTransaction:
    id: int
    connector_id: int
    id_tag: str
    started_at: datetime
    stopped_at: datetime | None
    status: str
    energy_kwh: Decimal | None
    amount_gross: Decimal | None
    currency: str


@dataclass(frozen=True)
class ChargerDetail:
    charger: Charger
    organization_name: str
    tariff_name: str | None
    location_owner_name: str | None
    connectors: list[ConnectorInfo]
    history: list[StatusChange]
    transactions: list[RecentTransaction]
    # The last GetConfiguration answer: [{"key", "value", "readonly"}], and when it came.
    configuration: list[dict[str, Any]]
    configuration_at: datetime | None
    timezone: str = "UTC"  # the organization's, for showing times


def charger_detail(*, session: Session, scope: Scope, charger_id: int, history: int = 50,
                   recent: int = 10) -> ChargerDetail:
    scope.require(Cap.VIEW_CHARGERS)
    charger = get_in_scope(session, Charger, charger_id, scope)
    org = session.get(Organization, charger.organization_id)
    tariff = session.get(Tariff, charger.tariff_id) if charger.tariff_id else None
    owner = session.get(LocationOwner, charger.location_owner_id) if charger.location_owner_id else None
    connectors = [ConnectorInfo(c.connector_id, c.status, c.error_code, c.standard, c.max_power_kw, c.status_at)
                  for c in session.execute(select(Connector).where(Connector.charger_id == charger.id)
                                           .order_by(Connector.connector_id)).scalars()]
    events = session.execute(
        select(ChargerStatusEvent).where(ChargerStatusEvent.charger_id == charger.id)
        .order_by(ChargerStatusEvent.received_at.desc(), ChargerStatusEvent.id.desc()).limit(history)).scalars()
    changes = [StatusChange(e.received_at, e.connector_id, e.status, e.error_code, e.info) for e in events]
    # Only the sessions this scope earned: the charger's earlier holders keep theirs.
    txs = session.execute(select(Transaction).where(Transaction.charger_id == charger.id, scope.transaction_filter())
                          .order_by(Transaction.started_at.desc()).limit(recent)).scalars()
    transactions = [RecentTransaction(t.id, t.connector_id, t.id_tag, t.started_at, t.stopped_at, t.status,
                                      None if t.energy_wh is None else Decimal(t.energy_wh) / 1000, t.amount_gross,
                                      t.currency) for t in txs]
    config, config_at = [], None
    last = session.execute(
        select(ChargerCommand).where(ChargerCommand.charger_id == charger.id,
                                     ChargerCommand.action == "GetConfiguration",
                                     ChargerCommand.status == CommandStatus.DONE)
        .order_by(ChargerCommand.id.desc()).limit(1)).scalar_one_or_none()
    if last is not None and last.result:
        config = configuration_rows(last.result)
        config_at = last.completed_at
    return ChargerDetail(charger, org.name, tariff.name if tariff else None, owner.name if owner else None,
                         connectors, changes, transactions, config, config_at, org.timezone)


def configuration_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """A GetConfiguration.conf as rows, unknown keys last (OCPP: configurationKey / unknownKey)."""
    rows = [{"key": k.get("key", ""), "value": k.get("value") if k.get("value") is not None else "",
             "readonly": bool(k.get("readonly"))} for k in result.get("configurationKey") or []]
    rows.sort(key=lambda r: r["key"])
    rows += [{"key": k, "value": "(unknown key)", "readonly": True} for k in result.get("unknownKey") or []]
    return rows
