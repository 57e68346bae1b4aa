"""Demand response: each organization's policy, its events (start one by hand, end one) and their reports."""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import Field

from app.api.deps import Caller, SessionDep, require_cap
from app.api.shapes import InputModel, model_of, rows_to
from services.access.permissions import Cap
from services.grid import manual, report
from services.grid import policy as policies

router = APIRouter(prefix="/demand-response", tags=["demand response"])
ViewGrid = require_cap(Cap.VIEW_GRID)
ManageDr = require_cap(Cap.MANAGE_DEMAND_RESPONSE)

PolicyOut = model_of(policies.PolicyRow, "DrPolicyOut")
EventOut = model_of(manual.EventRow, "DrEventOut")
ChargerLineOut = model_of(report.ChargerLine, "DrChargerLineOut")
ReportOut = model_of(report.EventReport, "DrEventReportOut", chargers=list[ChargerLineOut])
OrgTotalOut = model_of(report.OrgTotal, "DrOrganizationTotalOut")


class PolicyIn(InputModel):
    region: str = Field(max_length=16, examples=["GB"])
    enabled: bool = False
    trigger_state: Literal["alert", "emergency"] = "alert"
    limit_percent: Decimal | None = Field(None, description="Of each charger's maximum; or give limit_kw")
    limit_kw: Decimal | None = Field(None, description="Per charger; never below the 6 A OCPP minimum")
    exempt_charger_ids: list[int] = Field(default_factory=list, max_length=10000)
    max_duration_minutes: int = Field(60, ge=1, le=1440)
    profile_purpose: Literal["ChargePointMaxProfile", "TxDefaultProfile"] = "ChargePointMaxProfile"
    chargers_as_sensors: bool = Field(False, description="Ask chargers for Frequency and Voltage meter values")
    vtn_url: str = Field("", max_length=500, description="An OpenADR 2.0b VTN whose events start demand response "
                         "(e.g. https://vtn.example/OpenADR2/Simple/2.0b); empty for none")
    ven_name: str = Field("", max_length=64, description="The name this organization's VEN registers with")


class EventIn(InputModel):
    organization_id: int
    minutes: int | None = Field(None, ge=1, le=1440, description="Default: the policy's maximum duration")
    note: str = Field("", max_length=500, description="e.g. the utility's call reference")


@router.get("/policies", response_model=list[PolicyOut])
def list_policies(session: SessionDep, caller: Caller = ViewGrid):
    return rows_to(PolicyOut, policies.list_policies(session=session, scope=caller.scope))


@router.get("/policies/{organization_id}", response_model=PolicyOut)
def get_policy(organization_id: int, session: SessionDep, caller: Caller = ViewGrid):
    return PolicyOut.model_validate(policies.get_policy(session=session, scope=caller.scope,
                                                        organization_id=organization_id))


@router.put("/policies/{organization_id}", response_model=PolicyOut)
def save_policy(organization_id: int, body: PolicyIn, session: SessionDep, caller: Caller = ManageDr):
    row = policies.save_policy(session=session, scope=caller.scope, organization_id=organization_id,
                               **body.model_dump())
    session.commit()
    return PolicyOut.model_validate(row)


@router.get("/events", response_model=list[EventOut])
def list_events(session: SessionDep, caller: Caller = ViewGrid, limit: int = Query(50, ge=1, le=200),
                offset: int = Query(0, ge=0)):
    return rows_to(EventOut, manual.list_events(session=session, scope=caller.scope, limit=limit, offset=offset))


@router.post("/events", response_model=EventOut, status_code=201)
def start_event(body: EventIn, session: SessionDep, caller: Caller = ManageDr):
    """Start an event by hand (a utility's call); the worker applies it on its next pass."""
    row = manual.start_event(session=session, scope=caller.scope, organization_id=body.organization_id,
                             minutes=body.minutes, note=body.note, requested_by=caller.user.id)
    session.commit()
    return EventOut.model_validate(row)


@router.get("/events/{event_id}", response_model=EventOut)
def get_event(event_id: int, session: SessionDep, caller: Caller = ViewGrid):
    return EventOut.model_validate(manual.get_event(session=session, scope=caller.scope, event_id=event_id))


@router.post("/events/{event_id}/end", response_model=EventOut)
def end_event(event_id: int, session: SessionDep, caller: Caller = ManageDr):
    """End an event: the worker clears every profile it set on its next pass."""
    row = manual.end_event(session=session, scope=caller.scope, event_id=event_id)
    session.commit()
    return EventOut.model_validate(row)


@router.get("/events/{event_id}/report", response_model=ReportOut)
def event_report(event_id: int, session: SessionDep, caller: Caller = ViewGrid):
    """kW curtailed, per charger: average draw before the event against during it (meter values)."""
    return ReportOut.model_validate(report.event_report(session=session, scope=caller.scope, event_id=event_id))


@router.get("/reports", response_model=list[OrgTotalOut])
def organization_reports(session: SessionDep, caller: Caller = ViewGrid):
    """kW curtailed per organization, over all its events."""
    return rows_to(OrgTotalOut, report.organization_totals(session=session, scope=caller.scope))
