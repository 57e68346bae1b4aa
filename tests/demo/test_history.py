"""The demo's charging history goes through the OCPP services, so it is priced and flagged like live data."""
from __future__ import annotations

from sqlalchemy import func, select

from demo.history import seed_history
from demo.seed import demo_charger_ids, seed_demo
from models import MeterValue, Organization, Transaction
from tests.utils.factories import make_charger


def test_demo_history_is_priced_unflagged_with_meter_curves_and_made_once(session):
    seed_demo(session=session)
    session.commit()
    sessions = session.execute(select(Transaction)).scalars().all()
    assert len(sessions) > 100
    for tx in sessions:
        assert tx.status == "completed" and tx.flags == [] and tx.priced_at is not None
        assert tx.amount_gross == (tx.amount_vat + tx.amount_ssc + tx.amount_gateway + tx.amount_platform
                                   + tx.amount_location_owner + tx.amount_net_cpo)
    curve = session.execute(select(func.count()).select_from(MeterValue)
                            .where(MeterValue.transaction_id == sessions[0].id)).scalar_one()
    assert curve >= 2
    assert seed_history(session=session) == 0


def test_make_run_simulates_the_demos_own_chargers_not_the_first_ones_alphabetically(session):
    seed_demo(session=session)
    session.commit()
    own = demo_charger_ids(session=session)
    assert len(own) == 8
    org = session.execute(select(Organization).where(Organization.kind != "operator")).scalars().first()
    for ocpp_id in ("AAA-0001", "AAA-0002"):  # added by a user, first in the alphabet
        make_charger(session, org, ocpp_id=ocpp_id)
    seed_demo(session=session)  # the next `make run`
    session.commit()
    assert demo_charger_ids(session=session) == own
    assert not {"AAA-0001", "AAA-0002"} & set(demo_charger_ids(session=session))
