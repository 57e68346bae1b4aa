"""The customer's side: sign-up, the mailed links (activation, email verification) and the portal at /my.

A customer logs in on the staff login screen and gets a customer token (services/customers/auth.py). The portal
state authenticates that token on every call, exactly as AppState does for staff, and hands the services the
customer's Scope: its own account and its sub-accounts, and no staff capability.
"""
from __future__ import annotations

import asyncio
import secrets
from typing import Any

import reflex as rx

from core.db import IDENTITY, session_scope
from core.errors import Conflict, NotFound, ValidationError
from core.fmt import MISSING, day, kwh, when
from core.mail import MailError
from core.money import format_money
from models import CustomerAccount
from services.access.auth import AuthError
from services.access.permissions import PermissionDenied
from services.customers import accounts as account_svc
from services.customers import assets as asset_svc
from services.customers import billing as billing_svc
from services.customers import sessions as session_svc
from services.customers import support_links as links_svc
from services.customers.auth import change_password, customer_principal, revoke, update_profile
from services.customers.mail_links import VERIFY
from services.notifications import preferences
from services.payments import top_ups
from state.base import AppState, Work, record_id
from state.customers import account_dict
from state.links import READY, LinkPageState, _check_passwords
from state.nav import LOGIN
from state.plans import fee_text, plan_dict

SESSIONS_SHOWN = 100


