"""Who may connect, and who is online: the handshake check, connect/disconnect, liveness and offline sweep."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from core.config import get_settings
from core.errors import ValidationError
from core.events import CHANNEL, EventType, notify
from models import Charger, Connector, UnknownCharger
from models.charger import ChargerStatus
from services.network.chargers import validate_ocpp_id
from services.ocpp.auth_key import check_key
from services.ocpp.common import status_event
from services.ocpp.status import aggregate_status

# A charger reconnected to another OCPP process: the process named in the payload closes its older socket.
CONNECTION_CHANNEL = "voltdesk_ocpp_connections"


@dataclass(frozen=True)
class ChargerIdentity:
    id: int
    ocpp_id: str
    organization_id: int
    security_profile: int


@dataclass(frozen=True)
class Handshake:
    """The answer to a websocket upgrade: the charger, or an HTTP status and a reason."""

    charger: ChargerIdentity | None
    status: int = 200
    reason: str = ""


def check_handshake(*, session: Session, ocpp_id: str, password: str | None, tls: bool,
                    remote_address: str | None, now: datetime, client_cn: str | None = None) -> Handshake:
    """Security profiles 0/1/2/3. Unknown ids are refused and recorded for the admin's unknown-chargers list.

    `client_cn`: the CN of the TLS client certificate, already verified against the CSMS CA by the TLS layer.
    A certificate issued to another charger is refused whatever the charger's profile."""
    try:
        ocpp_id = validate_ocpp_id(ocpp_id)
    except ValidationError:
        return Handshake(None, 404, "Unknown charge point id.")
    charger = session.execute(select(Charger).where(Charger.ocpp_id == ocpp_id)).scalar_one_or_none()
    if charger is None:
        record_unknown(session=session, ocpp_id=ocpp_id, remote_address=remote_address, now=now)
        return Handshake(None, 404, "Unknown charge point id.")
    if client_cn is not None and client_cn != charger.ocpp_id:
        return Handshake(None, 403, "The client certificate was issued to another charge point.")
    if charger.security_profile == 3:
        if client_cn is None:
            return Handshake(None, 403, "This charger must present its client certificate (security profile 3).")
        return Handshake(ChargerIdentity(charger.id, charger.ocpp_id, charger.organization_id, 3))
    if charger.security_profile == 2 and not tls:
        return Handshake(None, 403, "This charger must connect over TLS (security profile 2).")
    # Constant-time compare; a missing password is compared against the hash too.
    # A rotated key opens it too, and then becomes the only key (services/ocpp/auth_key.py).
    if charger.security_profile > 0 and (not check_key(charger, password or "") or password is None):
        return Handshake(None, 401, "Wrong charge point id or AuthorizationKey.")
    return Handshake(ChargerIdentity(charger.id, charger.ocpp_id, charger.organization_id,
                                     charger.security_profile))


def record_unknown(*, session: Session, ocpp_id: str, remote_address: str | None, now: datetime) -> bool:
    """Count an attempt with an unregistered id: one row per (id, address) with its count and first and last
    time. An address opens at most OCPP_UNKNOWN_PER_ADDRESS_PER_MINUTE new rows a minute; past that its
    attempts with new ids are not recorded (the connection is refused all the same). Returns whether the
    attempt was recorded."""
    ocpp_id, address = ocpp_id[:255], (remote_address or "")[:100]
    seen = session.execute(
        update(UnknownCharger)
        .where(UnknownCharger.ocpp_id == ocpp_id, UnknownCharger.remote_address == address)
        .values(attempts=UnknownCharger.attempts + 1, last_seen_at=now)
    ).rowcount
    if seen:
        return True
    opened = session.execute(
        select(func.count()).select_from(UnknownCharger)
        .where(UnknownCharger.remote_address == address, UnknownCharger.first_seen_at > now - timedelta(minutes=1))
    ).scalar_one()
    if opened >= get_settings().ocpp_unknown_per_address_per_minute:
        return False
    stmt = insert(UnknownCharger).values(ocpp_id=ocpp_id, remote_address=address, attempts=1, first_seen_at=now,
                                         last_seen_at=now)
    session.execute(stmt.on_conflict_do_update(
        constraint="uq_unknown_charger_id_address",
        set_={"attempts": UnknownCharger.attempts + 1, "last_seen_at": now}))
    return True


