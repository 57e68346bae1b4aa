"""Forgot password: /forgot-password asks for the e-mail, /reset-password/<token> sets the new password."""
import reflex as rx

from app.components.pages import page
from app.components.public import checking, done, error_callout, field, link_problem, public_page
from state.links import CHECKING, DONE, PROBLEM, ForgotPasswordState, ResetPasswordState
from state.nav import LOGIN

FORGOT = "/forgot-password"


def _back_to_login() -> rx.Component:
    return rx.link("Back to log in", href=LOGIN, size="2")


@page(route=FORGOT, title="Forgot password · Voltdesk", on_load=ForgotPasswordState.reset_form)
def forgot_password() -> rx.Component:
    S = ForgotPasswordState  # noqa: N806
    return public_page(
        rx.cond(
            S.sent,
            done("Check your e-mail", rx.text(S.message, id="reset-requested"),
                 rx.link(rx.button("Back to log in", size="3", width="100%", variant="soft"), href=LOGIN,
                         width="100%")),
            rx.form(
                rx.vstack(
                    rx.heading("Forgot your password?", size="6"),
                    rx.text("Enter the e-mail you log in with and we'll send you a link to choose a new password.",
                            size="2", color_scheme="gray"),
                    field("Email", id="email", name="email", type="email", placeholder="you@company.com",
                          auto_focus=True, auto_complete="username"),
                    rx.cond(S.error != "", error_callout(S.error)),
                    rx.button("Send reset link", type="submit", size="3", width="100%", loading=S.sending,
                              disabled=~S.is_hydrated),
                    spacing="4", width="100%",
                ),
                on_submit=S.request,
                reset_on_submit=False,
            ),
        ),
        footer=_back_to_login(),
    )


def _reset_form() -> rx.Component:
    S = ResetPasswordState  # noqa: N806
    return rx.form(
        rx.vstack(
            rx.heading("Choose a new password", size="6"),
            rx.text("For ", rx.text.strong(S.email), ". Your other sessions will be logged out.", size="2",
                    color_scheme="gray"),
            field("New password", id="password", name="password", type="password", auto_complete="new-password",
                  auto_focus=True),
            field("Repeat password", id="confirm", name="confirm", type="password", auto_complete="new-password"),
            rx.text("At least 8 characters.", size="1", color_scheme="gray"),
            rx.cond(S.error != "", error_callout(S.error, id="reset-error")),
            rx.button("Set new password", type="submit", size="3", width="100%", loading=S.saving,
                      disabled=~S.is_hydrated),
            spacing="4", width="100%",
        ),
        on_submit=S.set_new_password,
        reset_on_submit=False,
    )


@page(route="/reset-password/[reset_token]", title="Reset password · Voltdesk", on_load=ResetPasswordState.load)
def reset_password() -> rx.Component:
    S = ResetPasswordState  # noqa: N806
    return public_page(
        rx.match(
            S.phase,
            (CHECKING, checking()),
            (PROBLEM, link_problem("This link can't be used", S.problem,
                                   rx.link(rx.button("Request a new link", size="3", width="100%"), href=FORGOT,
                                           width="100%"))),
            (DONE, done("Password changed", "Log in with your new password.",
                        rx.link(rx.button("Log in", size="3", width="100%"), href=LOGIN, width="100%"))),
            _reset_form(),
        ),
        footer=_back_to_login(),
    )