class PortalState(AppState):
    """/my: a customer's sessions, cards and chargers, invoices, sub-accounts, statements, profile."""
    account_name: str = ""
    full_name: str = ""
    sessions: list[dict[str, str]] = []
    session_total: int = 0
    asset_rows: list[dict[str, str]] = []
    invoices: list[dict[str, str]] = []
    subs: list[dict[str, str]] = []
    statements: list[dict[str, str]] = []
    error: str = ""
    saving: bool = False
    # Activate a card / claim a home charger: on which account, on which plan (none on an Enterprise plan).
    plans: list[dict[str, str]] = []
    own_accounts: list[dict[str, str]] = []
    enterprise_ids: list[str] = []
    asset_account: str = ""
    card_plan: str = ""
    charger_plan: str = ""
    card_error: str = ""
    charger_error: str = ""
    activating: str = ""  # "card" or "charger" while the service works
    asset_form_key: int = 0

    @rx.var
    def needs_plan(self) -> bool:
        return self.asset_account not in self.enterprise_ids

    @rx.var
    def card_plans(self) -> list[dict[str, str]]:
        return [p for p in self.plans if p["card"]]

    @rx.var
    def charger_plans(self) -> list[dict[str, str]]:
        return [p for p in self.plans if p["charger"]]
    # The wallet (issue 10): balance, recent entries, a card top-up whose key makes a retry harmless.
    wallet_balance: str = ""
    wallet_held: str = ""
    wallet_history: list[dict[str, str]] = []
    top_up_cards: list[dict[str, str]] = []
    top_up_card: str = ""
    top_up_amount: str = ""
    top_up_key: str = ""
    top_up_error: str = ""
    topping_up: bool = False
    notify: dict[str, bool] = {}   # message kind -> on
    quiet_start: str = ""
    quiet_end: str = ""
    notify_error: str = ""

    async def _run(self, work: Work | None = None, *, cap: Any = None, identity: bool = False) -> Any:
        """Authenticate the customer's token and call `work(session, customer_user, scope)`."""
        if cap is not None:  # staff capabilities never apply to a customer
            raise PermissionDenied("You don't have access to this page.")
        token = self._session_token()

        def job() -> tuple[tuple[str, str, str], Any]:
            with session_scope(IDENTITY) as session:
                user, scope = customer_principal(session=session, token=token)
                scope.enter(session)
                account = session.get(CustomerAccount, user.account_id)
                who = (user.full_name or user.email, user.email, account.name)
                return who, (work(session, user, scope) if work else None)

        (name, email, account), result = await asyncio.to_thread(job)
        self.user_name, self.user_email, self.account_name = name, email, account
        self.role_label = "Customer"
        return result

    @rx.event
    async def guard(self, cap: str = ""):
        try:
            await self._run()
        except AuthError:
            return self._signed_out()
        self.denied, self.ready = False, True

    @rx.event
    async def logout(self):
        token = self._session_token()

        def job() -> None:
            with session_scope(IDENTITY) as session:
                try:
                    user, _ = customer_principal(session=session, token=token)
                except AuthError:
                    return
                revoke(session=session, user=user)

        await asyncio.to_thread(job)
        # Every token of the customer is revoked; the HttpOnly cookie left behind opens nothing (ADR 0007).
        self._forget()
        return rx.redirect(f"{LOGIN}?out=1")

    @rx.event
    async def load(self):
        def work(session, user, scope):
            rows, total = session_svc.list_sessions(session=session, scope=scope, limit=SESSIONS_SHOWN)
            mine = account_svc.list_accounts(session=session, scope=scope)
            return (user.full_name, rows, total, asset_svc.list_assets(session=session, scope=scope),
                    billing_svc.list_invoices(session=session, scope=scope),
                    [a for a in mine if a.id != user.account_id],
                    billing_svc.list_statements(session=session, scope=scope),
                    asset_svc.list_plans(session=session, scope=scope, offered_only=True),
                    sorted(mine, key=lambda a: (a.id != user.account_id, a.name)),
                    asset_svc.enterprise_account_ids(session=session, scope=scope),
                    top_ups.my_wallet(session=session, scope=scope, account_id=user.account_id),
                    preferences.get_preferences(session=session, customer_user_id=user.id))

        call = await self._call(work)
        if not call.ok:
            return call.answer
        (self.full_name, rows, self.session_total, items, invoices, subs, statements, plans, mine,
         enterprise, wallet, prefs) = call.value
        self._show_wallet(wallet)
        self._show_preferences(prefs)
        self.plans = [{"id": str(p.id), "label": f"{p.name} · {plan_dict(p)['price']}"
                       + ("" if p.session_fee is None else f" + {fee_text(p)}"),
                       "card": "yes" if p.for_card else "", "charger": "yes" if p.for_ac or p.for_dc else ""}
                      for p in plans]
        self.own_accounts = [{"value": str(a.id), "label": a.name} for a in mine]
        self.enterprise_ids = [str(i) for i in enterprise]
        if self.asset_account not in [a["value"] for a in self.own_accounts]:
            self.asset_account = self.own_accounts[0]["value"] if self.own_accounts else ""
        self.sessions = [{
            "id": str(r.id), "account": r.account, "charger": r.charger, "id_tag": r.id_tag, "status": r.status,
            "started": when(r.started_at, r.timezone), "energy": kwh(r.energy_kwh),
            "cost": MISSING if r.cost is None else format_money(r.cost, r.currency)} for r in rows]
        self.asset_rows = [{"id": str(a.id), "kind": a.kind.capitalize(), "label": a.label, "plan": a.plan,
                            "plan_id": str(a.plan_id or ""), "account": a.account,
                            "card": "yes" if a.kind == "card" else "",
                            "enterprise": "yes" if str(a.account_id) in self.enterprise_ids else "",
                            "since": day(a.activated_at.date())} for a in items if a.active]
        self.invoices = [{"id": str(i.id), "number": i.number, "account": i.account,
                          "period": f"{day(i.period_start)} – {day(i.period_end)}", "total": i.total_text}
                         for i in invoices]
        self.subs = [account_dict(s) for s in subs]
        self.statements = [{"account": s.account, "period": f"{day(s.period_start)} – {day(s.period_end)}",
                            "sessions": str(s.session_count), "energy": s.energy_kwh, "amount": s.amount_text,
                            "status": s.status} for s in statements]

    def _refused_input(self, message: str, field: str) -> None:
        self.error = message

    def _show_wallet(self, w: top_ups.MyWallet) -> None:
        self.wallet_balance = format_money(w.balance, w.currency)
        self.wallet_held = format_money(w.held, w.currency) if w.held else ""
        self.wallet_history = [{"at": when(e.created_at), "amount": format_money(e.amount, e.currency),
                                "memo": e.memo} for e in w.history]
        self.top_up_cards = [{"id": str(c.id), "label": f"{c.brand.capitalize()} •••• {c.last4}"} for c in w.cards]
        if self.top_up_card not in {c["id"] for c in self.top_up_cards}:
            self.top_up_card = self.top_up_cards[0]["id"] if self.top_up_cards else ""
        if not self.top_up_key:
            self.top_up_key = secrets.token_hex(16)

    @rx.event
    def set_top_up_amount(self, value: str):
        self.top_up_amount = str(value)[:32]

    @rx.event
    def set_top_up_card(self, value: str):
        self.top_up_card = str(value)[:12]

    def _top_up_refused(self, message: str, field: str) -> None:
        self.top_up_error = message

    @rx.event
    async def top_up(self):
        """Top up the wallet by card. The key stays the same until an answer comes, so a retry never charges twice."""
        card = int(self.top_up_card) if self.top_up_card.isdigit() else 0
        amount, key = self.top_up_amount, self.top_up_key
        self.top_up_error, self.topping_up = "", True
        yield

        def work(session, user, scope):
            result = top_ups.card_top_up(session=session, scope=scope, account_id=user.account_id, card_id=card,
                                         amount=amount, key=key)
            session.commit()
            return result, top_ups.my_wallet(session=session, scope=scope, account_id=user.account_id)

        call = await self._call(work, form=self._top_up_refused)
        self.topping_up = False
        if not call.ok:
            yield call.answer
            return
        result, wallet = call.value
        self.top_up_key = secrets.token_hex(16)  # answered: the next top-up is a new one
        self._show_wallet(wallet)
        if result.status == "declined":
            self.top_up_error = f"Your card was declined; nothing was charged. {result.message}".strip()
            return
        self.top_up_amount = ""
        yield rx.toast.success(f"{format_money(result.amount, result.currency)} added to your wallet.")

    @rx.event
    def set_asset_account(self, value: str):
        self.asset_account = value

    @rx.event
    def set_card_plan(self, value: str):
        self.card_plan = value

    @rx.event
    def set_charger_plan(self, value: str):
        self.charger_plan = value

    def _card_refused(self, message: str, field: str) -> None:
        self.card_error = message

    def _charger_refused(self, message: str, field: str) -> None:
        self.charger_error = message

    @rx.event
    async def activate_card(self, form: dict[str, str]):
        """Activate a card by the idTag printed on it, on the chosen plan."""
        account, plan, needs = self.asset_account, self.card_plan, self.needs_plan
        if needs and not plan:
            self.card_error = "Choose a billing plan for the card."
            return
        self.card_error, self.activating = "", "card"
        yield
        call = await self._call(lambda session, user, scope: asset_svc.activate_asset(
            session=session, scope=scope, account_id=record_id(account, "Account"), kind="card",
            id_tag=form.get("id_tag", ""), plan_id=record_id(plan, "Plan") if needs else None),
            form=self._card_refused)
        self.activating = ""
        if not call.ok:
            yield call.answer
            return
        self.card_plan, self.asset_form_key = "", self.asset_form_key + 1
        yield rx.toast.success(f"Card {call.value.label} is active on {call.value.plan}.")
        yield PortalState.load

    @rx.event
    async def claim_charger(self, form: dict[str, str]):
        """Claim a home charger by its OCPP id and the claim code on its label, on the chosen plan."""
        account, plan, needs = self.asset_account, self.charger_plan, self.needs_plan
        if needs and not plan:
            self.charger_error = "Choose a billing plan for the charger."
            return
        self.charger_error, self.activating = "", "charger"
        yield
        call = await self._call(lambda session, user, scope: asset_svc.activate_asset(
            session=session, scope=scope, account_id=record_id(account, "Account"), kind="charger",
            ocpp_id=form.get("ocpp_id", ""), claim_code=form.get("claim_code", ""),
            plan_id=record_id(plan, "Plan") if needs else None), form=self._charger_refused)
        self.activating = ""
        if not call.ok:
            yield call.answer
            return
        self.charger_plan, self.asset_form_key = "", self.asset_form_key + 1
        yield rx.toast.success(f"Charger {call.value.label} is yours, on {call.value.plan}.")
        yield PortalState.load

    @rx.event
    async def change_plan(self, asset_id: str, plan_id: str):
        call = await self._call(lambda session, user, scope: asset_svc.change_plan(
            session=session, scope=scope, asset_id=record_id(asset_id, "Card or charger"),
            plan_id=record_id(plan_id, "Plan")))
        if not call.ok:
            yield call.answer
            return
        yield rx.toast.success(f"{call.value.label} is on {call.value.plan} from its next renewal.")
        yield PortalState.load
    def _show_preferences(self, p: preferences.Preferences) -> None:
        self.notify, self.quiet_start, self.quiet_end = p.switches, p.quiet_start, p.quiet_end

    @rx.event
    def switch_notify(self, kind: str, value: bool):
        self.notify = {**self.notify, kind: value}

    @rx.event
    async def save_preferences(self, form: dict[str, str]):
        switches = dict(self.notify)
        start, end = str(form.get("quiet_start", ""))[:20], str(form.get("quiet_end", ""))[:20]
        call = await self._call(lambda session, user, scope: preferences.set_preferences(
            session=session, customer_user_id=user.id, switches=switches, quiet_start=start, quiet_end=end),
            form=lambda message, _: setattr(self, "notify_error", message))
        if not call.ok:
            return call.answer
        self.notify_error = ""
        self._show_preferences(call.value)
        return rx.toast.success("Notification settings saved.")

    @rx.event
    async def save_profile(self, form: dict[str, str]):
        name = form.get("full_name", "")
        call = await self._call(lambda session, user, scope: update_profile(session=session, user=user,
                                                                            full_name=name),
                                form=self._refused_input)
        if not call.ok:
            return call.answer
        self.full_name = self.user_name = call.value.full_name
        self.error = ""
        return rx.toast.success("Profile saved.")

    @rx.event
    async def change_password(self, form: dict[str, str]):
        current, new, confirm = form.get("current") or "", form.get("new") or "", form.get("confirm") or ""
        if new != confirm:
            self.error = "The new passwords do not match."
            return
        self.error, self.saving = "", True
        yield
        call = await self._call(lambda session, user, scope: change_password(session=session, user=user,
                                                                             current=current, new=new),
                                form=self._refused_input)
        self.saving = False
        if not call.ok:
            yield call.answer
            return
        # Every token of the customer, this tab's too, stops working: log in again (as staff do, ADR 0007).
        self._forget()
        yield rx.redirect(f"{LOGIN}?password=1")


