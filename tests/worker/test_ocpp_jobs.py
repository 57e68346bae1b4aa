"""The worker's OCPP jobs: the chargers of an OCPP process that died are marked Offline even when no OCPP
process is left to notice."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.clock import clock, utcnow
from core.db import owner_session
from models import Charger, OcppMessage, OcppProcess
from services.ocpp import frames, presence, registry
from tests.utils.factories import make_charger, make_org
from worker.jobs import frame_log_partitions, sweep_ocpp_processes


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


def test_the_frame_log_keeps_the_configured_days_and_drops_older_days_whole(session):
    charger = make_charger(session, make_org(session))
    now = utcnow()
    old_day = now - timedelta(days=40)
    with owner_session() as owner:  # partitions are DDL: the tables' owner makes them (docs/adr/0010)
        frames.maintain_partitions(session=owner, today=old_day.date(), keep_days=30, ahead=0)
    for when in (old_day, now):
        session.add(OcppMessage(charger_id=charger.id, direction="in", action="Heartbeat", frame="[2,\"1\"]",
                                created_at=when))
    session.commit()
    dropped = frame_log_partitions()  # OCPP_FRAME_LOG_DAYS = 30 by default
    assert dropped == [f"ocpp_message_{old_day:%Y%m%d}"]
    session.expire_all()
    assert session.scalars(select(OcppMessage.created_at)).all() == [now]
    assert frame_log_partitions() == []  # nothing more to drop; tomorrow's partitions already exist
