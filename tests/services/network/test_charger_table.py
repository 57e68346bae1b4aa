"""The charger table's sort and filter options, always inside the scope."""
from __future__ import annotations

from services.access.scope import scope_for
from services.network import chargers as svc
from tests.utils.factories import make_charger, make_org, make_user


def test_charger_table_sorts_by_name_descending_and_filters_by_status_and_lifecycle(session):
    a, b = make_org(session, slug="alpha"), make_org(session, slug="bravo")
    make_charger(session, a, ocpp_id="A1", name="Zeta", status="Charging")
    make_charger(session, a, ocpp_id="A2", name="Alpha", status="Charging", lifecycle_status="Maintenance")
    make_charger(session, a, ocpp_id="A3", name="Mid", status="Available")
    make_charger(session, b, ocpp_id="B1", name="Other", status="Charging")
    scope = scope_for(session, make_user(session, role="cpo", orgs=[a]))
    rows, total = svc.list_chargers(session=session, scope=scope, sort="name", descending=True)
    assert [r.name for r in rows] == ["Zeta", "Mid", "Alpha"] and total == 3
    rows, total = svc.list_chargers(session=session, scope=scope, status="Charging")
    assert [r.ocpp_id for r in rows] == ["A1", "A2"] and total == 2
    rows, _ = svc.list_chargers(session=session, scope=scope, lifecycle_status="Maintenance")
    assert [r.ocpp_id for r in rows] == ["A2"]
