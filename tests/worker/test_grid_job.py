"""The worker's grid job: polls only the regions organizations picked, classifies them, opens an event for
an opted-in organization when the grid is stressed; retention drops old readings."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from core.clock import clock
from models.grid import DrEvent, GridReading, GridRegion, GridStateEvent
from services.access.scope import system_scope
from services.grid import policy, readings, regions
from services.grid.sources import Reading
from tests.utils.factories import make_org
from worker.jobs import grid, grid_retention

DROP = datetime(2026, 12, 3, 12, 2, tzinfo=UTC)


def test_grid_job_reads_the_picked_region_and_starts_demand_response(session):
    org = make_org(session, slug="lanka")
    regions.ensure_built_in(session=session)
    policy.save_policy(session=session, scope=system_scope(org.id), organization_id=org.id, region="DEMO",
                       enabled=True, limit_percent="50")
    session.commit()
    clock.set(DROP)
    assert grid() == {"regions": 1, "failed": 0, "organizations": 1}
    regions_read = set(session.execute(select(GridReading.region)).scalars())
    assert regions_read == {"DEMO"}  # GB, DE_LU and LK are nobody's: never called
    assert session.execute(select(GridStateEvent.state)).scalar_one() == "alert"
    event = session.execute(select(DrEvent)).scalar_one()
    assert (event.origin, event.status, event.grid_state) == ("grid", "active", "alert")
    assert session.get(GridRegion, "DEMO").last_error is None


def test_retention_deletes_readings_older_than_the_setting(session):
    regions.ensure_built_in(session=session)
    clock.set(DROP)
    readings.store(session=session, region="DEMO", source="replay", readings=[
        Reading(ts=DROP - timedelta(days=d), frequency_hz=Decimal("50")) for d in (0, 29, 31, 40)])
    session.commit()
    assert grid_retention() == 2
    assert len(session.execute(select(GridReading.id)).all()) == 2
