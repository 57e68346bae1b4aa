"""The CSMS's own certificate authority (OCPP 1.6 security whitepaper): signs charger certificates from CSRs.

Infrastructure only: it checks what any CA checks (a valid self-signature, a strong enough key) and signs.
Which id a CSR may name is the OCPP domain's rule (services/ocpp/certificates.py).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MIN_RSA_BITS = 2048
MIN_EC_BITS = 256


class CsrRefused(ValueError):
    """The CSR cannot be signed; the message says why."""


def load_csr(pem: str) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_pem_x509_csr(pem.encode())
    except ValueError:
        raise CsrRefused("The CSR is not a PEM-encoded PKCS#10 request.") from None
    if not csr.is_signature_valid:
        raise CsrRefused("The CSR's signature does not verify.")
    key = csr.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise CsrRefused(f"RSA key of {key.key_size} bits: at least {MIN_RSA_BITS} are required.")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < MIN_EC_BITS:
            raise CsrRefused(f"EC key of {key.curve.key_size} bits: at least {MIN_EC_BITS} are required.")
    else:
        raise CsrRefused("Only RSA and EC keys are accepted.")
    return csr


def common_name(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


@dataclass(frozen=True)
class CertificateAuthority:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    @classmethod
    def load(cls, cert_file: Path, key_file: Path, password: str | None = None) -> CertificateAuthority:
        cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(),
                                                 password.encode() if password else None)
        return cls(cert, key)

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def sign(self, csr: x509.CertificateSigningRequest, *, now: datetime, days: int) -> x509.Certificate:
        """A client certificate for the CSR's subject and key, valid from now for `days`."""
        return (x509.CertificateBuilder()
                .subject_name(csr.subject).issuer_name(self.cert.subject).public_key(csr.public_key())
                .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)
                .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .sign(self.key, hashes.SHA256()))


def new_authority(name: str, *, now: datetime, days: int = 3650) -> CertificateAuthority:
    """A fresh self-signed CA (demo and tests; production loads its own from CSMS_CA_CERT/CSMS_CA_KEY)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    return CertificateAuthority(cert, key)