def _last_statuses(session: Session, charger_id: int) -> dict[int, str]:
    """The last status each connector reported before going Offline (0 = the charger)."""
    rows = session.execute(text(
        "SELECT DISTINCT ON (connector_id) connector_id, status FROM charger_status_event"
        " WHERE charger_id = :cid AND status <> 'Offline' ORDER BY connector_id, received_at DESC, id DESC"),
        {"cid": charger_id}).all()
    return {c: s for c, s in rows}


@dataclass(frozen=True)
class Connected:
    generation: int
    superseded_process: int | None  # another OCPP process held the previous connection: it is told to close it


def mark_connected(*, session: Session, charger_id: int, token: str, now: datetime,
                   process_id: int | None = None) -> Connected:
    """The charger holds a live connection (owned by `token`, in OCPP process `process_id`): the newest
    connection wins. Offline statuses go back to the last known ones. A previous connection held by another
    process is announced on CONNECTION_CHANNEL so that process closes it (docs/adr/0008)."""
    charger = session.get(Charger, charger_id, with_for_update=True)
    previous = charger.connection_process_id if charger.connected else None
    charger.connected = True
    charger.connection_token = token
    charger.connection_process_id = process_id
    charger.connection_generation = (charger.connection_generation or 0) + 1
    charger.last_heartbeat_at = now
    if charger.status == ChargerStatus.OFFLINE:
        last = _last_statuses(session, charger_id)
        connectors = list(session.execute(select(Connector).where(Connector.charger_id == charger_id)).scalars())
        for conn in connectors:
            if conn.status == ChargerStatus.OFFLINE:
                conn.status = last.get(conn.connector_id, ChargerStatus.AVAILABLE)
                conn.status_at = now
                status_event(session, charger_id=charger.id, organization_id=charger.organization_id,
                             connector_id=conn.connector_id, status=conn.status, received_at=now)
        own = last.get(0, ChargerStatus.AVAILABLE)
        # The charger's own fault wins; otherwise it shows what its connectors do.
        charger.status = own if own in (ChargerStatus.FAULTED, ChargerStatus.UNAVAILABLE) else (
            aggregate_status([c.status for c in connectors]) or own)
        charger.status_changed_at = now
        status_event(session, charger_id=charger.id, organization_id=charger.organization_id, connector_id=0,
                     status=charger.status, info="Connected", received_at=now)
    session.add(charger)
    superseded = previous if previous is not None and previous != process_id else None
    if superseded is not None:
        notify(session, {"charger_id": charger_id, "generation": charger.connection_generation,
                         "process_id": superseded}, CONNECTION_CHANNEL)
    return Connected(charger.connection_generation, superseded)


def _go_offline(session: Session, charger: Charger, now: datetime, info: str) -> None:
    charger.connected = False
    charger.connection_token = None
    charger.connection_process_id = None
    if charger.status != ChargerStatus.OFFLINE:
        charger.status = ChargerStatus.OFFLINE
        charger.status_changed_at = now
        status_event(session, charger_id=charger.id, organization_id=charger.organization_id, connector_id=0,
                     status=ChargerStatus.OFFLINE, info=info, received_at=now)
    for conn in session.execute(select(Connector).where(Connector.charger_id == charger.id)).scalars():
        if conn.status != ChargerStatus.OFFLINE:
            conn.status = ChargerStatus.OFFLINE
            conn.status_at = now
            status_event(session, charger_id=charger.id, organization_id=charger.organization_id,
                         connector_id=conn.connector_id, status=ChargerStatus.OFFLINE, info=info, received_at=now)
    session.add(charger)


def mark_disconnected(*, session: Session, charger_id: int, token: str, now: datetime) -> bool:
    """The connection owned by `token` closed. A charger that already reconnected (new token) stays online."""
    charger = session.execute(select(Charger).where(Charger.id == charger_id, Charger.connection_token == token)
                              .with_for_update()).scalar_one_or_none()
    if charger is None:
        return False
    _go_offline(session, charger, now, "Connection closed")
    return True


