"""The demand-response engine: opt-in organizations limit their chargers while their grid region is under
stress, through OCPP smart charging sent on the command channel (docs/adr/0003-command-channel.md).

Everything it knows is in the database, so a restart resumes where it stopped:
- an event is opened (committed) before any profile is sent; each SetChargingProfile is written to the
  audit trail (`dr_action`) *before* it is sent and completed with the charger's answer after;
- while the event is active, every targeted charger without an accepted profile is sent one (again: the
  same profile id replaces itself on the charger), offline chargers are listed and retried when back;
- when the grid is normal again (grid events), the operator ends it, or the maximum duration passes, the
  event is `ending`: every charger that was ever sent the profile gets ClearChargingProfile until each
  has answered; the profile's own duration ends it on a charger that stays unreachable.

Limits: a percentage of each charger's maximum (its connectors' rated power; 22 kW each where unknown) or
an absolute kW per charger, in amperes per phase, never below 6 A (the IEC 61851 / OCPP minimum), never on
an exempt charger.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.clock import utcnow
from core.events import EventType, notify
from models import Charger, Connector
from models.charger import LifecycleStatus
from models.grid import DrAction, DrEvent, DrPolicy, DrStatus, GridRegion, GridState, GridStateEvent
from services.access.scope import system_scope
from services.grid import classify
from services.ocpp.commands import OFFLINE, CommandResult, send_command

log = logging.getLogger(__name__)

PROFILE_ID = 1616            # our profile on every charger: set and cleared by this id
STACK_LEVEL = 9              # above the operator's own profiles, so the limit wins while it lasts
MIN_AMPS = Decimal(6)        # the lowest current a charger may be told (IEC 61851-1 / OCPP 1.6 smart charging)
VOLTS, PHASES = Decimal(230), 3
DEFAULT_CONNECTOR_KW = Decimal(22)
SET, CLEAR = "SetChargingProfile", "ClearChargingProfile"
WAITING = "waiting for the charger"
COMMAND_TIMEOUT = 30.0
PARALLEL = 8


# --- limits ------------------------------------------------------------------------------------------------

def charger_max_kw(session: Session, charger_id: int) -> Decimal:
    rated = session.execute(select(Connector.max_power_kw).where(Connector.charger_id == charger_id)).scalars().all()
    return sum((kw if kw is not None else DEFAULT_CONNECTOR_KW for kw in rated), Decimal(0)) or DEFAULT_CONNECTOR_KW


def limit_amps(event: DrEvent, max_kw: Decimal) -> Decimal:
    """Amperes per phase for this charger: never below MIN_AMPS, never above the charger's own maximum."""
    kw = max_kw * event.limit_percent / 100 if event.limit_percent is not None else event.limit_kw
    amps = (kw * 1000 / (VOLTS * PHASES)).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    top = (max_kw * 1000 / (VOLTS * PHASES)).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    return max(MIN_AMPS, min(amps, top))


