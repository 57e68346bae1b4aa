"""What an organization's VEN does with the events its OpenADR VTN sends (as openleadr parses them): it opts in
and opens a demand-response event only when the policy names the VTN and the event asks for a curtailment;
the same event received twice is one event; a cancellation ends it; bad input changes nothing."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.clock import clock
from core.errors import ValidationError
from models.grid import DrEvent
from services.access.scope import system_scope
from services.grid import openadr, policy
from tests.utils.factories import make_org

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
VTN = "http://vtn.example/OpenADR2/Simple/2.0b"


@pytest.fixture
def org(session):
    return make_org(session, slug="lanka")


def _policy(session, org, **kw):
    fields = {"vtn_url": VTN, "ven_name": "lanka-ven", **kw}
    policy.save_policy(session=session, scope=system_scope(org.id), organization_id=org.id, region="DEMO",
                       limit_percent="50", max_duration_minutes=60, **fields)
    session.commit()


def _event(event_id="ev-1", *, start=T0, minutes=30, level=2.0, status="active"):
    return {"event_descriptor": {"event_id": event_id, "event_status": status, "modification_number": 0},
            "active_period": {"dtstart": start, "duration": timedelta(minutes=minutes)},
            "event_signals": [{"signal_name": "simple", "signal_type": "level",
                               "intervals": [{"dtstart": start, "duration": timedelta(minutes=minutes),
                                              "signal_payload": level}]}]}


def _receive(session, org, event) -> str:
    answer = openadr.receive(session=session, organization_id=org.id, event=event)
    session.commit()
    return answer


def _events(session):
    return session.execute(select(DrEvent).order_by(DrEvent.id)).scalars().all()


def test_an_event_opens_one_openadr_event_and_a_repeat_does_not_open_another(session, org, built_in):
    clock.set(T0)
    _policy(session, org)
    assert _receive(session, org, _event(minutes=30)) == "optIn"
    assert _receive(session, org, _event(minutes=30)) == "optIn"  # the VEN restarted and synced
    (event,) = _events(session)
    assert (event.origin, event.external_id, event.status) == ("openadr", "ev-1", "active")
    assert (event.started_at, event.ends_at) == (T0, T0 + timedelta(minutes=30))
    assert _receive(session, org, _event(status="cancelled")) == "optIn"
    session.refresh(event)
    assert (event.status, event.end_reason) == ("ending", "cancelled by the VTN")


def test_an_event_announced_ahead_starts_at_its_start_and_is_capped_by_the_maximum_duration(session, org,
                                                                                          built_in):
    clock.set(T0)
    _policy(session, org)
    assert _receive(session, org, _event(start=T0 + timedelta(minutes=10), minutes=240)) == "optIn"
    (event,) = _events(session)
    assert (event.started_at, event.ends_at) == (T0 + timedelta(minutes=10), T0 + timedelta(minutes=70))


@pytest.mark.parametrize("event", [
    _event(level=0),                                        # "normal": nothing to curtail
    _event(start=T0 - timedelta(hours=2), minutes=30),      # already over
    _event(status="completed"),
    _event(event_id=""),
    {"event_descriptor": {"event_id": "x", "event_status": "active"}, "active_period": {"dtstart": "soon"}},
])
def test_events_asking_for_nothing_or_malformed_are_refused(session, org, built_in, event):
    clock.set(T0)
    _policy(session, org)
    assert _receive(session, org, event) == "optOut"
    assert _events(session) == []


def test_no_vtn_in_the_policy_or_another_event_running_opts_out(session, org, built_in):
    clock.set(T0)
    _policy(session, org, vtn_url="", ven_name="")
    assert _receive(session, org, _event()) == "optOut"
    _policy(session, org)
    assert _receive(session, org, _event("ev-1")) == "optIn"
    assert _receive(session, org, _event("ev-2")) == "optOut"
    assert [e.external_id for e in _events(session)] == ["ev-1"]


@pytest.mark.parametrize("url,name", [("ftp://vtn.example/x", "ven"), ("http://user:pw@vtn.example/x", "ven"),
                                      ("http://vtn.example/" + "x" * 500, "ven"), (VTN, ""), (VTN, "bad name!")])
def test_a_bad_vtn_address_or_ven_name_is_refused(session, org, built_in, url, name):
    with pytest.raises(ValidationError):
        _policy(session, org, vtn_url=url, ven_name=name)
