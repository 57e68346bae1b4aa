"""Charger alerts for staff: debounced, coalesced per site, resolved on the same thread, escalated when
nobody acknowledges.

`evaluate(session=, now=)` runs from the worker (and from tests with a set clock). It reads each rule's
condition from the chargers' live state and the time it began:
- a condition younger than the rule's debounce alerts nobody, so a flap that ends within it never alerts;
- chargers of one site (same organization and address) that are due together open ONE alert naming them
  all; one still open for that site takes later chargers in with an update on the same thread;
- a charger whose condition ended is resolved on its thread, and the thread closes with its last charger;
- an alert unacknowledged for the rule's escalate_after_minutes is sent to the escalation group once.
One charger has at most one open alert per rule and condition (a unique index), and one evaluator runs at
a time (an advisory lock), so a condition alerts exactly once.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlmodel import Session

from models import Alert, AlertCharger, AlertRule, Charger, Connector, Notification
from models.charger import ChargerStatus, LifecycleStatus
from models.notification import Condition
from services.access.scope import Scope, get_in_scope
from services.notifications.staff import notify_staff, staff_recipients

_LOCK_KEY = 74110011  # pg advisory lock: one evaluator at a time

LABELS = {
    Condition.OFFLINE: "offline",
    Condition.FAULTED: "faulted",
    Condition.SUSPENDED_EVSE: "stuck in SuspendedEVSE",
    Condition.NO_HEARTBEAT: "not sending heartbeats",
}
RECOVERED = {
    Condition.OFFLINE: "back online",
    Condition.FAULTED: "no longer faulted",
    Condition.SUSPENDED_EVSE: "no longer stuck in SuspendedEVSE",
    Condition.NO_HEARTBEAT: "sending heartbeats again",
}


@dataclass(frozen=True)
class EvaluateResult:
    opened: int = 0
    resolved: int = 0
    escalated: int = 0


def _watched(session: Session, org_id: int, condition: str, now: datetime, debounce: timedelta) -> dict[int, datetime]:
    """Chargers of the organization in the condition now, with the time it began. Chargers that never
    connected, or that the operator set Inactive or Maintenance, are not watched."""
    live = (Charger.organization_id == org_id) & (Charger.lifecycle_status == LifecycleStatus.ACTIVE) & \
        Charger.last_heartbeat_at.is_not(None)
    if condition == Condition.OFFLINE:
        rows = session.execute(select(Charger.id, Charger.status_changed_at)
                               .where(live, Charger.status == ChargerStatus.OFFLINE)).all()
    elif condition == Condition.NO_HEARTBEAT:
        rows = session.execute(select(Charger.id, Charger.last_heartbeat_at)
                               .where(live, Charger.connected, Charger.last_heartbeat_at < now - debounce)).all()
    else:
        status = ChargerStatus.FAULTED if condition == Condition.FAULTED else ChargerStatus.SUSPENDED_EVSE
        rows = session.execute(select(Charger.id, func.min(Connector.status_at))
                               .join(Connector, Connector.charger_id == Charger.id)
                               .where(live, Connector.status == status).group_by(Charger.id)).all()
        if condition == Condition.FAULTED:  # the charger itself (connector 0) may report the fault
            rows += session.execute(select(Charger.id, Charger.status_changed_at)
                                    .where(live, Charger.status == ChargerStatus.FAULTED)).all()
    found: dict[int, datetime] = {}
    for cid, since in rows:
        since = since or now
        found[cid] = min(found.get(cid, since), since)
    return found


def _names(chargers: list[Charger]) -> str:
    return ", ".join(c.name or c.ocpp_id for c in sorted(chargers, key=lambda c: c.ocpp_id))


def _site(charger: Charger) -> str:
    return " ".join(charger.address.split())[:500]


def _send(session: Session, alert: Alert, rule: AlertRule, kind: str, title: str, body: str, now: datetime,
          chargers: list[Charger], escalation: bool = False) -> Notification:
    roles = rule.escalate_roles if escalation else rule.roles
    user_ids = rule.escalate_user_ids if escalation else rule.user_ids
    owners = {c.location_owner_id for c in chargers} if rule.location_owners and not escalation else set()
    users = staff_recipients(session=session, organization_id=alert.organization_id, roles=roles,
                             user_ids=user_ids, location_owner_ids=owners)
    note = Notification(organization_id=alert.organization_id, kind=kind, alert_id=alert.id, title=title[:200],
                        body=body, critical=alert.critical, created_at=now,
                        data={"charger_ids": [c.id for c in chargers], "condition": alert.condition})
    return notify_staff(session=session, notification=note, users=users, channels=rule.channels, now=now)


def _open(session: Session, rule: AlertRule, condition: str, site: str, due: dict[int, datetime],
          now: datetime) -> int:
    chargers = [session.get(Charger, cid) for cid in sorted(due)]
    alert = session.execute(select(Alert).where(Alert.rule_id == rule.id, Alert.condition == condition,
                                                Alert.site == site, Alert.resolved_at.is_(None))
                            .order_by(Alert.id).limit(1)).scalar_one_or_none()
    update = alert is not None
    if alert is None:
        alert = Alert(organization_id=rule.organization_id, rule_id=rule.id, condition=condition, site=site,
                      critical=rule.critical, opened_at=now)
        session.add(alert)
        session.flush()
    for c in chargers:
        session.add(AlertCharger(alert_id=alert.id, charger_id=c.id, rule_id=rule.id, condition=condition,
                                 since=due[c.id]))
    label = LABELS[Condition(condition)]
    where = f" at {site}" if site else ""
    count = f"{len(chargers)} chargers" if len(chargers) > 1 else "Charger"
    title = f"{count} {label}{where}: {_names(chargers)}"
    since = min(due.values())
    body = (f"{_names(chargers)} {'are' if len(chargers) > 1 else 'is'} {label}{where} since "
            f"{since:%Y-%m-%d %H:%M} UTC (rule \u201c{rule.name}\u201d, after {rule.debounce_minutes} min).")
    _send(session, alert, rule, "alert_update" if update else "alert_opened", title, body, now, chargers)
    return len(chargers)


def _resolve(session: Session, rule: AlertRule, members: list[AlertCharger], now: datetime) -> None:
    alert = session.get(Alert, members[0].alert_id)
    for m in members:
        m.resolved_at = now
        session.add(m)
    session.flush()
    still = session.execute(select(AlertCharger.charger_id).where(AlertCharger.alert_id == alert.id,
                                                                  AlertCharger.resolved_at.is_(None))).scalars().all()
    chargers = [session.get(Charger, m.charger_id) for m in members]
    label = RECOVERED[Condition(alert.condition)]
    body = f"{_names(chargers)} {'are' if len(chargers) > 1 else 'is'} {label} ({now:%Y-%m-%d %H:%M} UTC)."
    if still:
        body += " Still " + LABELS[Condition(alert.condition)] + ": " + _names(
            [session.get(Charger, cid) for cid in still]) + "."
    else:
        alert.resolved_at = now
        session.add(alert)
    _send(session, alert, rule, "alert_resolved", f"Resolved: {_names(chargers)} {label}", body, now, chargers)


def _escalate(session: Session, rule: AlertRule, now: datetime) -> int:
    if not rule.escalate_after_minutes or not (rule.escalate_roles or rule.escalate_user_ids):
        return 0
    due = session.execute(select(Alert).where(
        Alert.rule_id == rule.id, Alert.resolved_at.is_(None), Alert.acknowledged_at.is_(None),
        Alert.escalated_at.is_(None), Alert.opened_at <= now - timedelta(minutes=rule.escalate_after_minutes))
        .with_for_update()).scalars().all()
    for alert in due:
        alert.escalated_at = now
        session.add(alert)
        ids = session.execute(select(AlertCharger.charger_id).where(AlertCharger.alert_id == alert.id,
                                                                    AlertCharger.resolved_at.is_(None))).scalars()
        chargers = [session.get(Charger, cid) for cid in ids]
        label = LABELS[Condition(alert.condition)]
        title = f"Escalated: {_names(chargers)} {label}, unacknowledged for {rule.escalate_after_minutes} min"
        body = (f"Nobody acknowledged this alert within {rule.escalate_after_minutes} minutes. "
                f"{_names(chargers)} {'are' if len(chargers) > 1 else 'is'} still {label}.")
        _send(session, alert, rule, "alert_escalated", title, body, now, chargers, escalation=True)
    return len(due)


def evaluate(*, session: Session, now: datetime) -> EvaluateResult:
    """One pass over every enabled rule (see the module docstring). Returns what changed."""
    if not session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCK_KEY}).scalar_one():
        return EvaluateResult()  # another evaluator is at it
    opened = resolved = escalated = 0
    rules = session.execute(select(AlertRule).where(AlertRule.enabled).order_by(AlertRule.id)).scalars().all()
    for rule in rules:
        debounce = timedelta(minutes=rule.debounce_minutes)
        for condition in rule.conditions:
            current = _watched(session, rule.organization_id, condition, now, debounce)
            members = session.execute(select(AlertCharger).where(
                AlertCharger.rule_id == rule.id, AlertCharger.condition == condition,
                AlertCharger.resolved_at.is_(None))).scalars().all()
            open_ids = {m.charger_id for m in members}
            by_alert: dict[int, list[AlertCharger]] = defaultdict(list)
            for m in members:
                if m.charger_id not in current:
                    by_alert[m.alert_id].append(m)
            for group in by_alert.values():
                _resolve(session, rule, group, now)
                resolved += len(group)
            by_site: dict[str, dict[int, datetime]] = defaultdict(dict)
            for cid, since in current.items():
                if cid not in open_ids and now - since >= debounce:
                    by_site[_site(session.get(Charger, cid))][cid] = since
            for site, due in sorted(by_site.items()):
                opened += _open(session, rule, condition, site, due, now)
        escalated += _escalate(session, rule, now)
    return EvaluateResult(opened, resolved, escalated)


def acknowledge(*, session: Session, scope: Scope, alert_id: int, now: datetime) -> None:
    """Someone has it in hand: the alert is not escalated any more. Acknowledging twice keeps the first."""
    alert = get_in_scope(session, Alert, alert_id, scope)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by_id = scope.user_id
        session.add(alert)


def raise_charger_alert(*, session: Session, charger_id: int, title: str, body: str, critical: bool,
                        now: datetime, kind: str = "charger_event") -> Notification | None:
    """A staff alert straight from a charger event (e.g. a critical SecurityEventNotification), in the
    caller's transaction. It goes to the recipients and channels of the charger organization's enabled
    rules (every rule's group, once each); with no rule, to nobody, and None is returned."""
    charger = session.get(Charger, charger_id)
    rules = session.execute(select(AlertRule).where(AlertRule.organization_id == charger.organization_id,
                                                    AlertRule.enabled).order_by(AlertRule.id)).scalars().all()
    if not rules:
        return None
    users: dict[int, object] = {}
    channels: set[str] = set()
    for rule in rules:
        owners = {charger.location_owner_id} if rule.location_owners else set()
        for u in staff_recipients(session=session, organization_id=charger.organization_id, roles=rule.roles,
                                  user_ids=rule.user_ids, location_owner_ids=owners):
            users[u.id] = u
        channels.update(rule.channels)
    note = Notification(organization_id=charger.organization_id, kind=kind, title=title[:200], body=body,
                        critical=critical, created_at=now, data={"charger_ids": [charger.id]})
    return notify_staff(session=session, notification=note, users=users.values(), channels=channels, now=now)
