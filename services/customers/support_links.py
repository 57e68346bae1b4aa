"""Settings → Support links: the Terms of Use, Privacy policy and support contact of an organization.

Until both the Terms and Privacy links are set, customers cannot sign up and cannot be invited. A link's
version goes up whenever its URL changes, and a customer's acceptance records the versions it accepted.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlmodel import Session

from core.clock import utcnow
from core.errors import ValidationError
from core.validation import check_text
from models import Organization, SupportLinks
from services.access import audit
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope

MAX_URL, MAX_CONTACT = 500, 254
CLOSED = ("Sign-up and invitations are closed until the Terms of Use and Privacy policy links are set "
          "(Settings → Support links).")


@dataclass(frozen=True)
class SupportLinksView:
    organization_id: int
    organization: str
    terms_url: str
    terms_version: int
    privacy_url: str
    privacy_version: int
    support_contact: str

    @property
    def open(self) -> bool:
        return bool(self.terms_url and self.privacy_url)


def _view(org: Organization, row: SupportLinks | None) -> SupportLinksView:
    row = row or SupportLinks(organization_id=org.id)
    return SupportLinksView(org.id, org.name, row.terms_url, row.terms_version, row.privacy_url, row.privacy_version,
                            row.support_contact)


def links_of(session: Session, org: Organization) -> SupportLinksView:
    return _view(org, session.get(SupportLinks, org.id))


def require_open(session: Session, org: Organization) -> SupportLinksView:
    """The organization's links, or ValidationError when sign-up and invitations are closed."""
    links = links_of(session, org)
    if not links.open:
        raise ValidationError(CLOSED, "organization_id")
    return links


def get_links(*, session: Session, scope: Scope, organization_id: int) -> SupportLinksView:
    scope.require(Cap.VIEW_CUSTOMERS)
    return links_of(session, get_in_scope(session, Organization, organization_id, scope))


def _url(value: str | None, field: str) -> str:
    url = check_text((value or "").strip(), field)
    if not url:
        return ""
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"Enter a full http(s) address of at most {MAX_URL} characters, "
                              "such as https://example.com/terms.", field)
    return url


def set_links(*, session: Session, scope: Scope, organization_id: int, terms_url: str | None,
              privacy_url: str | None, support_contact: str | None = "") -> SupportLinksView:
    """Save the links (empty closes sign-up again). Commits."""
    scope.require(Cap.MANAGE_CUSTOMERS)
    org = get_in_scope(session, Organization, organization_id, scope)
    terms, privacy = _url(terms_url, "terms_url"), _url(privacy_url, "privacy_url")
    contact = check_text((support_contact or "").strip(), "support_contact")
    if len(contact) > MAX_CONTACT:
        raise ValidationError(f"Support contact must be at most {MAX_CONTACT} characters.", "support_contact")
    row = session.get(SupportLinks, org.id, with_for_update=True) or SupportLinks(organization_id=org.id)
    old = {"terms_url": row.terms_url, "privacy_url": row.privacy_url, "support_contact": row.support_contact}
    if terms != row.terms_url:
        row.terms_url, row.terms_version = terms, row.terms_version + 1
    if privacy != row.privacy_url:
        row.privacy_url, row.privacy_version = privacy, row.privacy_version + 1
    row.support_contact, row.updated_at = contact, utcnow()
    session.add(row)
    audit.record(session=session, user_id=scope.user_id or None, organization_id=org.id, entity="support_links",
                 entity_id=org.id, action="update",
                 changes=audit.diff(old, {"terms_url": terms, "privacy_url": privacy, "support_contact": contact}))
    session.commit()
    return _view(org, row)


@dataclass(frozen=True)
class Platform:
    """An organization customers can sign up on (its Terms and Privacy links are set)."""
    slug: str
    name: str
    terms_url: str
    privacy_url: str


def open_platforms(*, session: Session) -> list[Platform]:
    """Every organization open for sign-up, for the public sign-up page."""
    rows = session.execute(
        select(Organization.slug, Organization.name, SupportLinks.terms_url, SupportLinks.privacy_url)
        .join(SupportLinks, SupportLinks.organization_id == Organization.id)
        .where(SupportLinks.terms_url != "", SupportLinks.privacy_url != "").order_by(Organization.name))
    return [Platform(*r) for r in rows]


def open_organization_ids(*, session: Session, scope: Scope) -> set[int]:
    """The organizations in scope whose customers can sign up and be invited."""
    return set(session.execute(select(SupportLinks.organization_id).where(
        scope.org_filter(SupportLinks.organization_id), SupportLinks.terms_url != "",
        SupportLinks.privacy_url != "")).scalars())
