"""Grid regions: the built-in ones, their thresholds and credential, and the source each one reads."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlmodel import Session

from core.config import get_settings
from core.errors import NotFound, ValidationError
from core.validation import decimal_in_range
from models.grid import GridRegion, GridSource
from services.access.permissions import Cap
from services.access.scope import Scope
from services.grid.credentials import seal, unseal
from services.grid.sources import Source, SourceError
from services.grid.sources.bmrs import BmrsSource
from services.grid.sources.ceb import CebSource
from services.grid.sources.entsoe import EntsoeSource
from services.grid.sources.replay import ReplaySource

# code, name, source, area, timezone
BUILT_IN = (
    ("GB", "Great Britain", GridSource.BMRS, "", "Europe/London"),
    ("DE_LU", "Germany–Luxembourg", GridSource.ENTSOE, "DE_LU", "Europe/Berlin"),
    ("LK", "Sri Lanka", GridSource.CEB, "", "Asia/Colombo"),
    ("DEMO", "Demo grid (recorded day)", GridSource.REPLAY, "", "UTC"),
)


def ensure_built_in(*, session: Session) -> None:
    """Create the built-in regions once (operators then edit their thresholds)."""
    for code, name, source, area, tz in BUILT_IN:
        session.execute(text(
            "INSERT INTO grid_region (code, name, source, area, timezone, nominal_hz, alert_below_hz,"
            " emergency_below_hz, alert_above_hz, emergency_above_hz, margin_alert_percent, stale_after_seconds)"
            " VALUES (:c, :n, :s, :a, :tz, 50, 49.8, 49.5, 50.2, 50.5, 2, :stale) ON CONFLICT (code) DO NOTHING"),
            # CEB publishes the previous day: its balance is never fresh, its chargers are the live signal.
            {"c": code, "n": name, "s": source, "a": area, "tz": tz, "stale": 120})


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    source: str
    area: str
    timezone: str
    nominal_hz: Decimal
    alert_below_hz: Decimal
    emergency_below_hz: Decimal
    alert_above_hz: Decimal
    emergency_above_hz: Decimal
    margin_alert_percent: Decimal
    stale_after_seconds: int
    has_credential: bool
    last_polled_at: datetime | None
    last_error: str | None


def _row(r: GridRegion) -> RegionRow:
    return RegionRow(r.code, r.name, r.source, r.area, r.timezone, r.nominal_hz, r.alert_below_hz,
                     r.emergency_below_hz, r.alert_above_hz, r.emergency_above_hz, r.margin_alert_percent,
                     r.stale_after_seconds, bool(r.credential), r.last_polled_at, r.last_error)


def list_regions(*, session: Session, scope: Scope) -> list[RegionRow]:
    scope.require(Cap.VIEW_GRID)
    return [_row(r) for r in session.execute(select(GridRegion).order_by(GridRegion.code)).scalars()]


def get_region(*, session: Session, scope: Scope, code: str) -> GridRegion:
    scope.require(Cap.VIEW_GRID)
    region = session.get(GridRegion, code[:16]) if isinstance(code, str) else None
    if region is None:
        raise NotFound("Grid region not found.")
    return region


THRESHOLDS = ("nominal_hz", "alert_below_hz", "emergency_below_hz", "alert_above_hz", "emergency_above_hz")


def update_region(*, session: Session, scope: Scope, code: str, thresholds: dict[str, object] | None = None,
                  margin_alert_percent: object = None, stale_after_seconds: int | None = None,
                  credential: str | None = None) -> RegionRow:
    """Edit a region's thresholds (all platform-wide: regions are shared) or store its credential."""
    scope.require(Cap.MANAGE_DEMAND_RESPONSE)
    if not scope.all_orgs:
        raise ValidationError("Only the operator edits grid regions.", "code")
    region = get_region(session=session, scope=scope, code=code)
    for name, value in (thresholds or {}).items():
        if name not in THRESHOLDS:
            raise ValidationError(f"Unknown threshold '{name}'.", name)
        setattr(region, name, decimal_in_range(value, name, low=Decimal(40), high=Decimal(70), places=3))
    values = [getattr(region, n) for n in ("emergency_below_hz", "alert_below_hz", "nominal_hz", "alert_above_hz",
                                          "emergency_above_hz")]
    if values != sorted(values) or len(set(values)) != len(values):
        raise ValidationError("Thresholds must rise: emergency below < alert below < nominal < alert above"
                              " < emergency above.", "thresholds")
    if margin_alert_percent is not None:
        region.margin_alert_percent = decimal_in_range(margin_alert_percent, "margin_alert_percent",
                                                       low=Decimal(0), high=Decimal(100), places=2)
    if stale_after_seconds is not None:
        if not 5 <= stale_after_seconds <= 7 * 86400:
            raise ValidationError("Stale after must be between 5 seconds and 7 days.", "stale_after_seconds")
        region.stale_after_seconds = stale_after_seconds
    if credential is not None:
        if len(credential) > 200:
            raise ValidationError("The credential is too long (200 characters at most).", "credential")
        region.credential = seal(credential) if credential else None
    session.add(region)
    session.flush()
    return _row(region)


def source_for(region: GridRegion) -> Source | None:
    """The adapter reading this region, or None when only the chargers report (source "chargers")."""
    s = get_settings()
    if region.source == GridSource.BMRS:
        return BmrsSource(s.grid_bmrs_url)
    if region.source == GridSource.ENTSOE:
        return EntsoeSource(s.grid_entsoe_url, unseal(region.credential), region.area or region.code)
    if region.source == GridSource.CEB:
        return CebSource(s.grid_ceb_url)
    if region.source == GridSource.REPLAY:
        return ReplaySource(anchor=s.grid_replay_anchor, speed=s.grid_replay_speed)
    if region.source == GridSource.CHARGERS:
        return None
    raise SourceError(f"unknown source {region.source}")
