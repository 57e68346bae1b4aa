"""The HTTP calls the adapters share: one httpx client per credentials, errors turned into our three kinds."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from services.payments.gateways.base import GatewayError, GatewayTimeout, GatewayUnavailable, SettlementLine

_SETTLED = {"capture": "capture", "captures": "capture", "refund": "refund", "refunds": "refund"}


def send(client: httpx.Client, method: str, url: str, *, content: bytes | None = None,
         headers: dict[str, str] | None = None, auth: Any = None) -> httpx.Response:
    try:
        response = client.request(method, url, content=content, headers=headers, auth=auth)
    except httpx.TimeoutException as exc:
        # A read timeout means the request went out; a connect timeout means it never did.
        if isinstance(exc, httpx.ConnectTimeout):
            raise GatewayUnavailable(f"{url}: could not connect") from exc
        raise GatewayTimeout(f"{url}: no answer in time") from exc
    except httpx.TransportError as exc:
        raise GatewayUnavailable(f"{url}: {exc.__class__.__name__}") from exc
    if response.status_code >= 500:
        raise GatewayUnavailable(f"{url}: HTTP {response.status_code}")
    return response


def report_lines(client: httpx.Client, base_url: str, day: str, *, auth: Any = None,
                 headers: dict[str, str] | None = None) -> list[SettlementLine]:
    """The day's settled captures and refunds from the report the stand-ins serve (`GET /__report?date=`).

    CyberSource (Reporting API report downloads) and MPGS (settlement files) deliver theirs differently; a real
    deployment fits that download here, behind the same `settlement(day=)` of the adapter."""
    response = send(client, "GET", f"{base_url.rstrip('/')}/__report?date={day}", headers=headers, auth=auth)
    if response.status_code != 200:
        raise GatewayError(f"settlement report: HTTP {response.status_code}")
    lines = []
    for op in response.json().get("operations") or []:
        kind = _SETTLED.get(str(op.get("op", "")).lower())
        if kind is None or op.get("status") in ("DECLINED", "FAILURE") or not op.get("payment_reference"):
            continue
        try:
            amount = Decimal(str(op["amount"]))
        except (KeyError, InvalidOperation):
            continue
        lines.append(SettlementLine(op["payment_reference"], op.get("reference") or "", kind, amount,
                                    op.get("currency") or ""))
    return lines