# Two array parameters instead of one per charger: cheap to build and to plan for thousands of chargers.
_TOUCH_SQL = (
    "UPDATE charger SET last_heartbeat_at = v.ts FROM unnest(%(ids)s::integer[], %(ts)s::timestamptz[]) AS v(id, ts)"
    " WHERE charger.id = v.id AND (charger.last_heartbeat_at IS NULL OR charger.last_heartbeat_at < v.ts)"
)


async def touch_async(*, conn: psycopg.AsyncConnection, seen: dict[int, datetime]) -> None:
    if seen:  # one statement on an autocommit connection: atomic without BEGIN/COMMIT round trips
        await conn.execute(_TOUCH_SQL, {"ids": list(seen), "ts": list(seen.values())})


def mark_silent_offline(*, session: Session, now: datetime, silence: timedelta) -> list[int]:
    """Chargers silent for longer than `silence` (heartbeat interval + grace) become Offline. Returns their ids."""
    cutoff = now - silence
    ids = session.execute(
        select(Charger.id).where((Charger.status != ChargerStatus.OFFLINE) | Charger.connected,
                                 (Charger.last_heartbeat_at.is_(None)) | (Charger.last_heartbeat_at < cutoff))
        .with_for_update(skip_locked=True)).scalars().all()
    return go_offline_many(session=session, charger_ids=list(ids), now=now, info="Missed heartbeats")


def reset_connections(*, session: Session, tokens: list[str], now: datetime) -> int:
    """Every charger held by one of these connections goes Offline (they will reconnect elsewhere)."""
    if not tokens:
        return 0
    ids = session.execute(select(Charger.id).where(Charger.connection_token.in_(tokens))
                          .with_for_update()).scalars().all()
    return len(go_offline_many(session=session, charger_ids=list(ids), now=now, info="Server stopped"))


# Many chargers Offline at once (a stopped or dead process, the silence sweep) in a handful of statements
# whatever their number, instead of a transaction per charger.
_OFFLINE_CHARGERS_SQL = text(
    "WITH old AS (SELECT id, organization_id, status FROM charger WHERE id = ANY(:ids) ORDER BY id FOR UPDATE)"
    " UPDATE charger c SET connected = false, connection_token = NULL, connection_process_id = NULL,"
    " status = 'Offline', status_changed_at = CASE WHEN old.status <> 'Offline' THEN :now"
    " ELSE c.status_changed_at END FROM old WHERE c.id = old.id RETURNING c.id, old.organization_id, old.status")
_OFFLINE_CONNECTORS_SQL = text(
    "UPDATE connector SET status = 'Offline', status_at = :now WHERE charger_id = ANY(:ids)"
    " AND status <> 'Offline' RETURNING charger_id, connector_id")
_EVENTS_SQL = text(
    "INSERT INTO charger_status_event (charger_id, connector_id, status, info, received_at, flags)"
    " SELECT c, k, 'Offline', :info, :now, '{}' FROM unnest(CAST(:chargers AS integer[]),"
    " CAST(:connectors AS integer[])) AS v(c, k)")
_NOTIFY_SQL = text("SELECT pg_notify(:channel, p) FROM unnest(CAST(:payloads AS text[])) AS p")


def go_offline_many(*, session: Session, charger_ids: list[int], now: datetime, info: str) -> list[int]:
    """Mark these chargers and their connectors Offline, with a status event and a live event for each change.
    Returns the ids."""
    if not charger_ids:
        return []
    rows = session.execute(_OFFLINE_CHARGERS_SQL, {"ids": charger_ids, "now": now}).all()
    org = {cid: org_id for cid, org_id, _ in rows}
    changes = [(cid, 0) for cid, _, status in rows if status != ChargerStatus.OFFLINE]
    changes += [tuple(r) for r in session.execute(_OFFLINE_CONNECTORS_SQL, {"ids": charger_ids, "now": now})]
    if changes:
        session.execute(_EVENTS_SQL, {"info": info, "now": now, "chargers": [c for c, _ in changes],
                                      "connectors": [k for _, k in changes]})
        payloads = [json.dumps({"type": EventType.CHARGER_STATUS, "charger_id": c, "organization_id": org[c],
                                "connector_id": k, "status": ChargerStatus.OFFLINE.value, "error_code": None},
                               separators=(",", ":")) for c, k in changes]
        session.execute(_NOTIFY_SQL, {"channel": CHANNEL, "payloads": payloads})
    return [cid for cid, _, _ in rows]
