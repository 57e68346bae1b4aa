"""The invoice PDF reads like an invoice, and Send delivers it (or writes it to the outbox)."""
from __future__ import annotations

import email
import io
import logging
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from email import policy

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from core.clock import clock
from core.config import get_settings
from core.errors import ValidationError
from core.mail import MailError
from models import Organization
from services.access.scope import scope_for
from services.billing import invoice_mail as mail
from services.billing import invoicing
from services.billing import pdf as pdf_module
from services.billing.invoice_view import invoice_view
from services.billing.pdf import invoice_pdf
from tests.utils.factories import make_charger, make_operator, make_org, make_priced_session, make_user
from tests.utils.smtp import SmtpServer, free_port


def at(day: int, month: int = 10) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


@pytest.fixture
def invoiced(session, tmp_path):
    """A Berlin organization with a logo and legal details, invoiced for October 2026."""
    clock.set(at(2, month=11))
    op = make_operator(session)
    op.legal_name, op.address, op.tax_number = "Voltdesk Networks Ltd", "1 Grid Street, London", "GB123456789"
    session.commit()
    logo = tmp_path / "logo.png"
    Image.new("RGB", (240, 80), (20, 120, 60)).save(logo)
    org = make_org(session, slug="berlin", vat_rate=Decimal("19"), ssc_levy_rate=Decimal("2.5"),
                   platform_commission_rate=Decimal("8"), legal_name="Berlin eMobility GmbH",
                   address="Friedrichstraße 10, 10117 Berlin", tax_number="DE811907980",
                   billing_email="rechnung@berlin.example", logo_path=str(logo))
    ch = make_charger(session, org, ocpp_id="BER-001", name="Hauptbahnhof")
    make_priced_session(session, ch, stopped_at=at(10), energy="12.35", session_fee="0.50")
    make_priced_session(session, ch, stopped_at=at(11), energy="0.03")
    scope = scope_for(session, make_user(session, role="accounts"))
    result = invoicing.generate_bulk(session=session, scope=scope, period_start=date(2026, 10, 1),
                                     period_end=date(2026, 10, 31))
    return dict(scope=scope, org=org, invoice_id=result.outcomes[0].invoice_id)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_shows_number_parties_lines_tax_lines_totals_and_terms(session, invoiced, tmp_path):
    name, data = invoice_pdf(session=session, scope=invoiced["scope"], invoice_id=invoiced["invoice_id"])
    assert name == "INV-BERLIN-00001.pdf" and data.startswith(b"%PDF")
    text = pdf_text(data)
    # Hand-computed: subtotal 12.85 + 0.03 = 12.88; VAT 2.44 + 0.01; SSC 0.32 + 0.00; gross 15.61 + 0.04;
    # platform 8 %: 1.03 + 0.00; net 15.65 - 2.45 - 0.32 - 1.03 = 11.85.
    for expected in ("Settlement invoice", "INV-BERLIN-00001", "Voltdesk Networks Ltd", "GB123456789",
                     "Berlin eMobility GmbH", "Friedrichstraße 10", "DE811907980", "BER-001 · Hauptbahnhof",
                     "1 Oct 2026 – 31 Oct 2026", "2 Nov 2026", "2 Dec 2026",
                     "VAT 19 %", "€12.88", "€2.45", "SSC levy 2.5 %", "€0.32", "Total tax", "€2.77",
                     "Gross collected from drivers", "€15.65", "less platform commission (8 %)", "-€1.03",
                     "Net payable to Berlin", "€11.85", "30 days net: due by 2 Dec 2026", "Page 1 of 1"):
        assert expected in text, expected
    # The logo is embedded as an image.
    assert len(PdfReader(io.BytesIO(data)).pages[0].images) == 1
    # And poppler renders it (the page was looked at as PNG while building this).
    (tmp_path / "inv.pdf").write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-singlefile", str(tmp_path / "inv.pdf"), str(tmp_path / "inv")],
                   check=True)
    assert (tmp_path / "inv.png").stat().st_size > 5000


