"""The signed firmware library (OCPP 1.6 security whitepaper): a firmware file is kept only if its signature
verifies with its signing certificate; chargers fetch it from Voltdesk's file endpoint; a rollout sends
SignedUpdateFirmware to each charger and follows its SignedFirmwareStatusNotifications."""
from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from sqlalchemy import func, select
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from core.errors import NotFound, ValidationError
from core.validation import check_text
from models import Charger, FirmwareImage, FirmwareRollout, Organization
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope
from services.ocpp.commands import create_command

MAX_FIRMWARE_BYTES = 200 * 1024 * 1024


def firmware_dir() -> Path:
    return get_settings().upload_dir / "firmware"


def verify_signature(content: bytes, certificate_pem: str, signature_b64: str) -> None:
    """Raise ValidationError unless `signature_b64` is the certificate key's SHA-256 signature of `content`."""
    try:
        cert = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError:
        raise ValidationError("The signing certificate is not a PEM X.509 certificate.",
                              "signing_certificate") from None
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("The signature is not base64.", "signature") from None
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, content, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, content, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise ValidationError("Only RSA and EC signing certificates are accepted.", "signing_certificate")
    except InvalidSignature:
        raise ValidationError("The signature does not verify with the signing certificate: the file was not "
                              "stored.", "signature") from None


def add_firmware(*, session: Session, scope: Scope, organization_id: int, version: str, filename: str,
                 content: bytes, signing_certificate: str, signature: str) -> FirmwareImage:
    """Verify, then store. A file whose signature does not verify is refused and nothing is kept."""
    scope.require(Cap.MANAGE_FIRMWARE)
    get_in_scope(session, Organization, organization_id, scope)
    version = check_text((version or "").strip(), "version")
    filename = check_text(Path(filename or "").name.strip(), "filename")
    if not 1 <= len(version) <= 50 or not 1 <= len(filename) <= 200:
        raise ValidationError("A version (up to 50 characters) and a file name (up to 200) are required.",
                              "version")
    if not content:
        raise ValidationError("The firmware file is empty.", "file")
    if len(content) > MAX_FIRMWARE_BYTES:
        raise ValidationError(f"The firmware file is larger than {MAX_FIRMWARE_BYTES // 2**20} MB.", "file")
    verify_signature(content, signing_certificate, signature)
    digest = hashlib.sha256(content).hexdigest()
    firmware_dir().mkdir(parents=True, exist_ok=True)
    (firmware_dir() / digest).write_bytes(content)
    row = FirmwareImage(organization_id=organization_id, version=version, filename=filename, size=len(content),
                        sha256=digest, signing_certificate=signing_certificate, signature=signature,
                        token=secrets.token_urlsafe(24))
    session.add(row)
    session.flush()
    return row


def download_url(image: FirmwareImage) -> str:
    return f"{get_settings().file_endpoint_url.rstrip('/')}/firmware/{image.token}/{quote(image.filename)}"


def file_for_token(*, session: Session, token: str) -> tuple[Path, FirmwareImage]:
    """The file endpoint's lookup: the token is the credential."""
    image = session.execute(select(FirmwareImage).where(FirmwareImage.token == token)).scalar_one_or_none()
    if image is None:
        raise NotFound("No such firmware.")
    return firmware_dir() / image.sha256, image


@dataclass(frozen=True)
class FirmwareRow:
    id: int
    organization_id: int
    organization: str
    version: str
    filename: str
    size: int
    sha256: str
    signed_by: str  # the signing certificate's subject
    created_at: datetime
    chargers: int  # rolled out to
    installed: int  # of which reported Installed


def _subject(pem: str) -> str:
    try:
        return x509.load_pem_x509_certificate(pem.encode()).subject.rfc4514_string()
    except ValueError:
        return ""


def list_firmware(*, session: Session, scope: Scope) -> list[FirmwareRow]:
    """The library in scope, newest first, with how far each image was rolled out."""
    scope.require(Cap.MANAGE_FIRMWARE)
    counts = (select(FirmwareRollout.firmware_id, func.count().label("chargers"),
                     func.count().filter(FirmwareRollout.status == "Installed").label("installed"))
              .group_by(FirmwareRollout.firmware_id).subquery())
    rows = session.execute(
        select(FirmwareImage, Organization.name, counts.c.chargers, counts.c.installed)
        .join(Organization, Organization.id == FirmwareImage.organization_id)
        .outerjoin(counts, counts.c.firmware_id == FirmwareImage.id)
        .where(scope.org_filter(FirmwareImage.organization_id))
        .order_by(FirmwareImage.created_at.desc(), FirmwareImage.id.desc())).all()
    return [FirmwareRow(f.id, f.organization_id, org, f.version, f.filename, f.size, f.sha256,
                        _subject(f.signing_certificate), f.created_at, chargers or 0, installed or 0)
            for f, org, chargers, installed in rows]


@dataclass(frozen=True)
class RolloutRow:
    rollout_id: int
    charger_id: int
    ocpp_id: str
    status: str
    updated_at: datetime | None


def start_rollout(*, session: Session, scope: Scope, firmware_id: int, charger_ids: list[int],
                  requested_by: int | None = None) -> list[RolloutRow]:
    """Queue SignedUpdateFirmware for each charger (requestId = the rollout row's id). An offline charger's
    row says so at once; the others follow the charger's status notifications."""
    scope.require(Cap.MANAGE_FIRMWARE)
    image = get_in_scope(session, FirmwareImage, firmware_id, scope)
    if not charger_ids:
        raise ValidationError("Choose at least one charger.", "charger_ids")
    rows = []
    for charger_id in dict.fromkeys(charger_ids):
        charger = get_in_scope(session, Charger, charger_id, scope)
        rollout = FirmwareRollout(firmware_id=image.id, charger_id=charger.id, updated_at=utcnow())
        session.add(rollout)
        session.flush()
        cmd = create_command(session=session, scope=scope, charger_id=charger.id, action="SignedUpdateFirmware",
                             requested_by=requested_by, payload={
                                 "requestId": rollout.id, "firmware": {
                                     "location": download_url(image), "retrieveDateTime": utcnow().isoformat(),
                                     "signingCertificate": image.signing_certificate,
                                     "signature": image.signature}})
        if cmd.error:
            rollout.status = cmd.error
        rows.append(RolloutRow(rollout.id, charger.id, charger.ocpp_id, rollout.status, rollout.updated_at))
    return rows


def rollout_status(*, session: Session, scope: Scope, firmware_id: int) -> list[RolloutRow]:
    get_in_scope(session, FirmwareImage, firmware_id, scope)
    rows = session.execute(select(FirmwareRollout, Charger.ocpp_id)
                           .join(Charger, Charger.id == FirmwareRollout.charger_id)
                           .where(FirmwareRollout.firmware_id == firmware_id,
                                  scope.org_filter(Charger.organization_id))
                           .order_by(FirmwareRollout.id)).all()
    return [RolloutRow(r.id, r.charger_id, ocpp_id, r.status, r.updated_at) for r, ocpp_id in rows]


def record_status(session: Session, *, charger_id: int, request_id: int | None, status: str,
                  now: datetime) -> None:
    """A SignedFirmwareStatusNotification moves that charger's rollout row (the requestId names it)."""
    if request_id is None:
        return
    rollout = session.get(FirmwareRollout, request_id)
    if rollout is not None and rollout.charger_id == charger_id:
        rollout.status, rollout.updated_at = status, now
