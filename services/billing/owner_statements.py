"""Monthly commission statements for location owners (issue 14), like invoices: made by the billing worker once
per owner and month of its organization's calendar, after the month has ended plus the grace time, as PDF
and CSV. A session counts for the owner that held the charger when it started (Transaction.location_owner_id)
and for the month it stopped in, as invoices count it.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from fpdf import FPDF
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from core.clock import utcnow
from core.errors import NotFound
from core.fmt import day, kwh
from core.money import format_money
from core.validation import check_int32
from models import Charger, LocationOwner, Organization, OwnerStatement, Transaction
from services.access.permissions import Cap
from services.access.scope import Scope
from services.billing.periods import invoiceable_from, local_today, period_bounds_utc, period_containing

MAX_CATCH_UP_MONTHS = 24


def _months_due(org: Organization, owner: LocationOwner, now: datetime) -> list[tuple[date, date]]:
    """Months from the owner's first (in the organization's zone) up to the last one that has closed."""
    first = period_containing("monthly", 1, local_today(org.timezone, owner.created_at))
    months, period = [], first
    while invoiceable_from(period.end, org.timezone) <= now and len(months) < MAX_CATCH_UP_MONTHS:
        months.append((period.start, period.end))
        period = period_containing("monthly", 1, period.end + timedelta(days=1))
    return months


def _lines(session: Session, org: Organization, owner_id: int, start: date, end: date) -> list[dict]:
    lo, hi = period_bounds_utc(start, end, org.timezone)
    rows = session.execute(
        select(Charger.id, Charger.ocpp_id, Charger.name, func.count(),
               func.coalesce(func.sum(Transaction.energy_wh), 0), func.coalesce(func.sum(Transaction.amount_gross), 0),
               func.coalesce(func.sum(Transaction.amount_location_owner), 0))
        .join(Charger, Charger.id == Transaction.charger_id)
        .where(Transaction.location_owner_id == owner_id, Transaction.organization_id == org.id,
               Transaction.priced_at.is_not(None), Transaction.stopped_at >= lo, Transaction.stopped_at < hi)
        .group_by(Charger.id, Charger.ocpp_id, Charger.name).order_by(Charger.ocpp_id)).all()
    return [{"charger_id": cid, "ocpp_id": ocpp, "name": name, "sessions": n, "energy_wh": int(wh),
             "revenue": str(gross), "commission": str(commission)}
            for cid, ocpp, name, n, wh, gross, commission in rows]


def make_due_statements(*, session: Session, now: datetime | None = None) -> int:
    """Make every closed month's statement not made yet, for every location owner. Safe in several workers at
    once: the unique (owner, month) key keeps one, the others insert nothing. Returns how many it made."""
    now = now or utcnow()
    made = 0
    owners = session.execute(select(LocationOwner, Organization).join(
        Organization, Organization.id == LocationOwner.organization_id).order_by(LocationOwner.id)).all()
    done = {(o, s) for o, s in session.execute(select(OwnerStatement.location_owner_id, OwnerStatement.period_start))}
    for owner, org in owners:
        for start, end in _months_due(org, owner, now):
            if (owner.id, start) in done:
                continue
            lines = _lines(session, org, owner.id, start, end)
            result = session.execute(insert(OwnerStatement).values(
                location_owner_id=owner.id, organization_id=org.id, period_start=start, period_end=end,
                currency=org.currency, sessions=sum(ln["sessions"] for ln in lines),
                energy_wh=sum(ln["energy_wh"] for ln in lines),
                revenue=sum((Decimal(ln["revenue"]) for ln in lines), Decimal(0)),
                commission=sum((Decimal(ln["commission"]) for ln in lines), Decimal(0)), lines=lines,
                created_at=now).on_conflict_do_nothing(index_elements=["location_owner_id", "period_start"])
                .returning(OwnerStatement.id))
            made += result.first() is not None
            session.commit()
    return made


@dataclass(frozen=True)
class StatementRow:
    id: int
    location_owner: str
    organization: str
    period_start: date
    period_end: date
    currency: str
    sessions: int
    energy_kwh: Decimal
    revenue: Decimal
    commission: Decimal
    lines: list[dict]


def list_statements(*, session: Session, scope: Scope, limit: int = 24) -> list[StatementRow]:
    """The statements in scope, newest month first: a location owner's own; a CPO's owners'."""
    scope.require(Cap.VIEW_FINANCE)
    rows = session.execute(
        select(OwnerStatement, LocationOwner.name, Organization.name)
        .join(LocationOwner, LocationOwner.id == OwnerStatement.location_owner_id)
        .join(Organization, Organization.id == OwnerStatement.organization_id)
        .where(scope.owner_filter(OwnerStatement.location_owner_id, OwnerStatement.organization_id))
        .order_by(OwnerStatement.period_start.desc(), LocationOwner.name).limit(limit)).all()
    return [_row(s, owner, org) for s, owner, org in rows]


