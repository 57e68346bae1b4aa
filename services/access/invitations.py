"""Invitations, account activation and password resets: one-time links sent by mail.

An invitation creates the user with status "invited" and no password, and mails a link to
`PUBLIC_URL/activate/<token>` valid INVITATION_TTL_HOURS (24 h). The invited person opens it, sets a
name and password, and the account becomes active. "Forgot password?" mails a link to
`PUBLIC_URL/reset-password/<token>` valid PASSWORD_RESET_TTL_MINUTES (1 h).

Tokens are 256-bit random strings; only their SHA-256 is stored (models/invitation.py). Each is used
once, and sending a newer link of the same purpose revokes the older ones.

Invitations: the rows are written and flushed, then the mail is sent, then the transaction commits.
If the mail server refuses, everything rolls back: no user without an invitation, no resend that
silently killed the previous link. (The rare opposite case, a commit failing after the mail left,
leaves a link that answers "not valid"; the sender sees the error and resends.)

Password resets answer first and mail afterwards, so that neither the answer nor its timing tells whether
an address has an account: the request runs one statement that queues a row in `mail_outbox` only for an
active account (the same statement and commit for any address), and `deliver_password_resets` sends it.
The web process drains the outbox right after answering (FastAPI background task, or after the Reflex
handler has yielded its answer); the worker drains it every MAIL_WORKER_INTERVAL_SECONDS, so a mail
queued by a process that died is still sent. The row holds no secret: the link is minted when sent.
"""
from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import select, text, update
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from core.errors import Conflict, ValidationError
from core.mail import MailError, SendResult, send_message
from core.validation import validate_email
from models import MailOutbox, User, UserToken
from services.access import audit
from services.access.auth import hash_password, normalize_email, revoke_reset_links, verify_password
from services.access.permissions import ASSIGNABLE_ROLES, ROLE_LABELS, Cap, PermissionDenied, Role
from services.access.scope import Scope
from services.access.users import bound_organizations, get_visible_user, provision_user, visibility_clause

log = logging.getLogger(__name__)

INVITE, RESET, EMAIL = "invite", "reset", "email"
ACTIVATE_PATH, RESET_PATH, VERIFY_EMAIL_PATH = "/activate/", "/reset-password/", "/verify-email/"
# A second reset mail to the same account within this window is not sent (no mail-bombing through the form).
RESET_COOLDOWN = timedelta(seconds=60)
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
MAX_NAME = 200


