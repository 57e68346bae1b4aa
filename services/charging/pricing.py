"""Pricing a finished session: components, taxes and the split between the parties.

`price_transaction(session=, transaction=)` is what the OCPP server calls at StopTransaction. It fills
the amount columns and `price_breakdown` of a completed Transaction exactly once (the row is
locked and re-checked) and is a no-op when the session is already priced or still active.
Priced sessions are never repriced, except one closed by reconciliation
whose own StopTransaction arrives later (services.ocpp.transactions clears `priced_at` once).

What is used
- Tariff: the charger's tariff, else the default tariff of the session's organization, else of its
  nearest ancestor with the same currency. Its prices are those of the tariff revision in force
  at the session's START (services.charging.tariffs writes a revision on every edit). No tariff: all zero.
- Commission rates: the contracts in force at the session's START (services.charging.contracts).
- VAT, SSC levy and gateway charges: the organization's settings when the session is priced
  (at stop); tax applies at the time of supply.
- Currency: the organization's. Amounts are rounded ONCE per line, half-up, to its minor unit.

Quantities
- Energy: `energy_wh` (else meter_stop - meter_start), never negative.
- Time-of-day bands are in the ORGANIZATION's local time; energy outside every band is priced
  at the tariff's base price. The energy is spread over time along the meter-value curve
  (Energy.Active.Import.Register samples, linear between samples; a meter going backwards adds
  nothing). Without samples the curve is a straight line from start to stop, i.e. energy is
  split in proportion to time. Band boundaries are found in local time, so DST is handled.
- Idle: the time between the end of charging and the stop, while still plugged in. The end of
  charging is the later of (a) the sample at which the meter reached its final value, when
  samples exist and show energy, and (b) the start of the final SuspendedEV/Finishing run in the
  connector's status events. Neither signal: no idle. The later one is taken, in the driver's
  favour. Idle minutes beyond the tariff's grace period are billed at the idle fee.
- Time: charging minutes (start to end of charging) × price per minute. Idle is not billed twice.
  Minutes are exact (seconds / 60), not rounded up.

Lines and split (d = 100 + VAT % + SSC %)
- VAT-exclusive tariff: energy, time, session fee and idle are rounded lines; subtotal = their
  sum; VAT = subtotal × VAT %, SSC = subtotal × SSC % (both on the net amount, side by side);
  gross = subtotal + VAT + SSC.
- VAT-inclusive tariff: the driver pays the tariff prices as shown, so gross = the sum of the
  rounded inclusive lines; VAT = gross × VAT % / d, SSC = gross × SSC % / d; subtotal = gross - VAT
  - SSC. Each component is shown net (inclusive line × 100 / d, rounded); the largest component
  takes the rounding remainder so the components add up to the subtotal exactly.
- Gateway charges = gross × gateway % + fixed fee (none when gross is zero: nothing is paid).
- Platform commission = subtotal × platform %; location-owner commission = subtotal × owner %.
  Commissions are shares of the revenue before tax, not of the taxes.
- Net to CPO = gross - VAT - SSC - gateway - platform - location owner: the remainder, so the
  split adds back to the gross exactly. It can be negative when fixed fees exceed a tiny session.
- Energy cost (organization's cost per kWh) is shown in the breakdown for information; it is a
  cost of the CPO, not part of the driver's price or the split.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from core.clock import utcnow
from core.money import round_money
from models import Charger, ChargerStatusEvent, MeterValue, Organization, Tariff, TariffRevision, Transaction
from models.charger import ChargerStatus
from models.transaction import TransactionStatus
from services.charging.contracts import rates_in_force

ZERO = Decimal(0)
HUNDRED = Decimal(100)
ENERGY_MEASURAND = "Energy.Active.Import.Register"
IDLE_STATUSES = (ChargerStatus.SUSPENDED_EV, ChargerStatus.FINISHING)
US = timedelta(microseconds=1)


# ---------------------------------------------------------------- pure inputs and calculation

@dataclass(frozen=True)
class Band:
    start_min: int  # minutes after local midnight, 0..1439
    end_min: int    # 1..1440; end < start wraps past midnight
    price_per_kwh: Decimal

    @property
    def label(self) -> str:
        return f"{_hhmm(self.start_min)}–{_hhmm(self.end_min)}"

    def contains(self, minute_of_day: Decimal) -> bool:
        if self.start_min < self.end_min:
            return self.start_min <= minute_of_day < self.end_min
        return minute_of_day >= self.start_min or minute_of_day < self.end_min


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hhmm(text: str) -> int:
    """'HH:MM' → minutes after midnight; '24:00' is the end of the day. ValueError when malformed."""
    hh, mm = str(text).strip().split(":")
    if len(hh) != 2 or len(mm) != 2 or not (hh.isdigit() and mm.isdigit()):
        raise ValueError(text)
    minutes = int(hh) * 60 + int(mm)
    if int(mm) > 59 or minutes > 1440:
        raise ValueError(text)
    return minutes


def parse_bands(raw: Iterable[dict[str, Any]]) -> tuple[Band, ...]:
    return tuple(Band(parse_hhmm(b["start"]) % 1440, parse_hhmm(b["end"]) or 1440, Decimal(str(b["price_per_kwh"])))
                 for b in raw or ())


@dataclass(frozen=True)
class Terms:
    """A tariff's prices as they were when the session started."""
    price_per_kwh: Decimal = ZERO
    price_per_minute: Decimal = ZERO
    session_fee: Decimal = ZERO
    idle_fee_per_minute: Decimal = ZERO
    idle_grace_minutes: int = 0
    vat_inclusive: bool = False
    bands: tuple[Band, ...] = ()


