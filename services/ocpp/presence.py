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
from core.events import CHANNEL, EventType, notify, notify_many_async
from models import Charger, Connector, UnknownCharger
from models.charger import ChargerStatus
from services.ocpp.auth_key import matching_key
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


@dataclass(frozen=True)
class Attempt:
    """One websocket upgrade waiting for its batch (`connect_many_async`). `token` will own the connection."""

    ocpp_id: str  # already validated (validate_ocpp_id)
    password: str | None
    client_cn: str | None
    token: str


@dataclass(frozen=True)
class Admitted:
    """A batch's answer to one attempt: `charger` set (connected, with its `generation`), or a refusal.
    `unknown`: no such charger; the caller records it (`record_unknown`) and answers 404."""

    charger: ChargerIdentity | None
    generation: int = 0
    status: int = 200
    reason: str = ""
    unknown: bool = False


def _refusal(row, attempt: Attempt, tls: bool) -> Admitted | None:
    """Security profiles 0/1/2/3 on a selected charger row: the refusal, or None when the charger may connect.

    `client_cn`: the CN of the TLS client certificate, already verified against the CSMS CA by the TLS layer.
    A certificate issued to another charger is refused whatever the charger's profile."""
    ocpp_id, profile = row[1], row[3]
    if attempt.client_cn is not None and attempt.client_cn != ocpp_id:
        return Admitted(None, 0, 403, "The client certificate was issued to another charge point.")
    if profile == 3:
        if attempt.client_cn is None:
            return Admitted(None, 0, 403, "This charger must present its client certificate (security profile 3).")
        return None
    if profile == 2 and not tls:
        return Admitted(None, 0, 403, "This charger must connect over TLS (security profile 2).")
    # A missing password is compared against the hash too, so both refusals cost the same.
    if profile > 0 and (matching_key(attempt.password or "", row[4], row[5]) is None or attempt.password is None):
        return Admitted(None, 0, 401, "Wrong charge point id or AuthorizationKey.")
    return None


# The chargers asked for, locked in id order (two batches, in two processes, never wait on each other in a cycle).
_HANDSHAKE_SELECT = (
    "SELECT id, ocpp_id, organization_id, security_profile, auth_key_hash, auth_key_hash_next, connected,"
    " connection_process_id, status, connection_generation FROM charger WHERE ocpp_id = ANY(%(ids)b::text[])"
    " ORDER BY id FOR UPDATE")
# For chargers coming back from Offline: each connector's (and the charger's own, connector 0) status now and
# the last one reported before it went Offline. One index probe per connector, however long the history.
_LAST_STATUSES = (
    "WITH back AS (SELECT id FROM charger WHERE ocpp_id = ANY(%(ids)b::text[]) AND status = 'Offline')"
    " SELECT k.charger_id, k.connector_id, k.status, (SELECT e.status FROM charger_status_event e"
    " WHERE e.charger_id = k.charger_id AND e.connector_id = k.connector_id AND e.status <> 'Offline'"
    " ORDER BY e.received_at DESC, e.id DESC LIMIT 1) FROM (SELECT charger_id, connector_id, status::text"
    " FROM connector WHERE charger_id IN (SELECT id FROM back) UNION ALL SELECT id, 0, NULL::text FROM back)"
    " AS k ORDER BY k.charger_id, k.connector_id")
# The newest connection wins: token, process and generation; a rotated key that opened it becomes the key;
# a charger back from Offline gets its restored status.
_HANDSHAKE_UPDATE = (
    "UPDATE charger c SET connected = true, connection_token = v.token, connection_process_id = %(process)s,"
    " connection_generation = coalesce(c.connection_generation, 0) + 1, last_heartbeat_at = %(now)s,"
    " auth_key_hash = CASE WHEN v.promote THEN c.auth_key_hash_next ELSE c.auth_key_hash END,"
    " auth_key_hash_next = CASE WHEN v.promote THEN NULL ELSE c.auth_key_hash_next END,"
    " status = coalesce(v.status, c.status),"
    " status_changed_at = CASE WHEN v.status IS NULL THEN c.status_changed_at ELSE %(now)s END"
    " FROM unnest(%(ids)b::integer[], %(tokens)b::text[], %(promote)b::boolean[], %(statuses)b::text[])"
    " AS v(id, token, promote, status) WHERE c.id = v.id RETURNING c.id, c.connection_generation")
_CONNECTORS_UPDATE = (
    "UPDATE connector k SET status = v.status, status_at = %(now)s FROM unnest(%(chargers)b::integer[],"
    " %(connectors)b::integer[], %(statuses)b::text[]) AS v(charger_id, connector_id, status)"
    " WHERE k.charger_id = v.charger_id AND k.connector_id = v.connector_id")
_EVENTS_INSERT = (
    "INSERT INTO charger_status_event (charger_id, connector_id, status, info, received_at, flags)"
    " SELECT v.c, v.k, v.s, v.i, %(now)s, '{}' FROM unnest(%(chargers)b::integer[], %(connectors)b::integer[],"
    " %(statuses)b::text[], %(infos)b::text[]) AS v(c, k, s, i)")
_SUPERSEDED_NOTIFY = "SELECT pg_notify(%(channel)s, p) FROM unnest(%(payloads)b::text[]) AS p"


