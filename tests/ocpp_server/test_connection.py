"""The dispatcher on a fake websocket: frames that reach no handler get the exact OCPP 1.6 CALLERROR, and our
own CALLs go out as exact frames and are matched with their answers."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from models import OcppMessage
from ocpp_server.connection import CallFailed, NotSent

NOT_JSON = ('[4,"-1","FormationViolation","Payload for Action is syntactically incorrect or not conform the PDU '
            'structure for Action",{"cause":"Message is not valid JSON"}]')


async def test_unknown_action_is_not_implemented(wire):
    assert await wire.send('[2,"u1","FlyToTheMoon",{}]') == (
        '[4,"u1","NotImplemented","Requested Action is not known by receiver",'
        '{"cause":"Unknown action \'FlyToTheMoon\'"}]')


async def test_action_the_central_system_sends_is_not_supported_from_a_charger(wire):
    assert await wire.send('[2,"u2","Reset",{"type":"Hard"}]') == (
        '[4,"u2","NotSupported","Requested Action is recognized but not supported by the receiver",'
        '{"cause":"Reset is not accepted from a charge point"}]')


async def test_payload_that_is_not_an_object_is_a_formation_violation(wire):
    assert await wire.send('[2,"u3","Heartbeat",[]]') == (
        '[4,"u3","FormationViolation","Payload for Action is syntactically incorrect or not conform the PDU '
        'structure for Action",{"cause":"The payload of a CALL must be a JSON object"}]')


async def test_frame_that_is_not_json_is_a_formation_violation_without_a_unique_id(wire):
    assert await wire.send("{oops") == NOT_JSON


async def test_binary_frame_is_a_formation_violation(wire):
    assert await wire.send(b'[2,"u4","Heartbeat",{}]') == (
        '[4,"-1","FormationViolation","Payload for Action is syntactically incorrect or not conform the PDU '
        'structure for Action",{"cause":"OCPP-J frames are text frames"}]')


async def test_frames_are_answered_in_the_order_they_arrive_and_logged(wire, server, session, charger):
    wire.ws.feed('[2,"o1","Heartbeat",{}]', "{oops", '[2,"o2","DataTransfer",{"vendorId":"x"}]')
    await wire.conn.serve()
    assert wire.ws.sent == ['[3,"o1",{"currentTime":"2026-11-21T10:00:00Z"}]', NOT_JSON,
                            '[3,"o2",{"status":"UnknownVendorId"}]']
    await server.frames.flush()
    logged = session.execute(select(OcppMessage.direction, OcppMessage.frame).order_by(OcppMessage.id)).all()
    assert [d for d, _ in logged] == ["in", "out"] * 3
    assert [f for d, f in logged if d == "out"] == wire.ws.sent


async def _our_call(wire, action: str, payload: dict):
    """Send a CALL as the command channel does; return the pending call and the frame that went out."""
    task = asyncio.create_task(wire.conn.call(action, payload, timeout=5))
    for _ in range(100):
        if wire.ws.sent:
            return task, wire.ws.sent[-1]
        await asyncio.sleep(0)
    raise AssertionError(f"{action} was never sent")


async def test_our_call_goes_out_as_an_exact_frame_and_its_result_is_returned(wire):
    task, frame = await _our_call(wire, "Reset", {"type": "Soft"})
    uid = frame.split('"')[1]
    assert frame == f'[2,"{uid}","Reset",{{"type":"Soft"}}]'
    wire.ws.feed(f'[3,"{uid}",{{"status":"Accepted"}}]')
    await wire.conn.serve()
    assert await task == {"status": "Accepted"}
    assert len(wire.ws.sent) == 1  # a CALLRESULT is not answered


async def test_our_call_answered_with_a_callerror_raises_it(wire):
    task, frame = await _our_call(wire, "Reset", {"type": "Hard"})
    uid = frame.split('"')[1]
    wire.ws.feed(f'[4,"{uid}","NotSupported","no",{{}}]')
    await wire.conn.serve()
    with pytest.raises(CallFailed) as err:
        await task
    assert (err.value.code, str(err.value)) == ("NotSupported", "NotSupported: no")


async def test_a_call_whose_deadline_passes_while_it_queues_is_never_sent(wire):
    first, frame = await _our_call(wire, "Reset", {"type": "Soft"})  # holds the charger's one CALL slot
    queued = asyncio.create_task(wire.conn.call("UnlockConnector", {"connectorId": 1}, timeout=0.2))
    with pytest.raises(NotSent):
        await queued
    uid = frame.split('"')[1]
    wire.ws.feed(f'[3,"{uid}",{{"status":"Accepted"}}]')
    await wire.conn.serve()
    assert await first == {"status": "Accepted"}
    assert wire.ws.sent == [frame]  # the expired UnlockConnector never went out, not even after the slot freed
