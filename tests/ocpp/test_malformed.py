"""Malformed frames get the OCPP 1.6 CALLERROR (Table 7 names), the connection stays up, nothing is written."""
from __future__ import annotations

import json

import pytest
import websockets
from sqlalchemy import func, select

from models import ChargerStatusEvent, MeterValue, Transaction
from ocpp_server.protocol import DESCRIPTIONS
from tests.ocpp.conftest import KEY, basic


@pytest.fixture
async def raw(server, charger):
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/CP-1", subprotocols=["ocpp1.6"],
                                  additional_headers=basic("CP-1", KEY))
    yield ws
    await ws.close()


def _error(uid: str, code: str, cause: str) -> list:
    return [4, uid, code, DESCRIPTIONS[code], {"cause": cause}]


CASES = [
    ("not json", "{oops", _error("-1", "FormationViolation", "Message is not valid JSON")),
    ("not an array", '{"a": 1}',
     _error("-1", "FormationViolation", "A message is a JSON array [MessageTypeId, UniqueId, ...]")),
    ("wrong message type", '[7, "u1", "Heartbeat", {}]',
     _error("u1", "PropertyConstraintViolation", "MessageTypeId 7 is not 2, 3 or 4")),
    ("payload not an object", '[2, "u2", "Heartbeat", []]',
     _error("u2", "FormationViolation", "The payload of a CALL must be a JSON object")),
    ("unknown action", '[2, "u3", "FlyToTheMoon", {}]',
     _error("u3", "NotImplemented", "Unknown action 'FlyToTheMoon'")),
    ("central-system action sent by a charger", '[2, "u4", "Reset", {"type": "Hard"}]',
     _error("u4", "NotSupported", "Reset is not accepted from a charge point")),
    ("wrong type", ('[2, "u5", "StatusNotification", {"connectorId": "one", "errorCode": "NoError",'
                    ' "status": "Available"}]'),
     _error("u5", "TypeConstraintViolation", "connectorId: 'one' is not of type 'integer'")),
    ("bad enum value", ('[2, "u6", "StatusNotification", {"connectorId": 1, "errorCode": "NoError",'
                        ' "status": "Sleeping"}]'),
     _error("u6", "PropertyConstraintViolation",
            "status: 'Sleeping' is not one of ['Available', 'Preparing', 'Charging', 'SuspendedEVSE', "
            "'SuspendedEV', 'Finishing', 'Reserved', 'Unavailable', 'Faulted']")),
    ("missing required field", ('[2, "u7", "StartTransaction", {"connectorId": 1, "idTag": "X",'
                                ' "timestamp": "2026-01-01T00:00:00Z"}]'),
     _error("u7", "OccurenceConstraintViolation", "'meterStart' is a required property")),
    ("unexpected field", '[2, "u8", "Heartbeat", {"extra": 1}]',
     _error("u8", "FormationViolation",
            "Additional properties are not allowed ('extra' was unexpected)")),
    ("string too long", '[2, "u9", "Authorize", {"idTag": "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}]',
     _error("u9", "TypeConstraintViolation", "idTag: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' is too long")),
    ("bad timestamp", ('[2, "u10", "StartTransaction", {"connectorId": 1, "idTag": "X", "meterStart": 0,'
                       ' "timestamp": "yesterday"}]'),
     _error("u10", "PropertyConstraintViolation", "timestamp: 'yesterday' is not a valid dateTime.")),
    ("meter value not a number", ('[2, "u11", "MeterValues", {"connectorId": 1, "meterValue": [{"timestamp":'
                                  ' "2026-01-01T00:00:00Z", "sampledValue": [{"value": "lots"}]}]}]'),
     _error("u11", "PropertyConstraintViolation", "sampledValue.value: Sampled value 'lots' is not a number.")),
]


@pytest.mark.parametrize("frame,expected", [(f, e) for _, f, e in CASES], ids=[c[0] for c in CASES])
async def test_malformed_frame_gets_exact_callerror_connection_stays_up_and_nothing_is_written(
        raw, session, server, frame, expected):
    await raw.send(frame)
    assert json.loads(await raw.recv()) == expected
    # Still connected and served.
    await raw.send('[2, "ok", "Heartbeat", {}]')
    answer = json.loads(await raw.recv())
    assert answer[:2] == [3, "ok"] and "currentTime" in answer[2]
    await server.meters.flush()
    for model in (Transaction, MeterValue):
        assert session.scalar(select(func.count()).select_from(model)) == 0
    assert session.scalar(select(func.count()).select_from(ChargerStatusEvent)
                          .where(ChargerStatusEvent.status != "Available")) == 0
