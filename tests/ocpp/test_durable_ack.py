"""Nothing acknowledged is lost: a MeterValues answer goes out only once its samples are committed, so a
kill -9 right after the answers loses none of them. The server is a real separate process."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call
from sqlalchemy import select

from models import MeterValue, Organization
from services.charging import idtags as idtag_svc
from tests.ocpp.conftest import connect
from tests.utils.ocpp_process import OcppProcess

pytestmark = pytest.mark.xdist_group("ocpp_processes")


async def test_every_acknowledged_sample_is_in_the_database_after_kill_9(database_url, session, charger):
    idtag_svc.create_id_tag(session=session, tag="LANKA--0001",
                            organization=session.get(Organization, charger.organization_id))
    session.commit()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    server = OcppProcess(database_url)
    try:
        async with connect(server, "CP-1") as cp:
            tx_id = (await cp.call(call.StartTransaction(connector_id=1, id_tag="LANKA--0001", meter_start=0,
                                                         timestamp=start.isoformat()))).transaction_id
            acknowledged = []
            for i in range(1, 41):
                ts = (start + timedelta(seconds=10 * i)).isoformat()
                await cp.call(call.MeterValues(connector_id=1, transaction_id=tx_id, meter_value=[
                    {"timestamp": ts, "sampledValue": [{"value": str(100 * i)}]}]))
                acknowledged.append(100 * i)  # the CALLRESULT arrived
            server.kill()
    finally:
        server.stop()
    stored = session.scalars(select(MeterValue.value).where(MeterValue.transaction_id == tx_id)
                             .order_by(MeterValue.timestamp)).all()
    assert [int(v) for v in stored] == acknowledged
