"""Live events: the OCPP server writes a change and sends NOTIFY; the web backend listens.

Payloads are JSON objects with a "type" key, e.g.
  {"type": "charger_status", "charger_id": 3, "organization_id": 2, "connector_id": 1, "status": "Faulted"}
They are sent inside the writer's transaction, so listeners only hear about committed changes.
See docs/adr/0002-live-updates.md.
"""
from __future__ import annotations

import json
import random
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings

CHANNEL = "voltdesk_events"


class EventType(StrEnum):
    """The "type" of a live event on CHANNEL. The values are the wire format: the browser states and any
    other listener match on them."""
    CHARGER = "charger"                        # a charger was created or edited
    CHARGER_STATUS = "charger_status"          # a StatusNotification (or going offline) changed a status
    TRANSACTION = "session"                    # a charging session started, stopped or was priced
    DIAGNOSTICS_STATUS = "diagnostics_status"  # a DiagnosticsStatusNotification
    FIRMWARE_STATUS = "firmware_status"        # a FirmwareStatusNotification
    NOTIFICATION = "notification"              # in-app notifications for staff users ("user_ids")
    SECURITY_EVENT = "security_event"          # a SecurityEventNotification (security extension)
    SECURITY_ALERT = "security_alert"          # a critical one: someone should look now
    LOG_STATUS = "log_status"                  # a LogStatusNotification (GetLog upload progress)
    SIGNED_FIRMWARE_STATUS = "signed_firmware_status"  # a SignedFirmwareStatusNotification
    COMMAND_RESULT = "command_result"          # a charger answered a remote command (or it failed)
    PAYMENT = "payment"                        # a payment was authorized, captured, refunded or voided
    PAYMENT_NOTICE = "payment_notice"          # something a customer must be told (a wallet ran out, a decline)
    GRID_READING = "grid_reading"              # new readings of a grid region (services/grid)
    GRID_STATE = "grid_state"                  # a grid region changed health state
    DEMAND_RESPONSE = "demand_response"        # a demand-response event started, changed or ended


# Commands for the OCPP processes travel on their own channel (docs/adr/0003-command-channel.md).
COMMAND_CHANNEL = "voltdesk_commands"


# Events on CHANNEL are also kept in event_log (models/event_log.py) for EVENT_RETENTION_MINUTES, so an
# API client's stream (GET /api/v1/events) resumes with Last-Event-ID; "event_id" names the row.
_KEEP = text("INSERT INTO event_log (type, organization_id, charger_id, payload, created_at)"
             " VALUES (:type, :org, :charger, CAST(:payload AS jsonb), :now) RETURNING id")
_FORGET = text("DELETE FROM event_log WHERE created_at < :before")
# Old events are removed by every this many-th event (cheap, and no job to schedule).
_FORGET_EVERY = 500


def _keep(session: Session, event: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    event_id = session.execute(_KEEP, {
        "type": str(event.get("type", ""))[:40], "org": event.get("organization_id"),
        "charger": event.get("charger_id"), "payload": json.dumps(event, default=str), "now": now}).scalar_one()
    if event_id % _FORGET_EVERY == 0:
        session.execute(_FORGET, {"before": now - timedelta(minutes=get_settings().event_retention_minutes)})
    return {**event, "event_id": event_id}


def notify(session: Session, event: dict[str, Any], channel: str = CHANNEL) -> None:
    if channel == CHANNEL:
        event = _keep(session, event)
    payload = json.dumps(event, default=str, separators=(",", ":"))
    if len(payload) > 7900:  # PostgreSQL's NOTIFY payload limit is 8000 bytes
        raise ValueError("event payload too large for NOTIFY")
    session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload})


# Many events in two statements whatever their number (a batch of handshakes): each is kept in event_log and
# sent as its own NOTIFY with its row's id, exactly as `notify` sends one, so listeners see no difference.
_KEEP_MANY = (
    "WITH kept AS (INSERT INTO event_log (type, organization_id, charger_id, payload, created_at)"
    " SELECT v.type, v.org, v.charger, CAST(v.payload AS jsonb), %(now)s FROM unnest(%(types)b::text[],"
    " %(orgs)b::integer[], %(chargers)b::integer[], %(payloads)b::text[]) WITH ORDINALITY AS v(type, org, charger,"
    " payload, n) ORDER BY v.n RETURNING id, payload)"
    " SELECT id, pg_notify(%(channel)s, (payload || jsonb_build_object('event_id', id))::text) FROM kept"
    " ORDER BY id")


async def notify_many_async(conn: Any, events: list[dict[str, Any]]) -> None:
    """`notify` for a list of events on a psycopg AsyncConnection, inside the caller's transaction. Reads no
    result, so it fits in the caller's pipeline."""
    if not events:
        return
    now = utcnow()
    payloads = [json.dumps(e, default=str, separators=(",", ":")) for e in events]
    if max(len(p) for p in payloads) > 7800:  # event_id is added; PostgreSQL's NOTIFY limit is 8000 bytes
        raise ValueError("event payload too large for NOTIFY")
    await conn.execute(_KEEP_MANY, {
        "now": now, "channel": CHANNEL, "types": [str(e.get("type", ""))[:40] for e in events],
        "orgs": [e.get("organization_id") for e in events], "chargers": [e.get("charger_id") for e in events],
        "payloads": payloads})
    # Old events go as often as `notify` removes them: about every _FORGET_EVERY-th event.
    if random.random() < len(events) / _FORGET_EVERY:
        before = now - timedelta(minutes=get_settings().event_retention_minutes)
        await conn.execute("DELETE FROM event_log WHERE created_at < %(before)s", {"before": before})