@dataclass(frozen=True)
class Rates:
    """Percentages (0..100) and the fixed gateway fee in the currency."""
    vat: Decimal = ZERO
    ssc: Decimal = ZERO
    gateway_percent: Decimal = ZERO
    gateway_fixed: Decimal = ZERO
    platform: Decimal = ZERO
    location_owner: Decimal = ZERO


@dataclass(frozen=True)
class Usage:
    # (label, kWh, price per kWh) per band actually used; label None = the base price.
    energy: tuple[tuple[str | None, Decimal, Decimal], ...]
    charging_minutes: Decimal
    idle_minutes: Decimal


@dataclass
class Price:
    energy: Decimal
    time: Decimal
    session_fee: Decimal
    idle: Decimal
    subtotal: Decimal
    vat: Decimal
    ssc: Decimal
    gross: Decimal
    gateway: Decimal
    platform: Decimal
    location_owner: Decimal
    net_cpo: Decimal
    billable_idle_minutes: Decimal = ZERO
    extra: dict[str, Any] = field(default_factory=dict)

    def split_total(self) -> Decimal:
        return self.vat + self.ssc + self.gateway + self.platform + self.location_owner + self.net_cpo


def compute_price(*, currency: str, terms: Terms, rates: Rates, usage: Usage) -> Price:
    """The pure calculation. Every line is rounded once; net to CPO is the remainder."""
    def r(x: Decimal) -> Decimal:
        return round_money(x, currency)

    billable_idle = max(usage.idle_minutes - terms.idle_grace_minutes, ZERO)
    lines = {
        "energy": r(sum((kwh * price for _, kwh, price in usage.energy), ZERO)),
        "time": r(max(usage.charging_minutes, ZERO) * terms.price_per_minute),
        "session_fee": r(terms.session_fee),
        "idle": r(billable_idle * terms.idle_fee_per_minute),
    }
    if terms.vat_inclusive:
        gross = sum(lines.values(), ZERO)
        divisor = HUNDRED + rates.vat + rates.ssc
        vat = r(gross * rates.vat / divisor)
        ssc = r(gross * rates.ssc / divisor)
        subtotal = gross - vat - ssc
        net = {k: r(v * HUNDRED / divisor) for k, v in lines.items()}
        largest = max(lines, key=lambda k: (lines[k], k == "energy"))
        net[largest] = subtotal - sum((v for k, v in net.items() if k != largest), ZERO)
        lines = net
    else:
        subtotal = sum(lines.values(), ZERO)
        vat = r(subtotal * rates.vat / HUNDRED)
        ssc = r(subtotal * rates.ssc / HUNDRED)
        gross = subtotal + vat + ssc
    gateway = r(gross * rates.gateway_percent / HUNDRED + rates.gateway_fixed) if gross > 0 else r(ZERO)
    platform = r(subtotal * rates.platform / HUNDRED)
    location_owner = r(subtotal * rates.location_owner / HUNDRED)
    net_cpo = gross - vat - ssc - gateway - platform - location_owner
    return Price(lines["energy"], lines["time"], lines["session_fee"], lines["idle"], subtotal, vat, ssc, gross,
                 gateway, platform, location_owner, net_cpo, billable_idle)