class LinkError(ValidationError):
    """The link cannot be used. `reason` is invalid, replaced, expired, used or disabled; the message
    says what to do next."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, "token")
        self.reason = reason


_MESSAGES = {
    EMAIL: {
        "invalid": "This verification link is not valid. Check that you opened the whole link from the e-mail.",
        "replaced": "This verification link was replaced by a newer e-mail change. Use the most recent e-mail.",
        "expired": "This verification link has expired: links are valid for {ttl}. Change the e-mail again "
                   "from your account page.",
        "used": "This e-mail address is already verified. Log in with it.",
        "disabled": "This account has been disabled. Contact your administrator.",
    },
    INVITE: {
        "invalid": "This activation link is not valid. Check that you opened the whole link from the e-mail, "
                   "or ask for a new invitation.",
        "replaced": "This activation link was replaced by a newer invitation. Use the link in the most recent "
                    "e-mail, or ask for a new invitation.",
        "expired": "This activation link has expired: invitations are valid for {ttl}. "
                   "Ask the person who invited you for a new invitation.",
        "used": "This account is already activated. Log in with your e-mail and password.",
        "disabled": "This account has been disabled. Contact your administrator.",
    },
    RESET: {
        "invalid": "This password reset link is not valid. Request a new link from the login page.",
        "replaced": "This password reset link no longer works: a newer link was sent, or the password or the "
                    "account changed since. Use the link in the most recent e-mail, or request a new link from "
                    "the login page.",
        "expired": "This password reset link has expired: links are valid for {ttl}. "
                   "Request a new link from the login page.",
        "used": "This password reset link has already been used. Log in, or request a new link from the "
                "login page.",
        "disabled": "This account has been disabled. Contact your administrator.",
    },
}


def _ttl(purpose: str) -> timedelta:
    s = get_settings()
    return timedelta(hours=s.invitation_ttl_hours) if purpose == INVITE else timedelta(
        minutes=s.password_reset_ttl_minutes)


def _ttl_words(purpose: str) -> str:
    minutes = int(_ttl(purpose).total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


def _error(purpose: str, reason: str) -> LinkError:
    return LinkError(_MESSAGES[purpose][reason].format(ttl=_ttl_words(purpose)), reason)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_for(purpose: str, token: str) -> str:
    base = get_settings().public_url.rstrip("/")
    path = {INVITE: ACTIVATE_PATH, RESET: RESET_PATH, EMAIL: VERIFY_EMAIL_PATH}[purpose]
    return f"{base}{path}{token}"


def _issue(session: Session, user: User, purpose: str, created_by_id: int | None) -> str:
    """A fresh token for `user`; every earlier open token of the same purpose is revoked."""
    now = utcnow()
    session.execute(
        update(UserToken)
        .where(UserToken.user_id == user.id, UserToken.purpose == purpose,
               UserToken.used_at.is_(None), UserToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(UserToken(user_id=user.id, purpose=purpose, token_hash=hash_token(token), created_at=now,
                          expires_at=now + _ttl(purpose), created_by_id=created_by_id))
    session.flush()
    return token


# --- the mails ------------------------------------------------------------------------------------------

def _message(recipient: str, subject: str, body: list[str]) -> EmailMessage:
    sender = get_settings().mail_from
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = recipient
    msg["Date"] = formatdate(utcnow().timestamp(), localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content("\n".join(body))
    return msg


def invitation_message(*, user: User, inviter: User, org_names: list[str], link: str) -> EmailMessage:
    inviter_name = inviter.full_name or inviter.email
    where = f" for {', '.join(org_names)}" if org_names else ""
    body = [
        f"Hello {user.full_name or user.email},", "",
        f"{inviter_name} has invited you to Voltdesk as {ROLE_LABELS[Role(user.role)]}{where}.", "",
        "Set up your account (your name and a password) here:", link, "",
        f"The link is valid for {_ttl_words(INVITE)} and works once. If it has expired, "
        f"ask {inviter_name} ({inviter.email}) to resend the invitation.", "",
        "If you did not expect this invitation, you can ignore this e-mail.",
    ]
    return _message(user.email, "You're invited to Voltdesk: activate your account", body)


def reset_message(*, user: User, link: str) -> EmailMessage:
    body = [
        f"Hello {user.full_name or user.email},", "",
        "Someone (hopefully you) asked to reset the password of your Voltdesk account.", "",
        "Choose a new password here:", link, "",
        f"The link is valid for {_ttl_words(RESET)} and works once. If you did not ask for this, ignore this "
        "e-mail: your password stays as it is.",
    ]
    return _message(user.email, "Reset your Voltdesk password", body)


def _send(session: Session, msg: EmailMessage, name: str) -> SendResult:
    """Send, then commit; a refused mail rolls everything back and raises MailError."""
    try:
        result = send_message(msg, outbox_name=name)
    except MailError:
        session.rollback()
        raise
    session.commit()
    return result


# --- inviting -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InviteResult:
    user_id: int
    email: str
    delivered: bool  # False: SMTP is not configured, the mail went to the outbox
    message: str


def _result(user: User, sent: SendResult, verb: str) -> InviteResult:
    if sent.delivered:
        text = f"Invitation {verb} to {user.email}. The link is valid for {_ttl_words(INVITE)}."
    else:
        text = f"{user.email} is invited: {sent.message}"
    return InviteResult(user.id, user.email, sent.delivered, text)


def invite_user(*, session: Session, scope: Scope, email: str, role: str, full_name: str = "",
                organization_id: int | None = None, location_owner_id: int | None = None,
                custom_role_id: int | None = None) -> InviteResult:
    """Create an invited user (role within ASSIGNABLE_ROLES, organization inside the caller's scope) and
    mail the activation link. Commits; on a refused mail nothing is saved and MailError is raised."""
    user = provision_user(session=session, scope=scope, email=email, password=None, role=role,
                          full_name=full_name, organization_id=organization_id,
                          location_owner_id=location_owner_id, status="invited", custom_role_id=custom_role_id)
    orgs = bound_organizations(session=session, user=user)
    inviter = session.get(User, scope.user_id)
    token = _issue(session, user, INVITE, scope.user_id)
    audit.record(session=session, user_id=scope.user_id, organization_id=orgs[0].id if orgs else None,
                 entity="user", entity_id=user.id, action="invite",
                 changes={"email": user.email, "role": user.role, "organizations": [o.name for o in orgs]})
    msg = invitation_message(user=user, inviter=inviter, org_names=[o.name for o in orgs],
                             link=link_for(INVITE, token))
    return _result(user, _send(session, msg, f"invitation-{user.id}"), "sent")


def resend_invitation(*, session: Session, scope: Scope, user_id: int) -> InviteResult:
    """A fresh 24-hour link for a user who has not activated yet; the earlier links stop working."""
    scope.require(Cap.MANAGE_USERS)
    user = get_visible_user(session=session, scope=scope, user_id=user_id, lock=True)
    if Role(user.role) not in ASSIGNABLE_ROLES.get(scope.role, frozenset()):
        raise PermissionDenied(f"Your role may not invite {ROLE_LABELS[Role(user.role)]} users.")
    if user.status != "invited":
        raise Conflict(f"{user.email} has already activated the account." if user.status == "active"
                       else f"{user.email} is disabled. Enable the user before resending the invitation.")
    orgs = bound_organizations(session=session, user=user)
    inviter = session.get(User, scope.user_id)
    token = _issue(session, user, INVITE, scope.user_id)
    audit.record(session=session, user_id=scope.user_id, organization_id=orgs[0].id if orgs else None,
                 entity="user", entity_id=user.id, action="resend_invitation", changes={"email": user.email})
    msg = invitation_message(user=user, inviter=inviter, org_names=[o.name for o in orgs],
                             link=link_for(INVITE, token))
    return _result(user, _send(session, msg, f"invitation-{user.id}"), "resent")


@dataclass(frozen=True)
class PendingInvitation:
    user_id: int
    sent_at: datetime
    expires_at: datetime

    @property
    def expired(self) -> bool:
        return self.expires_at <= utcnow()


def pending_invitations(*, session: Session, scope: Scope, user_ids: list[int]) -> dict[int, PendingInvitation]:
    """The open invitation link of each invited user among `user_ids` the caller may see."""
    scope.require(Cap.VIEW_USERS)
    if not user_ids:
        return {}
    stmt = (select(UserToken.user_id, UserToken.created_at, UserToken.expires_at)
            .join(User, User.id == UserToken.user_id)
            .where(UserToken.user_id.in_(user_ids), UserToken.purpose == INVITE, User.status == "invited",
                   UserToken.used_at.is_(None), UserToken.revoked_at.is_(None)))
    clause = visibility_clause(scope)
    if clause is not None:
        stmt = stmt.where(clause)
    return {uid: PendingInvitation(uid, sent, expires) for uid, sent, expires in session.execute(stmt)}


# --- following a link -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LinkInfo:
    """What the activation or reset page shows before the form."""
    email: str
    full_name: str
    role_label: str
    organizations: list[str]
    expires_at: str  # ISO-8601 UTC


def _open_token(session: Session, token: str, purpose: str, *, lock: bool) -> tuple[UserToken, User]:
    """The usable token row and its user, or LinkError saying why not."""
    token = (token or "").strip()
    if not _TOKEN_RE.match(token):
        raise _error(purpose, "invalid")
    stmt = select(UserToken).where(UserToken.token_hash == hash_token(token), UserToken.purpose == purpose)
    row = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if row is None:
        raise _error(purpose, "invalid")
    user = session.get(User, row.user_id, with_for_update=lock)
    if row.used_at is not None:
        raise _error(purpose, "used")
    if user.status == "disabled":
        raise _error(purpose, "disabled")
    if purpose == INVITE and user.status != "invited":
        raise _error(purpose, "used")
    if row.revoked_at is not None:
        raise _error(purpose, "replaced")
    if row.expires_at <= utcnow():
        raise _error(purpose, "expired")
    return row, user


def check_link(*, session: Session, token: str, purpose: str = INVITE) -> LinkInfo:
    """Whether a link can still be used, and whose it is. Raises LinkError with the message to show."""
    row, user = _open_token(session, token, purpose, lock=False)
    orgs = [o.name for o in bound_organizations(session=session, user=user)]
    return LinkInfo(user.email, user.full_name, ROLE_LABELS[Role(user.role)], orgs, row.expires_at.isoformat())


def _clean_name(full_name: str) -> str:
    name = " ".join((full_name or "").split())
    if not name:
        raise ValidationError("Enter your full name.", "full_name")
    if len(name) > MAX_NAME:
        raise ValidationError(f"Name must be at most {MAX_NAME} characters.", "full_name")
    return name


def activate(*, session: Session, token: str, full_name: str, password: str) -> User:
    """Accept an invitation: set the name and password, make the account active and use up the link.
    Same password rules as services.access.auth. Commits."""
    name = _clean_name(full_name)
    password_hash = hash_password(password)  # raises on a bad password before the link is touched
    row, user = _open_token(session, token, INVITE, lock=True)
    now = utcnow()
    user.full_name, user.password_hash, user.status = name, password_hash, "active"
    user.token_version += 1
    row.used_at = now
    session.add_all([user, row])
    orgs = bound_organizations(session=session, user=user)
    audit.record(session=session, user_id=user.id, organization_id=orgs[0].id if orgs else None, entity="user",
                 entity_id=user.id, action="activate", changes={"status": {"old": "invited", "new": "active"}})
    session.commit()
    return user


# --- password reset -------------------------------------------------------------------------------------

RESET_REQUESTED = ("If an active account uses that e-mail address, a link to reset its password is on its way. "
                   "The link is valid for {ttl}.")


def reset_requested_message() -> str:
    return RESET_REQUESTED.format(ttl=_ttl_words(RESET))


# The request only queues the mail (one statement, the same for every address, then the answer); the
# worker, or the web process right after it has answered, sends it with deliver_password_resets. The
# outbox row holds no secret: the link is minted when the mail is sent, so it is valid from then on.
_QUEUE_RESET = text("""
    INSERT INTO mail_outbox (kind, user_id, created_at)
    SELECT 'password_reset', u.id, :now FROM app_user u
    WHERE u.email = :email AND u.status = 'active'
      AND NOT EXISTS (SELECT 1 FROM mail_outbox m
                      WHERE m.user_id = u.id AND m.kind = 'password_reset' AND m.created_at > :since)
""")
MAX_SEND_ATTEMPTS = 5


def request_password_reset(*, session: Session, email: str) -> str:
    """Queue a reset link for an active account and answer. Known and unknown addresses run the same
    statement and the same commit and get the same answer; nothing is mailed while the caller waits."""
    address = normalize_email(email)
    if not address or "@" not in address:
        raise ValidationError("Enter the e-mail address you log in with.", "email")
    now = utcnow()
    session.execute(_QUEUE_RESET, {"now": now, "email": address, "since": now - RESET_COOLDOWN})
    session.commit()
    return reset_requested_message()


def deliver_password_resets(*, session: Session, limit: int = 50) -> int:
    """Send the queued reset mails, one transaction each: a fresh link (revoking the older ones), the mail,
    the row marked sent. A refused mail stores no link and keeps its row for a later drain, up to
    MAX_SEND_ATTEMPTS. Several drainers may run at once (SKIP LOCKED). Returns how many were sent."""
    sent, after = 0, 0
    for _ in range(limit):
        row = session.execute(
            select(MailOutbox).where(MailOutbox.id > after, MailOutbox.sent_at.is_(None),
                                     MailOutbox.attempts < MAX_SEND_ATTEMPTS)
            .order_by(MailOutbox.id).limit(1).with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if row is None:
            break
        after = row.id
        user = session.get(User, row.user_id)
        if user.status == "active":  # disabled since it asked: nothing to send
            token = _issue(session, user, RESET, None)
            try:
                send_message(reset_message(user=user, link=link_for(RESET, token)),
                             outbox_name=f"password-reset-{user.id}")
            except MailError as exc:
                session.rollback()
                log.warning("The password reset mail for user %s was not sent: %s", user.id, exc)
                session.execute(update(MailOutbox).where(MailOutbox.id == after)
                                .values(attempts=MailOutbox.attempts + 1, last_error=str(exc)[:1000]))
                session.commit()
                continue
            sent += 1
        row.sent_at = utcnow()
        session.add(row)
        session.commit()
    return sent


def reset_password(*, session: Session, token: str, password: str) -> User:
    """Set a new password from a reset link. Every session of the user is logged out. Commits."""
    password_hash = hash_password(password)
    row, user = _open_token(session, token, RESET, lock=True)
    user.password_hash = password_hash
    user.token_version += 1
    user.must_change_password = False
    row.used_at = utcnow()
    session.add_all([user, row])
    session.flush()
    revoke_reset_links(session=session, user_id=user.id)
    session.commit()
    return user


# --- an administrator resets a user's password -------------------------------------------------------

RESET_BY_LINK, RESET_TEMPORARY = "link", "temporary"


def admin_reset_password(*, session: Session, scope: Scope, user_id: int, method: str,
                         temporary_password: str = "") -> str:
    """An administrator (or Customer Support, for the roles it manages) resets a user's password: by mailing a
    reset link, or by setting a temporary password the user must change at next login. Either way every token
    of the user is revoked at once (its open sessions end) and older reset links stop working. Audited; commits.
    Returns the message to show. A refused mail saves nothing and raises MailError."""
    scope.require(Cap.MANAGE_USERS)
    if method not in (RESET_BY_LINK, RESET_TEMPORARY):
        raise ValidationError("Choose how to reset: mail a link, or set a temporary password.", "method")
    user = get_visible_user(session=session, scope=scope, user_id=user_id, lock=True)
    if user.id == scope.user_id:
        raise ValidationError("Change your own password on your account page.", "method")
    if Role(user.role) not in ASSIGNABLE_ROLES.get(scope.role, frozenset()):
        raise PermissionDenied(f"Your role may not reset the password of {ROLE_LABELS[Role(user.role)]} users.")
    if user.status != "active":
        raise Conflict(f"{user.email} is {user.status}; only an active account's password can be reset.")
    user.token_version += 1  # every open session of the user ends now
    revoke_reset_links(session=session, user_id=user.id)
    orgs = bound_organizations(session=session, user=user)
    audit.record(session=session, user_id=scope.user_id, organization_id=orgs[0].id if orgs else None,
                 entity="user", entity_id=user.id, action="reset_password", changes={"method": method})
    if method == RESET_TEMPORARY:
        user.password_hash = hash_password(temporary_password)
        user.must_change_password = True
        session.add(user)
        session.commit()
        return f"{user.email} has a temporary password and must change it at the next login. Every session " \
               "of the user has ended."
    session.add(user)
    token = _issue(session, user, RESET, scope.user_id)
    sent = _send(session, reset_message(user=user, link=link_for(RESET, token)), f"password-reset-{user.id}")
    where = f"e-mailed to {user.email}" if sent.delivered else f"queued for delivery to {user.email}"
    return f"A reset link was {where}. Every session of the user has ended."


# --- a user changes its own e-mail address (verified by a link sent to the new address) ----------------

def request_email_change(*, session: Session, user: User, new_email: str, password: str) -> str:
    """Mail a verification link to the new address; the login stays the old address until it is opened.
    Asks for the password, so an unattended open session cannot move the account. Commits."""
    from_session = session.get(User, user.id, with_for_update=True)  # the caller's row, locked
    if not verify_password(password or "", from_session.password_hash):
        raise ValidationError("The password is incorrect.", "password")
    address = validate_email(new_email)
    if address == from_session.email:
        raise ValidationError("That is already your e-mail address.", "email")
    if session.execute(select(User.id).where(User.email == address)).first():
        raise Conflict(f"The address '{address}' cannot be used. Check it, or ask an administrator.", "email")
    token = _issue(session, from_session, EMAIL, from_session.id)
    session.execute(update(UserToken).where(UserToken.token_hash == hash_token(token)).values(new_email=address))
    body = [f"Hello {from_session.full_name or from_session.email},", "",
            f"Confirm {address} as the e-mail address you log in to Voltdesk with:", link_for(EMAIL, token), "",
            f"The link is valid for {_ttl_words(EMAIL)}. Until you open it, you keep logging in with "
            f"{from_session.email}. If you did not ask for this, ignore this e-mail."]
    sent = _send(session, _message(address, "Confirm your new Voltdesk e-mail address", body),
                 f"email-change-{from_session.id}")
    where = "sent" if sent.delivered else "queued for delivery"
    return f"A verification link was {where} to {address}. Your login changes once you open it."


def confirm_email_change(*, session: Session, token: str) -> User:
    """Open a verification link: the new address becomes the login. Audited; commits."""
    row, user = _open_token(session, token, EMAIL, lock=True)
    if session.execute(select(User.id).where(User.email == row.new_email, User.id != user.id)).first():
        raise Conflict(f"The address '{row.new_email}' is now used by another account.", "email")
    old = user.email
    user.email = row.new_email
    row.used_at = utcnow()
    session.add_all([user, row])
    orgs = bound_organizations(session=session, user=user)
    audit.record(session=session, user_id=user.id, organization_id=orgs[0].id if orgs else None, entity="user",
                 entity_id=user.id, action="change_email", changes={"email": {"old": old, "new": user.email}})
    session.commit()
    return user