def test_a_credit_notes_pdf_says_credited_never_payable(session, invoiced):
    fix = invoicing.correct_invoice(session=session, scope=invoiced["scope"], invoice_id=invoiced["invoice_id"],
                                    reason="Wrong tariff")
    _, data = invoice_pdf(session=session, scope=invoiced["scope"], invoice_id=fix.credit_note.id)
    text = pdf_text(data)
    for expected in ("Credit note", "Credit note no.", "Net credited to Berlin", "-€11.85",
                     "This credit note cancels INV-BERLIN-00001 in full. Reason: Wrong tariff."):
        assert expected in text, expected
    assert "Net payable" not in text
    # The page renders the same view.
    view = invoice_view(invoicing.get_invoice(session=session, scope=invoiced["scope"], invoice_id=fix.credit_note.id))
    assert (view.net_heading, view.settlement[-1].label) == ("Net credited", "Net credited to Berlin")


def test_pdf_prints_names_outside_the_reduced_font_with_the_full_font(session, invoiced):
    org = session.get(Organization, invoiced["org"].id)
    org.currency, org.name, org.legal_name = "ILS", "Tel Aviv Charge", "חברת טעינה בע״מ"
    session.commit()
    ch = make_charger(session, org)
    make_priced_session(session, ch, stopped_at=at(5, month=11), energy="100")
    clock.set(at(2, month=12))  # November has ended
    result = invoicing.generate_bulk(session=session, scope=invoiced["scope"], period_start=date(2026, 11, 1),
                                     period_end=date(2026, 11, 30), organization_ids=[org.id])
    _, data = invoice_pdf(session=session, scope=invoiced["scope"], invoice_id=result.outcomes[0].invoice_id)
    text = pdf_text(data)
    assert "₪100.00" in text
    assert "טעינה" in text or "הניעט" in text  # extracted in logical or visual order


@pytest.fixture
def smtp_server(monkeypatch):
    with SmtpServer(login=("billing", "s3cret")) as server:
        monkeypatch.setattr(get_settings(), "smtp_url", server.url)
        yield server.inbox


def test_send_mails_the_pdf_to_the_billing_contact_and_marks_the_draft_sent(session, invoiced, smtp_server):
    result = mail.send_invoice(session=session, scope=invoiced["scope"], invoice_id=invoiced["invoice_id"])
    assert result.delivered and result.recipient == "rechnung@berlin.example"
    assert len(smtp_server.messages) == 1
    assert smtp_server.envelope_recipients == [["rechnung@berlin.example"]]
    msg = smtp_server.messages[0]
    assert msg["Subject"].startswith("Invoice INV-BERLIN-00001 from Operator")
    # Days read as on the PDF and the page (core.fmt), not as ISO dates.
    assert msg["Subject"].endswith("(1–31 Oct 2026)")
    assert "Due date: 2 Dec 2026 (30 days)" in msg.get_body(("plain",)).get_content()
    attachment = next(msg.iter_attachments())
    assert attachment.get_filename() == "INV-BERLIN-00001.pdf"
    assert "INV-BERLIN-00001" in pdf_text(attachment.get_content())
    detail = invoicing.get_invoice(session=session, scope=invoiced["scope"], invoice_id=invoiced["invoice_id"])
    assert detail.status == "sent" and detail.history[-1].changed_by.startswith("accounts-")


def test_an_unreachable_mail_server_is_reported_and_the_invoice_stays_draft(session, invoiced, monkeypatch):
    monkeypatch.setattr(get_settings(), "smtp_url", f"smtp://billing:s3cret@127.0.0.1:{free_port()}")
    with pytest.raises(MailError, match="did not take the message"):
        mail.send_invoice(session=session, scope=invoiced["scope"], invoice_id=invoiced["invoice_id"])
    assert invoicing.get_invoice(session=session, scope=invoiced["scope"],
                                 invoice_id=invoiced["invoice_id"]).status == "draft"


