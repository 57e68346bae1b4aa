"""Charger certificates (security profile 3): SignCertificate → the CSMS CA signs → CertificateSigned, with
each certificate's serial and expiry recorded; renewal is asked for with ExtendedTriggerMessage.

A CSR is signed only when it names the charger's own id as CN and its key is strong enough (core.ca); a
refused CSR signs nothing and leaves a line in the charger's audit trail saying why.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.ca import CertificateAuthority, CsrRefused, common_name, load_csr
from core.config import get_settings
from core.errors import NotFound
from core.events import COMMAND_CHANNEL, notify
from models import AuditLog, Charger, ChargerCertificate, ChargerCommand
from models.ops import CommandStatus
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope
from services.ocpp.commands import CommandResult, send_command

log = logging.getLogger("ocpp_server")


@functools.cache
def _load(cert: Path, key: Path, password: str | None) -> CertificateAuthority:
    return CertificateAuthority.load(cert, key, password)


def authority() -> CertificateAuthority | None:
    """The CA from CSMS_CA_CERT / CSMS_CA_KEY, or None when it is not configured."""
    s = get_settings()
    if not (s.csms_ca_cert and s.csms_ca_key):
        return None
    return _load(s.csms_ca_cert, s.csms_ca_key, s.csms_ca_key_password)


def _refuse(session: Session, charger: Charger, reason: str, now: datetime) -> str:
    session.add(AuditLog(organization_id=charger.organization_id, entity="charger", entity_id=str(charger.id),
                         action="csr_refused", changes={"reason": reason}, created_at=now))
    return "Rejected"


def sign_certificate_request(*, session: Session, charger_id: int, csr_pem: str, now: datetime) -> str:
    """SignCertificate: "Accepted" once the certificate is signed and CertificateSigned queued, else "Rejected"."""
    charger = session.get(Charger, charger_id)
    ca = authority()
    if ca is None:
        return _refuse(session, charger, "No CSMS CA is configured (CSMS_CA_CERT, CSMS_CA_KEY).", now)
    try:
        csr = load_csr(csr_pem)
    except CsrRefused as exc:
        return _refuse(session, charger, str(exc), now)
    cn = common_name(csr.subject)
    if cn != charger.ocpp_id:
        return _refuse(session, charger, f"The CSR names '{cn}', not this charger's id.", now)
    cert = ca.sign(csr, now=now, days=get_settings().charger_cert_days)
    session.add(ChargerCertificate(charger_id=charger.id, serial=format(cert.serial_number, "x"), subject=cn,
                                   not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
                                   issued_at=now))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    cmd = ChargerCommand(charger_id=charger.id, action="CertificateSigned", payload={"certificateChain": pem},
                         created_at=now)
    session.add(cmd)
    session.flush()
    notify(session, {"id": cmd.id, "charger_id": charger.id}, COMMAND_CHANNEL)
    return "Accepted"


@dataclass(frozen=True)
class CertificateRow:
    serial: str
    subject: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    expiring: bool  # within CHARGER_CERT_RENEW_DAYS of expiry (or expired): renew it
    expired: bool


def list_certificates(*, session: Session, scope: Scope, charger_id: int, now: datetime) -> list[CertificateRow]:
    scope.require(Cap.VIEW_CHARGERS)
    get_in_scope(session, Charger, charger_id, scope)
    soon = now + timedelta(days=get_settings().charger_cert_renew_days)
    rows = session.execute(select(ChargerCertificate).where(ChargerCertificate.charger_id == charger_id)
                           .order_by(ChargerCertificate.not_after.desc())).scalars()
    return [CertificateRow(c.serial, c.subject, c.not_before, c.not_after, c.issued_at, c.not_after <= soon,
                           c.not_after <= now) for c in rows]


RENEWAL = {"requestedMessage": "SignChargePointCertificate"}
CA_TYPES = ("CentralSystemRootCertificate", "ManufacturerRootCertificate")


@dataclass(frozen=True)
class InstalledRow:
    certificate_type: str
    serial_number: str
    issuer_name_hash: str
    issuer_key_hash: str
    hash_algorithm: str
    reported_at: datetime


def installed_certificates(*, session: Session, scope: Scope, charger_id: int) -> list[InstalledRow]:
    """The CA roots the charger reported in its last answered GetInstalledCertificateIds, per type."""
    scope.require(Cap.VIEW_CHARGERS)
    get_in_scope(session, Charger, charger_id, scope)
    answers = session.execute(select(ChargerCommand).where(ChargerCommand.charger_id == charger_id,
                                                           ChargerCommand.action == "GetInstalledCertificateIds",
                                                           ChargerCommand.status == CommandStatus.DONE)
                              .order_by(ChargerCommand.id.desc())).scalars()
    rows, seen = [], set()
    for cmd in answers:
        kind = cmd.payload.get("certificateType", "")
        if kind in seen:
            continue
        seen.add(kind)
        for h in (cmd.result or {}).get("certificateHashData") or []:
            rows.append(InstalledRow(kind, h.get("serialNumber", ""), h.get("issuerNameHash", ""),
                                     h.get("issuerKeyHash", ""), h.get("hashAlgorithm", ""),
                                     cmd.completed_at or cmd.created_at))
    return rows


def delete_installed(*, engine: Engine, scope: Scope, charger_id: int, certificate_type: str, serial_number: str,
                     requested_by: int | None = None) -> CommandResult:
    """DeleteCertificate for a CA root the charger reported, with the hash data exactly as it reported it."""
    scope.require(Cap.COMMAND_CHARGERS)
    with Session(engine) as session:
        scope.enter(session)
        rows = installed_certificates(session=session, scope=scope, charger_id=charger_id)
    row = next((r for r in rows if r.certificate_type == certificate_type and r.serial_number == serial_number),
               None)
    if row is None:
        raise NotFound("The charger did not report that certificate.")
    return send_command(engine=engine, scope=scope, charger_id=charger_id, action="DeleteCertificate",
                        requested_by=requested_by, payload={"certificateHashData": {
                            "hashAlgorithm": row.hash_algorithm, "issuerNameHash": row.issuer_name_hash,
                            "issuerKeyHash": row.issuer_key_hash, "serialNumber": row.serial_number}})
