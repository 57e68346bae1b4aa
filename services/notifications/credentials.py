"""Each client organization's Firebase project (a branded app has its own): the service-account JSON,
encrypted at rest and never shown again. A sub-organization without its own uses its parent's."""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session

from core.clock import utcnow
from core.errors import ValidationError
from core.secretbox import seal, unseal
from models import Organization, PushCredential
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope

_REQUIRED = ("project_id", "private_key", "client_email", "token_uri")


@dataclass(frozen=True)
class FcmProject:
    organization_id: int  # whose credential it is (maybe a parent's)
    project_id: str
    service_account_json: str


def set_fcm_credential(*, session: Session, scope: Scope, organization_id: int, service_account_json: str) -> str:
    """Store (or replace) the organization's Firebase service account. Returns the project id."""
    scope.require(Cap.MANAGE_ORGANIZATIONS)
    org = get_in_scope(session, Organization, organization_id, scope)
    if len(service_account_json) > 10_000:
        raise ValidationError("The service account file is too large.", "service_account")
    try:
        info = json.loads(service_account_json)
    except ValueError:
        raise ValidationError("The service account is not JSON (download it from the Firebase console).",
                              "service_account") from None
    if not isinstance(info, dict) or info.get("type") != "service_account" or not all(
            isinstance(info.get(k), str) and info.get(k) for k in _REQUIRED):
        raise ValidationError("Expected a Firebase service account JSON with " + ", ".join(_REQUIRED) + ".",
                              "service_account")
    row = session.get(PushCredential, org.id) or PushCredential(organization_id=org.id, project_id="",
                                                                service_account_encrypted="")
    row.project_id = info["project_id"][:100]
    row.service_account_encrypted = seal(json.dumps(info))
    row.updated_at = utcnow()
    session.add(row)
    return row.project_id


def fcm_project(*, session: Session, organization_id: int) -> FcmProject | None:
    """The Firebase project that serves the organization's app users, or None when none is configured."""
    org_id: int | None = organization_id
    seen: set[int] = set()
    while org_id is not None and org_id not in seen:
        seen.add(org_id)
        row = session.get(PushCredential, org_id)
        if row is not None:
            return FcmProject(org_id, row.project_id, unseal(row.service_account_encrypted))
        org = session.get(Organization, org_id)
        org_id = org.parent_id if org else None
    return None