class SignupState(rx.State):
    """/signup: open only on platforms whose Terms of Use and Privacy policy links are set."""
    platforms: list[dict[str, str]] = []
    platform: str = ""
    kind: str = "consumer"
    loaded: bool = False
    sent: str = ""
    error: str = ""
    saving: bool = False

    @rx.var
    def chosen(self) -> dict[str, str]:
        return next((p for p in self.platforms if p["slug"] == self.platform), {})

    @rx.event
    async def load(self):
        def job() -> list[links_svc.Platform]:
            with session_scope(IDENTITY) as session:
                return links_svc.open_platforms(session=session)

        found = await asyncio.to_thread(job)
        self.platforms = [{"slug": p.slug, "name": p.name, "terms": p.terms_url, "privacy": p.privacy_url}
                          for p in found]
        wanted = self.router.url.query_parameters.get("org", "")
        self.platform = wanted if any(p.slug == wanted for p in found) else (found[0].slug if found else "")
        self.sent, self.error, self.loaded = "", "", True

    @rx.event
    def set_platform(self, value: str):
        self.platform = value

    @rx.event
    def set_kind(self, value: str):
        self.kind = value

    @rx.event
    async def signup(self, form: dict[str, str]):
        password, problem = _check_passwords(form)
        if problem:
            self.error = problem
            return
        platform, kind = self.platform, self.kind
        self.error, self.saving = "", True
        yield

        def job() -> account_svc.MailResult:
            with session_scope(IDENTITY) as session:
                return account_svc.signup(
                    session=session, organization_slug=platform, email=form.get("email", ""), password=password,
                    kind=kind, name=form.get("name", ""), accept_terms=bool(form.get("accept")),
                    company=account_svc.Company(form.get("legal_name", ""), form.get("registration_number", ""),
                                                form.get("vat_number", ""), form.get("billing_address", "")))

        try:
            result = await asyncio.to_thread(job)
        except (ValidationError, Conflict) as exc:
            self.error = exc.message
            return
        except NotFound:
            self.error = "Choose the platform to sign up on."
            return
        except MailError as exc:
            self.error = f"{exc} Nothing was saved; try again."
            return
        finally:
            self.saving = False
        self.sent = result.message


