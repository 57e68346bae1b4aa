"""The cross-tenant probe for the web app's event handlers: every handler that takes an id (in its arguments or
in the page's route) is called, as each scoped role of tenant A, with tenant B's ids. The states then hold
nothing of B, and nothing of B changed.

The handlers run in-process exactly as Reflex runs them: a state tree, the router data of the page (with the
login cookie in the socket's headers), and the handler's own function.
"""
from __future__ import annotations

import asyncio
import inspect
import json

import pytest
import reflex as rx
from reflex.istate.data import RouterData

from services.access.auth import issue_token
from state.charger_detail import ChargerDetailState
from state.charger_form import ChargerFormState
from state.invoice_detail import InvoiceDetailState
from state.organization_detail import OrganizationDetailState
from state.transaction_detail import TransactionDetailState
from state.users import UsersState
from tests.utils.probe import RESTRICTED, build, fingerprint, leaked

# (state, handler, route pattern, route parameter, id kind, extra arguments before/after the id)
PAGE_LOADS = [
    (ChargerDetailState, "load", "/chargers/[id]", "id", "charger"),
    (TransactionDetailState, "load", "/transactions/[tx_id]", "tx_id", "transaction"),
    (InvoiceDetailState, "load", "/invoices/[id]", "id", "invoice"),
    (OrganizationDetailState, "load", "/organizations/[org_id]", "org_id", "org"),
]
ID_ARGUMENTS = [
    (ChargerFormState, "open_edit", "charger", lambda i: (i,)),
    (ChargerFormState, "regenerate_key", "charger", lambda i: (i,)),
    (UsersState, "set_user_status", "user", lambda i: (str(i), "disabled")),
    (UsersState, "resend_invitation", "user", lambda i: (str(i),)),
    (OrganizationDetailState, "edit_tariff", "tariff", lambda i: (str(i),)),
]


def _state(cls, token: str, pattern: str = "/", params: dict | None = None, path: str | None = None):
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data({
        "headers": {"cookie": f"voltdesk_token={token}"}, "pathname": pattern, "asPath": path or pattern,
        "query": params or {}, "token": "probe", "sid": "probe",
    })
    return root.get_substate(cls.get_full_name().split(".")[1:])


def _run(cls, handler: str, state, *args) -> None:
    result = cls.event_handlers[handler].fn(state, *args)

    async def drain():
        if inspect.isasyncgen(result):
            async for _ in result:
                pass
        elif inspect.iscoroutine(result):
            await result

    asyncio.run(drain())


def _shown(state) -> str:
    return json.dumps(state.dict(), default=str)


@pytest.fixture
def world(session):
    return build(session)


def _calls(world, owner: bool):
    ids = world.owner_foreign if owner else world.foreign
    for cls, handler, pattern, param, kind in PAGE_LOADS:
        for value in ids[kind]:
            yield cls, handler, (pattern, {param: str(value)}, pattern.replace(f"[{param}]", str(value))), ()
    for cls, handler, kind, args in ID_ARGUMENTS:
        for value in ids[kind]:
            yield cls, handler, ("/", {}, "/"), args(value)


@pytest.mark.parametrize("role", RESTRICTED + ("location_owner",))
def test_handlers_given_another_tenants_ids_show_and_change_nothing_of_it(session, world, role):
    owner = role == "location_owner"
    markers = world.owner_markers if owner else world.markers
    guarded = [world.b_scope] + ([world.other_owner_scope] if owner else [])
    before = [fingerprint(s) for s in guarded]
    token = issue_token(world.users[role])
    problems = []
    for cls, handler, (pattern, params, path), args in _calls(world, owner):
        state = _state(cls, token, pattern, params, path)
        _run(cls, handler, state, *args)
        if found := leaked(_shown(state), markers):
            problems.append(f"{cls.__name__}.{handler}{args or params}: holds {found}")
    assert problems == []
    assert [fingerprint(s) for s in guarded] == before


def test_the_same_handlers_show_the_tenant_its_own_data(session, world):
    """The probe can fail: B's own CPO loading B's charger and session is shown B's markers."""
    token = issue_token(world.b_user)
    shown = []
    for cls, handler, pattern, param, kind in PAGE_LOADS[:2]:
        value = world.foreign[kind][0]
        state = _state(cls, token, pattern, {param: str(value)}, pattern.replace(f"[{param}]", str(value)))
        _run(cls, handler, state)
        shown.append(bool(leaked(_shown(state), world.markers)))
    assert shown == [True, True]
