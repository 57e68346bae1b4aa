"""One-time links mailed to users: account activation (invitation) and password reset, and the outbox of
password-reset mails.

Only a SHA-256 hash of the token is stored: the link in the mail is the only copy of the secret, so a
read of this table cannot be replayed. A token is used once (used_at), expires (expires_at, set from the
settable clock), and is revoked when a newer link of the same purpose is sent (revoked_at).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, ts_field

TOKEN_PURPOSES = ("invite", "reset", "email")
OUTBOX_KINDS = ("password_reset",)


class UserToken(SQLModel, table=True):
    __tablename__ = "user_token"
    __table_args__ = (
        CheckConstraint(f"purpose IN {TOKEN_PURPOSES}", name="ck_user_token_purpose"),
        CheckConstraint("expires_at > created_at", name="ck_user_token_expiry"),
        # The still-open links of a user, looked up on every resend.
        Index("ix_user_token_open", "user_id", "purpose", postgresql_where="used_at IS NULL AND revoked_at IS NULL"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = fk_field("app_user.id", ondelete="CASCADE", index=False)
    purpose: str = Field(sa_column=Column(String(16), nullable=False))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime | None = ts_field()
    revoked_at: datetime | None = ts_field()
    # An e-mail change (purpose "email"): the address the link, sent there, verifies.
    new_email: str | None = Field(default=None, max_length=254)
    # Who sent the invitation (None: the user asked for a password reset itself).
    created_by_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)


class MailOutbox(SQLModel, table=True):
    """Mail to send after the request that asked for it has answered (docs in services/access/invitations.py).

    A row holds no secret: the worker mints the link when it sends. `sent_at` is set once the mail server
    took the message; a refused send counts an attempt and keeps the row for the next drain.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint(f"kind IN {OUTBOX_KINDS}", name="ck_mail_outbox_kind"),
        Index("ix_mail_outbox_pending", "id", postgresql_where="sent_at IS NULL"),
        Index("ix_mail_outbox_user", "user_id", "kind", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    user_id: int = fk_field("app_user.id", ondelete="CASCADE", index=False)
    created_at: datetime = created_at_field()
    sent_at: datetime | None = ts_field()
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
