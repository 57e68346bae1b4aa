"""Times on the charger pages read in the charger's organization's timezone (no browser needed)."""
from __future__ import annotations

from datetime import UTC, datetime

from core.clock import clock
from core.fmt import MISSING, when
from services.access.scope import scope_for
from services.network import chargers as charger_svc
from services.network import dashboard
from state.dashboard import _card
from tests.utils.factories import make_charger, make_org, make_transaction, make_user

HEARTBEAT = datetime(2026, 11, 21, 5, 35, tzinfo=UTC)


def test_charger_table_dashboard_card_and_detail_carry_the_organizations_timezone(session):
    clock.set(HEARTBEAT)
    org = make_org(session, slug="colombo", currency="LKR", timezone="Asia/Colombo")
    charger = make_charger(session, org, ocpp_id="CMB-1", last_heartbeat_at=HEARTBEAT, last_boot_at=HEARTBEAT)
    make_transaction(session, charger, started_at=HEARTBEAT, stopped_at=HEARTBEAT, energy_wh=1000)
    scope = scope_for(session, make_user(session, role="admin"))

    rows, _ = charger_svc.list_chargers(session=session, scope=scope)
    assert when(rows[0].last_heartbeat_at, rows[0].timezone) == "2026-11-21 11:05 +0530"
    card = dashboard.overview(session=session, scope=scope).cards[0]
    assert _card(card)["heartbeat"] == "2026-11-21 11:05 +0530"
    live = dashboard.cards_by_id(session=session, scope=scope, charger_ids=[charger.id])[charger.id]
    assert live.timezone == "Asia/Colombo"
    detail = charger_svc.charger_detail(session=session, scope=scope, charger_id=charger.id)
    assert when(detail.charger.last_boot_at, detail.timezone) == "2026-11-21 11:05 +0530"
    assert when(detail.transactions[0].started_at, detail.timezone) == "2026-11-21 11:05 +0530"


def test_a_charger_that_never_sent_a_heartbeat_shows_the_missing_mark_on_its_card(session):
    org = make_org(session, slug="berlin", timezone="Europe/Berlin")
    make_charger(session, org, ocpp_id="BER-1", last_heartbeat_at=None)
    scope = scope_for(session, make_user(session, role="admin"))

    card = dashboard.overview(session=session, scope=scope).cards[0]
    assert _card(card)["heartbeat"] == MISSING
