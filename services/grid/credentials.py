"""A region's source credential (the ENTSO-E security token), encrypted at rest with a key derived from
SECRET_KEY. It is written, used to call the source, and never shown again."""
from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.config import get_settings


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"voltdesk grid source credentials").derive(get_settings().secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> bytes:
    return _fernet().encrypt(secret.encode())


def unseal(sealed: bytes | None) -> str:
    """The secret, or "" when none is stored or SECRET_KEY changed since (the operator enters it again)."""
    if not sealed:
        return ""
    try:
        return _fernet().decrypt(bytes(sealed)).decode()
    except InvalidToken:
        return ""