# ---------------------------------------------------------------- usage from the session's data

def _micros(delta: timedelta) -> int:
    return delta // US


def energy_curve(start: datetime, stop: datetime, meter_start: int, meter_stop: int | None,
                 samples: Sequence[tuple[datetime, Decimal]]) -> list[tuple[datetime, Decimal]]:
    """Cumulative energy (Wh) against time, from 0 at start; decreases of the register add nothing."""
    points = [(start, ZERO)]
    last, total = Decimal(meter_start), ZERO
    for ts, value in sorted(s for s in samples if start < s[0] < stop):
        total += max(value - last, ZERO)
        last = value
        points.append((ts, total))
    if meter_stop is not None:
        total += max(Decimal(meter_stop) - last, ZERO)
    points.append((stop, total))
    return points


def split_energy(*, kwh: Decimal, curve: list[tuple[datetime, Decimal]], bands: Sequence[Band], tz: ZoneInfo,
                 base_price: Decimal) -> tuple[tuple[str | None, Decimal, Decimal], ...]:
    """kWh per band (local time of day), spread along the curve. Returns (label, kWh, price)."""
    if kwh <= 0:
        return ()
    if not bands:
        return ((None, kwh, base_price),)
    shares = _shares(curve, bands, tz)
    if not shares:
        # No usable curve: a straight line over the session, i.e. energy in proportion to time.
        start = curve[0][0]
        stop = max(curve[-1][0], start + US)
        shares = _shares([(start, ZERO), (stop, Decimal(1))], bands, tz)
    total = sum(shares.values(), ZERO)
    return tuple(
        (None if i is None else bands[i].label, kwh * shares[i] / total,
         base_price if i is None else bands[i].price_per_kwh)
        for i in sorted(shares, key=lambda i: -1 if i is None else i))


def _shares(curve: list[tuple[datetime, Decimal]], bands: Sequence[Band], tz: ZoneInfo) -> dict[int | None, Decimal]:
    """Energy on the curve per band index (None: outside every band). Empty when the curve is flat."""
    start, stop = curve[0][0], curve[-1][0]
    if stop <= start:
        return {}
    cuts = sorted(c for c in {p[0] for p in curve} | set(_band_boundaries(start, stop, bands, tz))
                  if start <= c <= stop)
    shares: dict[int | None, Decimal] = {}
    j = 0
    for a, b in pairwise(cuts):
        # Cuts include every curve point, so [a, b] lies inside one curve interval.
        while curve[j + 1][0] < b:
            j += 1
        (t0, e0), (t1, e1) = curve[j], curve[j + 1]
        seg = (e1 - e0) * _micros(b - a) / _micros(t1 - t0)
        if seg > 0:
            band = _band_at(a + (b - a) / 2, bands, tz)
            shares[band] = shares.get(band, ZERO) + seg
    return shares


def _band_at(moment: datetime, bands: Sequence[Band], tz: ZoneInfo) -> int | None:
    local = moment.astimezone(tz)
    micros = (local.hour * 3600 + local.minute * 60 + local.second) * 1_000_000 + local.microsecond
    minute = Decimal(micros) / 60_000_000
    for i, band in enumerate(bands):
        if band.contains(minute):
            return i
    return None


def _band_boundaries(start: datetime, stop: datetime, bands: Sequence[Band], tz: ZoneInfo) -> Iterable[datetime]:
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = stop.astimezone(tz).date() + timedelta(days=1)
    while day <= last:
        midnight = datetime(day.year, day.month, day.day)
        for band in bands:
            for minutes in (band.start_min, band.end_min):
                local = (midnight + timedelta(minutes=minutes)).replace(tzinfo=tz)
                yield local.astimezone(UTC)
        day += timedelta(days=1)


def charging_end(*, curve: list[tuple[datetime, Decimal]], has_samples: bool,
                 statuses: Sequence[tuple[datetime, str]]) -> tuple[datetime, str]:
    """When charging ended (idle began) and which signal said so ('meter_values', 'status', 'none')."""
    stop = curve[-1][0]
    candidates: list[tuple[datetime, str]] = []
    final = curve[-1][1]
    if has_samples and final > 0:
        reached = next(ts for ts, e in curve if e >= final)
        if reached < stop:
            candidates.append((reached, "meter_values"))
    run_start = None
    for ts, status in sorted(statuses):
        if status in IDLE_STATUSES:
            run_start = run_start or ts
        else:
            run_start = None
    if run_start is not None and run_start < stop:
        candidates.append((run_start, "status"))
    if not candidates:
        return stop, "none"
    return max(candidates)


