"""Staff pages for customers: Accounts (with + New account), an account with its sub-accounts
(+ Add sub-account), Users → Customers (Resend invitation) and Settings → Support links."""
from __future__ import annotations

from typing import ClassVar

import reflex as rx

from core.clock import utcnow
from core.errors import NotFound
from core.fmt import MISSING, day
from core.mail import MailError
from core.money import format_money
from services.access import organizations as org_svc
from services.access.permissions import Cap
from services.customers import accounts as svc
from services.customers import assets as asset_svc
from services.customers import billing as billing_svc
from services.customers import support_links as links_svc
from state.base import AppState, Call, Filters, PagedTable, record_id

STANDARD, ENTERPRISE = "standard", "enterprise"
USE_LABELS = {"employee": "Employee", "subsidiary": "Subsidiary", None: ""}


def account_dict(r: svc.AccountRow) -> dict[str, str]:
    return {"id": str(r.id), "name": r.name, "kind": r.kind.capitalize(), "use": USE_LABELS.get(r.use, ""),
            "status": r.status, "organization": r.organization, "owner": r.owner_email or MISSING,
            "sub": "yes" if r.parent_id else "", "parent": r.parent_name or "", "subs": str(r.sub_accounts),
            "assets": str(r.assets), "plan": "Enterprise" if r.enterprise else "Standard", "currency": r.currency,
            "rate": (f"{format_money(r.reimbursement_rate, r.currency)} / kWh"
                     if r.reimbursement_rate is not None else "")}