def _row(s: OwnerStatement, owner: str, org: str) -> StatementRow:
    return StatementRow(s.id, owner, org, s.period_start, s.period_end, s.currency, s.sessions,
                        Decimal(s.energy_wh) / 1000, Decimal(s.revenue), Decimal(s.commission), s.lines)


def get_statement(*, session: Session, scope: Scope, statement_id: int) -> StatementRow:
    scope.require(Cap.VIEW_FINANCE)
    found = session.execute(
        select(OwnerStatement, LocationOwner.name, Organization.name)
        .join(LocationOwner, LocationOwner.id == OwnerStatement.location_owner_id)
        .join(Organization, Organization.id == OwnerStatement.organization_id)
        .where(OwnerStatement.id == check_int32(statement_id, "statement_id"),
               scope.owner_filter(OwnerStatement.location_owner_id, OwnerStatement.organization_id))).first()
    if found is None:
        raise NotFound("Statement not found.")
    return _row(*found)


def _filename(st: StatementRow, ext: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in st.location_owner.lower()).strip("-")
    return f"commission-{slug}-{st.period_start:%Y-%m}.{ext}"


def statement_csv(st: StatementRow) -> tuple[str, str]:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["charger", "name", "sessions", "energy_kwh", f"revenue_{st.currency}", f"commission_{st.currency}"])
    for ln in st.lines:
        w.writerow([ln["ocpp_id"], ln["name"], ln["sessions"], f"{Decimal(ln['energy_wh']) / 1000:.3f}",
                    ln["revenue"], ln["commission"]])
    w.writerow(["total", "", st.sessions, f"{st.energy_kwh:.3f}", st.revenue, st.commission])
    return _filename(st, "csv"), out.getvalue()


def statement_pdf(st: StatementRow) -> tuple[str, bytes]:
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 14)
    pdf.multi_cell(0, 8, _latin(f"Commission statement: {st.location_owner}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    pdf.multi_cell(0, 6, _latin(f"{st.organization} · {day(st.period_start)} – {day(st.period_end)}"),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (40, 60, 20, 30, 40)
    pdf.set_font("helvetica", "B", 9)
    for w, head in zip(widths, ("Charger", "Name", "Sessions", "kWh", "Commission"), strict=True):
        pdf.cell(w, 7, head, border="B")
    pdf.ln()
    pdf.set_font("helvetica", "", 9)
    for ln in st.lines:
        cells = (ln["ocpp_id"], ln["name"][:34], f"{ln['sessions']:,}", kwh(Decimal(ln["energy_wh"]) / 1000, 3,
                                                                          unit=False),
                 format_money(Decimal(ln["commission"]), st.currency))
        for w, text in zip(widths, cells, strict=True):
            pdf.cell(w, 6, _latin(text))
        pdf.ln()
    pdf.set_font("helvetica", "B", 9)
    totals = ("Total", "", f"{st.sessions:,}", kwh(st.energy_kwh, 3, unit=False),
              format_money(st.commission, st.currency))
    for w, text in zip(widths, totals, strict=True):
        pdf.cell(w, 7, _latin(text), border="T")
    return _filename(st, "pdf"), bytes(pdf.output())


def _latin(text: str) -> str:
    # The core PDF fonts are Latin-1; a name outside it prints with replacement marks, never fails.
    return text.replace("–", "-").replace("·", "-").encode("latin-1", "replace").decode("latin-1")
