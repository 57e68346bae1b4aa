"""An organization's grid region and its opt-in demand-response policy."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlmodel import Session

from core.errors import NotFound, ValidationError
from core.validation import decimal_in_range
from models import Charger, Organization
from models.grid import DrPolicy, GridRegion, GridState
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope

PURPOSES = ("ChargePointMaxProfile", "TxDefaultProfile")
TRIGGERS = (GridState.ALERT.value, GridState.EMERGENCY.value)
VEN_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class PolicyRow:
    organization_id: int
    organization_name: str
    region: str
    enabled: bool
    trigger_state: str
    limit_percent: Decimal | None
    limit_kw: Decimal | None
    exempt_charger_ids: list[int]
    max_duration_minutes: int
    profile_purpose: str
    chargers_as_sensors: bool
    vtn_url: str
    ven_name: str


def _row(p: DrPolicy, org_name: str) -> PolicyRow:
    return PolicyRow(p.organization_id, org_name, p.region, p.enabled, p.trigger_state, p.limit_percent, p.limit_kw,
                     list(p.exempt_charger_ids), p.max_duration_minutes, p.profile_purpose, p.chargers_as_sensors,
                     p.vtn_url, p.ven_name)


def _vtn(vtn_url: object, ven_name: object) -> tuple[str, str]:
    """An OpenADR VTN address (http or https, no credentials in it) and the VEN's name, or ("", "")."""
    url = vtn_url.strip() if isinstance(vtn_url, str) else ""
    name = ven_name.strip() if isinstance(ven_name, str) else ""
    if not url:
        return "", ""
    parts = urlsplit(url)
    if len(url) > 500 or parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
            or parts.password or parts.query or parts.fragment:
        raise ValidationError("The VTN address must be an http(s) URL without credentials (500 characters at "
                              "most).", "vtn_url")
    if not VEN_NAME.fullmatch(name):
        raise ValidationError("The VEN name is 1 to 64 letters, digits, '.', '_' or '-'.", "ven_name")
    return url.rstrip("/"), name


def list_policies(*, session: Session, scope: Scope) -> list[PolicyRow]:
    scope.require(Cap.VIEW_GRID)
    rows = session.execute(select(DrPolicy, Organization.name).join(Organization, Organization.id ==
                                                                    DrPolicy.organization_id)
                           .where(scope.org_filter(DrPolicy.organization_id)).order_by(Organization.name)).all()
    return [_row(p, name) for p, name in rows]


def get_policy(*, session: Session, scope: Scope, organization_id: int) -> PolicyRow:
    scope.require(Cap.VIEW_GRID)
    org = get_in_scope(session, Organization, organization_id, scope)
    policy = session.execute(select(DrPolicy).where(DrPolicy.organization_id == org.id)).scalar_one_or_none()
    if policy is None:
        raise NotFound("This organization has no grid region set.")
    return _row(policy, org.name)


def save_policy(*, session: Session, scope: Scope, organization_id: int, region: str, enabled: bool = False,
                trigger_state: str = "alert", limit_percent: object = None, limit_kw: object = None,
                exempt_charger_ids: list[int] | None = None, max_duration_minutes: int = 60,
                profile_purpose: str = "ChargePointMaxProfile", chargers_as_sensors: bool = False,
                vtn_url: str = "", ven_name: str = "") -> PolicyRow:
    """Set the organization's region and policy (one per organization)."""
    scope.require(Cap.MANAGE_DEMAND_RESPONSE)
    org = get_in_scope(session, Organization, organization_id, scope)
    if not isinstance(region, str) or session.get(GridRegion, region[:16]) is None:
        raise ValidationError("Unknown grid region.", "region")
    if trigger_state not in TRIGGERS:
        raise ValidationError("The trigger must be 'alert' or 'emergency'.", "trigger_state")
    if profile_purpose not in PURPOSES:
        raise ValidationError(f"The profile must be one of {', '.join(PURPOSES)}.", "profile_purpose")
    if (limit_percent is None) == (limit_kw is None):
        raise ValidationError("Give the limit as a percentage or in kW, not both.", "limit_percent")
    pct = None if limit_percent is None else decimal_in_range(limit_percent, "limit_percent", low=Decimal(0),
                                                              high=Decimal(100), places=2)
    kw = None if limit_kw is None else decimal_in_range(limit_kw, "limit_kw", low=Decimal(0),
                                                        high=Decimal(100000), places=2)
    if not isinstance(max_duration_minutes, int) or not 1 <= max_duration_minutes <= 1440:
        raise ValidationError("The maximum duration must be between 1 and 1440 minutes.", "max_duration_minutes")
    vtn, ven = _vtn(vtn_url, ven_name)
    exempt = sorted(set(exempt_charger_ids or []))
    if len(exempt) > 10000:
        raise ValidationError("Too many exempt chargers.", "exempt_charger_ids")
    for cid in exempt:
        charger = get_in_scope(session, Charger, cid, scope) if isinstance(cid, int) else None
        if charger is None or charger.organization_id != org.id:
            raise ValidationError(f"Charger {cid} is not one of this organization's chargers.", "exempt_charger_ids")
    policy = session.execute(select(DrPolicy).where(DrPolicy.organization_id == org.id)).scalar_one_or_none()
    policy = policy or DrPolicy(organization_id=org.id, region=region)
    policy.region, policy.enabled, policy.trigger_state = region, bool(enabled), trigger_state
    policy.limit_percent, policy.limit_kw, policy.exempt_charger_ids = pct, kw, exempt
    policy.max_duration_minutes, policy.profile_purpose = max_duration_minutes, profile_purpose
    policy.chargers_as_sensors = bool(chargers_as_sensors)
    policy.vtn_url, policy.ven_name = vtn, ven
    session.add(policy)
    session.flush()
    return _row(policy, org.name)
