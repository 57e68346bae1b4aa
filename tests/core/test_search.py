"""Search boxes take `%`, `_` and `\\` literally (core/search.py), in every list that searches."""
from __future__ import annotations

import pytest

from services.access.scope import scope_for
from services.access.users import list_users
from services.network.chargers import list_chargers
from services.network.dashboard import overview
from tests.utils.factories import make_charger, make_org, make_user


@pytest.fixture
def world(session):
    org = make_org(session)
    for ocpp_id, name in (("CP_1", "Harbour"), ("CPX1", "Quay"), ("CP-2", "100% green"), ("CP-3", "1000 green"),
                          ("CP-4", "back\\slash"), ("CP-5", "backXslash")):
        make_charger(session, org, ocpp_id=ocpp_id, name=name)
    admin = make_user(session, role="admin", email="ad_min@x.test")
    make_user(session, role="admin", email="adxmin@x.test")
    session.commit()
    return scope_for(session, admin)


@pytest.mark.parametrize(("search", "found"), [("P_1", ["CP_1"]), ("0% g", ["CP-2"]), ("k\\s", ["CP-4"]),
                                               ("cp-", ["CP-2", "CP-3", "CP-4", "CP-5"])])
def test_wildcards_in_a_charger_search_match_literally(session, world, search, found):
    rows, total = list_chargers(session=session, scope=world, search=search)
    assert sorted(r.ocpp_id for r in rows) == found and total == len(found)


def test_wildcards_in_a_user_search_match_literally(session, world):
    rows, total = list_users(session=session, scope=world, search="d_m")
    assert [r.email for r in rows] == ["ad_min@x.test"] and total == 1
    assert list_users(session=session, scope=world, search="%")[1] == 0


def test_wildcards_in_the_dashboard_search_match_literally(session, world):
    cards = overview(session=session, scope=world, search="P_1").cards
    assert [c.ocpp_id for c in cards] == ["CP_1"]
