"""Raising a charger's security profile with ChangeConfiguration SecurityProfile (OCTT TC_083).

The whitepaper lets the central system only raise the profile. Once the charger accepts the new value, its
next connection must use it: the handshake (presence.connect_many_async) reads the stored profile, so a
connection at the old profile is refused from then on.
"""
from __future__ import annotations

from sqlmodel import Session

from core.errors import ValidationError
from models import Charger, ChargerCommand

KEY = "SecurityProfile"
SUPPORTED = (0, 1, 2, 3)  # 3: TLS with a client certificate from the CSMS CA


def check_change(charger: Charger, action: str, payload: dict) -> None:
    """Refuse a SecurityProfile change that lowers the profile or names one Voltdesk cannot serve."""
    if action != "ChangeConfiguration" or payload.get("key") != KEY:
        return
    value = str(payload.get("value", "")).strip()
    if not value.isdigit() or int(value) not in SUPPORTED:
        raise ValidationError(f"SecurityProfile must be one of {', '.join(map(str, SUPPORTED))}.", "payload.value")
    if int(value) <= charger.security_profile:
        raise ValidationError(f"SecurityProfile can only be raised: the charger uses profile "
                              f"{charger.security_profile}.", "payload.value")


def on_answer(session: Session, command_id: int, action: str, result: object) -> None:
    """The charger accepted the new profile: record it, so the next handshake asks for it."""
    if action != "ChangeConfiguration" or not isinstance(result, dict) or result.get("status") != "Accepted":
        return
    cmd = session.get(ChargerCommand, command_id)
    if cmd is None or cmd.payload.get("key") != KEY:
        return
    charger = session.get(Charger, cmd.charger_id)
    charger.security_profile = max(charger.security_profile, int(cmd.payload["value"]))
