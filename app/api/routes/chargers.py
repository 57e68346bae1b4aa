from __future__ import annotations

from fastapi import APIRouter, Query

from app.api.deps import Caller, SessionDep, require_cap
from app.api.shapes import RowModel, model_of, rows_to
from services.access.permissions import Cap
from services.network import chargers as svc

router = APIRouter(tags=["chargers"])
ViewChargers = require_cap(Cap.VIEW_CHARGERS)

ChargerOut = model_of(svc.ChargerRow, "ChargerOut", exclude=("timezone",))


class ChargerPage(RowModel):
    items: list[ChargerOut]  # type: ignore[valid-type]
    total: int
    limit: int
    offset: int


@router.get("/chargers", response_model=ChargerPage)
def list_chargers(session: SessionDep, caller: Caller = ViewChargers, search: str | None = None,
                  limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)) -> ChargerPage:
    rows, total = svc.list_chargers(session=session, scope=caller.scope, search=search, limit=limit, offset=offset)
    return ChargerPage(items=rows_to(ChargerOut, rows), total=total, limit=limit, offset=offset)


@router.get("/chargers/{charger_id}", response_model=ChargerOut)
def get_charger(charger_id: int, session: SessionDep, caller: Caller = ViewChargers) -> RowModel:
    return ChargerOut.model_validate(svc.get_charger_row(session=session, scope=caller.scope, charger_id=charger_id))
