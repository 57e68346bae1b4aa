"""/activate/<token>: the invited person sets a name and password, and the account becomes active."""
import reflex as rx

from app.components.pages import page
from app.components.public import checking, done, error_callout, field, link_problem, public_page
from state.links import CHECKING, DONE, PROBLEM
from state.links import ActivateState as S
from state.nav import LOGIN


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Set up your account", size="6"),
            rx.text("You have been invited as ", rx.text.strong(S.role_label),
                    rx.cond(S.organizations != "", rx.fragment(" for ", rx.text.strong(S.organizations))),
                    ". Choose your name and a password.", size="2", color_scheme="gray"),
            rx.vstack(
                rx.text("Email", size="2", weight="medium"),
                rx.text(S.email, size="3", id="invited-email"),
                spacing="1", width="100%",
            ),
            field("Full name", id="full_name", name="full_name", default_value=S.full_name, auto_complete="name",
                  placeholder="Jane Doe", auto_focus=True),
            field("Password", id="password", name="password", type="password", auto_complete="new-password"),
            field("Repeat password", id="confirm", name="confirm", type="password", auto_complete="new-password"),
            rx.text("At least 8 characters.", size="1", color_scheme="gray"),
            rx.cond(S.error != "", error_callout(S.error, id="activate-error")),
            rx.button("Activate account", type="submit", size="3", width="100%", loading=S.saving,
                      disabled=~S.is_hydrated, margin_top="4px"),
            spacing="4", width="100%",
        ),
        on_submit=S.activate,
        reset_on_submit=False,
    )


def _problem() -> rx.Component:
    title = rx.match(S.reason, ("used", "Already activated"), ("expired", "This invitation has expired"),
                     ("replaced", "A newer invitation was sent"), ("disabled", "Account disabled"),
                     "This link can't be used")
    return link_problem(
        title, S.problem,
        rx.cond(S.reason == "used",
                rx.link(rx.button("Go to log in", size="3", width="100%"), href=LOGIN, width="100%"),
                rx.link("Already have an account? Log in", href=LOGIN, size="2")),
    )


@page(route="/activate/[activation_token]", title="Activate your account · Voltdesk", on_load=S.load)
def activate() -> rx.Component:
    return public_page(
        rx.match(
            S.phase,
            (CHECKING, checking()),
            (PROBLEM, _problem()),
            (DONE, done("Your account is active",
                        rx.fragment("Log in as ", rx.text.strong(S.email), " with your new password."),
                        rx.link(rx.button("Log in", size="3", width="100%"), href=LOGIN, width="100%"))),
            _form(),
        ),
        footer=rx.text("Voltdesk · charging network management", size="1", color_scheme="gray"),
    )
