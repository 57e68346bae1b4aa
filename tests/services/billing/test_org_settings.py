"""Organization settings: validated edits, refused bad input with nothing saved, audit trail, logos."""
from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, select

from core.clock import clock
from core.config import get_settings
from core.errors import NotFound, ValidationError
from models import AuditLog, CommissionContract, Organization, Tariff
from services.access.permissions import PermissionDenied
from services.access.scope import scope_for
from services.billing import org_settings
from services.charging import tariffs
from tests.utils.factories import make_charger, make_org, make_priced_session, make_user


@pytest.fixture
def org(session):
    return make_org(session, slug="berlin", currency="EUR", vat_rate=Decimal("19"))


@pytest.fixture
def accounts(session):
    user = make_user(session, role="accounts")
    return user, scope_for(session, user)


def _fresh(session, org_id) -> Organization:
    session.expire_all()
    return session.get(Organization, org_id)


def _edit(session, who, org, **changes):
    user, scope = who
    result = org_settings.update_organization(session=session, scope=scope, user_id=user.id, org_id=org.id,
                                              changes=changes)
    session.commit()
    return result


@pytest.mark.parametrize("changes,message", [
    ({"vat_rate": "-1"}, "VAT rate (%) must be between 0 and 50"),
    ({"gateway_fee_fixed": "-0.30"}, "Gateway fixed fee must be between 0"),
    ({"energy_cost_per_kwh": "abc"}, "Energy cost per kWh must be a number"),
    ({"billing_cycle": "weekly", "billing_day": 31}, "Billing day for a weekly cycle must be a weekday from 1"),
    ({"currency": "XYZ"}, "Unknown currency 'XYZ'"),
    ({"timezone": "Mars/Olympus"}, "Unknown timezone"),
    ({"payment_terms_days": 400}, "Payment terms must be between 0 and 365"),
    ({"name": "Renamed", "ssc_levy_rate": "25"}, "SSC levy rate (%) must be between 0 and 20"),
    # Issue 12: more precision than the column keeps is refused, not rounded away (nor a 500).
    ({"vat_rate": "18.1234567890123456789"}, "VAT rate (%) may have at most 3 decimal places"),
    ({"vat_rate": "0.00001"}, "VAT rate (%) may have at most 3 decimal places"),
    ({"gateway_fee_fixed": "0.00001"}, "Gateway fixed fee may have at most 4 decimal places"),
    ({"energy_cost_per_kwh": "1e-1000000"}, "Energy cost per kWh may have at most 4 decimal places"),
    ({"platform_commission_rate": "8.1234"}, "Platform commission (%) may have at most 3 decimal places"),
    ({"name": "Ber\x00lin"}, "Name contains a character that is not allowed"),
    ({"address": "Street \ud800"}, "Address contains a character that is not allowed"),
    ({"billing_email": "a\x00@example.test"}, "Email contains a character that is not allowed"),
])
def test_bad_input_is_refused_with_a_clear_message_and_nothing_saved(session, org, accounts, changes, message):
    with pytest.raises(ValidationError) as err:
        _edit(session, accounts, org, **changes)
    assert message in err.value.message
    session.rollback()
    fresh = _fresh(session, org.id)
    assert (fresh.name, fresh.vat_rate, fresh.currency, fresh.billing_cycle) == ("Berlin", Decimal("19"), "EUR",
                                                                                 "monthly")
    assert session.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_trailing_zeros_are_not_extra_precision(session, org, accounts):
    _edit(session, accounts, org, vat_rate="18.12300000", gateway_fee_fixed="0.30000")
    fresh = _fresh(session, org.id)
    assert (fresh.vat_rate, fresh.gateway_fee_fixed) == (Decimal("18.123"), Decimal("0.3"))


def test_switching_to_a_weekly_cycle_keeps_a_valid_billing_day(session, org, accounts):
    _edit(session, accounts, org, billing_cycle="monthly", billing_day=20)
    with pytest.raises(ValidationError, match="weekly cycle"):
        _edit(session, accounts, org, billing_cycle="weekly")
    session.rollback()
    _edit(session, accounts, org, billing_cycle="weekly", billing_day=5)
    assert (_fresh(session, org.id).billing_cycle, _fresh(session, org.id).billing_day) == ("weekly", 5)


def test_every_edit_is_audited_with_who_when_and_old_and_new_values(session, org, accounts):
    clock.set(datetime(2026, 3, 10, 9, tzinfo=UTC))
    org = _fresh(session, org.id)
    _edit(session, accounts, org, vat_rate="7.7", currency="chf", legal_name="Berlin GmbH", name="Berlin")
    fresh = _fresh(session, org.id)
    assert (fresh.vat_rate, fresh.currency, fresh.legal_name) == (Decimal("7.7"), "CHF", "Berlin GmbH")
    [entry] = org_settings.audit_trail(session=session, scope=accounts[1], org_id=org.id)
    assert entry.user_email == accounts[0].email
    assert entry.created_at == datetime(2026, 3, 10, 9, tzinfo=UTC)
    assert entry.changes == {"vat_rate": {"old": "19.000", "new": "7.7"}, "currency": {"old": "EUR", "new": "CHF"},
                             "legal_name": {"old": None, "new": "Berlin GmbH"}}


def test_changing_the_platform_commission_adds_a_contract_effective_now(session, org, accounts):
    clock.set(datetime(2026, 3, 10, 9, tzinfo=UTC))
    _edit(session, accounts, org, platform_commission_rate="8")
    [contract] = session.scalars(select(CommissionContract)).all()
    assert (contract.kind, contract.rate, contract.effective_from) == (
        "platform", Decimal("8"), datetime(2026, 3, 10, 9, tzinfo=UTC))
    assert org_settings.detail(session=session, scope=accounts[1], org_id=org.id).platform_commission_rate == 8


