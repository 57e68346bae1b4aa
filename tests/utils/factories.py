"""Factories for test data. Each returns committed rows."""
from __future__ import annotations

import itertools

from sqlmodel import Session

from models import Charger, LocationOwner, Organization, User
from services import chargers as charger_svc
from services import organizations as org_svc
from services import users as user_svc

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def make_operator(session: Session) -> Organization:
    existing = org_svc.get_by_slug(session=session, slug="operator")
    if existing:
        return existing
    org = org_svc.create_organization(session=session, name="Operator", slug="operator", currency="USD",
                                      timezone="UTC")
    session.commit()
    return org


def make_org(session: Session, *, slug: str | None = None, currency: str = "EUR", timezone: str = "Europe/Berlin",
             parent: Organization | None = None, **fields) -> Organization:
    parent = parent or make_operator(session)
    slug = slug or f"org-{next(_seq)}"
    org = org_svc.create_organization(session=session, name=slug.replace("-", " ").title(), slug=slug,
                                      currency=currency, timezone=timezone, parent_slug=parent.slug, **fields)
    session.commit()
    return org


def make_user(session: Session, *, role: str, orgs: list[Organization] | None = None, email: str | None = None,
              location_owner: LocationOwner | None = None, password: str = PASSWORD) -> User:
    email = email or f"{role}-{next(_seq)}@example.test"
    user = user_svc.create_user(session=session, email=email, password=password, role=role,
                                org_slugs=[o.slug for o in orgs or []],
                                location_owner_id=location_owner.id if location_owner else None)
    session.commit()
    return user


def make_location_owner(session: Session, org: Organization, name: str | None = None) -> LocationOwner:
    owner = user_svc.create_location_owner(session=session, organization=org, name=name or f"Owner {next(_seq)}")
    session.commit()
    return owner


def make_charger(session: Session, org: Organization, *, ocpp_id: str | None = None,
                 location_owner: LocationOwner | None = None, auth_key: str = "test-auth-key-0123456789",
                 **fields) -> Charger:
    charger, _ = charger_svc.register_charger(
        session=session, ocpp_id=ocpp_id or f"CP-{next(_seq):04d}", organization=org, auth_key=auth_key,
        location_owner_id=location_owner.id if location_owner else None, **fields)
    session.commit()
    return charger
