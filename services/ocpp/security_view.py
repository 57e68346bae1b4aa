"""What the charger page shows of the security extension and local list, gathered in one call: its
certificates from our CA (and refused requests), the CA roots it reported, its local authorization list,
its log and diagnostics uploads, its security history and its security profile."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from models import Charger, Organization
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope
from services.ocpp import certificates, local_list, security_events, uploads
from services.ocpp.security_profile import SUPPORTED


@dataclass(frozen=True)
class ChargerSecurityView:
    charger_id: int
    timezone: str  # the organization's, for showing times
    security_profile: int
    higher_profiles: list[int]  # what the profile may be raised to (never lowered)
    certificates: list[certificates.CertificateRow]
    installed: list[certificates.InstalledRow]
    local_list: local_list.LocalListView
    uploads: list[uploads.UploadRow]
    history: list[security_events.SecurityRow]


def charger_security(*, session: Session, scope: Scope, charger_id: int, now: datetime) -> ChargerSecurityView:
    scope.require(Cap.VIEW_CHARGERS)
    charger = get_in_scope(session, Charger, charger_id, scope)
    tz = session.get(Organization, charger.organization_id).timezone or "UTC"
    return ChargerSecurityView(
        charger_id=charger.id, timezone=tz, security_profile=charger.security_profile,
        higher_profiles=[p for p in SUPPORTED if p > charger.security_profile],
        certificates=certificates.list_certificates(session=session, scope=scope, charger_id=charger_id, now=now),
        installed=certificates.installed_certificates(session=session, scope=scope, charger_id=charger_id),
        local_list=local_list.get_local_list(session=session, scope=scope, charger_id=charger_id),
        uploads=uploads.list_uploads(session=session, scope=scope, charger_id=charger_id),
        history=security_events.security_history(session=session, scope=scope, charger_id=charger_id),
    )