def _link_note(row: svc.CustomerUserRow) -> str:
    if row.link_expires_at is None:
        return "" if row.status == "active" else "No open link"
    if row.link_expires_at <= utcnow():
        return "Link expired"
    hours = int((row.link_expires_at - utcnow()).total_seconds() // 3600)
    return f"Link valid for {hours} h more" if hours else "Link valid for less than an hour"


def customer_dict(r: svc.CustomerUserRow) -> dict[str, str]:
    return {"id": str(r.id), "email": r.email, "name": r.full_name or MISSING, "status": r.status,
            "account": r.account, "account_id": str(r.account_id), "organization": r.organization,
            "note": _link_note(r)}


async def _invite(state, work) -> Call:
    """Call an inviting service from a dialog (`form_error`, `saving`, `_form_refused`): a refused mail server
    shows on the form, and nothing was saved."""
    try:
        return await state._call(work, cap=Cap.MANAGE_CUSTOMERS, form=state._form_refused)
    except MailError as exc:
        state.form_error = f"{exc} Nothing was saved; try again."
        return Call(False)
    finally:
        state.saving = False


class AccountsState(PagedTable, AppState):
    FILTERS: ClassVar[Filters] = {"search": str}

    rows: list[dict[str, str]] = []
    search: str = ""
    loading: bool = False
    can_manage: bool = False
    # + New account: Standard (email only) or Enterprise (price per asset, public charging, optional invitation)
    dialog_open: bool = False
    mode: str = STANDARD
    org_choices: list[dict[str, str]] = []
    open_orgs: list[str] = []
    new_org: str = ""
    public_charging: bool = True
    send_invitation: bool = True
    form_error: str = ""
    saving: bool = False

    @rx.var
    def links_open(self) -> bool:
        return self.new_org in self.open_orgs

    async def _fetch(self):
        self.loading = True
        yield
        search, limit, offset = self.search, self.per_page, (self.page - 1) * self.per_page

        def work(session, user, scope):
            rows = svc.list_accounts(session=session, scope=scope, search=search, limit=limit, offset=offset)
            return rows, svc.count_accounts(session=session, scope=scope, search=search), scope.can(
                Cap.MANAGE_CUSTOMERS)

        call = await self._call(work, cap=Cap.VIEW_CUSTOMERS)
        self.loading = False
        if not call.ok:
            yield call.answer
            return
        rows, self.total, self.can_manage = call.value
        self.rows = [account_dict(r) for r in rows]

    @rx.event
    async def load(self):
        async for update in self._fetch():
            yield update

    @rx.event
    async def open_new(self):
        def work(session, user, scope):
            orgs = org_svc.list_organizations(session=session, scope=scope)
            opened = links_svc.open_organization_ids(session=session, scope=scope)
            return [(o.id, o.name, o.id in opened) for o in orgs]

        call = await self._call(work, cap=Cap.MANAGE_CUSTOMERS)
        if not call.ok:
            return call.answer
        self.org_choices = [{"value": str(i), "label": n} for i, n, _ in call.value]
        self.open_orgs = [str(i) for i, _, is_open in call.value if is_open]
        self.new_org = (self.open_orgs or [c["value"] for c in self.org_choices] or [""])[0]
        self.mode, self.public_charging, self.send_invitation = STANDARD, True, True
        self.form_error, self.dialog_open = "", True

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = value

    @rx.event
    def set_mode(self, value: str):
        self.mode = ENTERPRISE if value == ENTERPRISE else STANDARD

    @rx.event
    def set_new_org(self, value: str):
        self.new_org = value

    @rx.event
    def set_public_charging(self, value: bool):
        self.public_charging = bool(value)

    @rx.event
    def set_send_invitation(self, value: bool):
        self.send_invitation = bool(value)

    def _form_refused(self, message: str, field: str) -> None:
        self.form_error = message

    @rx.event
    async def create(self, form: dict[str, str]):
        org, mode, public, send = self.new_org, self.mode, self.public_charging, self.send_invitation
        self.form_error, self.saving = "", True
        yield

        def work(session, user, scope):
            terms = (svc.EnterpriseTerms(form.get("price_per_asset", ""), public) if mode == ENTERPRISE else None)
            return svc.invite_account(session=session, scope=scope, organization_id=record_id(org, "Organization"),
                                      email=form.get("email", ""), name=form.get("name", ""), enterprise=terms,
                                      send_invitation=send or mode == STANDARD)

        call = await _invite(self, work)
        if not call.ok:
            yield call.answer
            return
        self.dialog_open = False
        yield rx.toast.success(call.value.message) if call.value.delivered else rx.toast.warning(
            call.value.message, duration=15000)
        async for update in self._fetch():
            yield update


class AccountDetailState(AppState):
    not_found: bool = False
    account: dict[str, str] = {}
    company: list[dict[str, str]] = []
    users: list[dict[str, str]] = []
    subs: list[dict[str, str]] = []
    asset_rows: list[dict[str, str]] = []
    statements: list[dict[str, str]] = []
    invoices: list[dict[str, str]] = []
    can_manage: bool = False
    can_pay: bool = False
    links_open: bool = False
    # + Add sub-account, and its confirmation panel
    dialog_open: bool = False
    confirmed: str = ""
    use: str = "employee"
    kind: str = "consumer"
    form_error: str = ""
    saving: bool = False
    # The Enterprise plan: price per activated asset and the public-charging switch (enforced at Authorize).
    enterprise: bool = False
    enterprise_price: str = ""
    public_charging: bool = True
    enterprise_open: bool = False
    enterprise_error: str = ""

    def _account_id(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    @rx.event
    async def load(self):
        account_id = self._account_id()

        def work(session, user, scope):
            detail = svc.get_account(session=session, scope=scope, account_id=record_id(account_id, "Account"))
            items = asset_svc.list_assets(session=session, scope=scope, account_id=detail.account.id)
            sts = billing_svc.list_statements(session=session, scope=scope, account_id=detail.account.id)
            invoices = billing_svc.list_invoices(session=session, scope=scope, account_id=detail.account.id)
            return detail, items, sts, invoices, scope.can(Cap.MANAGE_CUSTOMERS), scope.can(Cap.MANAGE_PAYMENTS)

        self.not_found = False
        call = await self._call(work, cap=Cap.VIEW_CUSTOMERS)
        if not call.ok:
            return call.answer
        d, items, sts, invoices, self.can_manage, self.can_pay = call.value
        self.invoices = [{"id": str(i.id), "number": i.number, "period": f"{day(i.period_start)} – {day(i.period_end)}",
                          "total": i.total_text} for i in invoices]
        self.account, self.links_open = account_dict(d.account), d.links_open
        self.company = [{"label": k, "value": v} for k, v in (
            ("Legal name", d.legal_name), ("Registration number", d.registration_number),
            ("VAT number", d.vat_number), ("Billing address", d.billing_address)) if v]
        self.enterprise = d.enterprise_price is not None
        if d.enterprise_price is not None:
            self.company.append({"label": "Enterprise plan", "value": (
                f"{format_money(d.enterprise_price, d.account.currency)} per activated asset · public charging "
                f"{'on' if d.public_charging else 'off'}")})
            self.enterprise_price = f"{d.enterprise_price.normalize():f}"
            self.public_charging = bool(d.public_charging)
        self.users = [customer_dict(u) for u in d.users]
        self.subs = [account_dict(s) for s in d.sub_accounts]
        self.asset_rows = [{"kind": a.kind.capitalize(), "label": a.label, "plan": a.plan,
                            "since": day(a.activated_at.date())} for a in items]
        self.statements = [{"id": str(s.id), "period": f"{day(s.period_start)} – {day(s.period_end)}",
                            "energy": s.energy_kwh, "amount": s.amount_text, "status": s.status,
                            "account": s.account} for s in sts]

    @rx.event
    async def mark_paid(self, statement_id: str):
        call = await self._call(lambda session, user, scope: billing_svc.mark_statement_paid(
            session=session, scope=scope, statement_id=record_id(statement_id, "Statement")), cap=Cap.MANAGE_PAYMENTS)
        if not call.ok:
            yield call.answer
            return
        yield rx.toast.success(f"Statement of {call.value.account} marked paid.")
        yield AccountDetailState.load

    @rx.event
    def open_enterprise(self, value: bool = True):
        self.enterprise_open, self.enterprise_error = bool(value), ""

    @rx.event
    def set_public_charging(self, value: bool):
        self.public_charging = bool(value)

    def _enterprise_refused(self, message: str, field: str) -> None:
        self.enterprise_error = message

    @rx.event
    async def save_enterprise(self, form: dict[str, str]):
        account_id, public = self._account_id(), self.public_charging
        self.enterprise_error, self.saving = "", True
        yield
        call = await self._call(lambda session, user, scope: svc.set_enterprise_plan(
            session=session, scope=scope, account_id=record_id(account_id, "Account"),
            terms=svc.EnterpriseTerms(form.get("price_per_asset", ""), public)),
            cap=Cap.MANAGE_CUSTOMERS, form=self._enterprise_refused)
        self.saving = False
        if not call.ok:
            yield call.answer
            return
        self.enterprise_open = False
        yield rx.toast.success("Enterprise plan saved. Public charging is " + ("on." if public else (
            "off: the account's cards charge only on its own chargers, which take only its cards.")))
        yield AccountDetailState.load

    @rx.event
    def open_sub(self):
        self.dialog_open, self.confirmed, self.form_error = True, "", ""
        self.use, self.kind = "employee", "consumer"

    @rx.event
    def add_another(self):
        self.confirmed, self.form_error = "", ""

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = value

    @rx.event
    def set_use(self, value: str):
        self.use = value

    @rx.event
    def set_kind(self, value: str):
        self.kind = value

    def _form_refused(self, message: str, field: str) -> None:
        self.form_error = message

    @rx.event
    async def invite_sub(self, form: dict[str, str]):
        account_id, use, kind = self._account_id(), self.use, self.kind
        self.form_error, self.saving = "", True
        yield

        def work(session, user, scope):
            company = svc.Company(form.get("legal_name", ""), form.get("registration_number", ""),
                                  form.get("vat_number", ""), form.get("billing_address", ""))
            return svc.invite_sub_account(session=session, scope=scope, account_id=record_id(account_id, "Account"),
                                          use=use, name=form.get("name", ""), email=form.get("email", ""), kind=kind,
                                          reimbursement_rate=form.get("rate", ""), company=company)

        call = await _invite(self, work)
        if not call.ok:
            yield call.answer
            return
        self.confirmed = call.value.message
        yield AccountDetailState.load


class CustomersState(PagedTable, AppState):
    """Users → Customers: search, open one, Resend invitation."""
    FILTERS: ClassVar[Filters] = {"search": str}

    rows: list[dict[str, str]] = []
    search: str = ""
    loading: bool = False
    can_manage: bool = False
    selected: dict[str, str] = {}

    async def _fetch(self):
        self.loading = True
        yield
        search, limit, offset = self.search, self.per_page, (self.page - 1) * self.per_page

        def work(session, user, scope):
            return (svc.list_customer_users(session=session, scope=scope, search=search, limit=limit + 1,
                                            offset=offset), scope.can(Cap.MANAGE_CUSTOMERS))

        call = await self._call(work, cap=Cap.VIEW_CUSTOMERS)
        self.loading = False
        if not call.ok:
            yield call.answer
            return
        rows, self.can_manage = call.value
        self.total = offset + len(rows)
        self.rows = [customer_dict(r) for r in rows[:limit]]

    @rx.event
    async def load(self):
        async for update in self._fetch():
            yield update

    @rx.event
    def open_customer(self, customer_id: str):
        self.selected = next((r for r in self.rows if r["id"] == customer_id), {})

    @rx.event
    def close_customer(self, value: bool = False):
        if not value:
            self.selected = {}

    @rx.event
    async def resend(self):
        customer_id = self.selected.get("id", "")

        def work(session, user, scope):
            cid = record_id(customer_id, "Customer")
            result = svc.resend_invitation(session=session, scope=scope, customer_user_id=cid)
            return result, customer_dict(svc.get_customer_user(session=session, scope=scope,
                                                               customer_user_id=result.customer_user_id))

        try:
            call = await self._call(work, cap=Cap.MANAGE_CUSTOMERS)
        except MailError as exc:
            yield rx.toast.error(f"{exc} The earlier link still works.")
            return
        if not call.ok:
            yield call.answer
            return
        result, self.selected = call.value
        yield rx.toast.success(result.message) if result.delivered else rx.toast.warning(result.message)
        async for update in self._fetch():
            yield update


class SupportLinksState(AppState):
    """Settings → Support links, per organization."""
    org_choices: list[dict[str, str]] = []
    org: str = ""
    terms_url: str = ""
    privacy_url: str = ""
    support_contact: str = ""
    is_open: bool = False
    can_manage: bool = False
    error: str = ""
    saving: bool = False

    def _apply_links(self, v: links_svc.SupportLinksView) -> None:
        self.org, self.terms_url, self.privacy_url = str(v.organization_id), v.terms_url, v.privacy_url
        self.support_contact, self.is_open = v.support_contact, v.open

    @rx.event
    async def load(self):
        chosen = self.org

        def work(session, user, scope):
            orgs = org_svc.list_organizations(session=session, scope=scope)
            if not orgs:
                raise NotFound("No organization in scope.")
            pick = next((o.id for o in orgs if str(o.id) == chosen), orgs[0].id)
            return orgs, links_svc.get_links(session=session, scope=scope, organization_id=pick), scope.can(
                Cap.MANAGE_CUSTOMERS)

        call = await self._call(work, cap=Cap.VIEW_CUSTOMERS)
        if not call.ok:
            return call.answer
        orgs, links, self.can_manage = call.value
        self.org_choices = [{"value": str(o.id), "label": o.name} for o in orgs]
        self._apply_links(links)
        self.error = ""

    @rx.event
    async def choose_org(self, value: str):
        self.org = value
        return SupportLinksState.load

    def _refused(self, message: str, field: str) -> None:
        self.error = message

    @rx.event
    async def save(self, form: dict[str, str]):
        org = self.org
        self.error, self.saving = "", True
        yield

        def work(session, user, scope):
            return links_svc.set_links(session=session, scope=scope, organization_id=record_id(org, "Organization"),
                                       terms_url=form.get("terms_url"), privacy_url=form.get("privacy_url"),
                                       support_contact=form.get("support_contact"))

        call = await self._call(work, cap=Cap.MANAGE_CUSTOMERS, form=self._refused)
        self.saving = False
        if not call.ok:
            yield call.answer
            return
        self._apply_links(call.value)
        yield rx.toast.success("Support links saved." + ("" if call.value.open else
                                                         " Sign-up and invitations stay closed until Terms of Use "
                                                         "and Privacy policy are both set."))


class ClaimCodeState(AppState):
    """A charger's claim code on its detail page (made on first look)."""
    code: str = ""
    can_manage: bool = False

    def _charger_id(self) -> int:
        return record_id(self.router.url.path.rstrip("/").rsplit("/", 1)[-1], "Charger")

    @rx.event
    async def load_code(self):
        charger_id = self._charger_id()

        def work(session, user, scope):
            if not scope.can(Cap.VIEW_CUSTOMERS):  # roles without customers simply don't see the code
                return "", False
            return (asset_svc.claim_code(session=session, scope=scope, charger_id=charger_id),
                    scope.can(Cap.MANAGE_CUSTOMERS))

        call = await self._call(work)
        if call.ok:
            self.code, self.can_manage = call.value
        else:
            self.code = ""

    @rx.event
    async def renew(self):
        charger_id = self._charger_id()
        call = await self._call(lambda session, user, scope: asset_svc.set_claim_code(
            session=session, scope=scope, charger_id=charger_id), cap=Cap.MANAGE_CUSTOMERS)
        if not call.ok:
            return call.answer
        self.code = call.value
