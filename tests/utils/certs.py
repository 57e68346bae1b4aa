"""Certificates for the security-extension tests: a CSMS CA on disk (as CSMS_CA_CERT/CSMS_CA_KEY point to
one in production) and charger CSRs."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from core.ca import CertificateAuthority, new_authority
from core.config import get_settings


def write_ca(directory: Path) -> CertificateAuthority:
    ca = new_authority("Voltdesk Test CA", now=datetime.now(UTC))
    (directory / "ca.pem").write_text(ca.pem)
    (directory / "ca.key").write_bytes(ca.key.private_bytes(serialization.Encoding.PEM,
                                                            serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()))
    return ca


@pytest.fixture
def csms_ca(tmp_path, monkeypatch) -> CertificateAuthority:
    """The CSMS CA configured through the environment, as in production."""
    ca = write_ca(tmp_path)
    monkeypatch.setenv("CSMS_CA_CERT", str(tmp_path / "ca.pem"))
    monkeypatch.setenv("CSMS_CA_KEY", str(tmp_path / "ca.key"))
    get_settings.cache_clear()
    yield ca
    monkeypatch.undo()
    get_settings.cache_clear()


def make_csr(cn: str, key=None) -> tuple[str, object]:
    key = key or ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])).sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


def weak_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)
