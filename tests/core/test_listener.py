"""The web backend's listener hears committed events, in order, and only committed ones."""
from __future__ import annotations

import asyncio

from core.events import notify
from core.listener import EventHub, libpq_dsn


async def _collect(hub: EventHub, n: int, accept=lambda e: True) -> list[dict]:
    out = []
    async for event in hub.events(accept):
        out.append(event)
        if len(out) == n:
            return out
    return out


async def test_subscribers_receive_committed_events_in_order_and_rolled_back_ones_never(session, database_url):
    hub = EventHub()
    listener = asyncio.create_task(hub.run(libpq_dsn(database_url)))
    try:
        await asyncio.wait_for(hub.connected.wait(), 10)
        got = asyncio.create_task(_collect(hub, 2, lambda e: e["organization_id"] == 1))
        await asyncio.sleep(0.05)

        def write():
            notify(session, {"type": "charger_status", "organization_id": 1, "status": "Faulted"})
            session.rollback()  # never committed: never heard
            notify(session, {"type": "charger_status", "organization_id": 2, "status": "Charging"})
            notify(session, {"type": "charger_status", "organization_id": 1, "status": "Charging"})
            notify(session, {"type": "charger_status", "organization_id": 1, "status": "Available"})
            session.commit()

        await asyncio.to_thread(write)
        events = await asyncio.wait_for(got, 10)
        assert [e["status"] for e in events] == ["Charging", "Available"]
    finally:
        listener.cancel()


async def test_a_full_subscriber_drops_its_oldest_events_instead_of_blocking():
    hub = EventHub(queue_size=2)
    async with hub.subscribe() as queue:
        for i in range(5):
            hub.publish({"n": i})
        assert [queue.get_nowait()["n"] for _ in range(2)] == [3, 4]
