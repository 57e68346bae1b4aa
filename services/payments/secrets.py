"""Gateway credentials at rest: Fernet with PAYMENTS_CREDENTIALS_KEY, or a key derived from SECRET_KEY."""
from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.config import get_settings


def _fernet() -> Fernet:
    settings = get_settings()
    if settings.payments_credentials_key:
        return Fernet(settings.payments_credentials_key.encode())
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"voltdesk payments credentials").derive(
        settings.secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(values: dict[str, str]) -> str:
    return _fernet().encrypt(json.dumps(values).encode()).decode()


def unseal(token: str) -> dict[str, str]:
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise RuntimeError("The gateway credentials cannot be decrypted with this key; enter them again.") from exc
