"""Replays an OCTT 1.6 central-system case over a real websocket and compares the exact frames we send.

A case file (cases/TC_xxx.json) lists steps, as the OCTT tool plays them as the charger:
- {"cp": CALL, "cs": "text"}: the charger sends CALL; the central system's reply must be exactly "text";
- {"command": Action, "payload": {...}, "cs": "text", "reply": {...}, "outcome": "done"}: the central system
  is told (through the command channel, as the UI and API do) to send Action; its CALL must be exactly "text";
  the charger answers `reply`; the command ends as `outcome`;
- a "cp" step may add "then": {"reply": {...}}: right after answering, the central system sends a CALL of its
  own (CertificateSigned after SignCertificate); its text must be exactly "then_cs", the charger answers;
- {"check": name}: a check on what the central system recorded (CHECKS in test_octt.py).

Values the central system makes up are placeholders in the recorded text: "$uid" for the UniqueId of its
CALLs, "$tx1", "$tx2", ... for the transactionIds it hands out (the charger's later frames use them too).
OCTT_RECORD=1 rewrites the "cs" texts from what the server sends now (review the diff before committing).
"""
from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RECORD = os.environ.get("OCTT_RECORD") == "1"
_TX = re.compile(r'"transactionId":(\d+)')
# A certificate the CA signs now differs every run (serial, signature): the text keeps a placeholder and a
# check verifies the certificate itself.
_CHAIN = re.compile(r'"certificateChain":"(?:[^"\\]|\\.)*"')


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Bindings:
    tx: dict[str, int] = field(default_factory=dict)

    def fill(self, value: Any) -> Any:
        """Put the real transactionIds in a frame the charger sends."""
        if isinstance(value, str) and value in self.tx:
            return self.tx[value]
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        return value

    def expected(self, text: str, uid: str | None, got: str = "") -> str:
        """The recorded text with the placeholders made concrete."""
        chain = _CHAIN.search(got)
        if chain:
            text = text.replace('"certificateChain":"$cert"', chain.group(0))
        if uid is not None:
            text = text.replace('"$uid"', dumps(uid))
        for name, value in self.tx.items():
            text = text.replace(dumps(name), str(value))
        return text

    def recorded(self, text: str, uid: str | None) -> str:
        """The received text with made-up values turned into placeholders (new transactionIds are bound)."""
        if uid is not None:
            text = text.replace(dumps(uid), '"$uid"', 1)
        text = _CHAIN.sub('"certificateChain":"$cert"', text)

        def name_of(match: re.Match) -> str:
            value = int(match.group(1))
            for name, bound in self.tx.items():
                if bound == value:
                    return f'"transactionId":"{name}"'
            return match.group(0)

        return _TX.sub(name_of, text)

    def learn(self, text: str) -> None:
        """A StartTransaction.conf hands out a transactionId: bind it to the next $txN."""
        for match in _TX.finditer(text):
            value = int(match.group(1))
            if value not in self.tx.values():
                self.tx[f"$tx{len(self.tx) + 1}"] = value


async def receive(ws, timeout: float = 10.0) -> str:
    return await asyncio.wait_for(ws.recv(), timeout)


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def save(path: Path, case: dict) -> None:
    path.write_text(json.dumps(case, indent=1, ensure_ascii=False) + "\n")
