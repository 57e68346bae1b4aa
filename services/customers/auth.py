"""One login screen for staff and customers.

A staff email logs in as staff (services/access/auth.py). Any other email is looked up among the customer users
of every organization (an email is unique per organization only; the password picks the account), with the
same throttling, timing and messages. A customer's token carries `kind: customer`, which the staff side refuses
(`user_from_token`), and a customer's Scope has no role, so no staff capability ever applies to it.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from core.errors import ValidationError
from models import CustomerUser, User
from services.access.auth import (
    CUSTOMER,
    STAFF,
    AuthError,
    authenticate,
    decode_token,
    hash_password,
    issue_token,
    verify_password,
)
from services.access.invitations import _clean_name
from services.access.scope import Scope, customer_scope

PORTAL = "/my"


def _customers(session: Session, email: str) -> list[CustomerUser]:
    return list(session.execute(select(CustomerUser).where(CustomerUser.email == email)
                                .order_by(CustomerUser.id)).scalars())


@dataclass(frozen=True)
class Login:
    token: str
    kind: str  # staff | customer


def login(*, session: Session, email: str, password: str, ip: str | None = None) -> Login:
    """Staff or customer, by the email; raises AuthError (Throttled) like services.access.auth.authenticate."""
    address = (email or "").strip().lower()
    if session.execute(select(User.id).where(User.email == address)).first():
        return Login(issue_token(authenticate(session=session, email=email, password=password, ip=ip)), STAFF)
    user = authenticate(session=session, email=email, password=password, ip=ip, find=_customers)
    return Login(issue_token(user, kind=CUSTOMER), CUSTOMER)


def customer_from_token(*, session: Session, token: str | None) -> CustomerUser:
    """The active customer user a token belongs to, checked against the database on every call."""
    if not token:
        raise AuthError("Not logged in.")
    claims = decode_token(token)
    if claims.kind != CUSTOMER:
        raise AuthError("Your session is invalid or has expired. Please log in again.")
    user = session.get(CustomerUser, claims.user_id)
    if user is None or user.token_version != claims.token_version:
        raise AuthError("Your session has ended. Please log in again.")
    if user.status != "active":
        raise AuthError("This account is disabled.")
    return user


def token_kind(token: str | None) -> str | None:
    """Whose token this is (staff or customer), without checking it against the database; None if unreadable."""
    try:
        return decode_token(token).kind if token else None
    except AuthError:
        return None


def customer_principal(*, session: Session, token: str | None) -> tuple[CustomerUser, Scope]:
    user = customer_from_token(session=session, token=token)
    return user, customer_scope(session, user)


def revoke(*, session: Session, user: CustomerUser) -> None:
    """Logout: every token of this customer user stops working."""
    user.token_version += 1
    session.add(user)
    session.commit()


def change_password(*, session: Session, user: CustomerUser, current: str, new: str) -> str:
    """A customer's new password: every older token stops working; returns a fresh token for this tab."""
    if not verify_password(current, user.password_hash or ""):
        raise ValidationError("Current password is incorrect.", "current_password")
    user.password_hash = hash_password(new)
    user.token_version += 1
    session.add(user)
    session.commit()
    return issue_token(user, kind=CUSTOMER)


def update_profile(*, session: Session, user: CustomerUser, full_name: str) -> CustomerUser:
    user.full_name = _clean_name(full_name)
    session.add(user)
    session.commit()
    return user
