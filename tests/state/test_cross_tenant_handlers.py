"""The cross-tenant probe for the web app's event handlers: every handler that takes an id (in its arguments, a
form, a setter's value, a filter, or the page's route) is called, as each scoped role of tenant A, with tenant
B's ids. The states (and what the handlers answer) then hold nothing of B, and nothing of B changed.

The handlers are found from the code (tests/utils/handler_catalogue.py), not listed here: a handler whose
parameter the catalogue cannot place (a new id argument, form, setter or dynamic route) fails
`test_every_handler_with_an_id_is_probed_or_exempted`. Discovered on 2026-12-03: 320 handlers in state/, 186
of them with parameters; 60 probed (65 probes: one per id a handler takes) plus the 8 dynamic routes with an id,
loaded with B's id and followed by every action of their states (10 probes), 75 probes in all and 276 cases
(probe x role); 126 let off with their reason (50 plain setters, 27 with no id parameter, 16 name/value
setters with no id name, 33 token pages, own-profile forms, forms of the page's own record and public regions).

The handlers run in-process exactly as Reflex runs them: a state tree, the router data of the page (with the
login cookie in the socket's headers), the page's on_load, then the handler's own function; events a handler
returns or yields that belong to a state are run next, as the browser would ask for them. One world serves the
module: a probe that changes B fails at once, naming the handler.
"""
from __future__ import annotations

import asyncio
import inspect
import json

import pytest
import reflex as rx
from reflex.event import EventHandler, EventSpec
from reflex.istate.data import RouterData
from sqlmodel import Session

from core.clock import clock
from services.access.auth import issue_token
from state.base import AppState
from state.notifications import BellState
from tests.conftest import _truncate
from tests.utils.handler_catalogue import FOREIGN, ROUTES, Foreign, Own, Probe, discover, handlers, page_loads
from tests.utils.probe import KINDS, RESTRICTED, build, fingerprint, leaked

PROBES, EXEMPT, UNPLACED = discover()
LOADS = dict(page_loads())
STAFF = RESTRICTED + ("location_owner",)


@pytest.fixture(scope="module")
def world(engine, owner_engine):
    with Session(engine, expire_on_commit=False) as s:
        w = build(s)
    guarded = [w.b_scope, w.other_owner_scope]
    w.baseline = [fingerprint(s) for s in guarded]
    yield w
    clock.set(None)
    _truncate(owner_engine)


def _root(token: str, pattern: str, path: str, params: dict):
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data({
        "headers": {"cookie": f"voltdesk_token={token}"}, "pathname": pattern, "asPath": path,
        "query": params, "token": "probe", "sid": "probe",
    })
    return root


def _substate(root, cls):
    return root.get_substate(cls.get_full_name().split(".")[1:])


async def _drain(result, out: list) -> None:
    if inspect.isasyncgen(result):
        async for item in result:
            out.append(item)
    elif inspect.iscoroutine(result):
        out.append(await result)
    elif inspect.isgenerator(result):
        out.extend(result)
    else:
        out.append(result)


def _flatten(items):
    for item in items:
        if isinstance(item, list | tuple):
            yield from _flatten(item)
        elif item is not None:
            yield item


async def _call(root, cls, name: str, args: tuple, answers: list, depth: int = 0) -> None:
    """Run one handler on the tree, then the state events it answers (as the browser would send them)."""
    handler = cls.event_handlers[name]
    out: list = []
    await _drain(handler.fn(_substate(root, cls), *args), out)
    for item in _flatten(out):
        answers.append(item)
        follow = item.handler if isinstance(item, EventSpec) else item
        if depth < 2 and isinstance(follow, EventHandler) and not follow.is_background and follow.state_full_name:
            owner = next((c for c in _all_states() if c.get_full_name() == follow.state_full_name), None)
            spec_args = tuple(v._var_value for _, v in getattr(item, "args", ())) if isinstance(item, EventSpec) else ()
            if owner is not None and all(hasattr(v, "_var_value") for _, v in getattr(item, "args", ())):
                await _call(root, owner, follow.fn.__name__, spec_args, answers, depth + 1)


async def _play(root, steps: list) -> list:
    """Run the steps in order on one tree; everything the handlers answered."""
    answers: list = []
    for cls, name, args in steps:
        await _call(root, cls, name, args, answers)
    return answers


def _all_states():
    return {cls for cls, _, _ in handlers().values()}


def _value(v, foreign, own: dict):
    if isinstance(v, Foreign):
        return v.fmt.format(foreign)
    if isinstance(v, Own):
        return str((own.get(v.kind) or [""])[0])
    if isinstance(v, dict):
        return {k: _value(x, foreign, own) for k, x in v.items()}
    return v


def _ids(probe: Probe, world, role: str) -> list:
    if probe.customer:
        return world.customer_foreign[probe.kind]
    return (world.owner_foreign if role == "location_owner" else world.foreign)[probe.kind]


def _shown(root, answers: list) -> str:
    return json.dumps(root.dict(), default=str) + repr(answers)


def _cache(table: str) -> bool:
    """Figures derived from the sessions and refreshed when read (models/stats.py): a page of tenant A refreshing
    its own organization's windows changes what the other owner of A sees there, and is no change of its data."""
    return table.endswith(("_stat", "_as_of"))


def _cases():
    for probe in PROBES:
        for role in (("customer",) if probe.customer else STAFF):
            yield pytest.param(probe, role, id=f"{probe.name}-{role}")


