"""One session: its meter curve, the full price breakdown with the rates used, flags and raw OCPP frames.

Raw frames come only when the service returns them (Cap.VIEW_RAW_OCPP is checked there)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import reflex as rx

from core.errors import NotFound
from core.fmt import MISSING, clock, duration, kwh, percent, plain, when
from core.money import format_money
from services.access.permissions import Cap
from services.charging import transactions as svc
from state.base import AppState
from state.transactions import status_label

FLAG_TEXT = {
    "meter_backwards": "The meter went backwards during the session; those readings added nothing.",
    "future_timestamp": "The charger sent timestamps in the future; its clock may be wrong.",
    "overlapping_session": "This session overlaps another one on the same connector.",
    "stopped_without_start": "The charger stopped a session the server never saw start.",
    "late_delivery": "The charger delivered this session's messages late (offline queue).",
    "closed_by_reconciliation": "The charger ended this session (a new session started on its connector, or "
                                "the connector became available) without a stop we received; "
                                "it was closed at its last meter reading.",
}
STOP_REASONS = {
    "Local": "Stopped at the charger", "Remote": "Stopped remotely", "EVDisconnected": "Car unplugged",
    "HardReset": "Charger hard reset", "SoftReset": "Charger soft reset", "PowerLoss": "Power loss",
    "Reboot": "Charger rebooted", "EmergencyStop": "Emergency stop", "DeAuthorized": "idTag de-authorized",
    "UnlockCommand": "Unlocked remotely", "Other": "Other",
}
DIRECTIONS = {"in": "Charger → server", "out": "Server → charger"}


def price_lines(amounts: dict[str, Decimal | None], b: dict[str, Any] | None,
                currency: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(what the driver pays, how the gross is split), each line with what it was computed from."""
    def money(key: str) -> str:
        return format_money(amounts.get(key), currency)

    b = b or {}
    tariff, rates = b.get("tariff") or {}, b.get("rates") or {}
    time, idle, energy = b.get("time") or {}, b.get("idle") or {}, b.get("energy") or {}
    per_kwh = tariff.get("price_per_kwh")
    bands = [x for x in energy.get("bands", []) if x.get("band") != "base"]
    energy_note = f"{plain(energy['kwh'])} kWh" if energy.get("kwh") is not None else ""
    if per_kwh is not None:
        energy_note += f" × {plain(per_kwh)} base" if bands else f" × {plain(per_kwh)}"
    if bands:
        energy_note += f"; {len(bands)} time-of-day band{'s' if len(bands) > 1 else ''}"
    vat_mode = " (included in prices)" if tariff.get("vat_inclusive") else ""
    lines = [
        ("energy", "Energy", energy_note, "line"),
        ("time", "Charging time", f"{plain(time['charging_minutes'])} min × {plain(time['price_per_minute'])}"
         if time else "", "line"),
        ("session_fee", "Session fee", "", "line"),
        ("idle", "Idle fee", f"{plain(idle['billable_minutes'])} billable of {plain(idle['idle_minutes'])} idle "
         f"min (grace {idle['grace_minutes']} min)" if idle else "", "line"),
        ("subtotal", "Subtotal (before tax)", "", "subtotal"),
        ("vat", "VAT" + vat_mode, percent(rates["vat"]) if rates else "", "line"),
        ("ssc", "SSC levy", percent(rates["ssc"]) if rates else "", "line"),
        ("gross", "Total paid by the driver", "", "total"),
    ]
    split = [
        ("gross", "Gross", "", "subtotal"),
        ("vat", "VAT", "to the tax authority", "deduct"),
        ("ssc", "SSC levy", "to the tax authority", "deduct"),
        ("gateway", "Gateway charges", f"{percent(rates['gateway_percent'])} + {plain(rates['gateway_fixed'])} fixed"
         if rates else "", "deduct"),
        ("platform", "Platform commission", f"{percent(rates['platform'])} of the subtotal" if rates else "", "deduct"),
        ("location_owner", "Location owner commission", f"{percent(rates['location_owner'])} of the subtotal"
         if rates else "", "deduct"),
        ("net_cpo", "Net to CPO", "", "total"),
    ]

    def rows(spec):
        return [{"key": k, "label": label, "note": note, "amount": money(k), "kind": kind}
                for k, label, note, kind in spec]

    return rows(lines), rows(split)


