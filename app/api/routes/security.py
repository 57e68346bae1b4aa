"""Security extension over the API: charger certificates (expiry, renewal) and the signed firmware library.

Installing, listing and deleting the charger's CA roots go through POST /chargers/{id}/commands
(InstallCertificate, GetInstalledCertificateIds, DeleteCertificate), like every other OCPP command."""
from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from app.api.deps import Caller, SessionDep, require_cap
from app.api.routes.commands import CommandOut
from app.api.shapes import RowModel, model_of, rows_to
from core.clock import utcnow
from core.db import get_engine
from core.errors import ValidationError
from services.access.permissions import Cap
from services.ocpp import certificates as cert_svc
from services.ocpp import commands as cmd_svc
from services.ocpp import firmware_library as fw_svc
from services.ocpp import security_events as ev_svc
from services.ocpp import uploads as up_svc

router = APIRouter(tags=["security extension"])
ViewChargers = require_cap(Cap.VIEW_CHARGERS)
CommandChargers = require_cap(Cap.COMMAND_CHARGERS)
ManageFirmware = require_cap(Cap.MANAGE_FIRMWARE)

CertificateOut = model_of(cert_svc.CertificateRow, "CertificateOut")
InstalledOut = model_of(cert_svc.InstalledRow, "InstalledCertificateOut")
SecurityEventOut = model_of(ev_svc.SecurityRow, "SecurityEventOut")
FirmwareRowOut = model_of(fw_svc.FirmwareRow, "FirmwareRowOut")
RolloutOut = model_of(fw_svc.RolloutRow, "RolloutOut")


class FirmwareIn(BaseModel):
    organization_id: int
    version: str = Field(max_length=50)
    filename: str = Field(max_length=200)
    content_base64: str = Field(description="The firmware file, base64")
    signing_certificate: str = Field(max_length=5500, description="PEM")
    signature: str = Field(max_length=800, description="base64 SHA-256 signature of the file")


class FirmwareOut(BaseModel):
    id: int
    version: str
    filename: str
    size: int
    sha256: str
    download_url: str


class RolloutIn(BaseModel):
    charger_ids: list[int] = Field(min_length=1, max_length=1000)


@router.get("/chargers/{charger_id}/certificates", response_model=list[CertificateOut])
def list_certificates(charger_id: int, session: SessionDep, caller: Caller = ViewChargers) -> list[RowModel]:
    return rows_to(CertificateOut, cert_svc.list_certificates(session=session, scope=caller.scope,
                                                              charger_id=charger_id, now=utcnow()))


@router.get("/chargers/{charger_id}/installed-certificates", response_model=list[InstalledOut])
def installed_certificates(charger_id: int, session: SessionDep, caller: Caller = ViewChargers) -> list[RowModel]:
    """The CA roots from the charger's last answered GetInstalledCertificateIds, per certificate type."""
    return rows_to(InstalledOut, cert_svc.installed_certificates(session=session, scope=caller.scope,
                                                                 charger_id=charger_id))


@router.get("/chargers/{charger_id}/security-events", response_model=list[SecurityEventOut])
def security_events(charger_id: int, session: SessionDep, caller: Caller = ViewChargers) -> list[RowModel]:
    return rows_to(SecurityEventOut, ev_svc.security_history(session=session, scope=caller.scope,
                                                             charger_id=charger_id))


@router.post("/chargers/{charger_id}/certificates/renew", response_model=CommandOut)
async def renew_certificate(charger_id: int, session: SessionDep, caller: Caller = CommandChargers) -> CommandOut:
    """ExtendedTriggerMessage SignChargePointCertificate: the charger sends a new CSR, which the CA signs."""
    await asyncio.to_thread(session.close)
    result = await cmd_svc.send_command_async(engine=get_engine(), scope=caller.scope, charger_id=charger_id,
                                              action="ExtendedTriggerMessage", payload=cert_svc.RENEWAL,
                                              requested_by=caller.user.id)
    return CommandOut(**vars(result))


