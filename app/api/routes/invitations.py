"""Invitations (Customer Support and admins), account activation and password reset (anyone with the link)."""
from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api.deps import Caller, SessionDep, require_cap
from core.db import SYSTEM, session_scope
from core.mail import MailError
from services.access import invitations as svc
from services.access.permissions import Cap

router = APIRouter(tags=["users"])
ManageUsers = require_cap(Cap.MANAGE_USERS)


class InviteIn(BaseModel):
    email: str
    role: str
    full_name: str = ""
    organization_id: int | None = None
    location_owner_id: int | None = None
    custom_role_id: int | None = None  # a client's custom role; the user is bound to that client


class InviteOut(BaseModel):
    user_id: int
    email: str
    status: str = "invited"
    delivered: bool  # False: SMTP_URL is not set and the mail was written to the outbox
    message: str


class ActivateIn(BaseModel):
    token: str
    full_name: str
    password: str


class ActivatedOut(BaseModel):
    id: int
    email: str
    full_name: str
    status: str


class ResetRequestIn(BaseModel):
    email: str


class ResetConfirmIn(BaseModel):
    token: str
    password: str


class MessageOut(BaseModel):
    message: str


def _mail_failed(exc: MailError) -> JSONResponse:
    return JSONResponse({"message": f"{exc} Nothing was saved; try again."}, status_code=502)


def _link_failed(exc: svc.LinkError) -> JSONResponse:
    return JSONResponse({"message": exc.message, "field": "token", "reason": exc.reason}, status_code=422)


def _out(result: svc.InviteResult) -> InviteOut:
    return InviteOut(user_id=result.user_id, email=result.email, delivered=result.delivered, message=result.message)


@router.post("/users/invite", response_model=InviteOut, status_code=201,
             responses={502: {"description": "The mail server refused; nothing was saved."}})
def invite(body: InviteIn, session: SessionDep, caller: Caller = ManageUsers):
    try:
        result = svc.invite_user(session=session, scope=caller.scope, **body.model_dump())
    except MailError as exc:
        return _mail_failed(exc)
    return _out(result)


@router.post("/users/{user_id}/resend-invitation", response_model=InviteOut,
             responses={502: {"description": "The mail server refused; the earlier link still works."}})
def resend_invitation(user_id: int, session: SessionDep, caller: Caller = ManageUsers):
    try:
        result = svc.resend_invitation(session=session, scope=caller.scope, user_id=user_id)
    except MailError as exc:
        return _mail_failed(exc)
    return _out(result)


@router.post("/auth/activate", response_model=ActivatedOut,
             responses={422: {"description": "Bad name or password, or the link is not valid, used or expired "
                                             "(`reason`)."}})
def activate(body: ActivateIn, session: SessionDep):
    try:
        user = svc.activate(session=session, token=body.token, full_name=body.full_name, password=body.password)
    except svc.LinkError as exc:
        return _link_failed(exc)
    return ActivatedOut(id=user.id, email=user.email, full_name=user.full_name, status=user.status)


def _send_queued_resets() -> None:
    with session_scope(SYSTEM) as session:  # the outbox worker's job, run early: not the caller's
        svc.deliver_password_resets(session=session)


@router.post("/auth/password-reset", response_model=MessageOut, status_code=202)
def request_password_reset(body: ResetRequestIn, session: SessionDep, background: BackgroundTasks) -> MessageOut:
    """The same answer whether or not the address belongs to an account; the mail leaves after the answer."""
    message = svc.request_password_reset(session=session, email=body.email)
    background.add_task(_send_queued_resets)
    return MessageOut(message=message)


@router.post("/auth/password-reset/confirm", response_model=MessageOut)
def confirm_password_reset(body: ResetConfirmIn, session: SessionDep):
    try:
        svc.reset_password(session=session, token=body.token, password=body.password)
    except svc.LinkError as exc:
        return _link_failed(exc)
    return MessageOut(message="Your password has been changed. Log in with the new password.")
