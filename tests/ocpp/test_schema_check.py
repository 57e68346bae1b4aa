"""The compiled schema check (the fast path for every CALL) accepts exactly what the full jsonschema check accepts.

A payload that slipped through the fast path would be handled without its CALLERROR; one it wrongly refused
would only cost time (jsonschema decides). Both directions are checked over many broken variants of a valid
payload for every action a charger may send.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from ocpp_server.handlers import HANDLERS
from ocpp_server.protocol import OcppError, _fast_check, _schema_validator, validate_call

TS = "2026-11-21T10:00:00Z"
VALID: dict[str, dict] = {
    "Authorize": {"idTag": "TAG-1"},
    "BootNotification": {"chargePointVendor": "ACME", "chargePointModel": "Fast-22", "chargePointSerialNumber": "S1",
                         "chargeBoxSerialNumber": "B1", "firmwareVersion": "1.0", "iccid": "1", "imsi": "2",
                         "meterType": "M", "meterSerialNumber": "MS"},
    "DataTransfer": {"vendorId": "ACME", "messageId": "m", "data": "d"},
    "DiagnosticsStatusNotification": {"status": "Uploaded"},
    "FirmwareStatusNotification": {"status": "Installed"},
    "Heartbeat": {},
    "MeterValues": {"connectorId": 1, "transactionId": 7, "meterValue": [
        {"timestamp": TS, "sampledValue": [
            {"value": "1200", "context": "Sample.Periodic", "format": "Raw",
             "measurand": "Energy.Active.Import.Register", "phase": "L1", "location": "Outlet", "unit": "Wh"},
            {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"}]}]},
    "StartTransaction": {"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "reservationId": 3, "timestamp": TS},
    "StatusNotification": {"connectorId": 1, "errorCode": "NoError", "info": "i", "status": "Charging",
                           "timestamp": TS, "vendorId": "v", "vendorErrorCode": "e"},
    "StopTransaction": {"idTag": "TAG-1", "meterStop": 5000, "timestamp": TS, "transactionId": 7, "reason": "Local",
                        "transactionData": [{"timestamp": TS, "sampledValue": [{"value": "5000"}]}]},
    # The security extension (issue 13).
    "SecurityEventNotification": {"type": "TamperDetectionActivated", "timestamp": TS, "techInfo": "lid"},
    "SignCertificate": {"csr": "-----BEGIN CERTIFICATE REQUEST-----"},
    "LogStatusNotification": {"status": "Uploaded", "requestId": 1},
    "SignedFirmwareStatusNotification": {"status": "SignatureVerified", "requestId": 1},
}
ODD_VALUES = [0, -1, 1.5, 2.0, "x", "A" * 600, True, None, [], {}, [{}], {"x": 1}, "Charging"]


def _paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*path, i))


def _set(payload: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(payload)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return out


def _variants(payload: dict) -> Iterator[Any]:
    """The valid payload, then every field replaced by odd values, dropped, and every object given an extra key."""
    yield payload
    for path in _paths(payload):
        for odd in ODD_VALUES:
            yield _set(payload, path, odd)
        if path and isinstance(path[-1], str):
            dropped = copy.deepcopy(payload)
            target = dropped
            for step in path[:-1]:
                target = target[step]
            del target[path[-1]]
            yield dropped
    for path in _paths(payload):
        target = payload
        for step in path:
            target = target[step]
        if isinstance(target, dict):
            yield _set(payload, path, {**target, "unexpected": 1})


def test_every_action_a_charger_sends_has_a_valid_example_and_a_compiled_check():
    assert set(VALID) == set(HANDLERS)
    for action in HANDLERS:
        assert _fast_check(action) is not None, action


@pytest.mark.parametrize("action", sorted(VALID))
def test_compiled_check_agrees_with_jsonschema_on_valid_and_broken_payloads(action):
    fast, full = _fast_check(action), _schema_validator(action)
    checked = 0
    for payload in _variants(VALID[action]):
        full_ok = not list(full.iter_errors(payload))
        try:
            fast(payload)
            fast_ok = True
        except Exception:
            fast_ok = False
        assert fast_ok == full_ok, (action, payload)
        checked += 1
    assert full.is_valid(VALID[action]) and checked > len(ODD_VALUES)


def test_a_rejected_payload_still_gets_the_exact_jsonschema_error():
    with pytest.raises(OcppError) as err:
        validate_call("MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": TS, "sampledValue": [
            {"value": "1", "unit": "Parsecs"}]}]}, "u1")
    assert err.value.code == "PropertyConstraintViolation"
    assert err.value.cause.startswith("meterValue.0.sampledValue.0.unit: 'Parsecs' is not one of ['Wh', 'kWh'")
    assert err.value.unique_id == "u1"
