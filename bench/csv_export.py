"""CSV export: stream N sessions; report the time and the process's peak RSS before and after.

    DATABASE_URL=postgresql://postgres@127.0.0.1/<scratch db with migrations> \
        python -m bench.csv_export 200000

Inserts N priced sessions into the scratch database (once), then exports them all through
services.charging.transactions.iter_csv, discarding the text as a client would receive it.
"""
from __future__ import annotations

import os
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

os.environ.setdefault("DEMO_MODE", "1")

from sqlalchemy import func, insert, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from core.db import get_engine  # noqa: E402
from demo import seed  # noqa: E402
from models import Charger, Transaction, User  # noqa: E402
from services.access.scope import scope_for  # noqa: E402
from services.charging import transactions as svc  # noqa: E402


def main(n: int) -> None:
    with Session(get_engine()) as s:
        seed.seed_demo(session=s)
        s.commit()
        have = s.execute(select(func.count()).select_from(Transaction)).scalar_one()
        charger = s.execute(select(Charger).order_by(Charger.id)).scalars().first()
        start = datetime(2025, 1, 1, tzinfo=UTC)
        for chunk in range(have, n, 10000):
            s.execute(insert(Transaction), [dict(
                charger_id=charger.id, organization_id=charger.organization_id, connector_id=1, id_tag=f"B{i}",
                status="completed", meter_start=0, meter_stop=7000, energy_wh=7000,
                started_at=start + timedelta(minutes=i), stopped_at=start + timedelta(minutes=i + 40),
                currency="LKR", amount_gross=Decimal("840.00"), amount_net_cpo=Decimal("700.00"), priced_at=start,
                flags=[]) for i in range(chunk, min(chunk + 10000, n))])
            s.commit()
        admin = s.execute(select(User).where(User.role == "admin")).scalars().first()
        scope = scope_for(s, admin)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with Session(get_engine()) as s:
        t0 = time.perf_counter()
        rows = size = 0
        for chunk in svc.iter_csv(session=s, scope=scope):
            rows += chunk.count("\n")
            size += len(chunk)
        elapsed = time.perf_counter() - t0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows={rows - 1} csv_mb={size / 1e6:.1f} seconds={elapsed:.1f} rows_per_s={(rows - 1) / elapsed:.0f} "
          f"max_rss_mb before={rss_before:.0f} after={rss_after:.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100000)
