"""The grid monitor: the region's live frequency (gauge and trace), demand against generation, the mix, the
health state with its history, the chargers' own readings on a map, and what the chargers draw now.

A background follower (state/live.py) takes the worker's grid events: new readings move the gauge and the
trace in place; a change of state or of a demand-response event reloads the page's data.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import reflex as rx

from core.config import get_settings
from core.fmt import clock, hz, kw, mw, when
from services.access.permissions import Cap
from services.grid import view as svc
from state import live
from state.base import AppState

ROUTE = "/grid"
TRACE_POINTS = 240
GAUGE_LOW, GAUGE_HIGH = 49.0, 51.0
STATE_COLORS = {"normal": "green", "alert": "amber", "emergency": "red", "unknown": "gray"}
ORIGINS = {"grid": "started by the grid state", "manual": "started by hand",
           "openadr": "called by the utility's VTN (OpenADR)"}
GRID_EVENTS = ("grid_reading", "grid_state", "demand_response")


def needle_angle(value: float | None) -> float:
    """-90° (49 Hz) … 0° (50 Hz) … 90° (51 Hz), clamped."""
    if value is None:
        return -90.0
    share = (min(max(value, GAUGE_LOW), GAUGE_HIGH) - GAUGE_LOW) / (GAUGE_HIGH - GAUGE_LOW)
    return round(share * 180 - 90, 1)


class GridState(AppState):
    region: str = ""
    region_name: str = ""
    region_options: list[dict[str, str]] = []
    source: str = ""
    last_error: str = ""
    state: str = "unknown"
    reason: str = ""
    state_since: str = ""
    frequency: float | None = None
    frequency_label: str = "—"
    frequency_at: str = ""
    demand: str = "—"
    generation: str = "—"
    balance_at: str = ""
    trace: list[dict] = []
    balance: list[dict] = []
    mix: list[dict] = []
    history: list[dict[str, str]] = []
    sites: list[dict] = []
    draw: str = "—"
    drawing: int = 0
    event: dict[str, str] = {}
    thresholds: dict[str, float] = {}
    tile_url: str = ""
    loading: bool = False
    live_updates: int = 0
    _generation: int = 0
    _tz: str = "UTC"

    @rx.var
    def needle(self) -> str:
        return f"rotate({needle_angle(self.frequency)}deg)"

    @rx.var
    def state_color(self) -> str:
        return STATE_COLORS.get(self.state, "gray")

    async def _fetch(self):
        code = self.region

        def work(session, user, scope):
            return svc.grid_view(session=session, scope=scope, region=code or None)

        call = await self._call(work, cap=Cap.VIEW_GRID)
        if not call.ok:
            return call.answer
        self._apply_view(call.value)
        return None

    def _apply_view(self, v: svc.GridView) -> None:
        r = v.region
        self._tz = r.timezone
        self.region, self.region_name, self.source, self.last_error = r.code, r.name, r.source, r.last_error or ""
        self.region_options = [{"code": x.code, "name": x.name} for x in v.regions]
        self.thresholds = {"alert_low": float(r.alert_below_hz), "emergency_low": float(r.emergency_below_hz),
                           "alert_high": float(r.alert_above_hz), "emergency_high": float(r.emergency_above_hz)}
        self.state, self.reason = v.health.state, v.health.reason
        self.state_since = when(v.health.since, r.timezone) if v.health.since else ""
        self._set_frequency(v.latest.frequency_hz, v.latest.frequency_at, r.timezone)
        self.demand, self.generation = mw(v.latest.demand_mw), mw(v.latest.generation_mw)
        self.balance_at = when(v.latest.balance_at, r.timezone) if v.latest.balance_at else ""
        self.trace = [{"t": clock(p.ts, r.timezone, seconds=True), "hz": float(p.frequency_hz)}
                      for p in v.trace if p.frequency_hz is not None and not p.flags][-TRACE_POINTS:]
        self.balance = [{"t": clock(p.ts, r.timezone), "demand": float(p.demand_mw) if p.demand_mw else None,
                         "generation": float(p.generation_mw) if p.generation_mw else None}
                        for p in v.balance if p.demand_mw is not None or p.generation_mw is not None]
        total = sum((Decimal(str(x)) for x in v.latest.mix.values()), Decimal(0)) or Decimal(1)
        self.mix = [{"fuel": k.replace("_", " "), "mw": float(x), "share": f"{Decimal(str(x)) / total:.0%}"}
                    for k, x in sorted(v.latest.mix.items(), key=lambda kv: -float(kv[1]))]
        self.history = [{"state": e.state, "start": when(e.started_at, r.timezone),
                         "end": when(e.ended_at, r.timezone) if e.ended_at else "now", "reason": e.reason}
                        for e in v.history]
        self.sites = [{"id": str(s.charger_id), "name": s.name or s.ocpp_id, "hz": hz(s.frequency_hz),
                       "v": f"{s.voltage_v:.0f} V" if s.voltage_v is not None else "—",
                       "lat": float(s.latitude) if s.latitude is not None else None,
                       "lon": float(s.longitude) if s.longitude is not None else None,
                       "style": {"color": "#ffffff", "weight": 1.5, "fillOpacity": 0.95,
                                 "fillColor": _site_color(s.frequency_hz, self.thresholds)}}
                      for s in v.sites if s.latitude is not None and s.longitude is not None]
        self.draw, self.drawing = kw(v.draw_kw), v.chargers_drawing
        e = v.event
        self.event = {} if e is None else {
            "id": str(e.id), "organization": e.organization_name, "status": e.status, "origin": e.origin,
            "origin_label": ORIGINS.get(e.origin, e.origin),
            "limit": f"{e.limit_percent:.0f} %" if e.limit_percent is not None else kw(e.limit_kw),
            "started": when(e.started_at, r.timezone), "ends": when(e.ends_at, r.timezone),
            "limited": str(e.limited), "problems": str(e.problems)}
        self.tile_url = get_settings().map_tile_url

    def _set_frequency(self, value, at, tz: str) -> None:
        self.frequency = float(value) if value is not None else None
        self.frequency_label = hz(value)
        self.frequency_at = clock(at, tz, seconds=True) if at else ""

    @rx.event
    async def load(self):
        self.loading = True
        yield
        try:
            answer = await self._fetch()
            if answer is not None:
                yield answer
                return
        finally:
            self.loading = False
        if not self.denied:
            yield GridState.follow_live

    @rx.event
    async def choose_region(self, code: str):
        self.region = code
        answer = await self._fetch()
        if answer is not None:
            yield answer
            return
        yield GridState.follow_live

    @rx.event(background=True)
    async def follow_live(self):
        async with self:
            self._generation += 1
            generation = self._generation
            token = self.router.session.client_token
            region = self.region

        def accept(event: dict) -> bool:
            # A demand-response event belongs to an organization, whatever region the page shows (a VTN's
            # event or another region's); the reload reads only what the user's scope allows.
            if event.get("type") == "demand_response":
                return True
            return event.get("type") in GRID_EVENTS and event.get("region") == region

        async def still_wanted() -> bool:
            async with self:
                return (self._generation == generation and self.router.route_id in ("", ROUTE)
                        and live.client_connected(token))

        async def apply(batch: list[dict]) -> None:
            points = [p for e in batch if e["type"] == "grid_reading" for p in e.get("points", [])]
            if any(e["type"] != "grid_reading" for e in batch):
                v = await self._run(lambda s, u, scope: svc.grid_view(session=s, scope=scope, region=region),
                                    cap=Cap.VIEW_GRID)
                async with self:
                    self._apply_view(v)
                    self.live_updates += 1
                return
            if not points:
                return
            async with self:
                tz = self._tz
                fresh = [{"t": clock(datetime.fromisoformat(p["ts"]), tz, seconds=True), "hz": p["hz"]}
                         for p in points]
                self.trace = (self.trace + fresh)[-TRACE_POINTS:]
                last = points[-1]
                self._set_frequency(Decimal(str(last["hz"])), datetime.fromisoformat(last["ts"]), tz)
                self.live_updates += 1

        await live.follow(accept=accept, still_wanted=still_wanted, apply=apply)


def _site_color(value, t: dict[str, float]) -> str:
    if value is None:
        return "#8b8d98"
    f = float(value)
    if f < t["emergency_low"] or f > t["emergency_high"]:
        return "#e5484d"
    if f < t["alert_low"] or f > t["alert_high"]:
        return "#ffc53d"
    return "#30a46c"
