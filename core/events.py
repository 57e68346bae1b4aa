"""Live events: the OCPP server writes a change and sends NOTIFY; the web backend listens.

Payloads are JSON objects with a "type" key, e.g.
  {"type": "charger_status", "charger_id": 3, "organization_id": 2, "connector_id": 1, "status": "Faulted"}
They are sent inside the writer's transaction, so listeners only hear about committed changes.
See docs/adr/0002-live-updates.md.
"""
from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

CHANNEL = "voltdesk_events"


class EventType(StrEnum):
    """The "type" of a live event on CHANNEL. The values are the wire format: the browser states and any
    other listener match on them."""
    CHARGER = "charger"                        # a charger was created or edited
    CHARGER_STATUS = "charger_status"          # a StatusNotification (or going offline) changed a status
    TRANSACTION = "session"                    # a charging session started, stopped or was priced
    DIAGNOSTICS_STATUS = "diagnostics_status"  # a DiagnosticsStatusNotification
    FIRMWARE_STATUS = "firmware_status"        # a FirmwareStatusNotification
    GRID_READING = "grid_reading"              # new readings of a grid region (services/grid)
    GRID_STATE = "grid_state"                  # a grid region changed health state
    DEMAND_RESPONSE = "demand_response"        # a demand-response event started, changed or ended


# Commands for the OCPP processes travel on their own channel (docs/adr/0003-command-channel.md).
COMMAND_CHANNEL = "voltdesk_commands"


def notify(session: Session, event: dict[str, Any], channel: str = CHANNEL) -> None:
    payload = json.dumps(event, default=str, separators=(",", ":"))
    if len(payload) > 7900:  # PostgreSQL's NOTIFY payload limit is 8000 bytes
        raise ValueError("event payload too large for NOTIFY")
    session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload})
