"""The customer's pages: Sign up, the mailed links (activate, verify), and the portal at /my."""
import reflex as rx

from app.components.pages import page
from app.components.public import checking, done, error_callout, field, link_problem, public_page
from app.pages.accounts import company_fields, simple_table
from services.notifications.preferences import CUSTOMER_KINDS
from state.customer_portal import CustomerLinkState as C
from state.customer_portal import PortalState as P
from state.customer_portal import SignupState as S
from state.links import CHECKING, DONE, PROBLEM
from state.nav import LOGIN


def _login_button() -> rx.Component:
    return rx.link(rx.button("Go to log in", size="3", width="100%"), href=LOGIN, width="100%")


def _kind_choice(value, on_change) -> rx.Component:
    return rx.vstack(
        rx.text("Account type", size="2", weight="medium"),
        rx.radio_group.root(rx.hstack(rx.radio_group.item("Consumer", value="consumer", id="kind-consumer"),
                                      rx.radio_group.item("Business", value="business", id="kind-business"),
                                      spacing="4"), value=value, on_change=on_change),
        spacing="1", width="100%")


def _accept(terms, privacy) -> rx.Component:
    return rx.hstack(
        rx.checkbox(name="accept", id="accept"),
        rx.text("I accept the ", rx.link("Terms of Use", href=terms, is_external=True, id="terms-link"), " and the ",
                rx.link("Privacy policy", href=privacy, is_external=True, id="privacy-link"), ".", size="2",
                as_="label", html_for="accept"),
        spacing="2", align="center")


def _passwords() -> rx.Component:
    return rx.fragment(
        field("Password", id="password", name="password", type="password", auto_complete="new-password"),
        field("Repeat password", id="confirm", name="confirm", type="password", auto_complete="new-password"),
        rx.text("At least 8 characters.", size="1", color_scheme="gray"))


def _signup_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Sign up", size="6"),
            rx.cond(S.platforms.length() > 1, rx.select.root(
                rx.select.trigger(width="100%", id="platform"),
                rx.select.content(rx.foreach(S.platforms, lambda p: rx.select.item(p["name"], value=p["slug"]))),
                value=S.platform, on_change=S.set_platform),
                rx.text("Create your account with ", rx.text.strong(S.chosen["name"]), ".", size="2",
                        color_scheme="gray")),
            field("Email", id="email", name="email", type="email", auto_complete="email", auto_focus=True),
            _passwords(),
            _kind_choice(S.kind, S.set_kind),
            field("Account name", id="name", name="name", placeholder="Optional"),
            rx.cond(S.kind == "business", company_fields()),
            _accept(S.chosen["terms"], S.chosen["privacy"]),
            rx.cond(S.error != "", error_callout(S.error, id="signup-error")),
            rx.button("Sign up", type="submit", size="3", width="100%", loading=S.saving, disabled=~S.is_hydrated,
                      id="signup-submit"),
            spacing="4", width="100%"),
        on_submit=S.signup, reset_on_submit=False)


@page(route="/signup", title="Sign up · Voltdesk", on_load=S.load)
def signup() -> rx.Component:
    return public_page(
        rx.cond(~S.loaded, checking(), rx.cond(
            S.sent != "",
            done("Check your email", S.sent, _login_button()),
            rx.cond(S.platforms.length() == 0,
                    link_problem("Sign-up is closed", "Sign-up opens once the platform has published its Terms of "
                                 "Use and Privacy policy links. Try again later, or contact the operator.",
                                 rx.link("Log in", href=LOGIN, size="2")),
                    _signup_form()))),
        footer=rx.text("Already have an account? ", rx.link("Log in", href=LOGIN), size="2"))


def _activate_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Set up your account", size="6"),
            rx.text(C.organization, " invited ", rx.text.strong(C.email), ". Choose a password",
                    rx.cond(C.is_sub_account, "", " and complete your account"), ".", size="2", color_scheme="gray"),
            field("Full name", id="full_name", name="full_name", auto_complete="name", auto_focus=True),
            _passwords(),
            rx.cond(~C.is_sub_account, rx.vstack(
                _kind_choice(C.kind, C.set_kind),
                field("Account name", id="name", name="name", default_value=C.account_name),
                rx.cond(C.kind == "business", company_fields()),
                spacing="4", width="100%")),
            _accept(C.terms_url, C.privacy_url),
            rx.cond(C.error != "", error_callout(C.error, id="activate-error")),
            rx.button("Activate account", type="submit", size="3", width="100%", loading=C.saving,
                      disabled=~C.is_hydrated, id="activate-submit"),
            spacing="4", width="100%"),
        on_submit=C.activate, reset_on_submit=False)


