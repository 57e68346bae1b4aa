"""Local authorization lists (OCPP 1.6 Local Auth List Management), built from the tags' current state.

Voltdesk keeps the list each charger accepted last (LocalAuthList). A Full update sends every tag the
charger may use; a Differential one sends only what changed since: new or changed entries with their
idTagInfo, removed tags without one. The stored list moves only when the charger answers Accepted, so a
failed update is simply built again next time. GetLocalListVersion checks the charger against it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.clock import utcnow
from core.errors import ValidationError
from models import Charger, IdTag, LocalAuthList
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope
from services.ocpp.authorize import check_id_tag, org_chain
from services.ocpp.commands import CommandResult, send_command

UPDATE_TYPES = ("Full", "Differential")


@dataclass(frozen=True)
class LocalListView:
    charger_id: int
    version: int
    entries: list[dict]  # [{"idTag", "status", "parentIdTag", "expiryDate"}], as last accepted by the charger
    sent_at: datetime | None
    reported_version: int | None
    checked_at: datetime | None
    mismatch: bool  # the charger reported another version than the one it accepted from us
    pending: int  # entries a Differential update would send now


def _state(session: Session, charger_id: int) -> LocalAuthList:
    row = session.get(LocalAuthList, charger_id)
    return row or LocalAuthList(charger_id=charger_id, version=0, entries={})


def current_entries(session: Session, charger_id: int) -> dict[str, dict]:
    """idTag -> idTagInfo for every tag the charger may know: its organization's and its ancestors'."""
    charger = session.get(Charger, charger_id)
    tags = session.execute(select(IdTag.tag).where(IdTag.organization_id.in_(
        org_chain(session, charger.organization_id))).order_by(IdTag.tag)).scalars()
    now = utcnow()
    return {tag: check_id_tag(session=session, charger_id=charger_id, id_tag=tag, now=now)[0] for tag in tags}


def build_update(session: Session, charger_id: int, update_type: str) -> dict:
    """The SendLocalList payload that brings the charger from the list it holds to the tags' current state."""
    if update_type not in UPDATE_TYPES:
        raise ValidationError("Update type must be Full or Differential.", "update_type")
    state = _state(session, charger_id)
    current = current_entries(session, charger_id)
    if update_type == "Full":
        items = [{"idTag": tag, "idTagInfo": info} for tag, info in current.items()]
    else:
        items = [{"idTag": tag, "idTagInfo": info} for tag, info in current.items()
                 if state.entries.get(tag) != info]
        items += [{"idTag": tag} for tag in sorted(state.entries) if tag not in current]
    return {"listVersion": state.version + 1, "updateType": update_type, "localAuthorizationList": items}


def _accepted(session: Session, charger_id: int, payload: dict) -> None:
    state = _state(session, charger_id)
    entries = {} if payload["updateType"] == "Full" else dict(state.entries)
    for item in payload["localAuthorizationList"]:
        if "idTagInfo" in item:
            entries[item["idTag"]] = item["idTagInfo"]
        else:
            entries.pop(item["idTag"], None)
    state.version, state.entries, state.sent_at = payload["listVersion"], entries, utcnow()
    session.merge(state)


def send_local_list(*, engine: Engine, scope: Scope, charger_id: int, update_type: str,
                    requested_by: int | None = None) -> CommandResult:
    """Build the update, send it through the command channel, and record it once the charger accepts it."""
    scope.require(Cap.COMMAND_CHARGERS)
    with Session(engine) as session:
        scope.enter(session)
        get_in_scope(session, Charger, charger_id, scope)
        payload = build_update(session, charger_id, update_type)
    result = send_command(engine=engine, scope=scope, charger_id=charger_id, action="SendLocalList",
                          payload=payload, requested_by=requested_by)
    if result.status == "done":
        with Session(engine) as session:
            scope.enter(session)
            _accepted(session, charger_id, payload)
            session.commit()
    return result


def check_version(*, engine: Engine, scope: Scope, charger_id: int,
                  requested_by: int | None = None) -> CommandResult:
    """GetLocalListVersion: the charger's answer is kept, and a mismatch shows on the charger page."""
    result = send_command(engine=engine, scope=scope, charger_id=charger_id, action="GetLocalListVersion",
                          payload={}, requested_by=requested_by)
    if result.status == "done":
        with Session(engine) as session:
            scope.enter(session)
            state = _state(session, charger_id)
            state.reported_version, state.checked_at = result.result["listVersion"], utcnow()
            session.merge(state)
            session.commit()
    return result


def get_local_list(*, session: Session, scope: Scope, charger_id: int) -> LocalListView:
    scope.require(Cap.VIEW_CHARGERS)
    get_in_scope(session, Charger, charger_id, scope)
    state = _state(session, charger_id)
    entries = [{"idTag": tag, "status": info.get("status"), "parentIdTag": info.get("parentIdTag"),
                "expiryDate": info.get("expiryDate")} for tag, info in sorted(state.entries.items())]
    pending = len(build_update(session, charger_id, "Differential")["localAuthorizationList"])
    mismatch = state.reported_version is not None and state.reported_version != state.version
    return LocalListView(charger_id, state.version, entries, state.sent_at, state.reported_version,
                         state.checked_at, mismatch, pending)
