"""Europe, ENTSO-E Transparency Platform, through the kept client `entsoe-py` (security token required).

Actual total load (documentType A65, processType A16) and actual generation per production type (A75)
for a bidding zone, as GL_MarketDocument XML; entsoe-py's own parsers read them. ENTSO-E publishes no
frequency. The endpoint is entsoe-py's module setting, pointed at ENTSOE_URL (the stand-in in the demo).
"""
from __future__ import annotations

import warnings
from datetime import datetime
from decimal import Decimal

import entsoe.entsoe as entsoe_client
import pandas as pd
import requests
from entsoe import EntsoeRawClient
from entsoe.exceptions import NoMatchingDataError
from entsoe.parsers import parse_generation, parse_loads

from services.grid.sources import Reading, SourceError, total


def _decimal(value: float) -> Decimal | None:
    return None if pd.isna(value) else Decimal(str(round(float(value), 3)))


def _read(load_xml: str | None, generation_xml: str | None) -> dict[datetime, Reading]:
    by_ts: dict[datetime, Reading] = {}
    if load_xml:
        for ts, value in parse_loads(load_xml, process_type="A16")["Actual Load"].items():
            by_ts.setdefault(ts.to_pydatetime(), Reading(ts=ts.to_pydatetime())).demand_mw = _decimal(value)
    if generation_xml:
        for ts, row in parse_generation(generation_xml, nett=True).iterrows():
            mix = {str(k).lower().replace(" ", "_").replace("/", "_")[:32]: d for k, v in row.items()
                   if (d := _decimal(v)) is not None}
            r = by_ts.setdefault(ts.to_pydatetime(), Reading(ts=ts.to_pydatetime()))
            r.mix, r.generation_mw = mix, total(mix)
    return by_ts


def parse(load_xml: str | None, generation_xml: str | None) -> list[Reading]:
    """Readings from the two documents (either may be empty)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bs4's XML-as-HTML and pandas deprecations inside entsoe-py
            by_ts = _read(load_xml, generation_xml)
    except (ValueError, KeyError, TypeError, AttributeError, NotImplementedError) as exc:
        raise SourceError(f"ENTSO-E: the document cannot be read ({type(exc).__name__})") from exc
    return [by_ts[ts] for ts in sorted(by_ts)]


class EntsoeSource:
    name = "entsoe"

    def __init__(self, base_url: str, token: str, area: str) -> None:
        if not token:
            raise SourceError("ENTSO-E needs a security token: set it in the region's settings")
        entsoe_client.URL = base_url
        self.client = EntsoeRawClient(api_key=token, retry_count=1, retry_delay=0, timeout=10)
        self.area = area

    def _query(self, what: str, since: datetime, until: datetime) -> str | None:
        start, end = pd.Timestamp(since), pd.Timestamp(until)
        try:
            if what == "load":
                return self.client.query_load(self.area, start=start, end=end)
            return self.client.query_generation(self.area, start=start, end=end)
        except NoMatchingDataError:
            return None
        except (requests.RequestException, ValueError) as exc:
            raise SourceError(f"ENTSO-E {what}: {type(exc).__name__}") from exc

    def fetch(self, *, since: datetime, until: datetime) -> list[Reading]:
        return parse(self._query("load", since, until), self._query("generation", since, until))