def _problem() -> rx.Component:
    title = rx.match(C.reason, ("used", "Already used"), ("expired", "This link has expired"),
                     ("replaced", "A newer link was sent"), ("disabled", "Account disabled"),
                     ("closed", "Invitations are closed"), "This link can't be used")
    return link_problem(title, C.problem, _login_button())


@page(route="/customer/activate/[customer_token]", title="Activate your account · Voltdesk", on_load=C.load_invite)
def customer_activate() -> rx.Component:
    return public_page(rx.match(
        C.phase, (CHECKING, checking()), (PROBLEM, _problem()),
        (DONE, done("Your account is active", rx.fragment("Log in as ", rx.text.strong(C.email), "."),
                    _login_button())),
        _activate_form()))


@page(route="/customer/verify/[customer_token]", title="Verify your email · Voltdesk", on_load=C.verify)
def customer_verify() -> rx.Component:
    return public_page(rx.match(
        C.phase, (PROBLEM, _problem()),
        (DONE, done("Email address verified", rx.fragment("Your account can charge now. Log in as ",
                                                          rx.text.strong(C.email), "."), _login_button())),
        checking()))


# --- the portal --------------------------------------------------------------------------------------------


def _header() -> rx.Component:
    return rx.flex(
        rx.hstack(rx.center(rx.icon("zap", size=18, color="white"), width="32px", height="32px", border_radius="9px",
                            background=rx.color("teal", 9)),
                  rx.text("Voltdesk", size="5", weight="bold"), spacing="3", align="center"),
        rx.spacer(),
        rx.vstack(rx.text(P.user_name, size="2", weight="medium", id="customer-name"),
                  rx.text(P.account_name, size="1", color_scheme="gray"), spacing="0", align="end"),
        rx.button(rx.icon("log-out", size=16), "Log out", variant="soft", color_scheme="gray", on_click=P.logout,
                  id="customer-logout"),
        align="center", gap="16px", padding="12px 32px", border_bottom=f"1px solid {rx.color('gray', 4)}",
        background=rx.color("gray", 1), width="100%")


def _profile() -> rx.Component:
    return rx.vstack(
        rx.form(rx.vstack(
            field("Full name", id="profile_name", name="full_name", default_value=P.full_name, key=P.full_name),
            rx.text("Email: ", P.user_email, size="2", color_scheme="gray"),
            rx.button("Save profile", type="submit"), spacing="3", max_width="420px"), on_submit=P.save_profile,
            reset_on_submit=False),
        rx.divider(),
        rx.form(rx.vstack(
            rx.heading("Change password", size="3"),
            field("Current password", id="current", name="current", type="password", auto_complete="current-password"),
            field("New password", id="new", name="new", type="password", auto_complete="new-password"),
            field("Repeat new password", id="confirm_new", name="confirm", type="password",
                  auto_complete="new-password"),
            rx.cond(P.error != "", error_callout(P.error, id="portal-error")),
            rx.button("Change password", type="submit", loading=P.saving), spacing="3", max_width="420px"),
            on_submit=P.change_password, reset_on_submit=True),
        spacing="5", width="100%")


def _plan_select(plans, value, on_change, id: str) -> rx.Component:
    return rx.cond(P.needs_plan, rx.vstack(
        rx.text("Billing plan", as_="label", html_for=id, size="2", weight="medium"),
        rx.cond(plans.length() == 0,
                rx.text("No plan is on offer for this yet; contact the operator.", size="2", color_scheme="amber"),
                rx.select.root(rx.select.trigger(placeholder="Choose a plan", width="100%", id=id), rx.select.content(
                    rx.foreach(plans, lambda p: rx.select.item(p["label"], value=p["id"]))),
                    value=value, on_change=on_change)),
        spacing="1", width="100%"),
        rx.text("On your account's Enterprise plan: no plan to choose.", size="2", color_scheme="gray"))


def _asset_form(title: str, hint: str, fields: rx.Component, plan: rx.Component, error, button: str, kind: str,
                on_submit, id: str) -> rx.Component:
    return rx.card(rx.form(rx.vstack(
        rx.heading(title, size="3"),
        rx.text(hint, size="2", color_scheme="gray"),
        fields, plan,
        rx.cond(error != "", error_callout(error, id=f"{id}-error")),
        rx.button(button, type="submit", loading=P.activating == kind, id=f"{id}-submit"),
        spacing="3", width="100%"), on_submit=on_submit, reset_on_submit=False, key=P.asset_form_key),
        size="2", width="100%", id=id)