@pytest.mark.parametrize(("probe", "role"), list(_cases()))
def test_a_handler_given_another_tenants_id_shows_and_changes_nothing_of_it(world, probe: Probe, role: str):
    token = world.customer_token if role == "customer" else issue_token(world.users[role])
    markers = world.owner_markers if role == "location_owner" else world.markers
    ids = _ids(probe, world, role)
    assert ids, f"the world has no {probe.kind} of tenant B's to try"
    own = world.owner_own if role == "location_owner" else world.customer_own if role == "customer" else world.own
    problems = []
    for foreign in ids:
        value = _value(probe.route_value, str(foreign), own)
        pattern, param = probe.route
        path = pattern.replace(f"[{param}]", value) if param else pattern
        root = _root(token, pattern, path, {param: value} if param else {})
        steps = (LOADS.get(pattern, []) if param else []) + [
            (cls, name, tuple(_value(a, str(foreign), own) for a in args)) for cls, name, args in probe.steps]
        answers = asyncio.run(_play(root, steps))
        # A text id the probe typed (a card's tag, a charger's OCPP id) may be echoed back: that is no leak.
        shown = _shown(root, answers) if isinstance(foreign, int) else _shown(root, answers).replace(foreign, "")
        if found := leaked(shown, markers):
            problems.append(f"{probe.name} with {probe.kind} {foreign}: holds {found}")
    assert problems == []
    # The other owner of A is guarded against the location owner only: A's staff may act on its chargers.
    after = [fingerprint(s) for s in (world.b_scope, world.other_owner_scope)]
    guarded = ("B", "other owner") if role == "location_owner" else ("B",)
    changed = [f"{who}: {table}" for who, now, then in zip(guarded, after, world.baseline, strict=False)
               for table in now if now[table] != then.get(table) and not (who != "B" and _cache(table))]
    world.baseline = after  # judge the next probe on its own
    assert changed == [], f"{probe.name} as {role} changed rows of {changed}"


def test_every_handler_with_an_id_is_probed_or_exempted():
    """Every handler with a parameter is probed or let off with a reason; every id kind tried is in the world."""
    assert UNPLACED == []
    assert {p.kind for p in PROBES} <= set(KINDS)
    probed = {p.name.split("[")[0] for p in PROBES if not p.name.startswith("/")}
    with_parameters = {name for name, (_, _, sig) in handlers().items() if len(sig.parameters) > 1}
    assert with_parameters == probed | set(EXEMPT)
    assert {p.route[0] for p in PROBES if p.route_value is FOREIGN} == set(ROUTES)


@pytest.mark.parametrize("pattern", sorted(ROUTES))
def test_each_probed_page_shows_its_own_tenant_its_record(world, pattern: str):
    """The route probes can fail: B's own CPO (the admin for a client tenant) loading each page with B's id is
    shown B's markers. A page that
    showed nobody anything (a broken load) would otherwise pass the probe unnoticed."""
    param, kind = pattern[pattern.index("[") + 1:pattern.index("]")], ROUTES[pattern]
    value = str(world.foreign[kind][0])
    # OEM client tenants are managed by the operator, not by a CPO: their page is checked as the admin.
    viewer = world.users["admin"] if pattern.startswith("/clients/") else world.b_user
    root = _root(issue_token(viewer), pattern, pattern.replace(f"[{param}]", value), {param: value})
    asyncio.run(_play(root, LOADS[pattern]))
    # The page's own states only: the shell (the guard's AppState holds every state below it, the organization
    # switcher, the bell) shows B's names on every page.
    own = [cls for cls, _, _ in LOADS[pattern] if cls not in (AppState, BellState)]
    page = json.dumps([_substate(root, cls).dict() for cls in own], default=str)
    assert leaked(page, world.markers), f"{pattern} showed B's CPO nothing of B's {kind}"


def test_the_probe_sees_the_tenant_its_own_data(world):
    """The probe can fail: B's own CPO loading B's charger and session is shown B's markers, and acknowledging
    B's alert changes B's rows (last in the module: it changes the world)."""
    token = issue_token(world.b_user)
    shown = []
    for pattern, kind in (("/chargers/[id]", "charger"), ("/transactions/[tx_id]", "transaction")):
        param = pattern[pattern.index("[") + 1:-1]
        value = str(world.foreign[kind][0])
        root = _root(token, pattern, pattern.replace(f"[{param}]", value), {param: value})
        answers = asyncio.run(_play(root, LOADS[pattern]))
        shown.append(bool(leaked(_shown(root, answers), world.markers)))
    assert shown == [True, True]
    before = fingerprint(world.b_scope)
    asyncio.run(_play(_root(token, "/", "/", {}), [(BellState, "acknowledge", (str(world.foreign["alert"][0]),))]))
    after = fingerprint(world.b_scope)
    assert [t for t in after if after[t] != before[t]] == ["alert"]


def _forged_cases():
    for probe in PROBES:
        yield pytest.param(probe, "customer" if probe.customer else "network_manager", id=probe.name)


@pytest.mark.parametrize(("probe", "role"), list(_forged_cases()))
def test_a_handler_given_a_forged_id_that_is_no_number_answers_without_an_error(world, probe: Probe, role: str):
    """Ids reach handlers as browser strings: one that is no number (or too big for an id) is refused or shown
    as not found, never an exception (which Reflex answers with a bare "An error occurred")."""
    token = world.customer_token if role == "customer" else issue_token(world.users[role])
    own = world.customer_own if role == "customer" else world.own
    for forged in ("not-a-number", "99999999999999999999", "-1"):
        value = _value(probe.route_value, forged, own)
        pattern, param = probe.route
        path = pattern.replace(f"[{param}]", value) if param else pattern
        root = _root(token, pattern, path, {param: value} if param else {})
        steps = (LOADS.get(pattern, []) if param else []) + [
            (cls, name, tuple(_value(a, forged, own) for a in args)) for cls, name, args in probe.steps]
        asyncio.run(_play(root, steps))
