"""Location owners' monthly commission statements: made once per closed month, per charger, as CSV and PDF."""
from __future__ import annotations

import io
import threading
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlmodel import Session

from core.clock import clock
from core.errors import NotFound
from models import OwnerStatement
from services.access.scope import scope_for
from services.billing import owner_statements as svc
from tests.utils.factories import make_charger, make_location_owner, make_org, make_priced_session, make_user


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def hotel(session):
    clock.set(utc(2026, 10, 1))
    org = make_org(session, slug="lanka", currency="LKR", timezone="Asia/Colombo")
    owner = make_location_owner(session, org, name="Galle Face Hotel")
    other = make_location_owner(session, org, name="Other Owner")
    a = make_charger(session, org, ocpp_id="LK-A", location_owner=owner)
    b = make_charger(session, org, ocpp_id="LK-B", location_owner=owner)
    make_priced_session(session, a, stopped_at=utc(2026, 10, 5, 10), energy_wh=1_951_561, energy="100",
                        location_owner_rate="10")
    make_priced_session(session, b, stopped_at=utc(2026, 10, 6, 10), energy="50", location_owner_rate="10")
    make_priced_session(session, b, stopped_at=utc(2026, 10, 31, 18, 45), energy="50",  # 1 Nov in Colombo
                        location_owner_rate="10")
    return dict(org=org, owner=owner, other=other)


def test_a_statement_per_closed_month_once_with_commission_per_charger(session, hotel):
    assert svc.make_due_statements(session=session, now=utc(2026, 10, 31, 12)) == 0  # October still open
    assert svc.make_due_statements(session=session, now=utc(2026, 11, 2)) == 2  # both owners, October
    assert svc.make_due_statements(session=session, now=utc(2026, 11, 3)) == 0  # never twice
    user = make_user(session, role="location_owner", location_owner=hotel["owner"])
    [st] = svc.list_statements(session=session, scope=scope_for(session, user))
    assert (st.period_start, st.period_end, st.sessions) == (date(2026, 10, 1), date(2026, 10, 31), 2)
    assert [(ln["ocpp_id"], ln["sessions"]) for ln in st.lines] == [("LK-A", 1), ("LK-B", 1)]
    assert st.commission == sum(svc.Decimal(ln["commission"]) for ln in st.lines) and st.commission > 0
    name, text = svc.statement_csv(st)
    assert name == "commission-galle-face-hotel-2026-10.csv" and "LK-A" in text and "1951.561" in text
    _, pdf = svc.statement_pdf(st)
    pdf_text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Galle Face Hotel" in pdf_text and "1,951.561" in pdf_text
    # The other owner's statement is not the hotel user's.
    theirs = session.execute(select(OwnerStatement.id).where(
        OwnerStatement.location_owner_id == hotel["other"].id)).scalar_one()
    with pytest.raises(NotFound):
        svc.get_statement(session=session, scope=scope_for(session, user), statement_id=theirs)


def test_two_workers_at_once_make_each_statement_once(session, engine, hotel):
    barrier, errors = threading.Barrier(2), []

    def worker():
        try:
            with Session(engine) as s:
                barrier.wait()
                svc.make_due_statements(session=s, now=utc(2026, 11, 2))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert session.execute(select(func.count()).select_from(OwnerStatement)).scalar() == 2
