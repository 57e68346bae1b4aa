"""Invoice PDFs with fpdf2. Rendered from the invoice's stored data only, so a PDF made today and one
made next year for the same invoice read the same (the parties and rates are snapshots on the invoice).

DejaVu Sans is embedded (assets/fonts, see LICENSE-DejaVu.txt) so every currency symbol prints.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from core.config import ROOT, get_settings
from core.fmt import count, day, kwh
from core.money import format_money
from models.invoice import InvoiceKind, InvoiceStatus
from services.billing.invoice_view import invoice_view
from services.billing.invoicing import InvoiceDetail, get_invoice

log = logging.getLogger(__name__)

FONT_DIR = ROOT / "assets" / "fonts"
FONT = "DejaVu"
INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (13, 110, 253)
RULE = (222, 226, 230)
SHADE = (241, 243, 245)


FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
# Parsing and subsetting the full DejaVu (6,000 glyphs) is most of the time a PDF takes. Most invoices only
# need Latin script, so a reduced copy is made once per machine (in the temp directory) and used whenever
# every character of the invoice is in it; anything else (e.g. Arabic names) uses the full font.
SUBSET_RANGES = [(0x20, 0x7E), (0xA0, 0x17F), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2116, 0x2122)]


def _subset_dir() -> Path:
    sources = b"".join(str((FONT_DIR / f).stat().st_mtime_ns).encode() for f in FONT_FILES.values())
    digest = hashlib.sha1(sources + repr(SUBSET_RANGES).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"voltdesk-fonts-{digest}"


@lru_cache
def _subset_fonts() -> tuple[dict[str, Path], frozenset[int]] | None:
    """The reduced fonts and the characters they cover, made on first use; None if that fails."""
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        target = _subset_dir()
        target.mkdir(parents=True, exist_ok=True)
        unicodes = [c for lo, hi in SUBSET_RANGES for c in range(lo, hi + 1)]
        paths, covered = {}, None
        for style, name in FONT_FILES.items():
            path = target / name
            if not path.exists():
                font = TTFont(FONT_DIR / name)
                options = subset.Options(notdef_outline=True, glyph_names=True, name_IDs=["*"],
                                         layout_features=["*"])
                subsetter = subset.Subsetter(options)
                subsetter.populate(unicodes=unicodes)
                subsetter.subset(font)
                tmp = target / f".{name}.{os.getpid()}"
                font.save(tmp)
                os.replace(tmp, path)  # atomic: several processes may race to make it
            with TTFont(path, lazy=True) as reduced:  # closed: an open file warns at every first PDF
                cmap = set(reduced.getBestCmap())
            covered = cmap if covered is None else covered & cmap
            paths[style] = path
        return paths, frozenset(covered or ())
    except Exception:  # the full fonts always work
        log.warning("could not prepare reduced fonts; using the full DejaVu", exc_info=True)
        return None


def _font_paths(inv: InvoiceDetail) -> dict[str, Path]:
    reduced = _subset_fonts()
    if reduced is not None:
        paths, covered = reduced
        text = json.dumps(dataclasses.asdict(inv), default=str, ensure_ascii=False)
        text += format_money(Decimal("-1234.5"), inv.currency) + "…·–—"
        if all(ord(c) in covered for c in set(text) if c not in "\n\t"):
            return paths
    return {style: FONT_DIR / name for style, name in FONT_FILES.items()}


def _logo(path: str) -> Path | None:
    if not path:
        return None
    # Logos are stored relative to UPLOAD_DIR (services.billing.org_settings); absolute paths work too.
    for candidate in (get_settings().upload_dir / path, Path(path), ROOT / path):
        if candidate.is_file():
            return candidate
    log.warning("logo %s not found; printing the name instead", path)
    return None


class _InvoicePDF(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, size=7)
        self.set_text_color(*MUTED)
        self.cell(0, 4, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R")


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """Shorten text with an ellipsis to fit one cell (a long charger name must not wrap the table)."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _row(pdf: FPDF, widths: tuple[float, ...], values: list[str], *, bold: bool = False, fill: bool = False,
         size: float = 8, height: float = 6, header: list[str] | None = None) -> None:
    """One table row of single-line cells with a rule below. Plain cells: far faster than fpdf2 tables,
    which matters for bulk runs. On a page break the header row is repeated."""
    if header is not None and pdf.will_page_break(height):
        pdf.add_page()
        _row(pdf, widths, header, bold=True, fill=True, size=size, height=height)
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_text_color(*INK)
    pdf.set_fill_color(*SHADE)
    pdf.set_draw_color(*RULE)
    for i, (w, value) in enumerate(zip(widths, values, strict=True)):
        # Only the description may be shortened; amounts always print in full (see _table_layout).
        text = _fit(pdf, value, w - 2 * pdf.c_margin) if i == 0 else value
        pdf.cell(w, height, text, border="B", align="L" if i == 0 else "R", fill=fill,
                 new_x=XPos.RIGHT, new_y=YPos.TOP)
    pdf.ln(height)