def _restore(rows: list[tuple]) -> tuple[str, list[tuple[int, str]]]:
    """`mark_connected`'s rule for a charger back from Offline, from its `_LAST_STATUSES` rows: the charger's
    status and the (connector, status) changes."""
    last = {k: previous for _, k, _, previous in rows if previous is not None}
    statuses, changes = [], []
    for _, k, now_status, _ in rows:
        if k == 0:
            continue
        if now_status == ChargerStatus.OFFLINE:
            now_status = last.get(k, ChargerStatus.AVAILABLE)
            changes.append((k, now_status))
        statuses.append(now_status)
    own = last.get(0, ChargerStatus.AVAILABLE)
    # The charger's own fault wins; otherwise it shows what its connectors do.
    status = own if own in (ChargerStatus.FAULTED, ChargerStatus.UNAVAILABLE) else (aggregate_status(statuses) or own)
    return str(status), [(k, str(s)) for k, s in changes]


async def connect_many_async(*, conn: psycopg.AsyncConnection, attempts: list[Attempt], tls: bool,
                             process_id: int | None, now: datetime) -> list[Admitted]:
    """Many handshakes in one short transaction: the security profile check (`_refusal`) and `mark_connected`
    for each attempt, in two round trips whatever their number (psycopg's pipeline mode; docs/adr/0013).
    One attempt per charger per call. `conn` is in autocommit mode; the transaction is opened here."""
    answers: list[Admitted | None] = [None] * len(attempts)
    ids = [a.ocpp_id for a in attempts]
    async with conn.pipeline() as pipeline, conn.transaction():
        # Round trip 1: lock the chargers; the statuses to restore for those that are Offline.
        found = await conn.execute(_HANDSHAKE_SELECT, {"ids": ids})
        last = await conn.execute(_LAST_STATUSES, {"ids": ids})
        await pipeline.sync()
        rows = {row[1]: row for row in await found.fetchall()}
        by_charger: dict[int, list[tuple]] = {}
        for r in await last.fetchall():
            by_charger.setdefault(r[0], []).append(r)
        accepted: list[tuple[int, Attempt, tuple, bool]] = []
        for i, attempt in enumerate(attempts):
            row = rows.get(attempt.ocpp_id)
            if row is None:
                answers[i] = Admitted(None, 0, 404, "Unknown charge point id.", unknown=True)
                continue
            answers[i] = _refusal(row, attempt, tls)
            if answers[i] is None:
                promote = row[3] in (1, 2) and attempt.password is not None and \
                    matching_key(attempt.password, row[4], row[5]) == "next"
                accepted.append((i, attempt, row, promote))
        if not accepted:
            return answers
        # Round trip 2 (with the COMMIT): register, restore, record and announce.
        restored = {row[0]: _restore(by_charger.get(row[0], [])) for _, _, row, _ in accepted
                    if row[8] == ChargerStatus.OFFLINE}
        registered = await conn.execute(_HANDSHAKE_UPDATE, {
            "process": process_id, "now": now, "ids": [row[0] for _, _, row, _ in accepted],
            "tokens": [a.token for _, a, _, _ in accepted], "promote": [p for *_, p in accepted],
            "statuses": [restored[row[0]][0] if row[0] in restored else None for _, _, row, _ in accepted]})
        # Status events: each restored connector, then the charger's own "Connected" (as mark_connected writes).
        org = {row[0]: row[2] for _, _, row, _ in accepted}
        events = [(cid, k, s, None) for cid, (_, changes) in restored.items() for k, s in changes]
        events += [(cid, 0, status, "Connected") for cid, (status, _) in restored.items()]
        if events:
            connectors = [e for e in events if e[1] != 0]
            if connectors:
                await conn.execute(_CONNECTORS_UPDATE, {"now": now, "chargers": [e[0] for e in connectors],
                                                        "connectors": [e[1] for e in connectors],
                                                        "statuses": [e[2] for e in connectors]})
            await conn.execute(_EVENTS_INSERT, {"now": now, "chargers": [e[0] for e in events],
                                                "connectors": [e[1] for e in events],
                                                "statuses": [e[2] for e in events], "infos": [e[3] for e in events]})
            await notify_many_async(conn, [
                {"type": EventType.CHARGER_STATUS.value, "charger_id": c, "organization_id": org[c],
                 "connector_id": k, "status": s, "error_code": None} for c, k, s, _ in events])
        # A previous connection held by another process: that process closes it (docs/adr/0013). Its generation
        # is the one this update gives (the row is locked: nobody else raises it meanwhile).
        superseded = [json.dumps({"charger_id": row[0], "generation": (row[9] or 0) + 1, "process_id": row[7]},
                                 separators=(",", ":"))
                      for _, _, row, _ in accepted if row[6] and row[7] is not None and row[7] != process_id]
        if superseded:
            await conn.execute(_SUPERSEDED_NOTIFY, {"channel": CONNECTION_CHANNEL, "payloads": superseded})
    generations = dict(await registered.fetchall())
    for i, _, row, _ in accepted:
        answers[i] = Admitted(ChargerIdentity(row[0], row[1], row[2], row[3]), generations[row[0]])
    return answers


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
    process is announced on CONNECTION_CHANNEL so that process closes it (docs/adr/0008). The OCPP server
    registers its handshakes in batches with `connect_many_async`, which applies these same rules."""
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