def _asset_row(a) -> rx.Component:
    return rx.table.row(
        rx.table.cell(a["kind"]), rx.table.cell(rx.text(a["label"], weight="medium")), rx.table.cell(a["account"]),
        rx.table.cell(rx.hstack(
            rx.text(a["plan"]),
            rx.cond(a["enterprise"] != "yes", rx.select.root(
                rx.select.trigger(placeholder="Change plan", variant="soft", class_name="change-plan"),
                rx.select.content(rx.foreach(rx.cond(a["card"] == "yes", P.card_plans, P.charger_plans),
                                             lambda p: rx.select.item(p["label"], value=p["id"]))),
                value="", size="1", on_change=lambda plan: P.change_plan(a["id"], plan))),
            spacing="3", align="center")),
        rx.table.cell(a["since"]), align="center", class_name="asset-row")


def _assets() -> rx.Component:
    return rx.vstack(
        rx.cond(P.asset_rows.length() == 0, rx.text("No cards or chargers activated yet.", color_scheme="gray"),
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "Kind", "Card or charger", "Account", "Billing plan", "Since")])),
                    rx.table.body(rx.foreach(P.asset_rows, _asset_row)),
                    variant="ghost", size="2", width="100%", id="my-assets")),
        rx.cond(P.own_accounts.length() > 1, rx.hstack(
            rx.text("Activate on", as_="label", html_for="asset-account", size="2", weight="medium"),
            rx.select.root(rx.select.trigger(id="asset-account"), rx.select.content(
                rx.foreach(P.own_accounts, lambda a: rx.select.item(a["label"], value=a["value"]))),
                value=P.asset_account, on_change=P.set_asset_account),
            spacing="3", align="center")),
        rx.grid(
            _asset_form("Activate a charge card", "Enter the card number (idTag) printed on the card.",
                        field("Card number", id="id_tag", name="id_tag", placeholder="e.g. 04A2B3C4D5", max_length=20),
                        _plan_select(P.card_plans, P.card_plan, P.set_card_plan, "card-plan"), P.card_error,
                        "Activate card", "card", P.activate_card, "activate-card"),
            _asset_form("Claim a home charger", "Enter the charger's id and the claim code on its label, or ask "
                        "the operator for the code.",
                        rx.vstack(field("Charger id", id="ocpp_id", name="ocpp_id", placeholder="e.g. DE-HOME-001",
                                        max_length=48),
                                  field("Claim code", id="claim_code", name="claim_code",
                                        placeholder="Letters and digits on the label", max_length=32),
                                  spacing="3", width="100%"),
                        _plan_select(P.charger_plans, P.charger_plan, P.set_charger_plan, "charger-plan"),
                        P.charger_error, "Claim charger", "charger", P.claim_charger, "claim-charger"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%"),
        spacing="4", width="100%")


def _wallet() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.card(rx.vstack(rx.text("Wallet balance", size="1", color_scheme="gray"),
                              rx.heading(P.wallet_balance, size="7", id="my-wallet-balance"),
                              rx.cond(P.wallet_held != "", rx.text(P.wallet_held, " held for a running session",
                                                                   size="1", color_scheme="gray")),
                              spacing="1"), min_width="220px"),
            rx.card(rx.vstack(
                rx.heading("Top up by card", size="3"),
                rx.cond(P.top_up_cards.length() == 0,
                        rx.text("No saved card yet.", size="2", color_scheme="gray"),
                        rx.hstack(
                            rx.select.root(rx.select.trigger(id="top-up-card", min_width="180px"), rx.select.content(
                                rx.foreach(P.top_up_cards, lambda c: rx.select.item(c["label"], value=c["id"]))),
                                value=P.top_up_card, on_change=P.set_top_up_card),
                            rx.input(placeholder="Amount", value=P.top_up_amount, on_change=P.set_top_up_amount,
                                     id="top-up-amount", input_mode="decimal", width="140px"),
                            rx.button("Top up", on_click=P.top_up, loading=P.topping_up, id="top-up-submit"),
                            spacing="3", align="center")),
                rx.cond(P.top_up_error != "", error_callout(P.top_up_error, id="top-up-error")),
                spacing="3"), flex="1"),
            spacing="4", width="100%", align="stretch", wrap="wrap"),
        simple_table(P.wallet_history, [("When", "at"), ("Amount", "amount"), ("What", "memo")], "my-wallet-history",
                     "No wallet movements yet."),
        spacing="4", width="100%")