def _table_layout(pdf: FPDF, rows: list[list[str]], total: float, *, size: float = 8,
                  min_first: float = 40) -> tuple[tuple[float, ...], float]:
    """Column widths (and font size) so every number column fits its widest value; the first column
    (the description) gets the rest. Large amounts in long currency formats shrink the font rather than
    ever being cut."""
    while True:
        pdf.set_font(FONT, "B", size)  # measure bold: the header and total rows are bold
        numeric = [max(pdf.get_string_width(r[i]) for r in rows) + 2 * pdf.c_margin + 1
                   for i in range(1, len(rows[0]))]
        first = total - sum(numeric)
        if first >= min_first or size <= 5:
            return (max(first, 10), *numeric), size
        size -= 0.5


def _fitted_cell(pdf: FPDF, width: float, height: float, text: str, size: float, **kwargs) -> None:
    """A bold one-line cell whose font shrinks until the whole text fits (invoice numbers can be long)."""
    while size > 5 and pdf.get_string_width(text) > width - 2 * pdf.c_margin:
        size -= 0.5
        pdf.set_font(FONT, "B", size)
    pdf.cell(width, height, text, **kwargs)


def render_invoice_pdf(inv: InvoiceDetail) -> bytes:
    money = lambda amount: format_money(amount, inv.currency)  # noqa: E731
    view = invoice_view(inv)
    credit = inv.kind == InvoiceKind.CREDIT_NOTE
    title = view.title
    platform, customer = inv.platform_party, inv.customer_party

    pdf = _InvoicePDF(format="A4", unit="mm")
    pdf.set_title(f"{title} {inv.number}")
    pdf.set_author(platform.get("legal_name") or platform.get("name", ""))
    pdf.set_creator("Voltdesk")
    for style, path in _font_paths(inv).items():
        pdf.add_font(FONT, style, str(path))
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=20)
    pdf.c_margin = 1.5
    pdf.footer_text = " · ".join(x for x in (platform.get("legal_name"), platform.get("tax_number") and
                                             f"Tax no. {platform['tax_number']}", inv.number) if x)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    # Header: the platform (issuer) on the left, the organization's logo and the document title on the right.
    top = pdf.get_y()
    platform_logo = _logo(platform.get("logo_path", ""))
    if platform_logo:
        pdf.image(str(platform_logo), x=pdf.l_margin, y=top, h=14)
        pdf.set_y(top + 16)
    else:
        pdf.set_font(FONT, "B", 16)
        pdf.set_text_color(*ACCENT)
        pdf.cell(100, 8, platform.get("name", ""), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    org_logo = _logo(customer.get("logo_path", ""))
    if org_logo:
        try:
            pdf.image(str(org_logo), x=pdf.w - pdf.r_margin - 40, y=top, h=14, keep_aspect_ratio=True, w=40)
        except Exception:  # a broken logo file must not stop the invoice
            log.warning("could not draw logo %s", org_logo, exc_info=True)
    pdf.set_xy(pdf.l_margin, max(pdf.get_y(), top + 18))
    pdf.set_font(FONT, "B", 20)
    pdf.set_text_color(*INK)
    pdf.cell(width / 2, 10, title, new_x=XPos.RIGHT, new_y=YPos.TOP)
    pdf.set_font(FONT, "B", 12)
    _fitted_cell(pdf, width / 2, 10, inv.number, 12, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)

    # Parties and key dates.
    y = pdf.get_y()
    col = (width - 10) / 3

    def block(x: float, heading: str, rows: list[str], bold_first: bool = True) -> float:
        pdf.set_xy(x, y)
        pdf.set_font(FONT, "B", 7)
        pdf.set_text_color(*MUTED)
        pdf.cell(col, 4, heading.upper(), new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_text_color(*INK)
        for i, row in enumerate(rows):
            pdf.set_font(FONT, "B" if (i == 0 and bold_first) else "", 9)
            pdf.multi_cell(col, 4.5, row, new_x=XPos.LEFT, new_y=YPos.NEXT)
        return pdf.get_y()

    bottoms = [
        block(pdf.l_margin, "From (platform)", view.platform),
        block(pdf.l_margin + col + 5, "To", view.customer),
    ]
    meta = [
        (view.number_label, inv.number),
        ("Issue date", day(inv.issue_date)),
        ("Period", f"{day(inv.period_start)} – {day(inv.period_end)}"),
        ("Due date", day(inv.due_date)),
        ("Currency", inv.currency),
    ]
    if credit and inv.credits_number:
        meta.append(("Credits", inv.credits_number))
    if inv.revision:
        meta.append(("Revision", str(inv.revision)))
    pdf.set_xy(pdf.l_margin + 2 * (col + 5), y)
    pdf.set_font(FONT, "B", 7)
    pdf.set_text_color(*MUTED)
    pdf.cell(col, 4, "DETAILS", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 8)
    label_w = max(pdf.get_string_width(label) for label, _ in meta) + 2 * pdf.c_margin
    for label, value in meta:
        pdf.set_font(FONT, "", 8)
        pdf.set_text_color(*MUTED)
        pdf.set_font(FONT, "B", 7)
        own_line = pdf.get_string_width(value) > col - label_w - 2 * pdf.c_margin  # a very long number
        pdf.set_font(FONT, "", 8)
        pdf.cell(col if own_line else label_w, 4.5, label, new_x=XPos.LMARGIN if own_line else XPos.RIGHT,
                 new_y=YPos.NEXT if own_line else YPos.TOP)
        if own_line:
            pdf.set_x(pdf.l_margin + 2 * (col + 5))
        pdf.set_font(FONT, "B", 8.5)
        pdf.set_text_color(*INK)
        value_w = col if own_line else col - label_w
        _fitted_cell(pdf, value_w, 4.5, value, 8.5, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_x(pdf.l_margin + 2 * (col + 5))
    bottoms.append(pdf.get_y())
    pdf.set_xy(pdf.l_margin, max(bottoms) + 6)

    a = inv.amounts

    def section(text: str) -> None:
        pdf.set_font(FONT, "B", 10)
        pdf.set_text_color(*INK)
        pdf.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Lines per charger.
    section(f"Charging sessions by charger ({count(inv.session_count, 'session')}, {kwh(inv.energy_kwh, 3)})")
    header = ["Charger", "Sessions", "kWh", "Net of tax", "VAT", "SSC levy", "Gross"]
    body = [[ln.description, f"{ln.session_count:,}", kwh(ln.energy_kwh, 3, unit=False),
             money(ln.amounts["amount_subtotal"]),
             money(ln.amounts["amount_vat"]), money(ln.amounts["amount_ssc"]), money(ln.amounts["amount_gross"])]
            for ln in inv.lines]
    total_row = ["Total", f"{inv.session_count:,}", kwh(inv.energy_kwh, 3, unit=False), money(a["amount_subtotal"]),
                 money(a["amount_vat"]), money(a["amount_ssc"]), money(a["amount_gross"])]
    widths, size = _table_layout(pdf, [header, *body, total_row], width)
    _row(pdf, widths, header, bold=True, fill=True, size=size)
    for values in body:
        _row(pdf, widths, values, header=header, size=size)
    _row(pdf, widths, total_row, bold=True, size=size)
    pdf.ln(4)

    # By tariff component, and the tax lines, side by side.
    if pdf.will_page_break(110):
        pdf.add_page()
    half = (width - 8) / 2
    y = pdf.get_y()
    section("Charges by tariff component")
    comp = [["Component", "Amount"], *([ln.label, money(ln.amount)] for ln in view.charges)]
    comp_w, size = _table_layout(pdf, comp, half, min_first=25)
    for i, values in enumerate(comp):
        _row(pdf, comp_w, values, bold=i in (0, len(comp) - 1), fill=i == 0, height=5.5, size=size)
    left_bottom = pdf.get_y()

    right = pdf.l_margin + half + 8
    pdf.set_left_margin(right)
    pdf.set_xy(right, y)
    section("Tax summary")
    taxes = [["Tax", "Taxable", "Tax"],
             *([f"{ln.label} {ln.note}", money(a["amount_subtotal"]), money(ln.amount)] for ln in view.taxes),
             ["Total tax", "", money(sum((ln.amount for ln in view.taxes), Decimal(0)))]]
    tax_w, size = _table_layout(pdf, taxes, half, min_first=22)
    for i, values in enumerate(taxes):
        _row(pdf, tax_w, values, bold=i in (0, len(taxes) - 1), fill=i == 0, height=5.5, size=size)
    pdf.set_left_margin(15)
    pdf.set_xy(pdf.l_margin, max(left_bottom, pdf.get_y()) + 5)

    # The settlement: from what drivers paid to what the organization is owed.
    section("Settlement")
    settle_w = (width * 0.7, width * 0.3)
    for ln in view.settlement:
        label = f"{ln.label} ({ln.note})" if ln.note and ln.kind == "deduct" else ln.label
        if ln.kind == "total":
            _row(pdf, settle_w, [label, money(ln.amount)], bold=True, fill=True, size=10.5, height=8)
        else:
            _row(pdf, settle_w, [label, money(ln.amount)], size=9)
    pdf.ln(5)

    # Terms.
    pdf.set_font(FONT, "B", 9)
    pdf.cell(0, 5, "Payment terms", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*INK)
    terms = view.terms
    pdf.multi_cell(0, 4.5, terms, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if inv.status == InvoiceStatus.VOID:
        pdf.ln(2)
        pdf.set_font(FONT, "B", 9)
        pdf.set_text_color(220, 53, 69)
        pdf.multi_cell(0, 5, f"VOID: {inv.void_reason}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FONT, "", 7.5)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(0, 4, "Amounts are the sums of the charging sessions' prices, each rounded once to the "
                         f"{inv.currency} minor unit when the session was priced. Dates are in {inv.timezone}.",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def pdf_filename(inv: InvoiceDetail) -> str:
    return f"{inv.number}.pdf"


def invoice_pdf(*, session, scope, invoice_id: int) -> tuple[str, bytes]:
    """(file name, PDF bytes) of an invoice in scope."""
    inv = get_invoice(session=session, scope=scope, invoice_id=invoice_id)
    return pdf_filename(inv), render_invoice_pdf(inv)
