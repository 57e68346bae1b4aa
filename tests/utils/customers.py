"""Factories for customers (issue 9): support links, accounts made through the real flows, plans."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from models import CustomerUser, Organization
from services.access.scope import Scope
from services.customers import accounts, assets, mail_links, support_links
from tests.utils.smtp import links

CUSTOMER_PASSWORD = "charge-me-up-please"


def open_signup(session: Session, scope: Scope, org: Organization) -> None:
    support_links.set_links(session=session, scope=scope, organization_id=org.id,
                            terms_url="https://example.test/terms", privacy_url="https://example.test/privacy",
                            support_contact="help@example.test")


def token_from(msg, purpose: str = "invite") -> str:
    return next(link for link in links(msg) if mail_links.PATHS[purpose] in link).rsplit("/", 1)[-1]


def active_customer(session: Session, org: Organization, email: str, *, kind: str = "consumer") -> CustomerUser:
    """A customer who signed up and verified its email (mail to the outbox: no SMTP needed)."""
    accounts.signup(session=session, organization_slug=org.slug, email=email, password=CUSTOMER_PASSWORD,
                    kind=kind, name=email.split("@")[0].title(), accept_terms=True,
                    company=accounts.Company("Acme GmbH", "HRB 1", "DE1", "Main St 1") if kind == "business" else None)
    user = session.execute(select(CustomerUser).where(CustomerUser.email == email,
                                                      CustomerUser.organization_id == org.id)).scalar_one()
    token = mail_links.issue(session, user, mail_links.VERIFY, None)
    session.commit()
    return accounts.verify_email(session=session, token=token)


def make_plan(session: Session, scope: Scope, org: Organization, name: str = "Basic", price: str = "10.00",
              **kw) -> assets.PlanRow:
    return assets.create_plan(session=session, scope=scope, organization_id=org.id, name=name, price=Decimal(price),
                              **kw)
