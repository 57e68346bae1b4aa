"""The location owners page: a CPO's owners with contact details, chargers, users and commission contract;
create one, and invite its users by mail."""
from __future__ import annotations

import reflex as rx

from core.errors import ValidationError
from core.fmt import MISSING, day, percent
from core.mail import MailError
from services.access import invitations
from services.access.permissions import Cap
from services.network import owners as svc
from state.base import AppState


def owner_row(o: svc.OwnerRow) -> dict[str, str]:
    contract = (f"{percent(o.commission_rate)} since {day(o.contract_from.date())}" if o.contract_from
                else "No contract (0 %)")
    return {"id": str(o.id), "name": o.name, "organization": o.organization, "organization_id": str(o.organization_id),
            "contact": " · ".join(v for v in (o.contact_name, o.email, o.phone) if v) or MISSING,
            "address": o.address or MISSING, "chargers": str(o.chargers), "users": str(o.users),
            "contract": contract}


class LocationOwnersState(AppState):
    rows: list[dict[str, str]] = []
    can_manage: bool = False
    create_open: bool = False
    invite_open: bool = False
    invite_owner: dict[str, str] = {}
    error: str = ""
    saving: bool = False

    async def _fetch(self):
        call = await self._call(lambda s, u, scope: (svc.list_owners(session=s, scope=scope),
                                                     scope.can(Cap.MANAGE_LOCATION_OWNERS)),
                                cap=Cap.VIEW_CHARGERS)
        if not call.ok:
            return call.answer
        owners, self.can_manage = call.value
        self.rows = [owner_row(o) for o in owners]
        return None

    @rx.event
    async def load(self):
        self.create_open = self.invite_open = False  # a fresh page starts with its dialogs closed
        self.error = ""
        return await self._fetch()

    @rx.event
    def open_create(self):
        self.error, self.create_open = "", True

    @rx.event
    def set_create_open(self, value: bool):
        self.create_open = value

    @rx.event
    def open_invite(self, owner_id: str):
        self.invite_owner = next((r for r in self.rows if r["id"] == owner_id), {})
        self.error, self.invite_open = "", True

    @rx.event
    def set_invite_open(self, value: bool):
        self.invite_open = value

    def _fail(self, message: str, _field: str = "") -> None:
        self.error = message

    @rx.event
    async def create(self, form: dict):
        org_id = next((o["id"] for o in self.org_options if o["id"] == form.get("organization_id")), None)
        org_id = org_id or (self.org_options[0]["id"] if len(self.org_options) == 1 else None)

        def work(session, user, scope):
            if org_id is None:
                raise ValidationError("Choose the organization.", "organization_id")
            return svc.create_owner(session=session, scope=scope, user_id=user.id, organization_id=int(org_id),
                                    name=form.get("name", ""), contact_name=form.get("contact_name", ""),
                                    email=form.get("email", ""), phone=form.get("phone", ""),
                                    address=form.get("address", "")).name

        call = await self._call(work, cap=Cap.MANAGE_LOCATION_OWNERS, form=self._fail)
        if not call.ok:
            yield call.answer
            return
        self.create_open = False
        yield rx.toast.success(f"Location owner {call.value} created.")
        yield LocationOwnersState.refresh

    @rx.event
    async def invite(self, form: dict):
        owner_id = int(self.invite_owner.get("id", 0))

        def work(session, user, scope):
            return invitations.invite_user(session=session, scope=scope, email=form.get("email", ""),
                                           role="location_owner", full_name=form.get("full_name", ""),
                                           location_owner_id=owner_id)

        try:
            call = await self._call(work, cap=Cap.MANAGE_LOCATION_OWNERS, form=self._fail)
        except MailError as exc:
            self.error = f"{exc} Nothing was saved; try again."
            return
        if not call.ok:
            yield call.answer
            return
        self.invite_open = False
        yield rx.toast.success(call.value.message) if call.value.delivered else rx.toast.info(call.value.message)
        yield LocationOwnersState.refresh

    @rx.event
    async def refresh(self):
        return await self._fetch()
