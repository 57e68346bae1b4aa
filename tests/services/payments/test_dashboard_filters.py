"""The dashboard's organization and date-range filters, applied on the server: whole days in the organization's
timezone, a reversed range refused, another tenant's organization id giving nothing."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.errors import ValidationError
from services.access.scope import scope_for
from services.payments import queries
from tests.services.payments.conftest import ADMIN
from tests.utils.factories import make_charger, make_org, make_tariff, make_user
from tests.utils.payments import make_wallet, paid_session


def _refs(session, scope, **kw):
    span = queries.day_range(session=session, scope=scope, organization_id=kw.get("organization_id"),
                             date_from=kw.get("date_from"), date_to=kw.get("date_to"))
    page = queries.list_payments(session=session, scope=scope, start=span.start, end=span.end,
                                 organization_id=kw.get("organization_id"))
    return sorted(r.reference for r in page.rows), span.timezone


def test_days_are_the_organizations_own_and_other_tenants_see_nothing(session):
    colombo = make_org(session, slug="colombo", currency="LKR", timezone="Asia/Colombo")
    berlin = make_org(session, slug="berlin", currency="EUR", timezone="Europe/Berlin")
    for org in (colombo, berlin):
        make_tariff(session, org, price_per_kwh="0.50")
    # 20:00 UTC on 30 November is already 1 December in Colombo (UTC+05:30).
    late = paid_session(session, make_charger(session, colombo),
                        make_wallet(session, colombo, balance="50.00").customer_account_id, energy_wh=10_000,
                        at=datetime(2026, 11, 30, 20, 0, tzinfo=UTC))
    other = paid_session(session, make_charger(session, berlin),
                         make_wallet(session, berlin, balance="50.00").customer_account_id, energy_wh=10_000,
                         at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    dec1 = dict(date_from=date(2026, 12, 1), date_to=date(2026, 12, 1))
    assert _refs(session, ADMIN, organization_id=colombo.id, **dec1) == ([late.reference], "Asia/Colombo")
    assert _refs(session, ADMIN, **dec1) == ([], "UTC")  # across organizations, days are UTC days
    nov30 = dict(date_from=date(2026, 11, 30), date_to=date(2026, 11, 30))
    assert _refs(session, ADMIN, **nov30)[0] == sorted([late.reference, other.reference])
    cpo = scope_for(session, make_user(session, role="cpo", orgs=[berlin]))
    assert _refs(session, cpo, **nov30) == ([other.reference], "Europe/Berlin")  # its only organization's days
    assert _refs(session, cpo, organization_id=colombo.id)[0] == []  # another tenant's id: nothing
    with pytest.raises(ValidationError, match="starts after it ends"):
        queries.day_range(session=session, scope=ADMIN, organization_id=None, date_from=date(2026, 12, 2),
                          date_to=date(2026, 12, 1))