def terms(b: dict[str, Any] | None, currency: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(tariff and rates used as label/value pairs, energy per band)."""
    b = b or {}
    tariff, rates, cost = b.get("tariff"), b.get("rates") or {}, b.get("energy_cost") or {}
    out: list[dict[str, str]] = []
    if tariff:
        out += [
            {"label": "Tariff", "value": tariff["name"]},
            {"label": "Price per kWh", "value": plain(tariff["price_per_kwh"])},
            {"label": "Price per minute", "value": plain(tariff["price_per_minute"])},
            {"label": "Session fee", "value": plain(tariff["session_fee"])},
            {"label": "Idle fee per minute", "value": f"{plain(tariff['idle_fee_per_minute'])} after "
                                                      f"{tariff['idle_grace_minutes']} min"},
            {"label": "VAT", "value": "Inclusive" if tariff["vat_inclusive"] else "Exclusive"},
        ]
    elif b:
        out.append({"label": "Tariff", "value": "None (no tariff applied)"})
    if rates:
        out += [
            {"label": "VAT rate", "value": percent(rates["vat"])},
            {"label": "SSC levy rate", "value": percent(rates["ssc"])},
            {"label": "Gateway", "value": f"{percent(rates['gateway_percent'])} + {plain(rates['gateway_fixed'])}"},
            {"label": "Platform commission", "value": percent(rates["platform"])},
            {"label": "Location owner commission", "value": percent(rates["location_owner"])},
        ]
    if cost:
        out.append({"label": "Energy cost (CPO, info)",
                    "value": f"{format_money(Decimal(cost['amount']), currency)} at {plain(cost['per_kwh'])}/kWh"})
    energy = b.get("energy") or {}
    bands = [{"band": "Base price" if x["band"] == "base" else x["band"], "kwh": plain(x["kwh"]),
              "price": plain(x["price_per_kwh"])} for x in energy.get("bands", [])]
    return out, bands


class TransactionDetailState(AppState):
    loading: bool = False
    not_found: bool = False
    info: dict[str, str] = {}
    flags: list[dict[str, str]] = []
    lines: list[dict[str, str]] = []
    split: list[dict[str, str]] = []
    terms: list[dict[str, str]] = []
    bands: list[dict[str, str]] = []
    curve: list[dict[str, Any]] = []
    raw: list[dict[str, str]] = []
    can_raw: bool = False
    priced: bool = False

    def _wanted_id(self) -> int | None:
        tail = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        return int(tail) if tail.isdigit() else None

    @rx.event
    async def load(self):
        self.loading, self.not_found = True, False
        self.info, self.lines, self.split, self.curve, self.raw, self.flags = {}, [], [], [], [], []
        yield
        tx_id = self._wanted_id()

        def work(session, user, scope):
            if tx_id is None:
                raise NotFound("Session not found.")
            return svc.get_transaction(session=session, scope=scope, transaction_id=tx_id)

        call = await self._call(work, cap=Cap.VIEW_TRANSACTIONS)
        self.loading = False
        if not call.ok:
            yield call.answer
            return
        self._show(call.value)

    def _show(self, d: svc.TxDetail) -> None:
        r = d.row
        self.info = {
            "id": str(r.id), "organization": r.organization_name, "charger": r.charger_ocpp_id,
            "charger_name": r.charger_name or "", "connector": str(r.connector_id), "id_tag": r.id_tag,
            "status": status_label(r.status, r.flags), "started": when(r.started_at, r.timezone),
            "stopped": when(r.stopped_at, r.timezone) if r.stopped_at else "Still charging",
            "duration": duration(r.duration_seconds), "energy": kwh(r.energy_kwh),
            "stop_reason": STOP_REASONS.get(r.stop_reason or "", r.stop_reason or MISSING),
            "stop_code": r.stop_reason or "", "timezone": r.timezone, "currency": r.currency,
            "gross": format_money(r.amount_gross, r.currency),
            "meter": f"{d.meter_start:,} → {d.meter_stop:,} Wh" if d.meter_stop is not None
                     else f"{d.meter_start:,} Wh at start",
            "priced_at": when(d.priced_at, r.timezone) if d.priced_at else "",
        }
        self.flags = [{"code": f, "text": FLAG_TEXT.get(f, f.replace("_", " ").capitalize() + ".")} for f in r.flags]
        self.priced = d.priced_at is not None
        self.lines, self.split = price_lines(d.amounts, d.price_breakdown, r.currency)
        self.terms, self.bands = terms(d.price_breakdown, r.currency)
        curve = [{
            "time": clock(p.timestamp, r.timezone),
            "energy": None if p.energy_kwh is None else float(round(p.energy_kwh, 3)),
            "power": None if p.power_kw is None else float(round(p.power_kw, 2)),
        } for p in d.meter_curve]
        if d.meter_curve and d.meter_curve[0].timestamp > r.started_at:
            # The curve starts at the session's start, from nothing delivered.
            curve.insert(0, {"time": clock(r.started_at, r.timezone), "energy": 0.0, "power": None})
        self.curve = curve
        self.can_raw = d.raw_messages is not None
        self.raw = [{
            "time": clock(m.created_at, r.timezone, seconds=True),
            "direction": DIRECTIONS.get(m.direction, m.direction),
            "action": m.action or "(result)", "frame": m.frame,
        } for m in d.raw_messages or []]