def set_payload(event: DrEvent, amps: Decimal, now: datetime) -> dict:
    seconds = max(60, int((event.ends_at - now).total_seconds()))
    return {"connectorId": 0, "csChargingProfiles": {
        "chargingProfileId": PROFILE_ID, "stackLevel": STACK_LEVEL, "chargingProfilePurpose": event.profile_purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {"duration": seconds, "startSchedule": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             "chargingRateUnit": "A",
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": float(amps)}]}}}


CLEAR_PAYLOAD = {"id": PROFILE_ID}


# --- events ------------------------------------------------------------------------------------------------

def open_event(session: Session, org_id: int) -> DrEvent | None:
    return session.execute(select(DrEvent).where(DrEvent.organization_id == org_id,
                                                 DrEvent.status != DrStatus.ENDED)).scalar_one_or_none()


def announce(session: Session, event: DrEvent) -> None:
    notify(session, {"type": EventType.DEMAND_RESPONSE, "organization_id": event.organization_id,
                     "event_id": event.id, "status": event.status, "region": event.region})


def start_event(session: Session, policy: DrPolicy, *, origin: str, grid_state: str = "", note: str = "",
                minutes: int | None = None, requested_by: int | None = None, start: datetime | None = None,
                external_id: str = "") -> DrEvent:
    """Open an event now, or at `start` (a VTN's event announced ahead: nothing is sent before it starts)."""
    now = utcnow()
    begins = max(start, now) if start is not None else now
    event = DrEvent(organization_id=policy.organization_id, region=policy.region, origin=origin,
                    grid_state=grid_state, status=DrStatus.ACTIVE, limit_percent=policy.limit_percent,
                    limit_kw=policy.limit_kw, exempt_charger_ids=list(policy.exempt_charger_ids),
                    profile_purpose=policy.profile_purpose, note=note[:500], started_at=begins,
                    ends_at=begins + timedelta(minutes=minutes or policy.max_duration_minutes),
                    requested_by_id=requested_by, external_id=external_id[:64])
    session.add(event)
    session.flush()
    announce(session, event)
    return event


def begin_ending(session: Session, event: DrEvent, reason: str) -> None:
    if event.status == DrStatus.ACTIVE:
        event.status, event.end_reason = DrStatus.ENDING, reason[:200]
        session.add(event)
        session.flush()
        announce(session, event)


def targets(session: Session, event: DrEvent) -> list[Charger]:
    """The organization's active chargers, exempt ones left out."""
    scope = system_scope(event.organization_id)
    query = select(Charger).where(scope.charger_filter(), Charger.lifecycle_status == LifecycleStatus.ACTIVE)
    if event.exempt_charger_ids:
        query = query.where(Charger.id.not_in(event.exempt_charger_ids))
    return list(session.execute(query.order_by(Charger.id)).scalars())


def _actions(session: Session, event_id: int) -> list[DrAction]:
    return list(session.execute(select(DrAction).where(DrAction.event_id == event_id)
                                .order_by(DrAction.id)).scalars())


def needs_set(session: Session, event: DrEvent) -> list[Charger]:
    done = {a.charger_id for a in _actions(session, event.id) if a.action == SET and a.ok}
    return [c for c in targets(session, event) if c.id not in done]


def needs_clear(session: Session, event: DrEvent) -> list[int]:
    """Chargers ever sent the profile (answered or not: a crash may have hidden the answer) whose last
    clear is not accepted."""
    last: dict[int, DrAction] = {}
    for a in _actions(session, event.id):
        never_sent = a.action == SET and a.command_id is None and a.error == OFFLINE
        if (a.action == SET and not never_sent) or a.charger_id in last:
            last[a.charger_id] = a
    return [cid for cid, a in last.items() if not (a.action == CLEAR and a.ok)]


# --- sending -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Order:
    action_id: int
    charger_id: int
    action: str
    payload: dict


def _record_intent(session: Session, event: DrEvent, charger: Charger, action: str, payload: dict,
                   amps: Decimal | None, now: datetime) -> DrAction:
    limit_w = int(amps * VOLTS * PHASES) if amps is not None else None
    row = DrAction(event_id=event.id, charger_id=charger.id, action=action, limit_w=limit_w, ok=False,
                   error=WAITING if charger.connected else OFFLINE, at=now)
    session.add(row)
    session.flush()
    return row


def _send(engine: Engine, org_id: int, order: Order) -> tuple[Order, CommandResult | None, str | None]:
    try:
        result = send_command(engine=engine, scope=system_scope(org_id), charger_id=order.charger_id,
                              action=order.action, payload=order.payload, timeout=COMMAND_TIMEOUT)
        return order, result, None
    except Exception as exc:  # noqa: BLE001 - one charger's failure never stops the others
        log.warning("demand response: %s to charger %s failed: %s", order.action, order.charger_id, exc)
        return order, None, str(exc)[:500]


def _send_all(engine: Engine, org_id: int, orders: list[Order]) -> None:
    if not orders:
        return
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(orders))) as pool:
        outcomes = list(pool.map(lambda o: _send(engine, org_id, o), orders))
    with Session(engine) as session:
        for order, result, error in outcomes:
            row = session.get(DrAction, order.action_id)
            if result is not None:
                row.command_id, row.answer, row.error = result.id, result.result, result.error
                # "Unknown" to a clear: the charger has no such profile (it expired or was never stored).
                row.ok = result.status == "done"
            else:
                row.error = error
            session.add(row)
        session.commit()


# --- one step --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepResult:
    event_id: int | None
    status: str | None
    sent: int


def _lock(session: Session, org_id: int) -> bool:
    """One engine at a time per organization (several workers may run)."""
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(1616, :org)"), {"org": org_id}).scalar())


def _decide(session: Session, org_id: int) -> tuple[DrEvent | None, list[Order]]:
    """Open, advance or end the organization's event; return the commands to send (intents committed)."""
    now = utcnow()
    policy = session.execute(select(DrPolicy).where(DrPolicy.organization_id == org_id)).scalar_one_or_none()
    event = open_event(session, org_id)
    region = session.get(GridRegion, event.region if event else policy.region) if (event or policy) else None
    state = classify.health(session=session, region=region).state if region is not None else GridState.UNKNOWN
    stressed = classify.SEVERITY.get(state, 0) >= classify.SEVERITY[policy.trigger_state] if policy else False
    if event is None:
        if policy is None or not policy.enabled or not stressed or _served(session, policy):
            return None, []
        event = start_event(session, policy, origin="grid", grid_state=state)
    elif event.status == DrStatus.ACTIVE:
        if event.origin == "grid" and state == GridState.NORMAL:
            begin_ending(session, event, "grid back to normal")
        elif now >= event.ends_at:
            begin_ending(session, event, "maximum duration reached")
        elif policy is not None and not policy.enabled and event.origin == "grid":
            begin_ending(session, event, "policy switched off")
    orders: list[Order] = []
    if event.status == DrStatus.ACTIVE and event.started_at <= now:
        for charger in needs_set(session, event):
            if not charger.connected and _listed_offline(session, event, charger.id):
                continue
            amps = limit_amps(event, charger_max_kw(session, charger.id))
            payload = set_payload(event, amps, now)
            row = _record_intent(session, event, charger, SET, payload, amps, now)
            if charger.connected:
                orders.append(Order(row.id, charger.id, SET, payload))
    elif event.status == DrStatus.ENDING:
        pending = needs_clear(session, event)
        chargers = {c.id: c for c in session.execute(select(Charger).where(Charger.id.in_(pending))).scalars()}
        for cid in pending:
            charger = chargers.get(cid)
            if charger is None or not charger.connected:
                continue  # retried when it is back; its profile's own duration ends it meanwhile
            row = _record_intent(session, event, charger, CLEAR, CLEAR_PAYLOAD, None, now)
            orders.append(Order(row.id, cid, CLEAR, CLEAR_PAYLOAD))
        if not orders and (not pending or now >= event.ends_at):
            event.status, event.ended_at = DrStatus.ENDED, now
            if pending:
                event.end_reason = (event.end_reason + f"; {len(pending)} offline, their profile expired")[:200]
            session.add(event)
            session.flush()
            announce(session, event)
    return event, orders


def _served(session: Session, policy: DrPolicy) -> bool:
    """The stress the last grid event answered is still going on: an event that ran its maximum duration is
    not started again until the grid has been back to normal (the duration caps the whole episode)."""
    last = session.execute(select(DrEvent).where(DrEvent.organization_id == policy.organization_id,
                                                 DrEvent.origin == "grid").order_by(DrEvent.id.desc())
                           .limit(1)).scalar_one_or_none()
    if last is None or not last.end_reason.startswith("maximum duration"):
        return False
    normal_since = session.execute(select(GridStateEvent.started_at).where(
        GridStateEvent.region == policy.region, GridStateEvent.state == GridState.NORMAL,
        GridStateEvent.started_at >= last.started_at).limit(1)).scalar()
    return normal_since is None


def _listed_offline(session: Session, event: DrEvent, charger_id: int) -> bool:
    """An offline charger is listed once per event, then retried only when it is back."""
    return session.execute(select(DrAction.id).where(
        DrAction.event_id == event.id, DrAction.charger_id == charger_id, DrAction.error == OFFLINE,
        DrAction.command_id.is_(None)).limit(1)).first() is not None


def step(*, engine: Engine, organization_id: int) -> StepResult:
    """One pass for one organization: decide (and commit the intents), then send and record the answers."""
    with Session(engine, expire_on_commit=False) as session:
        if not _lock(session, organization_id):
            return StepResult(None, None, 0)
        event, orders = _decide(session, organization_id)
        session.commit()
    _send_all(engine, organization_id, orders)
    if event is not None and event.status == DrStatus.ENDING and orders:
        with Session(engine, expire_on_commit=False) as session:  # all cleared now? close it in this pass
            if _lock(session, organization_id):
                event, more = _decide(session, organization_id)
                session.commit()
                _send_all(engine, organization_id, more)
    return StepResult(event.id if event else None, event.status if event else None, len(orders))


def organizations_to_run(*, session: Session) -> list[int]:
    """Organizations with an enabled policy or an event still open."""
    return list(session.execute(text(
        "SELECT organization_id FROM dr_policy WHERE enabled UNION SELECT organization_id FROM dr_event"
        " WHERE status <> 'ended' ORDER BY 1")).scalars())
