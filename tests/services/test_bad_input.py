"""Input the database cannot hold is refused by the services with a clear message (issue 12), so the web
app's handlers show it instead of "An error occurred." (the API has its own check, tests/api)."""
from __future__ import annotations

from datetime import date

import pytest

from core.errors import NotFound, ValidationError
from services.access.auth import authenticate
from services.access.scope import scope_for
from services.billing import invoicing
from services.charging import transactions
from services.network import chargers
from tests.utils.factories import PASSWORD, make_user

BIG = 2**31


@pytest.mark.parametrize(("filters", "message"), [
    ({"date_to": date(9999, 12, 31)}, "Date to must be between 1970-01-01 and 2999-12-31"),
    ({"date_from": date(1, 1, 1)}, "Date from must be between 1970-01-01 and 2999-12-31"),
    ({"charger_id": BIG}, "Charger id must be between"),
    ({"organization_id": -BIG - 1}, "Organization id must be between"),
    ({"connector_id": BIG}, "Connector id must be between"),
    ({"id_tag": "TAG\x00"}, "Id tag contains a character that is not allowed"),
])
def test_transaction_filters_outside_what_is_stored_are_refused(filters, message):
    with pytest.raises(ValidationError, match=message):
        transactions.TxFilter(**filters)


@pytest.mark.parametrize("year", [1, 9999])
def test_a_billing_period_in_year_1_or_9999_is_refused(session, year):
    admin = make_user(session, role="admin")
    with pytest.raises(ValidationError, match="must be between 1970-01-01 and 2999-12-31"):
        invoicing.generate_bulk(session=session, scope=scope_for(session, admin), period_start=date(year, 12, 1),
                                period_end=date(year, 12, 31))
    with pytest.raises(ValidationError, match="must be between 1970-01-01 and 2999-12-31"):
        invoicing.list_invoices(session=session, scope=scope_for(session, admin), period_start=date(year, 12, 1))


def test_an_id_beyond_32_bits_is_simply_not_found(session):
    scope = scope_for(session, make_user(session, role="admin"))
    with pytest.raises(NotFound):
        chargers.get_charger(session=session, scope=scope, charger_id=BIG)
    with pytest.raises(NotFound):
        transactions.get_transaction(session=session, scope=scope, transaction_id=BIG)
    with pytest.raises(NotFound):
        invoicing.get_invoice(session=session, scope=scope, invoice_id=-BIG - 1)


@pytest.mark.parametrize(("email", "password", "message"), [
    ("a\x00@example.test", PASSWORD, "Email contains a character that is not allowed"),
    ("a\ud800@example.test", PASSWORD, "Email contains a character that is not allowed"),
    ("admin@example.test", "pw\x00", "Password contains a character that is not allowed"),
    ("a" * 400 + "@example.test", PASSWORD, "Email must be at most 254 characters"),
])
def test_a_login_with_unstorable_input_is_refused_before_the_throttle(session, email, password, message):
    with pytest.raises(ValidationError, match=message):
        authenticate(session=session, email=email, password=password, ip="10.0.0.1")


def test_a_search_with_a_nul_byte_is_refused_in_every_search_box(session):
    scope = scope_for(session, make_user(session, role="admin"))
    with pytest.raises(ValidationError, match="Search contains a character that is not allowed"):
        chargers.list_chargers(session=session, scope=scope, search="CP\x00")
