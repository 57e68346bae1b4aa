"""Service helpers the web pages use: every bad field at once for the settings form, a charger typed by id."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.errors import NotFound, ValidationError
from models import AuditLog, Organization
from services.access.permissions import PermissionDenied
from services.access.scope import scope_for
from services.billing import org_settings
from services.charging import transactions as tx_svc
from tests.utils.factories import make_charger, make_org, make_user


def test_the_settings_form_gets_every_bad_field_at_once_and_nothing_is_written(session):
    org = make_org(session, slug="berlin", vat_rate=Decimal("19"))
    user = make_user(session, role="accounts")
    errors = org_settings.field_errors(session=session, scope=scope_for(session, user), org_id=org.id, changes={
        "vat_rate": "-1", "currency": "XXX1", "billing_email": "not-an-email", "payment_terms_days": "30",
        "billing_cycle": "weekly", "billing_day": "31"})
    assert errors == {
        "vat_rate": "VAT rate (%) must be between 0 and 50.",
        "currency": "Unknown currency 'XXX1'. Use an ISO 4217 code such as USD, EUR or LKR.",
        "billing_email": "'not-an-email' is not a valid email address.",
        "billing_day": "Billing day for a weekly cycle must be a weekday from 1 (Monday) to 7 (Sunday).",
    }
    session.expire_all()
    assert session.get(Organization, org.id).vat_rate == Decimal("19")
    assert session.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_changing_cycle_and_day_together_is_judged_as_a_pair(session):
    org = make_org(session, slug="berlin")  # monthly, day 1
    user = make_user(session, role="accounts")
    scope = scope_for(session, user)
    assert org_settings.field_errors(session=session, scope=scope, org_id=org.id,
                                     changes={"billing_cycle": "weekly", "billing_day": "5"}) == {}
    assert set(org_settings.field_errors(session=session, scope=scope, org_id=org.id,
                                         changes={"billing_cycle": "weekly", "billing_day": "28"})) == {"billing_day"}


def test_a_read_only_role_cannot_even_validate_changes_and_other_organizations_are_not_found(session):
    mine, theirs = make_org(session, slug="mine"), make_org(session, slug="theirs")
    cpo = make_user(session, role="cpo", orgs=[mine])
    with pytest.raises(PermissionDenied):
        org_settings.field_errors(session=session, scope=scope_for(session, cpo), org_id=mine.id, changes={})
    support = make_user(session, role="accounts")
    scope = scope_for(session, support).narrowed(mine.id)
    with pytest.raises(NotFound):
        org_settings.field_errors(session=session, scope=scope, org_id=theirs.id, changes={})


def test_a_charger_typed_by_ocpp_id_is_found_case_insensitively_but_only_inside_the_scope(session):
    mine, theirs = make_org(session, slug="mine"), make_org(session, slug="theirs")
    own = make_charger(session, mine, ocpp_id="MINE-1")
    make_charger(session, theirs, ocpp_id="THEIRS-1")
    scope = scope_for(session, make_user(session, role="cpo", orgs=[mine]))
    assert tx_svc.resolve_charger(session=session, scope=scope, ocpp_id=" mine-1 ") == own.id
    with pytest.raises(ValidationError, match="No charger 'THEIRS-1' among your chargers."):
        tx_svc.resolve_charger(session=session, scope=scope, ocpp_id="THEIRS-1")