@pytest.mark.parametrize("role", ["network_manager", "customer_support", "cpo"])
def test_only_admin_technical_and_accounts_may_edit(session, org, role):
    user = make_user(session, role=role, orgs=[org])
    with pytest.raises(PermissionDenied):
        _edit(session, (user, scope_for(session, user)), org, name="Hacked")


def test_editing_an_organization_outside_the_scope_answers_not_found(session, org):
    other = make_org(session, slug="other")
    cpo = make_user(session, role="cpo", orgs=[other])
    scope = scope_for(session, cpo)
    with pytest.raises(NotFound):
        org_settings.detail(session=session, scope=scope, org_id=org.id)


def _image(fmt: str, size=(64, 32)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


def test_a_png_logo_is_stored_and_audited(session, org, accounts, tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "upload_dir", tmp_path)
    user, scope = accounts
    org_settings.set_logo(session=session, scope=scope, user_id=user.id, org_id=org.id, data=_image("PNG"))
    session.commit()
    fresh = _fresh(session, org.id)
    assert fresh.logo_path.endswith(".png")
    assert org_settings.logo_file(fresh).read_bytes() == _image("PNG")
    assert session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "set_logo")) == 1


@pytest.mark.parametrize("data,message", [
    (b"%PDF-1.7 not an image", "must be a PNG, JPEG, WebP or GIF"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "must be a PNG, JPEG, WebP or GIF"),
    (b"", "empty"),
    ("big", "the limit is 1024 KB"),
    ("bmp", "must be a PNG, JPEG, WebP or GIF"),
])
def test_oversized_or_non_image_logos_are_refused_and_nothing_is_saved(session, org, accounts, tmp_path,
                                                                        monkeypatch, data, message):
    monkeypatch.setattr(get_settings(), "upload_dir", tmp_path)
    if data == "big":
        data = _image("PNG") + b"\0" * (1024 * 1024)  # a real PNG header, padded over the limit
    elif data == "bmp":
        data = _image("BMP")
    user, scope = accounts
    with pytest.raises(ValidationError) as err:
        org_settings.set_logo(session=session, scope=scope, user_id=user.id, org_id=org.id, data=data)
    assert message in err.value.message
    session.rollback()
    assert _fresh(session, org.id).logo_path is None
    assert list(tmp_path.iterdir()) == []


def test_the_stored_logo_type_comes_from_its_bytes_not_a_file_name(session, org, accounts, tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "upload_dir", tmp_path)
    user, scope = accounts
    org_settings.set_logo(session=session, scope=scope, user_id=user.id, org_id=org.id, data=_image("JPEG"))
    assert org.logo_path.endswith(".jpg")


def test_tariff_with_a_negative_rate_or_overlapping_bands_is_refused(session, org, accounts):
    user, scope = accounts
    with pytest.raises(ValidationError, match="Price per kWh must be between 0"):
        tariffs.create_tariff(session=session, scope=scope, user_id=user.id, organization_id=org.id, name="Bad",
                              price_per_kwh="-0.10")
    with pytest.raises(ValidationError, match="Band 2 overlaps"):
        tariffs.create_tariff(session=session, scope=scope, user_id=user.id, organization_id=org.id, name="Bad",
                              price_per_kwh="0.30", bands=[{"start": "22:00", "end": "06:00", "price_per_kwh": "0.2"},
                                                           {"start": "05:00", "end": "07:00", "price_per_kwh": "0.4"}])
    with pytest.raises(ValidationError, match="times like 07:00"):
        tariffs.create_tariff(session=session, scope=scope, user_id=user.id, organization_id=org.id, name="Bad",
                              price_per_kwh="0.30", bands=[{"start": "25:00", "end": "06:00", "price_per_kwh": "0.2"}])
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Tariff)) == 0


def test_the_first_tariff_becomes_the_default_and_a_new_default_replaces_it(session, org, accounts):
    user, scope = accounts
    first = tariffs.create_tariff(session=session, scope=scope, user_id=user.id, organization_id=org.id,
                                  name="Standard", price_per_kwh="0.49")
    second = tariffs.create_tariff(session=session, scope=scope, user_id=user.id, organization_id=org.id,
                                   name="Night", price_per_kwh="0.29", is_default=True)
    session.commit()
    rows = tariffs.list_tariffs(session=session, scope=scope, organization_id=org.id)
    assert [(r.name, r.is_default) for r in rows] == [("Night", True), ("Standard", False)]
    assert first.id != second.id


def test_the_currency_cannot_change_once_the_organization_has_sessions(session, org, accounts):
    user, scope = accounts
    make_priced_session(session, make_charger(session, org), stopped_at=datetime(2026, 3, 1, tzinfo=UTC),
                        energy="10")
    with pytest.raises(ValidationError, match="currency cannot change: Berlin already has charging sessions in EUR"):
        _edit(session, accounts, org, currency="USD", name="Berlin USD")
    session.rollback()
    fresh = _fresh(session, org.id)
    assert (fresh.currency, fresh.name) == ("EUR", "Berlin")  # nothing saved
    errors = org_settings.field_errors(session=session, scope=scope, org_id=org.id, changes={"currency": "USD"})
    assert "already has charging sessions" in errors["currency"]
    _edit(session, accounts, org, currency="EUR", name="Berlin")  # the same currency is no change
