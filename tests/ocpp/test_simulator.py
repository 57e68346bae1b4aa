"""The simulator CLI runs realistic chargers against the real server: boots, statuses, sessions, commands."""
from __future__ import annotations

import asyncio
import sys

from sqlalchemy import func, select

from models import Charger, MeterValue, Transaction, UnknownCharger
from services.access.scope import scope_for
from services.charging import idtags as idtag_svc
from services.ocpp.commands import send_command
from tests.ocpp.conftest import KEY, until
from tests.utils.factories import make_charger, make_user


async def test_simulated_chargers_boot_run_priced_sessions_and_answer_commands(server, session, engine, org):
    for ocpp_id in ("SIM-0001", "SIM-0002"):
        make_charger(session, org, ocpp_id=ocpp_id, auth_key=KEY)
    idtag_svc.create_id_tag(session=session, tag="SIMTAG-1", organization=org)
    session.commit()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ocpp_server.simulator", "--url", f"ws://127.0.0.1:{server.port}/ocpp",
        "--chargers", "2", "--auth-key", KEY, "--id-tags", "SIMTAG-1", "--pace", "0.005", "--duration", "15",
        "--wait-for-server", "5", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        def booted():
            session.expire_all()
            return session.scalar(select(func.count()).select_from(Charger).where(Charger.vendor == "Voltdesk Sim",
                                                                                  Charger.connected)) == 2
        await until(booted, timeout=20)
        charger_id = session.scalar(select(Charger.id).where(Charger.ocpp_id == "SIM-0001"))
        scope = scope_for(session, make_user(session, role="admin"))
        result = await asyncio.to_thread(send_command, engine=engine, scope=scope, charger_id=charger_id,
                                         action="GetConfiguration", payload={"key": ["HeartbeatInterval"]})
        assert result.status == "done"
        assert result.result["configurationKey"][0]["key"] == "HeartbeatInterval"
        await until(lambda: session.scalar(select(func.count()).select_from(Transaction)
                                           .where(Transaction.status == "completed")), timeout=30)
    finally:
        proc.terminate()
        await proc.wait()
    session.expire_all()
    done = session.scalars(select(Transaction).where(Transaction.status == "completed")).first()
    assert done.energy_wh > 0 and done.amount_gross is not None
    assert session.scalar(select(func.count()).select_from(MeterValue).where(MeterValue.transaction_id == done.id))


async def test_a_refused_charger_stops_at_the_first_refusal_instead_of_looping(server, session):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ocpp_server.simulator", "--url", f"ws://127.0.0.1:{server.port}/ocpp",
        "--ids", "NOT-REGISTERED", "--auth-key", KEY, "--pace", "0.005", "--duration", "20",
        "--wait-for-server", "5", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert "refused the charger" in out.decode() and "not retrying" in out.decode()
    session.expire_all()
    attempts = session.scalar(select(func.sum(UnknownCharger.attempts))
                              .where(UnknownCharger.ocpp_id == "NOT-REGISTERED"))
    assert attempts == 1  # one try, not a loop (the old simulator retried every 1, 2, 4 ... 30 s for 20 s)