# ---------------------------------------------------------------- the database side

def resolve_tariff(session: Session, charger: Charger, org: Organization) -> Tariff | None:
    if charger.tariff_id:
        tariff = session.get(Tariff, charger.tariff_id)
        if tariff is not None:
            return tariff
    current: Organization | None = org
    while current is not None:
        if current.currency == org.currency:
            tariff = session.execute(select(Tariff).where(Tariff.organization_id == current.id, Tariff.is_default)
                                     .order_by(Tariff.id)).scalars().first()
            if tariff is not None:
                return tariff
        current = session.get(Organization, current.parent_id) if current.parent_id else None
    return None


def tariff_prices(tariff: Tariff) -> dict[str, Any]:
    """The price fields of a tariff, JSON-safe (what a revision stores)."""
    return {"price_per_kwh": str(tariff.price_per_kwh), "price_per_minute": str(tariff.price_per_minute),
            "session_fee": str(tariff.session_fee), "idle_fee_per_minute": str(tariff.idle_fee_per_minute),
            "idle_grace_minutes": int(tariff.idle_grace_minutes), "vat_inclusive": bool(tariff.vat_inclusive),
            "bands": list(tariff.bands or [])}


def terms_at(session: Session, tariff: Tariff, at: datetime) -> tuple[Terms, int | None]:
    """The tariff's prices in force at `at`: the latest revision before it, else the earliest one
    (the tariff did not exist yet), else the tariff row itself."""
    base = select(TariffRevision).where(TariffRevision.tariff_id == tariff.id)
    rev = session.execute(base.where(TariffRevision.effective_from <= at)
                          .order_by(TariffRevision.effective_from.desc(), TariffRevision.id.desc()).limit(1)
                          ).scalars().first()
    if rev is None:
        rev = session.execute(base.order_by(TariffRevision.effective_from, TariffRevision.id).limit(1)
                              ).scalars().first()
    p = rev.prices if rev is not None else tariff_prices(tariff)
    terms = Terms(Decimal(str(p["price_per_kwh"])), Decimal(str(p["price_per_minute"])), Decimal(str(p["session_fee"])),
                  Decimal(str(p["idle_fee_per_minute"])), int(p["idle_grace_minutes"]), bool(p["vat_inclusive"]),
                  parse_bands(p.get("bands") or []))
    return terms, rev.id if rev is not None else None


def _energy_samples(session: Session, tx: Transaction) -> list[tuple[datetime, Decimal]]:
    rows = session.execute(select(MeterValue.timestamp, MeterValue.value, MeterValue.unit).where(
        MeterValue.transaction_id == tx.id, MeterValue.measurand == ENERGY_MEASURAND, MeterValue.phase.is_(None)))
    return [(ts, Decimal(v) * 1000 if (unit or "Wh") == "kWh" else Decimal(v)) for ts, v, unit in rows]


def _statuses(session: Session, tx: Transaction) -> list[tuple[datetime, str]]:
    at = func.coalesce(ChargerStatusEvent.occurred_at, ChargerStatusEvent.received_at)
    rows = session.execute(select(at, ChargerStatusEvent.status).where(
        ChargerStatusEvent.charger_id == tx.charger_id, ChargerStatusEvent.connector_id == tx.connector_id,
        at >= tx.started_at, at <= tx.stopped_at))
    return [(ts, status) for ts, status in rows]


def _minutes(delta: timedelta) -> Decimal:
    return Decimal(max(_micros(delta), 0)) / 60_000_000


