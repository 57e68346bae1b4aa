"""`manage.py invoices generate`, run as a real subprocess against the test database."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models import BillingRun, Invoice
from tests.cli.test_manage import count, manage
from tests.utils.factories import make_charger, make_org, make_priced_session


@pytest.fixture
def two_orgs(session):
    a, b = make_org(session, slug="acme"), make_org(session, slug="beta")
    for org in (a, b):
        make_priced_session(session, make_charger(session, org), stopped_at=datetime(2026, 10, 5, tzinfo=UTC),
                            energy="9.99")
    return a, b


def test_invoices_generate_has_help():
    r = manage("invoices", "generate", "--help")
    assert r.returncode == 0 and "--period-start" in r.stdout and "--org SLUG" in r.stdout


def test_generate_for_one_organization_then_all_is_idempotent(session, two_orgs):
    r = manage("invoices", "generate", "--period-start", "2026-10-01", "--period-end", "2026-10-31", "--org", "beta")
    assert r.returncode == 0, r.stderr
    assert "made" in r.stdout and "Invoice INV-BETA-00001 created." in r.stdout
    r = manage("invoices", "generate", "--period-start", "2026-10-01", "--period-end", "2026-10-31")
    assert r.returncode == 0, r.stderr
    assert "Already invoiced as INV-BETA-00001" in r.stdout and "1 made, 1 skipped, 0 failed" in r.stdout
    session.expire_all()
    assert sorted(session.execute(select(Invoice.number)).scalars()) == ["INV-ACME-00001", "INV-BETA-00001"]
    assert set(session.execute(select(BillingRun.trigger)).scalars()) == {"cli"}


@pytest.mark.parametrize("args, message", [
    (["--period-start", "2026-13-01", "--period-end", "2026-10-31"], "is not a date"),
    (["--period-start", "2026-10-31", "--period-end", "2026-10-01"], "before its start"),
    (["--period-start", "2026-10-01", "--period-end", "2026-10-31", "--org", "nowhere"], "does not exist"),
    (["--period-start", "2026-10-01"], "required: --period-end"),
])
def test_bad_arguments_give_a_clear_message_exit_non_zero_and_make_nothing(session, two_orgs, args, message):
    r = manage("invoices", "generate", *args)
    assert r.returncode != 0 and message in r.stderr and "Traceback" not in r.stderr
    assert count(session, Invoice) == 0 and count(session, BillingRun) == 0
