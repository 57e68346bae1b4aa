"""Charger alerts with real chargers: debounce, one alert per condition by mail and in-app, the resolved
notice on the same thread, and one coalesced message for a site. Time is the test clock, never a sleep."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import clock
from core.config import get_settings
from models import Charger
from tests.ocpp.conftest import KEY, connect, until
from tests.utils.factories import make_charger, make_org, make_user
from tests.utils.notifications import inbox, make_rule
from tests.utils.smtp import SmtpServer
from worker.jobs import notifications

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def mail(monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setattr(get_settings(), "smtp_url", server.url)
        yield server.inbox


def _status(session, charger_id):
    session.expire_all()
    return session.get(Charger, charger_id).status


def at(minutes: float) -> dict[str, int]:
    clock.set(T0 + timedelta(minutes=minutes))
    return notifications()


async def _drop(server, session, cp_ctx, charger_id):
    await cp_ctx.__aexit__(None, None, None)
    await until(lambda: _status(session, charger_id) == "Offline")


async def test_a_flap_within_the_debounce_alerts_nobody_six_minutes_offline_alerts_once_then_resolves(
        server, session, org, charger, mail):
    manager = make_user(session, role="network_manager", orgs=[org], email="nm@example.test")
    make_rule(session, org, debounce_minutes=5)
    clock.set(T0)
    ctx = connect(server, "CP-1")
    await ctx.__aenter__()
    await _drop(server, session, ctx, charger.id)          # offline at 08:00
    assert at(1)["opened"] == 0
    clock.set(T0 + timedelta(minutes=2))
    ctx = connect(server, "CP-1")
    await ctx.__aenter__()                                   # back at 08:02: a flap
    assert at(6)["opened"] == 0 and at(30)["opened"] == 0
    assert inbox(session, manager.id) == [] and mail.messages == []

    await _drop(server, session, ctx, charger.id)          # offline at 08:30, stays away
    assert at(34)["opened"] == 0                            # 4 minutes: still within the debounce
    assert at(36)["opened"] == 1                            # 6 minutes: one alert
    assert at(37)["opened"] == 0 and at(50)["opened"] == 0  # and only one
    [opened] = inbox(session, manager.id)
    assert opened.kind == "alert_opened" and "CP-1" in opened.title and "offline" in opened.title
    [first] = mail.to("nm@example.test")
    assert first["Subject"] == opened.title

    clock.set(T0 + timedelta(minutes=51))
    async with connect(server, "CP-1"):
        assert at(52)["resolved"] == 1
    alert_notes = inbox(session, manager.id)
    assert [n.kind for n in alert_notes] == ["alert_opened", "alert_resolved"]
    assert alert_notes[1].alert_id == opened.alert_id     # the same thread in-app
    second = mail.wait_for("nm@example.test", 2)
    assert second["In-Reply-To"] == first["Message-ID"]   # and in the mailbox
    assert "back online" in second.get_content()


async def test_three_chargers_of_one_site_offline_together_give_one_message_naming_all_three(
        server, session, org, mail):
    manager = make_user(session, role="network_manager", orgs=[org], email="nm@example.test")
    make_user(session, role="network_manager", orgs=[make_org(session)], email="elsewhere@example.test")
    make_rule(session, org)
    ids = [make_charger(session, org, ocpp_id=f"HB-{n}", auth_key=KEY, address="1 Harbour Road").id
           for n in (1, 2, 3)]
    clock.set(T0)
    for n, cid in zip((1, 2, 3), ids, strict=True):
        ctx = connect(server, f"HB-{n}")
        await ctx.__aenter__()
        await _drop(server, session, ctx, cid)
    assert at(6)["opened"] == 3
    [note] = inbox(session, manager.id)
    assert "3 chargers offline at 1 Harbour Road" in note.title
    assert all(f"HB-{n}" in note.body for n in (1, 2, 3))
    assert len(mail.messages) == 1 and mail.messages[0]["To"] == "nm@example.test"