def price_transaction(*, session: Session, transaction: Transaction) -> None:
    tx = transaction
    if tx.priced_at is not None or tx.status != TransactionStatus.COMPLETED or tx.id is None:
        return
    # Exactly once: lock the row and look again (a retried StopTransaction may race this one).
    if session.execute(select(Transaction.priced_at).where(Transaction.id == tx.id).with_for_update()
                       ).scalar_one() is not None:
        session.refresh(tx)
        return
    charger = session.get(Charger, tx.charger_id)
    org = session.get(Organization, tx.organization_id)
    currency = org.currency
    tz = ZoneInfo(org.timezone)
    tariff = resolve_tariff(session, charger, org)
    terms, revision_id = terms_at(session, tariff, tx.started_at) if tariff else (Terms(), None)
    contracts = rates_in_force(session=session, organization=org, charger_id=charger.id,
                               location_owner_id=tx.location_owner_id, at=tx.started_at)
    rates = Rates(Decimal(org.vat_rate), Decimal(org.ssc_levy_rate), Decimal(org.gateway_fee_percent),
                  Decimal(org.gateway_fee_fixed), contracts.platform_rate, contracts.location_owner_rate)

    # In UTC: Python subtracts datetimes sharing one tzinfo by wall clock, which is wrong across DST.
    start = tx.started_at.astimezone(UTC)
    stop = max(tx.stopped_at.astimezone(UTC), start)
    energy_wh = tx.energy_wh if tx.energy_wh is not None else (tx.meter_stop or tx.meter_start) - tx.meter_start
    kwh = Decimal(max(energy_wh, 0)) / 1000
    samples = _energy_samples(session, tx)
    samples = [(ts.astimezone(UTC), v) for ts, v in samples]
    statuses = [(ts.astimezone(UTC), st) for ts, st in _statuses(session, tx)]
    curve = energy_curve(start, stop, tx.meter_start, tx.meter_stop, samples)
    idle_from, idle_source = charging_end(curve=curve, has_samples=bool(samples), statuses=statuses)
    energy = split_energy(kwh=kwh, curve=curve, bands=terms.bands, tz=tz, base_price=terms.price_per_kwh)
    usage = Usage(energy, _minutes(idle_from - start), _minutes(stop - idle_from))
    price = compute_price(currency=currency, terms=terms, rates=rates, usage=usage)

    tx.currency = currency
    tx.tariff_id = tariff.id if tariff else None
    tx.amount_energy, tx.amount_time = price.energy, price.time
    tx.amount_session_fee, tx.amount_idle = price.session_fee, price.idle
    tx.amount_subtotal, tx.amount_vat, tx.amount_ssc = price.subtotal, price.vat, price.ssc
    tx.amount_gross = price.gross
    tx.amount_gateway, tx.amount_platform = price.gateway, price.platform
    tx.amount_location_owner, tx.amount_net_cpo = price.location_owner, price.net_cpo
    s = str
    tx.price_breakdown = {
        "version": 1,
        "currency": currency,
        "tariff": None if tariff is None else {
            "id": tariff.id, "name": tariff.name, "revision_id": revision_id, "vat_inclusive": terms.vat_inclusive,
            "price_per_kwh": s(terms.price_per_kwh), "price_per_minute": s(terms.price_per_minute),
            "session_fee": s(terms.session_fee), "idle_fee_per_minute": s(terms.idle_fee_per_minute),
            "idle_grace_minutes": terms.idle_grace_minutes},
        "energy": {"kwh": s(kwh), "split": "meter_values" if samples and curve[-1][1] > 0 else "time",
                   "timezone": org.timezone,
                   "bands": [{"band": label or "base", "kwh": s(k), "price_per_kwh": s(p)} for label, k, p in energy]},
        "time": {"charging_minutes": s(usage.charging_minutes), "price_per_minute": s(terms.price_per_minute)},
        "idle": {"idle_minutes": s(usage.idle_minutes), "grace_minutes": terms.idle_grace_minutes,
                 "billable_minutes": s(price.billable_idle_minutes), "source": idle_source,
                 "from": idle_from.isoformat() if idle_source != "none" else None},
        "rates": {"vat": s(rates.vat), "ssc": s(rates.ssc), "gateway_percent": s(rates.gateway_percent),
                  "gateway_fixed": s(rates.gateway_fixed), "platform": s(rates.platform),
                  "location_owner": s(rates.location_owner), "platform_contract_id": contracts.platform_contract_id,
                  "location_owner_contract_id": contracts.location_owner_contract_id},
        "energy_cost": {"per_kwh": s(org.energy_cost_per_kwh),
                        "amount": s(round_money(kwh * Decimal(org.energy_cost_per_kwh), currency))},
        "lines": [{"key": k, "amount": s(getattr(price, k))} for k in (
            "energy", "time", "session_fee", "idle", "subtotal", "vat", "ssc", "gross", "gateway", "platform",
            "location_owner", "net_cpo")],
    }
    tx.priced_at = utcnow()
    session.add(tx)
    session.flush()
