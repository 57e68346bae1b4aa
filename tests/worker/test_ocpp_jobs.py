"""The worker's OCPP jobs: the chargers of an OCPP process that died are marked Offline even when no OCPP
process is left to notice."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.clock import clock, utcnow
from models import Charger, OcppProcess
from services.ocpp import presence, registry
from tests.utils.factories import make_charger, make_org
from worker.jobs import sweep_ocpp_processes


def test_a_dead_process_s_chargers_go_offline_and_a_live_one_s_stay_online(session):
    org = make_org(session)
    held_by_dead, held_by_live = make_charger(session, org), make_charger(session, org)
    start = utcnow()
    dead = registry.register_process(session=session, hostname="a", pid=1, now=start)
    live = registry.register_process(session=session, hostname="b", pid=2, now=start)
    presence.mark_connected(session=session, charger_id=held_by_dead.id, token="t1", now=start, process_id=dead)
    presence.mark_connected(session=session, charger_id=held_by_live.id, token="t2", now=start, process_id=live)
    session.commit()
    clock.set(start + timedelta(seconds=30))
    registry.renew_process(session=session, process_id=live, now=utcnow())
    session.commit()
    assert sweep_ocpp_processes() == 1
    session.expire_all()
    gone, kept = session.get(Charger, held_by_dead.id), session.get(Charger, held_by_live.id)
    assert (gone.status, gone.connected, gone.connection_process_id) == ("Offline", False, None)
    assert (kept.status, kept.connected) == ("Available", True)
    assert session.scalars(select(OcppProcess.id)).all() == [live]
