"""OCPP-J 1.6 framing: parsing frames, schema checks and CALLERRORs with the 1.6 error names (Table 7).

The `ocpp` library 2.1.0 answers with the 2.0.1 spelling (FormatViolation, OccurrenceConstraintViolation)
and swaps NotImplemented/NotSupported, so errors are mapped here instead of by the library.
"""
from __future__ import annotations

import decimal
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fastjsonschema
from jsonschema.exceptions import ValidationError as SchemaError
from ocpp.messages import get_validator
from ocpp.v16.enums import Action

CALL, CALLRESULT, CALLERROR = 2, 3, 4

# OCPP-J 1.6 Table 7, verbatim (including the spec's own spelling of "Occurence").
DESCRIPTIONS = {
    "NotImplemented": "Requested Action is not known by receiver",
    "NotSupported": "Requested Action is recognized but not supported by the receiver",
    "InternalError": "An internal error occurred and the receiver was not able to process the requested Action "
                     "successfully",
    "ProtocolError": "Payload for Action is incomplete",
    "SecurityError": "During the processing of Action a security issue occurred preventing receiver from "
                     "completing the Action successfully",
    "FormationViolation": "Payload for Action is syntactically incorrect or not conform the PDU structure for "
                          "Action",
    "PropertyConstraintViolation": "Payload is syntactically correct but at least one field contains an invalid "
                                   "value",
    "OccurenceConstraintViolation": "Payload for Action is syntactically correct but at least one of the fields "
                                    "violates occurence constraints",
    "TypeConstraintViolation": "Payload for Action is syntactically correct but at least one of the fields "
                               "violates data type constraints (e.g. \"somestring\": 12)",
    "GenericError": "Any other error not covered by the previous ones",
}
# Every action OCPP 1.6 defines (either direction): known but not accepted from a charger = NotSupported.
V16_ACTIONS = frozenset(a.value for a in Action)
# When a frame is too broken to read its UniqueId.
UNKNOWN_ID = "-1"


class OcppError(Exception):
    """Answer the CALL with a CALLERROR."""

    def __init__(self, code: str, cause: str = "", unique_id: str = UNKNOWN_ID) -> None:
        super().__init__(f"{code}: {cause}")
        self.code = code
        self.cause = cause
        self.unique_id = unique_id

    def frame(self, unique_id: str | None = None) -> str:
        details = {"cause": self.cause} if self.cause else {}
        return dumps([CALLERROR, unique_id or self.unique_id, self.code, DESCRIPTIONS[self.code], details])


@dataclass(frozen=True)
class Frame:
    type: int
    unique_id: str
    action: str | None = None  # CALL only
    payload: Any = None  # CALL payload or CALLRESULT payload
    error_code: str | None = None  # CALLERROR only
    error_description: str | None = None


def dumps(message: Any) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def parse_frame(raw: str | bytes) -> Frame:
    """Read one frame. Raises OcppError with the right 1.6 code for frames that break OCPP-J itself."""
    if isinstance(raw, bytes):
        raise OcppError("FormationViolation", "OCPP-J frames are text frames")
    try:
        msg = json.loads(raw)
    except ValueError:
        raise OcppError("FormationViolation", "Message is not valid JSON") from None
    if not isinstance(msg, list) or len(msg) < 3:
        raise OcppError("FormationViolation", "A message is a JSON array [MessageTypeId, UniqueId, ...]")
    type_id, unique_id = msg[0], msg[1]
    uid = unique_id if isinstance(unique_id, str) and unique_id else UNKNOWN_ID
    if not isinstance(unique_id, str) or not unique_id or len(unique_id) > 36:
        raise OcppError("FormationViolation", "UniqueId must be a string of at most 36 characters", uid)
    if type(type_id) is not int:
        raise OcppError("TypeConstraintViolation", "MessageTypeId must be an integer", uid)
    if type_id == CALL:
        if len(msg) != 4 or not isinstance(msg[2], str):
            raise OcppError("FormationViolation", "A CALL is [2, UniqueId, Action, {payload}]", uid)
        if not isinstance(msg[3], dict):
            raise OcppError("FormationViolation", "The payload of a CALL must be a JSON object", uid)
        return Frame(CALL, unique_id, msg[2], msg[3])
    if type_id == CALLRESULT:
        if len(msg) != 3:
            raise OcppError("FormationViolation", "A CALLRESULT is [3, UniqueId, {payload}]", uid)
        return Frame(CALLRESULT, unique_id, payload=msg[2])
    if type_id == CALLERROR:
        if len(msg) != 5:
            raise OcppError("FormationViolation", "A CALLERROR is [4, UniqueId, code, description, {details}]", uid)
        return Frame(CALLERROR, unique_id, payload=msg[4], error_code=str(msg[2]), error_description=str(msg[3]))
    raise OcppError("PropertyConstraintViolation", f"MessageTypeId {type_id} is not 2, 3 or 4", uid)


# JSON-schema keyword → OCPP 1.6 error code. CiStringN lengths are data types, hence maxLength is a type error;
# a required field that is missing violates its cardinality (the spec's "Card." column).
_SCHEMA_CODES = {
    "type": "TypeConstraintViolation",
    "maxLength": "TypeConstraintViolation",
    "required": "OccurenceConstraintViolation",
    "minItems": "OccurenceConstraintViolation",
    "maxItems": "OccurenceConstraintViolation",
    "additionalProperties": "FormationViolation",
}


def _schema_validator(action: str):
    exact = action in ("SetChargingProfile", "RemoteStartTransaction")
    return get_validator(CALL, action, "1.6", parse_float=decimal.Decimal if exact else float)


def _no_remote_refs(uri: str) -> Any:
    raise fastjsonschema.JsonSchemaDefinitionException(f"remote schema {uri} is not fetched")


@functools.cache
def _fast_check(action: str) -> Callable[[Any], Any] | None:
    """The same schema compiled to plain Python (fastjsonschema): about 20 times cheaper than jsonschema's
    walk, which was a quarter of the server's CPU under MeterValues load. It only says yes or no; the exact
    CALLERROR still comes from jsonschema. `format` is off, as it is for jsonschema's Draft4Validator here."""
    try:
        # As draft 4, the draft jsonschema checks with: the security extension's schemas say draft 6, where 2.0
        # would pass as an integer.
        schema = {**_schema_validator(action).schema, "$schema": "http://json-schema.org/draft-04/schema#"}
        return fastjsonschema.compile(schema, handlers={"http": _no_remote_refs,
                                      "https": _no_remote_refs}, use_default=False, use_formats=False,
                                      detailed_exceptions=False)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None


def validate_call(action: str, payload: dict, unique_id: str) -> None:
    """Check a CALL's payload against the OCPP 1.6 JSON schema (the `ocpp` library's copies)."""
    fast = _fast_check(action)
    if fast is not None:
        try:
            fast(payload)
            return
        except fastjsonschema.JsonSchemaValueException:
            pass  # invalid: jsonschema below names the error exactly as before
    validator = _schema_validator(action)
    errors: list[SchemaError] = list(validator.iter_errors(payload))
    if not errors:
        return
    best = min(errors, key=lambda e: (len(list(e.path)), e.validator != "required"))
    where = ".".join(str(p) for p in best.path)
    cause = f"{where}: {best.message}" if where else best.message
    raise OcppError(_SCHEMA_CODES.get(best.validator, "PropertyConstraintViolation"), cause, unique_id)
