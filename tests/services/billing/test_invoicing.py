"""Partner invoices: built from the priced sessions, numbered without gaps, made once, never changed."""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from core.clock import clock
from core.errors import Conflict, NotFound, ValidationError
from models import BillingRun, Invoice, Transaction
from services.access.permissions import PermissionDenied
from services.access.scope import scope_for
from services.billing import cycles as billing_cycle
from services.billing import invoicing
from tests.utils.factories import make_charger, make_location_owner, make_org, make_priced_session, make_user

OCT_START, OCT_END = date(2026, 10, 1), date(2026, 10, 31)


def at(day: int, hour: int = 12, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def admin_scope(session):
    return scope_for(session, make_user(session, role="accounts"))


def bulk(session, scope, ids=None, start=OCT_START, end=OCT_END):
    return invoicing.generate_bulk(session=session, scope=scope, period_start=start, period_end=end,
                                   organization_ids=ids)


def only_invoice(session, org) -> Invoice:
    session.expire_all()
    return session.execute(select(Invoice).where(Invoice.organization_id == org.id,
                                                 Invoice.kind == "invoice")).scalar_one()


def test_tax_and_commission_totals_match_a_hand_computed_case_with_per_session_rounding(session, admin_scope):
    clock.set(at(5, month=11))
    org = make_org(session, slug="berlin", vat_rate=Decimal("19"), ssc_levy_rate=Decimal("2.5"),
                   platform_commission_rate=Decimal("10"), gateway_fee_percent=Decimal("1.4"),
                   gateway_fee_fixed=Decimal("0.25"))
    charger = make_charger(session, org, ocpp_id="BER-1")
    # Three sessions of 0.03 EUR energy each. Per session (rounded once, half-up, to the cent):
    #   VAT 19 % of 0.03 = 0.0057 → 0.01;  SSC 2.5 % = 0.00075 → 0.00;  gross 0.04
    #   gateway 1.4 % of 0.04 + 0.25 = 0.25056 → 0.25;  platform 10 % of 0.03 = 0.003 → 0.00
    #   net to the organization 0.04 - 0.01 - 0.25 = -0.22
    for day in (2, 3, 4):
        make_priced_session(session, charger, stopped_at=at(day), energy="0.03")
    # One session of 12.35 energy + 0.50 session fee = 12.85:
    #   VAT 2.4415 → 2.44; SSC 0.32125 → 0.32; gross 15.61; gateway 0.21854 + 0.25 = 0.46854 → 0.47;
    #   platform 1.285 → 1.29; location owner 5 % of 12.85 = 0.6425 → 0.64; net 15.61-2.44-0.32-0.47-1.29-0.64 = 10.45
    make_priced_session(session, charger, stopped_at=at(20), energy="12.35", session_fee="0.50",
                        location_owner_rate="5")

    result = bulk(session, admin_scope)
    assert [o.outcome for o in result.outcomes] == ["made"]
    inv = invoicing.get_invoice(session=session, scope=admin_scope, invoice_id=result.outcomes[0].invoice_id)
    a = inv.amounts
    # Summing the rounded session amounts, not 19 % of the 0.09 total (which would be 0.02).
    assert a["amount_vat"] == Decimal("0.03") + Decimal("2.44")
    assert a["amount_ssc"] == Decimal("0.32")
    assert a["amount_subtotal"] == Decimal("12.94")
    assert a["amount_gross"] == Decimal("15.73")
    assert a["amount_gateway"] == Decimal("0.75") + Decimal("0.47")
    assert a["amount_platform"] == Decimal("1.29")
    assert a["amount_location_owner"] == Decimal("0.64")
    assert a["amount_net_payable"] == Decimal("-0.66") + Decimal("10.45")
    assert a["amount_energy"] == Decimal("12.44") and a["amount_session_fee"] == Decimal("0.50")
    assert inv.session_count == 4 and inv.energy_kwh == Decimal("40.000")
    assert inv.due_date == date(2026, 12, 5)  # issued 5 Nov + 30 days' terms
    assert inv.vat_rate == Decimal("19") and inv.customer_party["name"] == "Berlin"


def test_invoice_totals_tie_back_to_the_sum_of_session_amount_columns_to_the_minor_unit(session, admin_scope):
    clock.set(at(3, month=11))
    org = make_org(session, slug="tie", vat_rate=Decimal("18"), ssc_levy_rate=Decimal("2.5"),
                   platform_commission_rate=Decimal("7.5"), gateway_fee_percent=Decimal("2.9"),
                   gateway_fee_fixed=Decimal("0.30"), currency="USD", timezone="America/New_York")
    chargers = [make_charger(session, org) for _ in range(3)]
    for i in range(60):
        make_priced_session(session, chargers[i % 3], stopped_at=at(1 + i % 28, hour=15), energy=f"{i * 1.37:.2f}",
                            time=f"{i * 0.113:.3f}", session_fee="0.99" if i % 4 else "0", idle=f"{(i % 5) * 0.1:.1f}",
                            location_owner_rate="3" if i % 2 else "0", commit=False)
    session.commit()
    bulk(session, admin_scope)
    inv = only_invoice(session, org)
    sums = session.execute(select(*[func.sum(getattr(Transaction, c)) for c in
                                    ("amount_gross", "amount_vat", "amount_ssc", "amount_gateway", "amount_platform",
                                     "amount_location_owner", "amount_net_cpo", "amount_subtotal")])
                           .where(Transaction.organization_id == org.id)).one()
    assert (inv.amount_gross, inv.amount_vat, inv.amount_ssc, inv.amount_gateway, inv.amount_platform,
            inv.amount_location_owner, inv.amount_net_payable, inv.amount_subtotal) == tuple(sums)
    detail = invoicing.get_invoice(session=session, scope=admin_scope, invoice_id=inv.id)
    assert len(detail.lines) == 3
    for key, total in detail.amounts.items():
        assert sum(line.amounts[key] for line in detail.lines) == total
    # The split adds back on the invoice as it does on every session.
    a = detail.amounts
    assert a["amount_gross"] == (a["amount_vat"] + a["amount_ssc"] + a["amount_gateway"] + a["amount_platform"]
                                 + a["amount_location_owner"] + a["amount_net_payable"])


def test_minor_units_follow_the_currency_zero_and_three_decimals(session, admin_scope):
    clock.set(at(2, month=11))
    jpy = make_org(session, slug="tokyo", currency="JPY", timezone="Asia/Tokyo", vat_rate=Decimal("10"))
    kwd = make_org(session, slug="kuwait", currency="KWD", timezone="Asia/Kuwait", vat_rate=Decimal("5"))
    make_priced_session(session, make_charger(session, jpy), stopped_at=at(10), energy="1234")   # VAT 123.4 → 123
    make_priced_session(session, make_charger(session, jpy), stopped_at=at(11), energy="15")     # VAT 1.5 → 2
    make_priced_session(session, make_charger(session, kwd), stopped_at=at(10), energy="1.005")  # VAT 0.05025 → 0.050
    make_priced_session(session, make_charger(session, kwd), stopped_at=at(11), energy="0.009")  # VAT 0.00045 → 0.000
    bulk(session, admin_scope)
    assert only_invoice(session, jpy).amount_vat == Decimal("125")
    assert only_invoice(session, kwd).amount_vat == Decimal("0.050")


def test_only_sessions_stopped_inside_the_period_in_the_organizations_timezone_are_billed(session, admin_scope):
    clock.set(at(2, month=11))
    org = make_org(session, slug="colombo", currency="LKR", timezone="Asia/Colombo")  # UTC+05:30
    ch = make_charger(session, org)
    make_priced_session(session, ch, stopped_at=datetime(2026, 9, 30, 18, 29, tzinfo=UTC), energy="100")  # 23:59
    make_priced_session(session, ch, stopped_at=datetime(2026, 9, 30, 18, 30, tzinfo=UTC), energy="200")  # 00:00 1 Oct
    make_priced_session(session, ch, stopped_at=datetime(2026, 10, 31, 18, 29, tzinfo=UTC), energy="400")  # 23:59
    make_priced_session(session, ch, stopped_at=datetime(2026, 10, 31, 18, 30, tzinfo=UTC), energy="800")  # 1 Nov
    bulk(session, admin_scope)
    assert only_invoice(session, org).amount_energy == Decimal("600")


def test_bulk_run_reports_made_and_skipped_with_reasons_and_running_it_again_makes_nothing_twice(session,
                                                                                                   admin_scope):
    clock.set(at(2, month=11))
    busy = make_org(session, slug="busy")
    make_org(session, slug="idle")
    make_priced_session(session, make_charger(session, busy), stopped_at=at(15), energy="10")
    first = bulk(session, admin_scope)
    assert {(o.organization, o.outcome) for o in first.outcomes} == {("Busy", "made"), ("Idle", "skipped")}
    assert "Nothing to bill" in next(o.reason for o in first.outcomes if o.organization == "Idle")
    again = bulk(session, admin_scope)
    by_org = {o.organization: o for o in again.outcomes}
    assert by_org["Busy"].outcome == "skipped" and "Already invoiced as INV-BUSY-00001" in by_org["Busy"].reason
    assert session.execute(select(func.count()).select_from(Invoice)).scalar() == 1
    # An overlapping period cannot bill the same sessions again either.
    overlap = bulk(session, admin_scope, ids=[busy.id], start=date(2026, 9, 15), end=date(2026, 10, 14))
    assert overlap.outcomes[0].outcome == "skipped" and "Overlaps INV-BUSY-00001" in overlap.outcomes[0].reason
    runs = session.execute(select(BillingRun.outcome, func.count()).group_by(BillingRun.outcome)).all()
    assert dict(runs) == {"made": 1, "skipped": 4}
    assert "1 made, 1 skipped, 0 failed" in first.summary


def test_bulk_run_for_selected_organizations_only(session, admin_scope):
    clock.set(at(2, month=11))
    a, b = make_org(session, slug="a-org"), make_org(session, slug="b-org")
    for org in (a, b):
        make_priced_session(session, make_charger(session, org), stopped_at=at(15), energy="10")
    result = bulk(session, admin_scope, ids=[b.id])
    assert [(o.organization_id, o.outcome) for o in result.outcomes] == [(b.id, "made")]
    with pytest.raises(NotFound):
        bulk(session, admin_scope, ids=[b.id, 99999])


def test_unpriced_or_foreign_currency_sessions_fail_the_organization_with_the_reason(session, admin_scope):
    clock.set(at(2, month=11))
    a, b, ok = make_org(session, slug="unpriced"), make_org(session, slug="mixed"), make_org(session, slug="fine")
    make_priced_session(session, make_charger(session, a), stopped_at=at(10), energy="5", priced=False)
    make_priced_session(session, make_charger(session, b), stopped_at=at(10), energy="5", currency="USD")
    make_priced_session(session, make_charger(session, ok), stopped_at=at(10), energy="5")
    by_org = {o.organization: o for o in bulk(session, admin_scope).outcomes}
    assert by_org["Unpriced"].outcome == "failed" and "not priced yet" in by_org["Unpriced"].reason
    assert by_org["Mixed"].outcome == "failed" and "1 in USD" in by_org["Mixed"].reason
    assert by_org["Fine"].outcome == "made"
    assert session.execute(select(func.count()).select_from(Invoice)).scalar() == 1


def test_bad_periods_are_refused_and_change_nothing(session, admin_scope):
    with pytest.raises(ValidationError, match="before its start"):
        bulk(session, admin_scope, start=date(2026, 10, 31), end=date(2026, 10, 1))
    assert session.execute(select(func.count()).select_from(BillingRun)).scalar() == 0


def test_numbering_is_gap_free_and_unique_under_concurrent_generation(session, engine, admin_scope):
    clock.set(at(1, month=12))
    org = make_org(session, slug="race")
    ch = make_charger(session, org)
    days = list(range(1, 13))
    for d in days:
        make_priced_session(session, ch, stopped_at=at(d), energy="1", commit=False)
    session.commit()
    barrier = threading.Barrier(len(days) * 2)
    errors = []

    def invoice_day(d: int) -> None:
        try:
            with Session(engine, expire_on_commit=False) as s:
                o = s.get(type(org), org.id)
                barrier.wait()
                invoicing.invoice_period(session=s, org=o, period_start=date(2026, 10, d),
                                         period_end=date(2026, 10, d))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    # Twelve different days, each asked for twice at the same moment.
    threads = [threading.Thread(target=invoice_day, args=(d,)) for d in days for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seqs = session.execute(select(Invoice.seq).where(Invoice.organization_id == org.id).order_by(Invoice.seq)
                           ).scalars().all()
    assert seqs == list(range(1, 13))
    numbers = set(session.execute(select(Invoice.number)).scalars())
    assert numbers == {f"INV-RACE-{n:05d}" for n in range(1, 13)}


def test_status_changes_record_who_and_when_and_follow_the_allowed_moves(session, admin_scope):
    clock.set(at(2, month=11))
    org = make_org(session, slug="flow")
    make_priced_session(session, make_charger(session, org), stopped_at=at(15), energy="10")
    inv_id = bulk(session, admin_scope).outcomes[0].invoice_id
    with pytest.raises(Conflict, match="Draft; it can move to Sent, Void"):
        invoicing.change_status(session=session, scope=admin_scope, invoice_id=inv_id, status="paid")
    with pytest.raises(ValidationError, match="automatically"):
        invoicing.change_status(session=session, scope=admin_scope, invoice_id=inv_id, status="overdue")
    clock.set(at(3, month=11))
    invoicing.change_status(session=session, scope=admin_scope, invoice_id=inv_id, status="sent")
    invoicing.change_status(session=session, scope=admin_scope, invoice_id=inv_id, status="sent")  # a retry: no-op
    clock.set(at(20, month=11))
    done = invoicing.change_status(session=session, scope=admin_scope, invoice_id=inv_id, status="paid")
    assert done.status == "paid"
    assert [(h.from_status, h.to_status) for h in done.history] == [(None, "draft"), ("draft", "sent"),
                                                                     ("sent", "paid")]
    assert done.history[1].changed_by.startswith("accounts-") and done.history[1].changed_at == at(3, month=11)
    with pytest.raises(Conflict):
        invoicing.change_status(session=session, scope=admin_scope, invoice_id=inv_id, status="void", reason="x")


def test_voiding_needs_a_reason(session, admin_scope):
    clock.set(at(2, month=11))
    org = make_org(session, slug="voider")
    make_priced_session(session, make_charger(session, org), stopped_at=at(15), energy="10")
    inv_id = bulk(session, admin_scope).outcomes[0].invoice_id
    with pytest.raises(ValidationError, match="reason"):
        invoicing.change_status(session=session, scope=admin_scope, invoice_id=inv_id, status="void", reason=" ")
    out = invoicing.change_status(session=session, scope=admin_scope, invoice_id=inv_id, status="void",
                                  reason="Duplicate contract")
    assert out.status == "void" and out.void_reason == "Duplicate contract"
    assert out.history[-1].reason == "Duplicate contract"


def test_void_and_correction_reasons_have_a_length_limit_with_a_message(session, admin_scope):
    clock.set(at(2, month=11))
    org = make_org(session, slug="voider")
    make_priced_session(session, make_charger(session, org), stopped_at=at(15), energy="10")
    inv_id = bulk(session, admin_scope).outcomes[0].invoice_id
    with pytest.raises(ValidationError, match="Reason must be at most 500 characters \\(it has 10,000\\)"):
        invoicing.change_status(session=session, scope=admin_scope, invoice_id=inv_id, status="void",
                                reason="x" * 10_000)
    with pytest.raises(ValidationError, match="at most 500 characters"):
        invoicing.correct_invoice(session=session, scope=admin_scope, invoice_id=inv_id, reason="y" * 501)
    session.rollback()
    assert only_invoice(session, org).status == "draft"  # nothing changed


def test_a_correction_is_a_credit_note_plus_a_new_invoice_and_the_original_is_unchanged(session, admin_scope):
    clock.set(at(2, month=11))
    org = make_org(session, slug="fixme", vat_rate=Decimal("10"))
    ch = make_charger(session, org)
    make_priced_session(session, ch, stopped_at=at(15), energy="10")
    original_id = bulk(session, admin_scope).outcomes[0].invoice_id
    invoicing.change_status(session=session, scope=admin_scope, invoice_id=original_id, status="sent")
    # A session that arrived late (priced after the invoice was made) belongs in the period.
    make_priced_session(session, ch, stopped_at=at(31, hour=20), energy="5")

    fix = invoicing.correct_invoice(session=session, scope=admin_scope, invoice_id=original_id,
                                    reason="Late session from charger")
    cn, new = fix.credit_note, fix.new_invoice
    assert cn.kind == "credit_note" and cn.number == "CN-FIXME-00002" and cn.credits_number == "INV-FIXME-00001"
    assert cn.amounts["amount_gross"] == Decimal("-11.00") and cn.amounts["amount_vat"] == Decimal("-1.00")
    assert new.number == "INV-FIXME-00003" and new.revision == 1
    assert new.amounts["amount_gross"] == Decimal("16.50")
    original = invoicing.get_invoice(session=session, scope=admin_scope, invoice_id=original_id)
    assert original.amounts["amount_gross"] == Decimal("11.00")  # content unchanged
    assert original.status == "void" and "CN-FIXME-00002" in original.void_reason
    assert original.credited_by_number == "CN-FIXME-00002" and original.credited_by_id == cn.id
    with pytest.raises(Conflict):
        invoicing.correct_invoice(session=session, scope=admin_scope, invoice_id=original_id, reason="again")
    # Bulk still sees the period as invoiced.
    assert bulk(session, admin_scope).outcomes[0].outcome == "skipped"


def test_invoices_are_scoped_and_role_checked(session, admin_scope):
    clock.set(at(2, month=11))
    mine, theirs = make_org(session, slug="mine"), make_org(session, slug="theirs")
    for org in (mine, theirs):
        make_priced_session(session, make_charger(session, org), stopped_at=at(15), energy="10")
    bulk(session, admin_scope)
    cpo = scope_for(session, make_user(session, role="cpo", orgs=[mine]))
    rows, total = invoicing.list_invoices(session=session, scope=cpo)
    assert total == 1 and rows[0].organization == "Mine"
    other = only_invoice(session, theirs)
    with pytest.raises(NotFound):
        invoicing.get_invoice(session=session, scope=cpo, invoice_id=other.id)
    with pytest.raises(PermissionDenied):
        invoicing.change_status(session=session, scope=cpo, invoice_id=rows[0].id, status="sent")
    with pytest.raises(PermissionDenied):
        bulk(session, cpo)
    support = scope_for(session, make_user(session, role="customer_support", orgs=[mine]))
    with pytest.raises(PermissionDenied):
        invoicing.list_invoices(session=session, scope=support)


def test_a_session_that_arrives_during_a_bulk_run_is_still_billed_in_its_period(session, admin_scope):
    # Bulk runs read every organization's sums in one pass up front; each organization re-checks under its lock.
    clock.set(at(2, month=11))
    first, second = make_org(session, slug="first"), make_org(session, slug="second")
    make_priced_session(session, make_charger(session, first), stopped_at=at(15), energy="10")
    late_charger = make_charger(session, second)
    make_priced_session(session, late_charger, stopped_at=at(15), energy="10")

    def late_delivery(outcome):
        if outcome.organization == "First":  # while "Second" waits its turn
            make_priced_session(session, late_charger, stopped_at=at(31, hour=20), energy="5")

    invoicing.generate_bulk(session=session, scope=admin_scope, period_start=OCT_START, period_end=OCT_END,
                            on_outcome=late_delivery)
    assert only_invoice(session, second).amount_energy == Decimal("15.00")
    assert only_invoice(session, second).session_count == 2


def test_sessions_priced_by_the_real_pricing_engine_tie_back_to_the_invoice(session, admin_scope):
    from tests.utils.factories import make_contract, make_location_owner, make_tariff, make_transaction

    clock.set(at(1, month=9))
    org = make_org(session, slug="priced", vat_rate=Decimal("19"), ssc_levy_rate=Decimal("2.5"),
                   gateway_fee_percent=Decimal("1.4"), gateway_fee_fixed=Decimal("0.25"))
    owner = make_location_owner(session, org, "Mall")
    make_tariff(session, org, price_per_kwh="0.4567", price_per_minute="0.0333", session_fee="0.99")
    make_contract(session, org, rate="7.5", effective_from=at(1, month=9))
    make_contract(session, org, rate="5", kind="location_owner", location_owner=owner, effective_from=at(1, month=9))
    chargers = [make_charger(session, org, location_owner=owner), make_charger(session, org)]
    clock.set(at(2, month=11))
    for i in range(24):
        start = at(1 + i, hour=8)
        make_transaction(session, chargers[i % 2], started_at=start, stopped_at=start.replace(hour=9, minute=i),
                         energy_wh=3_333 + i * 1_111, id_tag=f"TAG-{i}")
    bulk(session, admin_scope)
    inv = only_invoice(session, org)
    sums = session.execute(select(*[func.sum(getattr(Transaction, c)) for c in
                                    ("amount_gross", "amount_vat", "amount_ssc", "amount_gateway", "amount_platform",
                                     "amount_location_owner", "amount_net_cpo")])
                           .where(Transaction.organization_id == org.id)).one()
    assert all(s is not None for s in sums)
    assert (inv.amount_gross, inv.amount_vat, inv.amount_ssc, inv.amount_gateway, inv.amount_platform,
            inv.amount_location_owner, inv.amount_net_payable) == tuple(sums)
    assert inv.amount_location_owner > 0 and inv.amount_platform > 0 and inv.session_count == 24


def test_a_voided_invoice_is_re_invoiced_without_a_credit_note(session, admin_scope):
    clock.set(at(2, month=11))
    org = make_org(session, slug="redo")
    make_priced_session(session, make_charger(session, org), stopped_at=at(15), energy="10")
    inv_id = bulk(session, admin_scope).outcomes[0].invoice_id
    invoicing.change_status(session=session, scope=admin_scope, invoice_id=inv_id, status="void",
                            reason="Wrong customer details")
    assert bulk(session, admin_scope).outcomes[0].outcome == "skipped"  # bulk never re-bills a period by itself
    fix = invoicing.correct_invoice(session=session, scope=admin_scope, invoice_id=inv_id, reason="Details fixed")
    assert fix.credit_note is None
    assert (fix.new_invoice.number, fix.new_invoice.revision, fix.new_invoice.status) == ("INV-REDO-00002", 1, "draft")
    with pytest.raises(Conflict, match="already been corrected by INV-REDO-00002"):
        invoicing.correct_invoice(session=session, scope=admin_scope, invoice_id=inv_id, reason="again")


def test_a_location_owner_sees_neither_invoices_nor_the_billing_runs_that_name_them(session, admin_scope):
    clock.set(at(2, month=11))
    org = make_org(session, slug="mall")
    owner = make_location_owner(session, org, "Mall owner")
    make_priced_session(session, make_charger(session, org, location_owner=owner), stopped_at=at(15), energy="10")
    made = bulk(session, admin_scope).outcomes[0]
    assert invoicing.billing_runs(session=session, scope=admin_scope)[0]["invoice_number"] == made.number
    owner_scope = scope_for(session, make_user(session, role="location_owner", location_owner=owner))
    # Invoices are the organization's books: the role lacks Cap.VIEW_INVOICES, so every entry refuses.
    for read in (lambda: invoicing.list_invoices(session=session, scope=owner_scope),
                 lambda: invoicing.billing_runs(session=session, scope=owner_scope),
                 lambda: billing_cycle.next_runs(session=session, scope=owner_scope),
                 lambda: invoicing.get_invoice(session=session, scope=owner_scope, invoice_id=made.invoice_id)):
        with pytest.raises(PermissionDenied, match="view invoices"):
            read()
