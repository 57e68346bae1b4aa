"""The grid monitor in a real browser: while the replay source plays the recorded frequency drop, the gauge
moves and the state turns to alert, pushed through NOTIFY without a reload."""
from __future__ import annotations

import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from core.clock import utcnow
from core.db import SYSTEM, get_system_engine, session_scope
from services.access.scope import system_scope
from services.grid import monitor, policy, readings, regions, response
from services.grid.sources.replay import ReplaySource
from tests.ui.helpers import log_in
from tests.utils.factories import make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
SPEED = 10.0  # recorded seconds per second: a reading every 1.5 s


def _poll(source: ReplaySource) -> str:
    """What the worker does each pass (as the worker's system role), with the test's own timed replay."""
    with session_scope(SYSTEM) as s:
        return monitor.poll(session=s, region=s.get(regions.GridRegion, "DEMO"), source=source).state


def test_the_gauge_moves_live_during_the_replayed_frequency_drop(world, page, screenshot):
    org = make_org(world, slug="lanka")
    regions.ensure_built_in(session=world)
    policy.save_policy(session=world, scope=system_scope(org.id), organization_id=org.id, region="DEMO",
                       enabled=True, limit_percent="50")
    world.commit()
    admin = make_user(world, role="admin")
    # The recorded drop (12:00:00 in the day) starts 20 s from now.
    source = ReplaySource(anchor=utcnow() + timedelta(seconds=20 - 43200 / SPEED), speed=SPEED)
    assert _poll(source) == "normal"

    log_in(page, admin.email)
    page.goto("/grid")
    frequency = page.locator("#grid-frequency")
    expect(frequency).to_have_text(re.compile(r"^(49\.9|50\.0)\d\d Hz$"), timeout=30_000)
    expect(page.locator("#grid-state")).to_have_text("normal")
    page.evaluate("window.__stillHere = true")
    needle = page.locator("#grid-needle").evaluate("e => getComputedStyle(e).transform")

    deadline = time.monotonic() + 90
    # Poll until the replay reaches the bottom of the drop (the thin margin turns the state to alert earlier).
    while time.monotonic() < deadline:
        _poll(source)
        with session_scope() as s:
            if readings.latest(session=s, region="DEMO").frequency_hz < Decimal("49.75"):
                break
        time.sleep(1)
    expect(frequency).to_have_text(re.compile(r"^49\.[67]\d\d Hz$"), timeout=20_000)
    expect(page.locator("#grid-state")).to_have_text("alert", timeout=20_000)
    assert page.locator("#grid-needle").evaluate("e => getComputedStyle(e).transform") != needle
    assert page.evaluate("window.__stillHere") is True  # pushed, not reloaded
    # The worker's demand-response pass opens the organization's event: the page shows it. The pass runs on
    # the worker's engine: the web app's role sees no organization's policy outside a user's scope.
    response.step(engine=get_system_engine(), organization_id=org.id)
    expect(page.locator("#grid-event")).to_contain_text("Demand response active", timeout=20_000)
    expect(page.locator("#grid-event")).to_contain_text("Lanka limited to 50 %")
    expect(page.locator("#grid-event")).to_contain_text("started by the grid state")
    screenshot(page, "grid-monitor-drop")
