"""How an invoice or credit note reads: its title, the party blocks, the charges, the taxes, the settlement
down to the net, and the payment terms. The invoice page and the PDF both render this one view, so they
say the same thing in the same words (a credit note says "credited", on the page and on paper).

Amounts stay Decimal; each renderer formats them with core.money."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.fmt import count, day, percent
from models.invoice import InvoiceKind
from services.billing.invoicing import InvoiceDetail


@dataclass(frozen=True)
class StatementLine:
    key: str          # the amount column it shows
    label: str
    note: str         # the basis: a rate, a count, a due date; may be empty
    amount: Decimal   # signed as it counts towards the net: a deduction is negative
    kind: str         # line | subtotal | deduct | total


@dataclass(frozen=True)
class InvoiceView:
    title: str                         # "Settlement invoice" or "Credit note"
    number_label: str                  # "Invoice no." or "Credit note no."
    net_heading: str                   # the short label of the net: "Net payable" or "Net credited"
    platform: list[str]                # the issuer's party block, one line each
    customer: list[str]                # the organization's party block
    charges: list[StatementLine]       # the tariff components down to the subtotal before tax
    taxes: list[StatementLine]         # each tax on the subtotal
    settlement: list[StatementLine]    # from the gross collected to the net (the last line)
    terms: str


def party_lines(party: dict) -> list[str]:
    """A party snapshot (name, legal name, address, registration and tax numbers, e-mail) as printed lines."""
    lines = [party.get("legal_name") or party.get("name") or ""]
    address = (party.get("address") or "").replace("\n", ",")
    lines += [part.strip() for part in address.split(",") if part.strip()]
    if party.get("registration_number"):
        lines.append(f"Registration no. {party['registration_number']}")
    if party.get("tax_number"):
        lines.append(f"Tax no. {party['tax_number']}")
    if party.get("billing_email"):
        lines.append(party["billing_email"])
    return [ln for ln in lines if ln]


def _net(inv: InvoiceDetail, credit: bool) -> StatementLine:
    net = inv.amounts["amount_net_payable"]
    name = inv.customer_party.get("name") or "the organization"
    platform = inv.platform_party.get("name") or "the platform"
    if credit:
        label, note, amount = f"Net credited to {name}", "settled against the next payment", net
    elif net >= 0:
        label, note, amount = f"Net payable to {name}", f"due {day(inv.due_date)}", net
    else:
        label, note, amount = f"Net payable by {name} to {platform}", f"due {day(inv.due_date)}", -net
    return StatementLine("amount_net_payable", label, note, amount, "total")


def _terms(inv: InvoiceDetail, credit: bool) -> str:
    if credit and inv.refund_reference:
        return (f"This credit note gives back part of {inv.credits_number}. "
                f"{inv.correction_reason or ''}. It is settled against the next payment.")
    if credit:
        return (f"This credit note cancels {inv.credits_number} in full. "
                f"Reason: {inv.correction_reason or '—'}. It is settled against the next payment.")
    terms = (f"{inv.payment_terms_days} days net: due by {day(inv.due_date)}. "
             f"Please quote {inv.number} with your payment.")
    if inv.correction_reason:
        terms += f" {inv.correction_reason}."
    return terms


def invoice_view(inv: InvoiceDetail) -> InvoiceView:
    a = inv.amounts
    credit = inv.kind == InvoiceKind.CREDIT_NOTE

    def line(key: str, label: str, note: str = "", kind: str = "line") -> StatementLine:
        return StatementLine(key, label, note, -a[key] if kind == "deduct" else a[key], kind)

    return InvoiceView(
        title="Credit note" if credit else "Settlement invoice",
        number_label="Credit note no." if credit else "Invoice no.",
        net_heading="Net credited" if credit else "Net payable",
        platform=party_lines(inv.platform_party),
        customer=party_lines(inv.customer_party),
        charges=[
            line("amount_energy", "Energy", f"{inv.energy_kwh:,.3f} kWh"),
            line("amount_time", "Charging time"),
            line("amount_session_fee", "Session fees"),
            line("amount_idle", "Idle fees"),
            line("amount_subtotal", "Subtotal (before tax)", kind="subtotal"),
        ],
        taxes=[line("amount_vat", "VAT", percent(inv.vat_rate)),
               line("amount_ssc", "SSC levy", percent(inv.ssc_levy_rate))],
        settlement=[
            line("amount_gross", "Gross collected from drivers", count(inv.session_count, "session"), "subtotal"),
            line("amount_vat", "less VAT", percent(inv.vat_rate), "deduct"),
            line("amount_ssc", "less SSC levy", percent(inv.ssc_levy_rate), "deduct"),
            line("amount_gateway", "less payment gateway charges", kind="deduct"),
            line("amount_platform", "less platform commission", percent(inv.platform_commission_rate), "deduct"),
            line("amount_location_owner", "less location-owner commissions", kind="deduct"),
            _net(inv, credit),
        ],
        terms=_terms(inv, credit),
    )
