"""Times on the charger pages read in the charger's organization's timezone (no browser needed)."""
from __future__ import annotations

from datetime import UTC, datetime

from core.clock import clock
from services.access.scope import scope_for
from services.network import chargers as charger_svc
from services.network import dashboard
from state.fmt import when
from tests.utils.factories import make_charger, make_org, make_transaction, make_user

HEARTBEAT = datetime(2026, 11, 21, 5, 35, tzinfo=UTC)


def test_a_moment_reads_in_the_given_timezone_with_its_abbreviation():
    assert when(HEARTBEAT, "Asia/Colombo") == "2026-11-21 11:05 +0530"
    assert when(HEARTBEAT, "Europe/Berlin") == "2026-11-21 06:35 CET"
    assert when(datetime(2026, 7, 1, 5, 35, tzinfo=UTC), "Europe/Berlin") == "2026-07-01 07:35 CEST"
    assert when(HEARTBEAT, "America/New_York") == "2026-11-21 00:35 EST"  # the day before, locally
    assert when(HEARTBEAT) == "2026-11-21 05:35 UTC"
    assert when(None, "Asia/Colombo") == "Never"


def test_charger_table_dashboard_card_and_detail_carry_the_organizations_timezone(session):
    clock.set(HEARTBEAT)
    org = make_org(session, slug="colombo", currency="LKR", timezone="Asia/Colombo")
    charger = make_charger(session, org, ocpp_id="CMB-1", last_heartbeat_at=HEARTBEAT, last_boot_at=HEARTBEAT)
    make_transaction(session, charger, started_at=HEARTBEAT, stopped_at=HEARTBEAT, energy_wh=1000)
    scope = scope_for(session, make_user(session, role="admin"))

    rows, _ = charger_svc.list_chargers(session=session, scope=scope)
    assert when(rows[0].last_heartbeat_at, rows[0].timezone) == "2026-11-21 11:05 +0530"
    card = dashboard.overview(session=session, scope=scope).cards[0]
    assert when(card.last_heartbeat_at, card.timezone) == "2026-11-21 11:05 +0530"
    live = dashboard.cards_by_id(session=session, scope=scope, charger_ids=[charger.id])[charger.id]
    assert live.timezone == "Asia/Colombo"
    detail = charger_svc.charger_detail(session=session, scope=scope, charger_id=charger.id)
    assert when(detail.charger.last_boot_at, detail.timezone) == "2026-11-21 11:05 +0530"
    assert when(detail.transactions[0].started_at, detail.timezone) == "2026-11-21 11:05 +0530"


def test_page_range_says_which_rows_of_how_many_a_table_shows():
    from state.fmt import page_range

    assert page_range(0, 1, 20, "sessions", "No sessions") == "No sessions"
    assert page_range(1234, 2, 20, "sessions", "No sessions") == "21–40 of 1,234 sessions"
    assert page_range(45, 3, 20, "", "No chargers") == "41–45 of 45"
