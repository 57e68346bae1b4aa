"""The organizations list: the tree the user may see, with currency, timezone and region."""
from __future__ import annotations

import reflex as rx

from core.fmt import MISSING
from models.organization import OrganizationKind
from services.access import organizations as svc
from services.access.permissions import Cap
from state.base import AppState

KIND_LABELS = {OrganizationKind.OPERATOR: "Platform operator", OrganizationKind.CLIENT: "Client",
               OrganizationKind.SUB: "Sub-account"}


class OrganizationsState(AppState):
    rows: list[dict[str, str]] = []
    loading: bool = False

    @rx.event
    async def load(self):
        self.loading = True
        yield

        def work(session, user, scope):
            return svc.list_organizations(session=session, scope=scope)

        call = await self._call(work, cap=Cap.VIEW_ORGANIZATIONS)
        self.loading = False
        if not call.ok:
            yield call.answer
            return
        orgs = call.value
        names = {o.id: o.name for o in orgs}
        self.rows = [{
            "id": str(o.id), "name": o.name, "slug": o.slug, "kind": KIND_LABELS.get(o.kind, o.kind),
            # A parent outside the scope is not named: the user may not see it.
            "parent": names.get(o.parent_id, MISSING) if o.parent_id else MISSING,
            "currency": o.currency, "timezone": o.timezone, "region": o.region,
        } for o in orgs]
