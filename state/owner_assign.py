"""Assigning location owners from the chargers table: one charger from its row, or the selected ones at once.

Only offered to roles with ASSIGN_LOCATION_OWNERS; services.network.owners checks again and audits.
"""
from __future__ import annotations

import reflex as rx

from services.access.permissions import Cap
from services.network import owners as svc
from state.base import AppState, record_id
from state.chargers import ChargersState

NONE = "none"  # "no owner" (radix selects refuse empty values)


class OwnerAssignState(AppState):
    can_assign: bool = False
    selected: list[str] = []
    open: bool = False
    targets: list[str] = []  # the charger ids the dialog assigns
    owner_choice: str = NONE
    choices: list[dict[str, str]] = []  # owners of the targets' organization(s)
    error: str = ""

    @rx.event
    async def load(self):
        """Runs with the chargers page: a fresh page has nothing selected and the dialog closed."""
        self.selected, self.open, self.error = [], False, ""
        call = await self._call(lambda s, u, scope: scope.can(Cap.ASSIGN_LOCATION_OWNERS))
        self.can_assign = bool(call.ok and call.value)

    @rx.event
    def toggle(self, charger_id: str):
        self.selected = ([c for c in self.selected if c != charger_id] if charger_id in self.selected
                         else [*self.selected, charger_id])

    @rx.event
    def clear_selection(self):
        self.selected = []

    async def _open(self, ids: list[str]):
        rows = {r["id"]: r for r in (await self.get_state(ChargersState)).rows}
        orgs = {rows[i]["organization_id"] for i in ids if i in rows}
        call = await self._call(lambda s, u, scope: svc.list_owners(session=s, scope=scope),
                                cap=Cap.ASSIGN_LOCATION_OWNERS)
        if not call.ok:
            return call.answer
        # Only owners of the chargers' own organization fit; several organizations at once leave just "none".
        self.choices = [{"id": str(o.id), "name": o.name} for o in call.value if str(o.organization_id) in orgs
                        and len(orgs) == 1]
        current = {rows[i]["owner_id"] for i in ids if i in rows}
        self.owner_choice = current.pop() if len(current) == 1 and "" not in current else NONE
        self.targets, self.error, self.open = ids, "", True
        return None

    @rx.event
    async def open_one(self, charger_id: str):
        return await self._open([charger_id])

    @rx.event
    async def open_selected(self):
        if self.selected:
            return await self._open(list(self.selected))
        return None

    @rx.event
    def set_open(self, value: bool):
        self.open = value

    @rx.event
    def set_owner_choice(self, value: str):
        self.owner_choice = value

    @rx.event
    async def save(self):
        targets, owner = list(self.targets), None if self.owner_choice == NONE else self.owner_choice

        def work(session, user, scope):
            ids = [record_id(i, "Charger") for i in targets]
            return svc.assign_owner(session=session, scope=scope, user_id=user.id, charger_ids=ids,
                                    location_owner_id=owner)

        call = await self._call(work, cap=Cap.ASSIGN_LOCATION_OWNERS, form=lambda message, _: self._fail(message))
        if not call.ok:
            yield call.answer
            return
        self.open, self.selected = False, []
        yield rx.toast.success(f"Location owner updated on {call.value} charger{'s' if call.value != 1 else ''}."
                               if call.value else "Nothing changed.")
        yield ChargersState.refresh

    def _fail(self, message: str) -> None:
        self.error = message
