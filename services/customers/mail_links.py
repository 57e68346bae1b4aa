"""The one-time links mailed to customer users, on the pattern of the staff invitations
(services/access/invitations.py): 256-bit random tokens, only their SHA-256 stored (customer_token), valid
INVITATION_TTL_HOURS (24 h), used once, and revoked when a newer link of the same purpose is sent.

- invite: a staff user invited the customer; the link sets a password and completes the account.
- verify: the customer signed up; the link verifies the email address, and only then can the account charge.
"""
from __future__ import annotations

import secrets
from email.message import EmailMessage

from sqlalchemy import select, update
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from models import CustomerToken, CustomerUser
from services.access.invitations import _TOKEN_RE, INVITE, LinkError, _message, _send, _ttl, _ttl_words, hash_token

VERIFY = "verify"
PATHS = {INVITE: "/customer/activate/", VERIFY: "/customer/verify/"}

_MESSAGES = {
    INVITE: {
        "invalid": "This activation link is not valid. Check that you opened the whole link from the e-mail, "
                   "or ask for a new invitation.",
        "replaced": "This activation link was replaced by a newer invitation. Use the link in the most recent "
                    "e-mail.",
        "expired": "This activation link has expired: invitations are valid for {ttl}. Ask for a new invitation.",
        "used": "This account is already activated. Log in with your e-mail and password.",
        "disabled": "This account has been disabled. Contact support.",
    },
    VERIFY: {
        "invalid": "This verification link is not valid. Check that you opened the whole link from the e-mail.",
        "replaced": "This verification link was replaced by a newer one. Use the link in the most recent e-mail.",
        "expired": "This verification link has expired: links are valid for {ttl}. Ask support to resend it.",
        "used": "This email address is already verified. Log in with your e-mail and password.",
        "disabled": "This account has been disabled. Contact support.",
    },
}
# The customer status each purpose's link is for: once the user has moved on, the link counts as used.
_WAITING = {INVITE: "invited", VERIFY: "unverified"}


def link_error(purpose: str, reason: str) -> LinkError:
    return LinkError(_MESSAGES[purpose][reason].format(ttl=_ttl_words(INVITE)), reason)


def link_for(purpose: str, token: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}{PATHS[purpose]}{token}"


def issue(session: Session, user: CustomerUser, purpose: str, created_by_id: int | None) -> str:
    """A fresh token for `user`; its earlier open links of the same purpose stop working."""
    now = utcnow()
    session.execute(update(CustomerToken).where(
        CustomerToken.customer_user_id == user.id, CustomerToken.purpose == purpose,
        CustomerToken.used_at.is_(None), CustomerToken.revoked_at.is_(None)).values(revoked_at=now))
    token = secrets.token_urlsafe(32)
    session.add(CustomerToken(customer_user_id=user.id, purpose=purpose, token_hash=hash_token(token),
                              created_at=now, expires_at=now + _ttl(INVITE), created_by_id=created_by_id))
    session.flush()
    return token


def open_link(session: Session, token: str, purpose: str, *, lock: bool) -> tuple[CustomerToken, CustomerUser]:
    """The usable token row and its user, or LinkError saying why not (invalid, used, replaced, expired)."""
    token = (token or "").strip()
    if not _TOKEN_RE.match(token):
        raise link_error(purpose, "invalid")
    stmt = select(CustomerToken).where(CustomerToken.token_hash == hash_token(token), CustomerToken.purpose == purpose)
    row = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if row is None:
        raise link_error(purpose, "invalid")
    user = session.get(CustomerUser, row.customer_user_id, with_for_update=lock)
    if row.used_at is not None:
        raise link_error(purpose, "used")
    if user.status == "disabled":
        raise link_error(purpose, "disabled")
    if user.status != _WAITING[purpose]:
        raise link_error(purpose, "used")
    if row.revoked_at is not None:
        raise link_error(purpose, "replaced")
    if row.expires_at <= utcnow():
        raise link_error(purpose, "expired")
    return row, user


def mail(session: Session, user: CustomerUser, purpose: str, token: str, platform: str, inviter: str = ""):
    """Send the link, then commit; a refused mail rolls everything back (MailError)."""
    link = link_for(purpose, token)
    if purpose == INVITE:
        subject = f"You're invited to {platform}: activate your account"
        lead = [f"{inviter or platform} has invited you to charge with {platform}.", "",
                "Set a password and complete your account here:"]
    else:
        subject = f"Verify your email address for {platform}"
        lead = [f"Thank you for signing up with {platform}.", "",
                "Verify your email address here; until then your account cannot charge:"]
    body = [f"Hello {user.full_name or user.email},", "", *lead, link, "",
            f"The link is valid for {_ttl_words(INVITE)} and works once.", "",
            "If you did not expect this e-mail, you can ignore it."]
    msg: EmailMessage = _message(user.email, subject, body)
    return _send(session, msg, f"customer-{purpose}-{user.id}")