def test_without_smtp_the_message_goes_to_the_outbox_and_says_so(session, invoiced, monkeypatch, tmp_path):
    monkeypatch.setattr(get_settings(), "smtp_url", None)
    monkeypatch.setattr(get_settings(), "outbox_dir", tmp_path / "outbox")
    result = mail.send_invoice(session=session, scope=invoiced["scope"], invoice_id=invoiced["invoice_id"])
    assert not result.delivered and "SMTP is not configured" in result.message
    assert result.outbox_path.parent == tmp_path / "outbox" and "queued for delivery" in result.message
    assert str(tmp_path) not in result.message and ".eml" not in result.message  # no server path in a toast
    msg = email.message_from_bytes(result.outbox_path.read_bytes(), policy=policy.default)
    assert msg["To"] == "rechnung@berlin.example"
    assert next(msg.iter_attachments()).get_filename() == "INV-BERLIN-00001.pdf"
    assert invoicing.get_invoice(session=session, scope=invoiced["scope"],
                                 invoice_id=invoiced["invoice_id"]).status == "draft"


def test_sending_without_a_billing_email_says_what_to_fix(session, invoiced, monkeypatch, tmp_path):
    monkeypatch.setattr(get_settings(), "outbox_dir", tmp_path / "outbox")
    org = session.execute(select(Organization).where(Organization.slug == "berlin")).scalar_one()
    org.billing_email = None
    session.commit()
    with pytest.raises(ValidationError, match="no billing e-mail"):
        mail.send_invoice(session=session, scope=invoiced["scope"], invoice_id=invoiced["invoice_id"])
    assert not (tmp_path / "outbox").exists()


def test_large_amounts_and_long_numbers_print_in_full(session, invoiced):
    from core.money import format_money

    org = make_org(session, slug="southern-province-charging-cooperative", currency="LKR",
                   timezone="Asia/Colombo", vat_rate=Decimal("18"))
    for i in range(3):
        make_priced_session(session, make_charger(session, org, name="A charger with a rather long name " * 2),
                            stopped_at=at(10 + i), energy="987654321.99", session_fee="12345.67")
    result = invoicing.generate_bulk(session=session, scope=invoiced["scope"], period_start=date(2026, 10, 1),
                                     period_end=date(2026, 10, 31), organization_ids=[org.id])
    inv = invoicing.get_invoice(session=session, scope=invoiced["scope"], invoice_id=result.outcomes[0].invoice_id)
    text = pdf_text(invoice_pdf(session=session, scope=invoiced["scope"], invoice_id=inv.id)[1])
    assert "INV-SOUTHERN-PROVINCE-CHARGING-COOPERATIVE-00001" in text
    for key in ("amount_gross", "amount_vat", "amount_net_payable", "amount_subtotal"):
        assert format_money(inv.amounts[key], "LKR") in text, key
    for line in inv.lines:
        assert format_money(line.amounts["amount_gross"], "LKR") in text
    assert "A charger with a rather…" in text  # descriptions may be shortened with an ellipsis, amounts never


def test_a_long_void_reason_wraps_inside_one_page_with_no_font_warning(session, invoiced, recwarn, caplog):
    word = "Überprüfung" * 45  # 495 characters without a space
    pdf_module._subset_fonts.cache_clear()  # as in a fresh process: the reduced fonts are read again
    invoicing.change_status(session=session, scope=invoiced["scope"], invoice_id=invoiced["invoice_id"],
                            status="void", reason=word)
    _, data = invoice_pdf(session=session, scope=invoiced["scope"], invoice_id=invoiced["invoice_id"])
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = pdf_text(data)
    assert word in text.replace("\n", "")  # broken inside the word over several lines, all of it printed
    assert [str(w.message) for w in recwarn] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_pdf_kwh_has_a_thousands_separator(session, invoiced):
    org = session.get(Organization, invoiced["org"].id)
    ch = make_charger(session, org, ocpp_id="BER-BIG")
    make_priced_session(session, ch, stopped_at=at(5, month=11), energy_wh=1_951_561, energy="10")
    clock.set(at(2, month=12))
    result = invoicing.generate_bulk(session=session, scope=invoiced["scope"], period_start=date(2026, 11, 1),
                                     period_end=date(2026, 11, 30), organization_ids=[org.id])
    _, data = invoice_pdf(session=session, scope=invoiced["scope"], invoice_id=result.outcomes[0].invoice_id)
    text = pdf_text(data)
    assert "1,951.561" in text and "1951.561" not in text