def _notifications() -> rx.Component:
    return rx.form(rx.vstack(
        rx.heading("Notifications", size="3"),
        rx.text("Which messages the app and this portal push to your devices.", size="2", color_scheme="gray"),
        *[rx.hstack(rx.switch(checked=P.notify[kind], on_change=lambda v, kind=kind: P.switch_notify(kind, v),
                              id=f"notify-{kind}", name=f"notify_{kind}"), rx.text(label, size="2"), spacing="2",
                    align="center")
          for kind, label in CUSTOMER_KINDS.items()],
        rx.text("Quiet hours", size="2", weight="medium"),
        rx.hstack(rx.input(id="quiet_start", name="quiet_start", type="time", default_value=P.quiet_start,
                           key=P.quiet_start + "s", aria_label="Quiet hours start"),
                  rx.text("to", size="2"),
                  rx.input(id="quiet_end", name="quiet_end", type="time", default_value=P.quiet_end,
                           key=P.quiet_end + "e", aria_label="Quiet hours end"), spacing="2", align="center"),
        rx.text("Messages wait until the quiet hours end; urgent ones never wait.", size="1", color_scheme="gray"),
        rx.cond(P.notify_error != "", error_callout(P.notify_error, id="notify-error")),
        rx.button("Save notification settings", type="submit", id="save-notify"), spacing="3", max_width="420px"),
        on_submit=P.save_preferences, reset_on_submit=False, no_validate=True, id="notify-form")


def _tab(value: str, body: rx.Component) -> rx.Component:
    return rx.tabs.content(rx.box(body, padding_top="16px"), value=value)


@page(route="/my", title="My charging · Voltdesk", on_load=[P.guard(""), P.load])
def portal() -> rx.Component:
    body = rx.vstack(
        rx.heading("My charging", size="7"),
        rx.tabs.root(
            rx.tabs.list(rx.tabs.trigger("Sessions", value="sessions"),
                         rx.tabs.trigger("Wallet", value="wallet", id="tab-wallet"),
                         rx.tabs.trigger("Cards and chargers", value="assets"),
                         rx.tabs.trigger("Invoices", value="invoices"),
                         rx.tabs.trigger("Sub-accounts", value="subs"),
                         rx.tabs.trigger("Reimbursements", value="statements"),
                         rx.tabs.trigger("Notifications", value="notifications"),
                         rx.tabs.trigger("Profile", value="profile")),
            _tab("sessions", rx.vstack(
                rx.hstack(rx.text(P.session_total, " sessions", size="2", color_scheme="gray"), rx.spacer(),
                          rx.link(rx.button(rx.icon("download", size=14), "CSV", variant="soft", size="2"),
                                  href="/api/v1/me/sessions.csv", id="sessions-csv", is_external=True),
                          width="100%"),
                simple_table(P.sessions, [("Started", "started"), ("Account", "account"), ("Charger", "charger"),
                                          ("Card", "id_tag"), ("Energy", "energy"), ("Cost", "cost"),
                                          ("Status", "status")], "my-sessions", "No charging sessions yet."),
                spacing="3", width="100%")),
            _tab("wallet", _wallet()),
            _tab("assets", _assets()),
            _tab("invoices", rx.cond(P.invoices.length() == 0, rx.text("No invoices yet.", color_scheme="gray"),
                                     rx.vstack(rx.foreach(P.invoices, lambda i: rx.hstack(
                                         rx.text(i["number"], weight="medium"), rx.text(i["period"], size="2"),
                                         rx.text(i["account"], size="2", color_scheme="gray"), rx.spacer(),
                                         rx.text(i["total"]), rx.link("PDF", href="/api/v1/customer-invoices/"
                                                                      + i["id"] + ".pdf", is_external=True),
                                         width="100%", spacing="4")), width="100%", id="my-invoices"))),
            _tab("subs", simple_table(P.subs, [("Account", "name"), ("Used by", "use"), ("User", "owner"),
                                               ("Reimbursement", "rate"), ("Status", "status")], "my-subs",
                                      "No sub-accounts.")),
            _tab("statements", simple_table(P.statements, [("Account", "account"), ("Month", "period"),
                                                           ("Sessions", "sessions"), ("Energy", "energy"),
                                                           ("Amount", "amount"), ("Status", "status")],
                                            "my-statements", "No reimbursement statements.")),
            _tab("notifications", _notifications()),
            _tab("profile", _profile()),
            default_value="sessions", width="100%"),
        spacing="4", width="100%", padding="28px 32px", max_width="1200px")
    return rx.box(_header(), rx.cond(P.ready, body, checking()), min_height="100vh", background=rx.color("gray", 2))
