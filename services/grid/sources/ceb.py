"""Sri Lanka, CEB: the public load curve behind https://cebcare.ceb.lk/gensum/details.

`GET /GenSum/GetLoadCurveData?date=YYYY-MM-DD` answers a JSON array *encoded as a JSON string* (the answer
is double-encoded), one object per quarter-hour of the previous day, in Sri Lanka time:
{"DateTime": "2023-08-23T00:15:00", "Coal": 535.0, "Major Hydro": 150.6, "SPP Minihydro": 60.1,
 "SPP Biomass": 9.6, "Solar": 0.0, "Thermal-Oil": 765.4, "Wind": 134.6}
It publishes no frequency: in Sri Lanka the chargers are the live signal (services/grid/sensors.py).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from services.grid.sources import Reading, SourceError, number, total
from services.grid.sources.http import get_json

PATH = "/GenSum/GetLoadCurveData"
TZ = ZoneInfo("Asia/Colombo")
FUELS = {"Coal": "coal", "Major Hydro": "hydro", "SPP Minihydro": "mini_hydro", "SPP Biomass": "biomass",
         "Solar": "solar", "Thermal-Oil": "thermal_oil", "Wind": "wind"}


def parse(answer: Any) -> list[Reading]:
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except json.JSONDecodeError as exc:
            raise SourceError("CEB: the load curve is not JSON") from exc
    if not isinstance(answer, list) or not all(isinstance(r, dict) for r in answer):
        raise SourceError("CEB: the load curve is not a list of quarter-hours")
    readings = []
    for row in answer:
        try:
            ts = datetime.fromisoformat(str(row["DateTime"])).replace(tzinfo=TZ)
        except (KeyError, ValueError) as exc:
            raise SourceError("CEB: a quarter-hour has no valid DateTime") from exc
        mix: dict[str, Decimal] = {}
        for key, value in row.items():
            if key != "DateTime" and (mw := number(value, f"CEB {key}")) is not None:
                fuel = FUELS.get(key, key.lower().replace(" ", "_")[:24])
                mix[fuel] = mix.get(fuel, Decimal(0)) + mw
        generation = total(mix)
        # The load curve is the generation that met the island's demand.
        readings.append(Reading(ts=ts, demand_mw=generation, generation_mw=generation, mix=mix))
    return readings


class CebSource:
    name = "ceb"

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def fetch(self, *, since: datetime, until: datetime) -> list[Reading]:
        day = (until.astimezone(TZ) - timedelta(days=1)).date()  # it publishes the previous day
        return [r for r in parse(get_json(self.base + PATH, {"date": day.isoformat()}))]
