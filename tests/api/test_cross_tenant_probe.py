"""The cross-tenant probe: every REST route × every role × another tenant's ids in the path, the query and the
body. Nothing of the other tenant comes back, nothing of it changes, and nothing answers 5xx.

Routes are read from the app itself, so a new route is probed without editing this file. Ids are put wherever
a parameter or body field names them (`charger_id`, `org_id`, `organization_id`, `organization_ids`, ...).
"""
from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from fastapi.routing import APIRoute

from app.api.main import create_api
from tests.utils.factories import auth_headers
from tests.utils.probe import RESTRICTED, WHOLE_NETWORK, build, fingerprint, leaked

# Routes a probe must not call as a user: they end the probing user's own session or need no user at all.
# The event stream never ends (tests/ocpp/test_event_stream.py checks its scoping).
SKIP = ("/api/v1/auth/", "/api/v1/events")
KINDS = {"charger": "charger", "org": "org", "organization": "org", "from_organization": "org", "invoice": "invoice",
         "transaction": "transaction",
         "tx": "transaction", "user": "user", "tariff": "tariff", "location_owner": "owner", "owner": "owner"}


def _kind(name: str) -> str | None:
    base = name.removesuffix("_ids").removesuffix("_id")
    return KINDS.get(base) if base != name else None


# Path parameters of kinds this world seeds no foreign row for: probed with the first ids of their tables (the
# world's rows are all A's or B's), and B's own id tag by name. What must hold is the same: no B marker comes
# back, nothing of B changes, no 5xx.
SMALL_IDS = [1, 2, 3]
BY_NAME = {"tag": ["BRAVOCARD"], "code": ["GB"], "token": ["not-a-token"]}


def _values(name: str, ids: dict[str, list[int]]) -> list:
    kind = _kind(name)
    if kind is not None:
        return ids.get(kind, [])
    return BY_NAME.get(name, SMALL_IDS if name.endswith("_id") else [])


@dataclass(frozen=True)
class Route:
    path: str  # with the router's prefix
    api: APIRoute


def _routes() -> list[Route]:
    found = []
    for r in create_api().routes:
        if isinstance(r, APIRoute):
            found.append(Route(r.path, r))
        elif included := getattr(r, "original_router", None):  # FastAPI 0.16x keeps included routers whole
            prefix = r.include_context.prefix
            found += [Route(prefix + x.path, x) for x in included.routes if isinstance(x, APIRoute)]
    return sorted((r for r in found if not r.path.startswith(SKIP)), key=lambda r: (r.path, sorted(r.api.methods)))


def _filler(annotation) -> object:
    """A plausible value for a required body field that names no id."""
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (list, tuple, set):
        return []
    if origin is not None and args:
        return _filler(args[0])
    return {int: 1, float: 1.0, bool: False, Decimal: "1", date: "2026-05-01"}.get(annotation, "probe")


def _body(route: APIRoute, ids: dict[str, list[int]]) -> dict | None:
    if route.body_field is None:
        return None
    model = route.body_field.field_info.annotation
    fields = getattr(model, "model_fields", {})
    body = {}
    for name, info in fields.items():
        kind = _kind(name)
        if kind and ids.get(kind):
            body[name] = ids[kind] if name.endswith("_ids") else ids[kind][0]
        elif info.is_required():
            body[name] = _filler(info.annotation)
    return body


def _requests(entry: Route, ids: dict[str, list[int]]) -> list[tuple[str, str, dict, dict | None]]:
    """(method, url, query, body) for each foreign id this route can be given."""
    route = entry.api
    path_params = [p.name for p in route.dependant.path_params]
    query_names = [p.name for p in route.dependant.query_params]
    query = {n: ids[k][0] for n in query_names if (k := _kind(n)) and ids.get(k)}
    out = []
    for method in sorted(route.methods):
        if not path_params:
            out.append((method, entry.path, query, _body(route, ids)))
            continue
        for value in _values(path_params[0], ids):
            url = entry.path.replace("{" + path_params[0] + "}", str(value))
            out.append((method, url, query, _body(route, ids)))
    return out


@pytest.fixture
def world(session):
    return build(session)


def test_the_probe_reaches_every_route_with_an_id():
    api_routes = _routes()
    assert len(api_routes) >= 20
    with_ids = [r for r in api_routes if r.api.dependant.path_params]
    unprobed = [r.path for r in with_ids if not _values(r.api.dependant.path_params[0].name, {"x": [1]})
                and not _kind(r.api.dependant.path_params[0].name)]
    assert not unprobed, f"teach the probe these path parameters: {unprobed}"


@pytest.mark.parametrize("role", RESTRICTED + ("location_owner",))
def test_a_scoped_role_gets_nothing_of_another_tenant_and_changes_nothing(session, client, world, role):
    user = world.users[role]
    owner = role == "location_owner"
    ids = world.owner_foreign if owner else world.foreign
    markers = world.owner_markers if owner else world.markers
    guarded = [world.b_scope] + ([world.other_owner_scope] if owner else [])
    before = [fingerprint(s) for s in guarded]
    headers = auth_headers(user)
    problems = []
    for route in _routes():
        for method, url, query, body in _requests(route, ids):
            r = client.request(method, url, params=query, json=body, headers=headers)
            if r.status_code >= 500:
                problems.append(f"{method} {url} {query}: {r.status_code}")
            elif found := [m for m in leaked(r.text, markers) if m not in url]:  # its own URL echoed is no leak
                problems.append(f"{method} {url} {query}: shows {found}")
            elif r.is_success and method == "GET" and route.api.dependant.path_params \
                    and _kind(route.api.dependant.path_params[0].name):
                problems.append(f"{method} {url}: {r.status_code} for another tenant's id")
    assert problems == []
    assert [fingerprint(s) for s in guarded] == before


@pytest.mark.parametrize("role", WHOLE_NETWORK)
def test_whole_network_roles_read_every_route_without_a_server_error(session, client, world, role):
    # Every tenant is theirs: what they read of B is allowed, and their writes to B are real writes.
    headers = auth_headers(world.users[role])
    errors = [f"{m} {u}: {r.status_code}" for route in _routes() for m, u, q, b in _requests(route, world.foreign)
              if m == "GET" and (r := client.request(m, u, params=q, headers=headers)).status_code >= 500]
    assert errors == []


def test_the_same_probe_run_by_the_tenant_itself_finds_its_markers(session, client, world):
    """The probe can fail: tenant B's own CPO, sent the same requests, is shown B's marked data."""
    headers = auth_headers(world.b_user)
    shown = {u for route in _routes() for m, u, q, b in _requests(route, world.foreign)
             if m == "GET" and leaked(client.request(m, u, params=q, headers=headers).text, world.markers)}
    assert {"/api/v1/chargers", "/api/v1/transactions", "/api/v1/invoices"} <= shown
