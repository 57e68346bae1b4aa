"""Which web-app event handlers take an id, found from the code, for tests/state/test_cross_tenant_handlers.py.

Every handler of every `state.*` state is read: each parameter must be an id (named `id`, `*_id`, `*_ids`, or
listed in PARAMS_BY_HANDLER), a plain value (NOT_IDS), a `form` (FORMS: which keys hold ids), a setter's `value`
(VALUES: the id kind it stores, or none) or a `name`/`value` pair (NAMED: which names hold ids). Anything else,
or a handler the tables do not know, is returned by `discover()` as unplaced and fails the probe's test, so a new
handler that takes an id is probed, or exempted with a reason, before the suite passes. (A one-`value` setter is
taken for a plain setting unless its name speaks of a record, ID_WORDS; those must be listed in VALUES.)
Page loads: every dynamic route of app/pages, with its on_load.

A probe is a list of steps run on one state tree: `(state class, handler name, arguments)`, where an argument
`FOREIGN` is the id being tried and `Own(kind)` is one of tenant A's own (to act from its own pages).
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any

import reflex as rx

import app.pages  # noqa: F401  (declares every page, so every state is imported)
from app.components.pages import PAGES


@dataclass(frozen=True)
class Foreign:
    """The id being tried, written as the handler expects it (`fmt`)."""
    fmt: str = "{}"

    def __repr__(self) -> str:
        return f"FOREIGN({self.fmt})"


FOREIGN = Foreign()


@dataclass(frozen=True)
class Own:
    kind: str


ID_NAME = re.compile(r"^(id|.+_id|.+_ids)$")
# A setter named with one of these may hold a record's id: it must be placed in VALUES.
ID_WORDS = re.compile(r"org|owner|tariff|plan|card|account|client|charger|region|app|fleet|key|user|customer|"
                      r"target|image|gateway|wallet|payment|role|statement|invoice|transaction|asset|tag|alert|"
                      r"upload|firmware|unknown|device|notification|refund|_id$")

# Parameter name → id kind (tests/utils/probe.py KINDS), for every handler unless PARAMS_BY_HANDLER says otherwise.
ID_PARAMS = {
    "charger_id": "charger", "tariff_id": "tariff", "user_id": "user", "target_id": "user", "role_id": "role",
    "image_id": "firmware_image", "upload_id": "upload", "gateway_id": "gateway", "org_id": "org",
    "key_id": "api_key", "alert_id": "alert", "plan_id": "plan", "asset_id": "asset", "owner_id": "owner",
    "unknown_id": "unknown_charger", "customer_id": "customer",
}
PARAMS_BY_HANDLER = {
    "AccountDetailState.mark_paid": {"statement_id": "reimbursement_statement"},
    "CommissionState.pdf": {"statement_id": "owner_statement"},
    "CommissionState.csv": {"statement_id": "owner_statement"},
    "GridState.choose_region": {"code": "region"},
    "ChargerFormState.open_new": {"ocpp_id": "unknown_charger_ocpp"},
    # A key of the certificates the charger reported (`installed`, filled by get_installed on the charger's
    # own page): the charger is the page's, so the route probe covers it.
    "ChargerSecurityState.delete_installed": {"key": None},
    "ClientDetailState.toggle_feature": {"key": None},   # a feature flag's name (app_svc.FEATURES)
    "OrganizationDetailState.set_band": {"key": None, "value": None},  # a band's field name and its text
}
# Id kinds that belong to no tenant: any user may name any of them.
PUBLIC_KINDS = {"region": "grid regions are public data every tenant shares (core/rls.py GLOBAL_TABLES)"}
# Parameters that never carry an id.
NOT_IDS = {"page", "column", "cap", "on", "checked", "index", "status", "files", "sub", "active", "kind"}

# Form handlers: the form keys that hold an id, by kind. {} means the form carries no id (the reason follows).
CHARGER_FORM = {"name": "Probe charger", "ocpp_id": "PROBE-NEW", "connectors": "1", "address": "", "latitude": "",
                "longitude": ""}
PLAN_FORM = {"name": "Probe plan", "price": "5.00", "interval": "month", "fee_kind": "none", "session_fee": ""}
FORMS: dict[str, dict[str, str]] = {
    "LocationOwnersState.create": {"organization_id": "org"},
    "PortalState.activate_card": {"id_tag": "id_tag"},
    "PortalState.claim_charger": {"ocpp_id": "charger_ocpp"},
}
FORM_EXEMPT = {
    # Public pages: a signed single-use token in the route, not an id; a guessed token fails its signature.
    "ActivateState.activate": "token page", "ResetPasswordState.set_new_password": "token page",
    "CustomerLinkState.activate": "token page", "ForgotPasswordState.request": "an email address, answered alike",
    "SignupState.signup": "public sign-up to the organization the page names (its slug), by design",
    # The user's own profile and password: the ids are the token's.
    "AccountState.change_password": "own password", "SettingsState.save": "own profile",
    "SettingsState.change_email": "own email", "PortalState.save_preferences": "own preferences",
    "PortalState.save_profile": "own profile", "PortalState.change_password": "own password",
    # Text fields only; the record is the page's or a setter's (probed through the route or VALUES).
    "OrganizationDetailState.save_profile": "the page's organization (route probe)",
    "OrganizationDetailState.save_billing": "the page's organization (route probe)",
    "OrganizationDetailState.add_contract": "the page's organization; its target is set_c_target (VALUES)",
    "ClientsState.create": "a new client; its region is set_region (VALUES)",
    "UsersState.create": "a new user; its organization and owner are setters (VALUES)",
    "UsersState.reset_password": "the user chosen by open_reset (probed)",
    "AccountDetailState.save_enterprise": "the page's account (route probe)",
    "AccountDetailState.invite_sub": "the page's account (route probe)",
    "ChargerFormState.save": "the charger chosen by open_edit, the ids by setters (probed)",
    "PlansState.save": "the plan chosen by open_edit, the organization by set_new_org (probed)",
    "AccountsState.create": "a new account; its organization is set_new_org (VALUES)",
    "SupportLinksState.save": "the organization chosen by choose_org (VALUES)",
    "ClientDetailState.save_limits": "the page's client (route probe)",
    "LocationOwnersState.invite": "the owner chosen by open_invite (probed)",
    "ClientDetailState.create_key": "the page's client (route probe)",
}

# Setters with one `value`: the id kind it holds and the steps that then use it (else None: no id; why).
VALUES: dict[str, tuple | list[tuple] | str] = {
    "ChargerFormState.set_organization": ("org", [], [("save", (CHARGER_FORM,))]),
    "ChargerFormState.set_tariff": ("tariff", [("set_organization", (Own("org"),))], [("save", (CHARGER_FORM,))]),
    "ChargerFormState.set_owner": ("owner", [("set_organization", (Own("org"),))], [("save", (CHARGER_FORM,))]),
    "OrganizationDetailState.set_c_target": [
        (kind, [("set_c_kind", ("location_owner",))], [
            ("add_contract", ({"effective_on": "2027-01-01", "rate": "5", "note": "probe"},))], f"{kind}:{{}}")
        for kind in ("owner", "charger")],
    "UsersState.set_new_org": ("org", [("open_create", ()), ("set_new_role", ("cpo",))], [
        ("create", ({"email": "probe.new@alpha.test", "full_name": "Probe"},))]),
    "UsersState.set_new_owner": ("owner", [("open_create", ()), ("set_new_role", ("location_owner",)),
                                           ("set_new_org", (Own("org"),))], [
        ("create", ({"email": "probe.owner@alpha.test", "full_name": "Probe"},))]),
    "OwnerAssignState.set_owner_choice": ("owner", [("OwnerAssignState.load", ()), ("open_one", (Own("charger"),))],
                                          [("save", ())]),
    "SupportLinksState.choose_org": ("org", [], [("save", ({"terms_url": "https://probe.test/t",
                                                            "privacy_url": "https://probe.test/p",
                                                            "support_contact": "probe@probe.test"},))]),
    "PortalState.set_asset_account": ("account", [], [("activate_card", ({"id_tag": "PROBECARD"},))]),
    "PortalState.set_card_plan": ("plan", [], [("activate_card", ({"id_tag": "PROBECARD"},))]),
    "PortalState.set_charger_plan": ("plan", [], [("claim_charger", ({"ocpp_id": "PROBE", "claim_code": "0"},))]),
    "PortalState.set_top_up_card": ("card", [("set_top_up_amount", ("5",))], [("top_up", ())]),
    "RolesState.set_client": ("org", [], [("open_new", ()), ("set_form_name", ("Probe role",)), ("save", ())]),
    "ClientsState.set_region": ("region", [], [("create", ({"name": "Probe client", "slug": "probe-client",
                                                            "currency": "EUR", "timezone": "Europe/Berlin",
                                                            "admin_email": "", "admin_name": ""},))]),
    "ClientDetailState.set_chosen_app": ("org", [], [("assign_app", ())]),
    "ClientDetailState.set_chosen_fleet": ("account", [], [("assign_fleet", ())]),
    "ClientDetailState.set_app_key": ("api_key", [], [("save_app", ())]),
    "PlansState.set_new_org": ("org", [("open_new", ())], [("save", (PLAN_FORM,))]),
    "AccountsState.set_new_org": ("org", [("open_new", ())], [("create", ({"email": "probe.acct@alpha.test",
                                                                             "name": "Probe"},))]),
    "AppState.set_org": ("org", [], [("DashboardState.load", ()), ("TransactionsState.load", ()),
                                     ("InvoicesState.load", ())]),
    "ClientDetailState.set_key_dialog": "opens or closes a dialog",
    "CustomersState.close_customer": "closes the dialog",
    "PaymentDetailState.set_refund_amount": "an amount", "PaymentDetailState.set_refund_reason": "a text",
    "UsersState.set_new_role": "one of the built-in roles (Role), checked by the service when the user is made",
}
PLAIN_VALUE = "a setting of the state's own form or view (text, flag, date, amount, a choice among constants)"

# name/value handlers: the names that hold an id (kind, steps after). Others are filters or fields with no id.
NAMED: dict[str, dict[str, tuple[str, list]]] = {
    "ComposerState.set_value": {
        "organization_id": ("org", [("set_value", ("mode", "organization")), ("set_value", ("title", "Probe")),
                                    ("set_value", ("body", "Probe")), ("preview", ()), ("set_confirm", (True,)),
                                    ("send", ())]),
        "charger_id": ("charger", [("set_value", ("mode", "charger")), ("set_value", ("title", "Probe")),
                                   ("set_value", ("body", "Probe")), ("preview", ()), ("set_confirm", (True,)),
                                   ("send", ())])},
    "GatewaysState.set_form": {"organization_id": ("org", [("save", ())])},
    "ChargerDetailState.set_field": {"transaction_id": ("transaction", [("remote_stop", ())]),
                                     "id_tag": ("id_tag", [("remote_start", ())])},
    "ChargersState.set_filter": {"org_filter": ("org", [])},
    "InvoicesState.set_filter": {"organization": ("org", [])},
    "TransactionsState.set_filter": {"charger": ("charger", [])},
}
NAMED_PLAIN = {  # name/value handlers whose names carry no id (read each one's allowed names)
    "ChargerSecurityState.set_field", "FirmwareState.set_field", "WalletDetailState.set_field",
    "ClientDetailState.set_app_field", "OrganizationDetailState.set_t_field", "DashboardState.set_perf_filter",
    "DashboardState.set_filter", "FinancesState.set_filter", "UsersState.set_filter", "CustomersState.set_filter",
    "AccountsState.set_filter", "PaymentsState.set_filter", "NotificationsState.set_filter",
    "UnknownChargersState.set_filter", "SettingsState.switch", "PortalState.switch_notify",
    "RolesState.toggle_cap", "ClientDetailState.toggle_scope",
}
# Steps after an id argument, where the id is only remembered by the handler and used by the next one.
AFTER: dict[str, tuple[list, list]] = {
    "ChargerFormState.open_edit": ([], [("save", (CHARGER_FORM,))]),
    "OrganizationDetailState.edit_tariff": ([], [("save_tariff", ())]),
    "RolesState.open_edit": ([], [("save", ())]),
    "PlansState.open_edit": ([], [("save", (PLAN_FORM,))]),
    "UsersState.open_reset": ([], [("reset_password", ({"temporary_password": "Probe-pass-123456"},))]),
    "ClientDetailState.open_rotate": ([], [("confirm_rotate", ())]),
    "CustomersState.open_customer": ([("CustomersState.load", ())], [("resend", ())]),
    "FirmwareState.select": ([], [("toggle", (Own("charger"), True)), ("start_rollout", ())]),
    "FirmwareState.toggle": ([("select", (Own("firmware_image"),))], [("start_rollout", ())]),
    "ClientDetailState.toggle_charger": ([], [("assign", ())]),
    "LocationOwnersState.open_invite": ([], [("invite", ({"email": "probe.inv@alpha.test", "full_name": "Probe"},))]),
    "OwnerAssignState.toggle": ([("OwnerAssignState.load", ())], [("set_owner_choice", (Own("owner"),)),
                                                                   ("save", ())]),
    "OwnerAssignState.open_one": ([("OwnerAssignState.load", ())], [("set_owner_choice", (Own("owner"),)),
                                                                     ("save", ())]),
    # InvoicesState.generate, which would use the chosen organizations, is a background task; the service's
    # own test covers a foreign organization id (tests/services/billing).
}
# Dynamic routes: parameter → id kind; tokens are not ids (a guessed token fails its signature).
ROUTES = {
    "/accounts/[account_id]": "account", "/chargers/[id]": "charger", "/clients/[client_id]": "org",
    "/invoices/[id]": "invoice", "/organizations/[org_id]": "org", "/payments/[payment_id]": "payment",
    "/transactions/[tx_id]": "transaction", "/wallets/[wallet_id]": "wallet",
}
ROUTE_EXEMPT = {
    "/activate/[activation_token]": "a signed single-use token", "/reset-password/[reset_token]": "a signed token",
    "/verify-email/[email_token]": "a signed token", "/customer/activate/[customer_token]": "a signed token",
    "/customer/verify/[customer_token]": "a signed token",
}
# Zero-argument handlers of a dynamic route's states that are not run on a foreign route.
ROUTE_SKIP = {"follow_live": "a background loop that re-reads what load allowed; it never ends"}


@dataclass
class Probe:
    name: str                 # what a failure names
    kind: str                 # the id kind tried
    steps: list               # (state class, handler, args)
    route: tuple[str, str] = ("/", "")  # (pattern, parameter): the page the steps run on
    route_kind: str = ""      # the id kind of the route's parameter ("" for none)
    route_value: Any = None   # FOREIGN, Own(kind) or None
    customer: bool = False    # run as a customer of tenant A (the portal), not as staff
    exempt: list = field(default_factory=list)


def states() -> list[type[rx.State]]:
    out, todo = [], list(rx.State.get_substates())
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        if cls.__module__.startswith("state."):
            out.append(cls)
    return sorted(out, key=lambda c: c.get_full_name())


def handlers() -> dict[str, tuple[type[rx.State], str, inspect.Signature]]:
    """"Class.handler" → (class, name, signature) for every handler written in state/ (not Reflex's setters)."""
    out = {}
    for cls in states():
        for name, handler in cls.event_handlers.items():
            if handler.fn.__module__.startswith("state."):
                out[f"{cls.__name__}.{name}"] = (cls, name, inspect.signature(handler.fn))
    return out


def _by_name() -> dict[str, type[rx.State]]:
    return {cls.__name__: cls for cls in states()}


def _steps(cls, steps: list) -> list:
    named = _by_name()
    out = []
    for name, args in steps:
        owner, _, handler = name.rpartition(".")
        out.append((named[owner] if owner else cls, handler, args))
    return out


def _route_of() -> dict[str, tuple[str, str, str]]:
    """state class name → (route pattern, parameter, kind) of the dynamic route whose on_load loads it."""
    out = {}
    for _, options in PAGES:
        pattern = options["route"]
        if pattern not in ROUTES:
            continue
        param = re.search(r"\[(\w+)\]", pattern).group(1)
        for event in _on_load(options):
            owner = _fn(event).__qualname__.split(".")[0]
            if owner not in ("AppState", "BellState", "PortalState"):
                out.setdefault(owner, (pattern, param, ROUTES[pattern]))
    return out


def _on_load(options: dict) -> list:
    loads = options.get("on_load") or []
    return list(loads) if isinstance(loads, list | tuple) else [loads]


def _fn(event: Any) -> Any:
    """The function of an on_load entry: an EventHandler, or an EventSpec (a handler with arguments)."""
    return event.handler.fn if hasattr(event, "handler") else event.fn


def page_loads() -> list[tuple[str, list]]:
    """(route pattern, [(state class, handler, args)]) for every page, its on_load in order."""
    named = _by_name()
    out = []
    for _, options in PAGES:
        steps = []
        for event in _on_load(options):
            fn = _fn(event)
            args = tuple(v._var_value for _, v in getattr(event, "args", ()))
            owner = fn.__qualname__.split(".")[0]
            if owner in named:
                steps.append((named[owner], fn.__name__, args))
        out.append((options["route"], steps))
    return out


def discover() -> tuple[list[Probe], dict[str, str], list[str]]:
    """Every probe; every handler with a parameter that was let off, with the reason; and what it cannot place."""
    found, exempt, unknown = [], {}, []
    routes = _route_of()
    for full, (cls, name, sig) in handlers().items():
        params = [p for p in sig.parameters if p != "self"]
        if not params:
            continue
        route = routes.get(cls.__name__)
        on = dict(route=(route[0], route[1]), route_kind=route[2], route_value=Own(route[2])) if route else {}
        customer = cls.__name__ == "PortalState"
        before, after = AFTER.get(full, ([], []))
        if "form" in params:
            if full in FORMS:
                for key, kind in FORMS[full].items():
                    form = {key: FOREIGN}
                    found.append(Probe(f"{full}[{key}]", kind, _steps(cls, [(name, (form,))]), customer=customer,
                                       **on))
            elif full in FORM_EXEMPT:
                exempt[full] = FORM_EXEMPT[full]
            else:
                unknown.append(f"{full}(form): add it to FORMS or FORM_EXEMPT")
            continue
        if params == ["value"]:
            entry = VALUES.get(full)
            if entry is None:
                if ID_WORDS.search(name):
                    unknown.append(f"{full}(value): an id? add it to VALUES (its kind, or a reason)")
                else:
                    exempt[full] = PLAIN_VALUE
                continue
            if isinstance(entry, str):
                exempt[full] = entry
                continue
            variants = entry if isinstance(entry, list) else [entry]
            for kind, pre, post, *fmt in variants:
                found.append(Probe(full if len(variants) == 1 else f"{full}[{kind}]", kind,
                                   _steps(cls, pre + [(name, (Foreign(*fmt),))] + post), customer=customer, **on))
            continue
        if params[:2] in (["name", "value"], ["key", "value"], ["kind", "value"]) and full not in PARAMS_BY_HANDLER:
            if full in NAMED:
                for key, (kind, post) in NAMED[full].items():
                    found.append(Probe(f"{full}[{key}]", kind, _steps(cls, [(name, (key, FOREIGN))] + post),
                                       customer=customer, **on))
            elif full in NAMED_PLAIN:
                exempt[full] = "its names are fields or filters with no id (read the handler's allowed names)"
            else:
                unknown.append(f"{full}(name, value): add it to NAMED or NAMED_PLAIN")
            continue
        kinds = {}
        for p in params:
            special = PARAMS_BY_HANDLER.get(full, {})
            if p in special:
                if special[p] is not None:
                    kinds[p] = special[p]
            elif ID_NAME.match(p):
                if p not in ID_PARAMS:
                    unknown.append(f"{full}({p}): an id of which kind? add it to ID_PARAMS or PARAMS_BY_HANDLER")
                    continue
                kinds[p] = ID_PARAMS[p]
            elif p not in NOT_IDS:
                unknown.append(f"{full}({p}): an id? add it to ID_PARAMS, PARAMS_BY_HANDLER or NOT_IDS")
        if not kinds:
            named = [p for p in params if p in PARAMS_BY_HANDLER.get(full, {})]
            exempt[full] = (f"its {', '.join(named)} names no record (see PARAMS_BY_HANDLER)" if named
                            else f"its parameters ({', '.join(params)}) are never ids (NOT_IDS)")
            continue
        for p, kind in kinds.items():
            args = tuple(FOREIGN if q == p else _plain(q, kinds, sig) for q in params)
            found.append(Probe(full if len(kinds) == 1 else f"{full}[{p}]", kind,
                               _steps(cls, before + [(name, args)] + after), customer=customer, **on))
    found += _route_probes(routes, unknown)
    for probe in [p for p in found if p.kind in PUBLIC_KINDS]:
        found.remove(probe)
        exempt[probe.name] = PUBLIC_KINDS[probe.kind]
    return found, exempt, unknown


def _plain(param: str, kinds: dict, sig: inspect.Signature) -> Any:
    """The value of a parameter that is not being tried: the other id one of A's own, a flag on."""
    if param in kinds:
        return Own(kinds[param])
    default = sig.parameters[param].default
    return True if default is inspect.Parameter.empty else default


def _route_probes(routes: dict, unknown: list[str]) -> list[Probe]:
    """Each dynamic route loaded with a foreign id, then every zero-argument handler of its states."""
    out = []
    for _, options in PAGES:
        pattern = options["route"]
        if pattern in ROUTE_EXEMPT:
            continue
        if "[" not in pattern:
            continue
        if pattern not in ROUTES:
            unknown.append(f"dynamic route {pattern}: add it to ROUTES (its id kind) or ROUTE_EXEMPT")
            continue
        param, kind = re.search(r"\[(\w+)\]", pattern).group(1), ROUTES[pattern]
        named = _by_name()
        for owner, (p, _, _) in routes.items():
            if p != pattern:
                continue
            cls = named[owner]
            steps = [(cls, n, ()) for n, h in cls.event_handlers.items()
                     if h.fn.__module__.startswith("state.") and n not in ROUTE_SKIP and n != "load"
                     and len(inspect.signature(h.fn).parameters) == 1]
            out.append(Probe(f"{pattern} then {owner}'s actions", kind, steps, route=(pattern, param),
                             route_kind=kind, route_value=FOREIGN))
    return out