@router.get("/firmware", response_model=list[FirmwareRowOut])
def list_firmware(session: SessionDep, caller: Caller = ManageFirmware) -> list[RowModel]:
    return rows_to(FirmwareRowOut, fw_svc.list_firmware(session=session, scope=caller.scope))


@router.post("/firmware", response_model=FirmwareOut, status_code=201)
def add_firmware(body: FirmwareIn, session: SessionDep, caller: Caller = ManageFirmware) -> FirmwareOut:
    """Refused (422) when the signature does not verify with the signing certificate: nothing is stored."""
    try:
        content = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("content_base64 is not base64.", "content_base64") from None
    image = fw_svc.add_firmware(session=session, scope=caller.scope, organization_id=body.organization_id,
                                version=body.version, filename=body.filename, content=content,
                                signing_certificate=body.signing_certificate, signature=body.signature)
    session.commit()
    return FirmwareOut(id=image.id, version=image.version, filename=image.filename, size=image.size,
                       sha256=image.sha256, download_url=fw_svc.download_url(image))


@router.post("/firmware/{firmware_id}/rollouts", response_model=list[RolloutOut])
def start_rollout(firmware_id: int, body: RolloutIn, session: SessionDep,
                  caller: Caller = ManageFirmware) -> list[RowModel]:
    rows = fw_svc.start_rollout(session=session, scope=caller.scope, firmware_id=firmware_id,
                                charger_ids=body.charger_ids, requested_by=caller.user.id)
    session.commit()
    return rows_to(RolloutOut, rows)


@router.get("/firmware/{firmware_id}/rollouts", response_model=list[RolloutOut])
def rollout_status(firmware_id: int, session: SessionDep, caller: Caller = ViewChargers) -> list[RowModel]:
    return rows_to(RolloutOut, fw_svc.rollout_status(session=session, scope=caller.scope, firmware_id=firmware_id))


UploadOut = model_of(up_svc.UploadRow, "UploadOut")


class LogIn(BaseModel):
    log_type: Literal["DiagnosticsLog", "SecurityLog"] = "SecurityLog"


@router.post("/chargers/{charger_id}/logs", response_model=CommandOut)
async def request_log(charger_id: int, body: LogIn, session: SessionDep,
                      caller: Caller = CommandChargers) -> CommandOut:
    """GetLog: the charger uploads to Voltdesk's file endpoint; LogStatusNotification reports progress."""
    await asyncio.to_thread(session.close)
    result = await asyncio.to_thread(up_svc.request_log, engine=get_engine(), scope=caller.scope,
                                     charger_id=charger_id, log_type=body.log_type, requested_by=caller.user.id)
    return CommandOut(**vars(result))


@router.post("/chargers/{charger_id}/diagnostics", response_model=CommandOut)
async def request_diagnostics(charger_id: int, session: SessionDep, caller: Caller = CommandChargers) -> CommandOut:
    await asyncio.to_thread(session.close)
    result = await asyncio.to_thread(up_svc.request_diagnostics, engine=get_engine(), scope=caller.scope,
                                     charger_id=charger_id, requested_by=caller.user.id)
    return CommandOut(**vars(result))


@router.get("/chargers/{charger_id}/uploads", response_model=list[UploadOut])
def list_uploads(charger_id: int, session: SessionDep, caller: Caller = ViewChargers) -> list[RowModel]:
    return rows_to(UploadOut, up_svc.list_uploads(session=session, scope=caller.scope, charger_id=charger_id))


@router.get("/chargers/{charger_id}/uploads/{upload_id}/file")
def download_upload(charger_id: int, upload_id: int, session: SessionDep, caller: Caller = ViewChargers):
    path, name = up_svc.upload_file(session=session, scope=caller.scope, charger_id=charger_id,
                                    upload_id=upload_id)
    return FileResponse(path, media_type="application/octet-stream", filename=name)
