"""Pricing: hand-calculated sessions, priced once, contracts and tariff prices as at the start."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.clock import clock
from core.errors import ValidationError
from models import Transaction
from services.access.scope import scope_for
from services.charging import contracts, tariffs
from services.charging.pricing import price_transaction
from tests.utils.factories import (
    make_charger,
    make_contract,
    make_location_owner,
    make_org,
    make_tariff,
    make_transaction,
    make_user,
    stop_transaction,
)

NY = ZoneInfo("America/New_York")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def amounts(tx: Transaction) -> dict[str, Decimal]:
    keys = ("energy", "time", "session_fee", "idle", "subtotal", "vat", "ssc", "gross", "gateway", "platform",
            "location_owner", "net_cpo")
    return {k: getattr(tx, f"amount_{k}") for k in keys}


@pytest.fixture
def gotham(session):
    org = make_org(session, slug="gotham", currency="USD", timezone="America/New_York", vat_rate=Decimal("8.875"),
                   gateway_fee_percent=Decimal("2.9"), gateway_fee_fixed=Decimal("0.30"))
    owner = make_location_owner(session, org, "Hudson Realty")
    charger = make_charger(session, org, ocpp_id="US-NYC-001", location_owner=owner)
    make_tariff(session, org, price_per_kwh="0.35", price_per_minute="0.01", session_fee="1.00",
                idle_fee_per_minute="0.10", idle_grace_minutes=10,
                bands=[{"start": "16:00", "end": "21:00", "price_per_kwh": "0.48"}])
    make_contract(session, org, rate="12", effective_from=EPOCH)
    make_contract(session, org, kind="location_owner", location_owner=owner, rate="5", effective_from=EPOCH)
    make_contract(session, org, kind="location_owner", charger=charger, rate="7", effective_from=EPOCH)
    return dict(org=org, owner=owner, charger=charger)


def test_session_with_peak_band_idle_and_commissions_matches_the_hand_calculation(session, gotham):
    # 15:00-17:20 New York time. Meter: 10 kWh by 15:30, 22 kWh by 16:30, 25 kWh by 17:00, then flat.
    # Base price (before 16:00): 10 + 6 = 16 kWh × 0.35 = 5.60. Peak (16:00-21:00): 6 + 3 = 9 kWh × 0.48 = 4.32.
    # Charging 15:00-17:00 = 120 min × 0.01 = 1.20. Idle 17:00-17:20 = 20 min, 10 after grace × 0.10 = 1.00.
    # Subtotal 5.60 + 4.32 + 1.20 + 1.00 (session fee) + 1.00 = 13.12. VAT 8.875 % = 1.1644 → 1.16. Gross 14.28.
    # Gateway 2.9 % of 14.28 + 0.30 = 0.71412 → 0.71. Platform 12 % of 13.12 = 1.5744 → 1.57.
    # Location owner: the charger's 7 % overrides the owner's 5 %: 0.9184 → 0.92. Net to CPO 9.92.
    tx = make_transaction(session, gotham["charger"], meter_start=1000, started_at=ny(2026, 3, 10, 15, 0),
                          stopped_at=ny(2026, 3, 10, 17, 20),
                          meter_values=[(ny(2026, 3, 10, 15, 30), 11000), (ny(2026, 3, 10, 16, 30), 23000),
                                        (ny(2026, 3, 10, 17, 0), 26000), (ny(2026, 3, 10, 17, 10), 26000)])
    assert amounts(tx) == {
        "energy": Decimal("9.92"), "time": Decimal("1.20"), "session_fee": Decimal("1.00"), "idle": Decimal("1.00"),
        "subtotal": Decimal("13.12"), "vat": Decimal("1.16"), "ssc": Decimal("0.00"), "gross": Decimal("14.28"),
        "gateway": Decimal("0.71"), "platform": Decimal("1.57"), "location_owner": Decimal("0.92"),
        "net_cpo": Decimal("9.92"),
    }
    bands = {b["band"]: (Decimal(b["kwh"]), Decimal(b["price_per_kwh"])) for b in tx.price_breakdown["energy"]["bands"]}
    assert bands == {"base": (Decimal(16), Decimal("0.35")), "16:00–21:00": (Decimal(9), Decimal("0.48"))}
    assert tx.price_breakdown["idle"]["source"] == "meter_values"
    assert tx.price_breakdown["rates"]["location_owner"] == "7.000"
    assert tx.currency == "USD"


def test_without_meter_values_energy_is_split_across_bands_in_proportion_to_time(session, gotham):
    # 15:30-16:30 local, 10 kWh: half before the 16:00 peak starts. 5 × 0.35 + 5 × 0.48 = 4.15.
    tx = make_transaction(session, gotham["charger"], started_at=ny(2026, 3, 10, 15, 30),
                          stopped_at=ny(2026, 3, 10, 16, 30), energy_wh=10000)
    assert tx.amount_energy == Decimal("4.15")
    assert tx.amount_idle == Decimal("0.00")
    assert tx.price_breakdown["energy"]["split"] == "time"


def test_bands_follow_the_organizations_local_time_not_utc(session):
    colombo = make_org(session, slug="lanka", currency="LKR", timezone="Asia/Colombo")
    charger = make_charger(session, colombo)
    make_tariff(session, colombo, price_per_kwh="120",
                bands=[{"start": "18:00", "end": "22:00", "price_per_kwh": "150"}])
    # 18:30-19:30 in Colombo is 13:00-14:00 UTC: all peak.
    lk = ZoneInfo("Asia/Colombo")
    tx = make_transaction(session, charger, started_at=datetime(2026, 3, 10, 18, 30, tzinfo=lk),
                          stopped_at=datetime(2026, 3, 10, 19, 30, tzinfo=lk), energy_wh=2000)
    assert tx.amount_energy == Decimal("300.00")


def test_idle_time_is_taken_from_a_suspended_ev_status_when_there_are_no_meter_values(session, gotham):
    # Plugged 15:00-16:00 local... SuspendedEV at 15:30: 30 min idle, 20 billable × 0.10 = 2.00; 30 min charging.
    tx = make_transaction(session, gotham["charger"], started_at=ny(2026, 3, 10, 15, 0),
                          stopped_at=ny(2026, 3, 10, 16, 0), energy_wh=5000,
                          statuses=[(ny(2026, 3, 10, 15, 0), "Charging"), (ny(2026, 3, 10, 15, 30), "SuspendedEV")])
    assert tx.amount_idle == Decimal("2.00")
    assert tx.amount_time == Decimal("0.30")
    assert tx.price_breakdown["idle"]["source"] == "status"


def test_vat_inclusive_tariff_charges_the_shown_price_and_extracts_the_vat(session):
    berlin = make_org(session, slug="berlin", currency="EUR", vat_rate=Decimal("19"))
    charger = make_charger(session, berlin)
    make_tariff(session, berlin, price_per_kwh="0.49", vat_inclusive=True)
    start = datetime(2026, 3, 10, 9, tzinfo=UTC)
    tx = make_transaction(session, charger, started_at=start, stopped_at=start + timedelta(hours=1), energy_wh=10000)
    # The driver pays 10 × 0.49 = 4.90; VAT inside it 4.90 × 19 / 119 = 0.7824 → 0.78; net 4.12.
    assert (tx.amount_gross, tx.amount_vat, tx.amount_subtotal, tx.amount_energy) == (
        Decimal("4.90"), Decimal("0.78"), Decimal("4.12"), Decimal("4.12"))
    assert tx.amount_net_cpo == Decimal("4.12")


def test_a_priced_session_is_never_repriced(session, gotham):
    tx = make_transaction(session, gotham["charger"], started_at=ny(2026, 3, 10, 15, 30),
                          stopped_at=ny(2026, 3, 10, 16, 30), energy_wh=10000)
    before, priced_at = amounts(tx), tx.priced_at
    make_contract(session, gotham["org"], rate="50", effective_from=EPOCH + timedelta(days=1))
    price_transaction(session=session, transaction=tx)
    fresh = session.get(Transaction, tx.id)
    session.refresh(fresh)
    assert amounts(fresh) == before and fresh.priced_at == priced_at


def test_an_active_session_is_not_priced(session, gotham):
    tx = make_transaction(session, gotham["charger"], started_at=ny(2026, 3, 10, 15, 30))
    price_transaction(session=session, transaction=tx)
    assert tx.priced_at is None and tx.amount_gross is None


def test_a_contract_change_made_today_does_not_change_yesterdays_sessions(session, gotham):
    org, charger = gotham["org"], gotham["charger"]
    admin = make_user(session, role="admin")
    scope = scope_for(session, admin)
    clock.set(ny(2026, 3, 9, 18, 0))
    finished = make_transaction(session, charger, started_at=ny(2026, 3, 9, 10, 0), stopped_at=ny(2026, 3, 9, 11, 0),
                                energy_wh=10000)
    still_charging = make_transaction(session, charger, connector_id=2, started_at=ny(2026, 3, 9, 23, 0))
    # 10 kWh × 0.35 + 60 min × 0.01 + 1.00 fee = 5.10; 12 % platform commission = 0.612 → 0.61.
    assert finished.amount_platform == Decimal("0.61")
    old_split = amounts(finished)

    clock.set(ny(2026, 3, 10, 9, 0))
    contracts.add_contract(session=session, scope=scope, user_id=admin.id, organization_id=org.id, kind="platform",
                           rate="20")
    session.commit()
    price_transaction(session=session, transaction=session.get(Transaction, finished.id))
    assert amounts(session.get(Transaction, finished.id)) == old_split

    # The session that started yesterday keeps yesterday's 12 % even though it stops after the change.
    stop_transaction(session, still_charging, stopped_at=ny(2026, 3, 10, 9, 30), energy_wh=10000)
    assert still_charging.price_breakdown["rates"]["platform"] == "12.000"
    # A session started after the change pays 20 %.
    today = make_transaction(session, charger, started_at=ny(2026, 3, 10, 9, 5), stopped_at=ny(2026, 3, 10, 9, 35),
                             energy_wh=1000, connector_id=3)
    assert today.price_breakdown["rates"]["platform"] == "20.000"


def test_a_contract_cannot_be_backdated(session, gotham):
    admin = make_user(session, role="accounts")
    clock.set(ny(2026, 3, 10, 9, 0))
    with pytest.raises(ValidationError, match="in the past"):
        contracts.add_contract(session=session, scope=scope_for(session, admin), user_id=admin.id,
                               organization_id=gotham["org"].id, kind="platform", rate="20",
                               effective_on=date(2026, 3, 9))


def test_a_tariff_edited_while_a_session_charges_prices_it_with_the_prices_at_its_start(session, gotham):
    org = gotham["org"]
    admin = make_user(session, role="admin")
    scope = scope_for(session, admin)
    clock.set(ny(2026, 3, 1, 8, 0))
    tariff = tariffs.create_tariff(session=session, scope=scope, user_id=admin.id, organization_id=org.id,
                                   name="Flat", price_per_kwh="0.30", is_default=True)
    tariffs.assign_tariff(session=session, scope=scope, user_id=admin.id, charger_id=gotham["charger"].id,
                          tariff_id=tariff.id)
    session.commit()
    tx = make_transaction(session, gotham["charger"], started_at=ny(2026, 3, 10, 8, 0))
    clock.set(ny(2026, 3, 10, 9, 0))
    tariffs.update_tariff(session=session, scope=scope, user_id=admin.id, tariff_id=tariff.id, price_per_kwh="0.90")
    session.commit()
    stop_transaction(session, tx, stopped_at=ny(2026, 3, 10, 10, 0), energy_wh=10000)
    assert tx.amount_energy == Decimal("3.00")
    later = make_transaction(session, gotham["charger"], connector_id=2, started_at=ny(2026, 3, 10, 9, 30),
                             stopped_at=ny(2026, 3, 10, 10, 0), energy_wh=10000)
    assert later.amount_energy == Decimal("9.00")


@pytest.mark.parametrize("currency,expected_gross", [("JPY", Decimal("1234")), ("KWD", Decimal("1.235"))])
def test_amounts_are_rounded_to_the_currency_minor_unit(session, currency, expected_gross):
    org = make_org(session, currency=currency, timezone="UTC")
    charger = make_charger(session, org)
    make_tariff(session, org, price_per_kwh="123.4" if currency == "JPY" else "0.1235")
    start = datetime(2026, 3, 10, 9, tzinfo=UTC)
    tx = make_transaction(session, charger, started_at=start, stopped_at=start + timedelta(hours=1), energy_wh=10000)
    assert tx.amount_gross == expected_gross
    assert tx.amount_gross.as_tuple().exponent == (0 if currency == "JPY" else -3)


def test_a_session_without_any_tariff_is_priced_at_zero_with_the_reason_in_the_breakdown(session):
    org = make_org(session, currency="EUR")
    charger = make_charger(session, org)
    start = datetime(2026, 3, 10, 9, tzinfo=UTC)
    tx = make_transaction(session, charger, started_at=start, stopped_at=start + timedelta(hours=1), energy_wh=5000)
    assert tx.amount_gross == Decimal("0.00") and tx.price_breakdown["tariff"] is None


def test_a_band_that_wraps_past_midnight_and_a_dst_change_are_split_by_real_time(session):
    org = make_org(session, slug="nyc", currency="USD", timezone="America/New_York")
    charger = make_charger(session, org)
    make_tariff(session, org, price_per_kwh="0.40", bands=[{"start": "22:00", "end": "06:00", "price_per_kwh": "0.20"}])
    # 21:00-23:00: one hour before the night band, one inside it. 2 kWh → 1 × 0.40 + 1 × 0.20.
    tx = make_transaction(session, charger, started_at=ny(2026, 3, 5, 21, 0), stopped_at=ny(2026, 3, 5, 23, 0),
                          energy_wh=2000)
    assert tx.amount_energy == Decimal("0.60")
    # 8 March 2026 clocks jump 02:00 → 03:00: 05:00-07:00 local is two real hours, after the night band
    # ends at 06:00 for one of them. 4 kWh → 2 × 0.20 + 2 × 0.40.
    tx = make_transaction(session, charger, connector_id=2, started_at=ny(2026, 3, 8, 5, 0),
                          stopped_at=ny(2026, 3, 8, 7, 0), energy_wh=4000)
    assert tx.amount_energy == Decimal("1.20")
    # 01:00 EST to 04:00 EDT is two real hours, all inside the night band.
    tx = make_transaction(session, charger, connector_id=3, started_at=ny(2026, 3, 8, 1, 0),
                          stopped_at=ny(2026, 3, 8, 4, 0), energy_wh=4000)
    assert tx.amount_energy == Decimal("0.80")
    assert tx.price_breakdown["time"]["charging_minutes"] == "120"