class CustomerLinkState(LinkPageState):
    """/customer/activate/<token> and /customer/verify/<token>."""
    organization: str = ""
    account_name: str = ""
    is_sub_account: bool = False
    kind: str = "consumer"
    terms_url: str = ""
    privacy_url: str = ""

    @rx.event
    async def load_invite(self):
        info = await self._check("invite", account_svc.check_link)
        if info is None:
            return
        self.email, self.organization, self.account_name = info.email, info.organization, info.account_name
        self.is_sub_account, self.kind = info.is_sub_account, info.kind
        self.terms_url, self.privacy_url = info.terms_url, info.privacy_url
        self.phase = READY

    @rx.event
    def set_kind(self, value: str):
        self.kind = value

    @rx.event
    async def activate(self, form: dict[str, str]):
        password, problem = _check_passwords(form)
        if problem:
            self.error = problem
            return
        kind, sub = self.kind, self.is_sub_account
        self.error, self.saving = "", True
        yield
        company = account_svc.Company(form.get("legal_name", ""), form.get("registration_number", ""),
                                      form.get("vat_number", ""), form.get("billing_address", ""))
        await self._use(lambda session, token: account_svc.activate(
            session=session, token=token, full_name=form.get("full_name", ""), password=password,
            accept_terms=bool(form.get("accept")), kind=None if sub else kind, name=form.get("name", ""),
            company=None if sub else company))

    @rx.event
    async def verify(self):
        info = await self._check(VERIFY, account_svc.check_link)
        if info is None:
            return
        self.email = info.email
        await self._use(lambda session, token: account_svc.verify_email(session=session, token=token))

