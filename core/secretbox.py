"""Credentials encrypted at rest (Fernet), keyed from SECRET_KEY: a database dump alone reveals none of them.

Changing SECRET_KEY makes stored credentials unreadable; they must then be entered again.
"""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from core.config import get_settings

_PURPOSE = b"voltdesk-credentials-v1"


def _fernet() -> Fernet:
    key = hashlib.sha256(_PURPOSE + get_settings().secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def unseal(token: str) -> str:
    """The plaintext, or ValueError when the key changed or the token was tampered with."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("Stored credential cannot be decrypted (was SECRET_KEY changed?).") from None
