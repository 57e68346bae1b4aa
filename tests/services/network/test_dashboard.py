"""The dashboard overview counts and cards stay inside the caller's scope."""
from __future__ import annotations

from services.access.scope import scope_for
from services.network import dashboard
from tests.utils.factories import make_charger, make_location_owner, make_org, make_user


def _network(session):
    a, b = make_org(session, slug="alpha"), make_org(session, slug="bravo")
    make_charger(session, a, ocpp_id="A1", status="Available")
    make_charger(session, a, ocpp_id="A2", status="Charging")
    make_charger(session, a, ocpp_id="A3", status="Faulted")
    make_charger(session, a, ocpp_id="A4", status="Available", visible=False)
    make_charger(session, b, ocpp_id="B1", status="Charging")
    return a, b


def test_admin_counts_every_visible_charger_by_status(session):
    _network(session)
    o = dashboard.overview(session=session, scope=scope_for(session, make_user(session, role="admin")))
    assert (o.status_counts["Available"], o.status_counts["Charging"], o.status_counts["Faulted"]) == (1, 2, 1)
    assert o.status_counts["Offline"] == 0
    assert o.chargers == 4  # the hidden charger is left out
    assert o.organizations == 3  # operator + alpha + bravo
    assert [c.ocpp_id for c in o.cards] == ["A1", "A2", "A3", "B1"]


def test_cpo_sees_only_its_organization_in_counts_and_cards(session):
    a, _ = _network(session)
    o = dashboard.overview(session=session, scope=scope_for(session, make_user(session, role="cpo", orgs=[a])))
    assert o.chargers == 3 and o.organizations == 1
    assert {c.ocpp_id for c in o.cards} == {"A1", "A2", "A3"}
    assert o.cards[0].organization_name == "Alpha"


def test_location_owner_sees_only_its_assigned_chargers(session):
    a = make_org(session, slug="alpha")
    owner = make_location_owner(session, a, "Mall")
    make_charger(session, a, ocpp_id="MINE", location_owner=owner)
    make_charger(session, a, ocpp_id="NOT-MINE")
    user = make_user(session, role="location_owner", location_owner=owner)
    o = dashboard.overview(session=session, scope=scope_for(session, user))
    assert [c.ocpp_id for c in o.cards] == ["MINE"] and o.chargers == 1


def test_cards_filter_by_status_and_page(session):
    _network(session)
    scope = scope_for(session, make_user(session, role="admin"))
    o = dashboard.overview(session=session, scope=scope, status="Charging", limit=1, offset=1)
    assert o.matching == 2
    assert [c.ocpp_id for c in o.cards] == ["B1"]
