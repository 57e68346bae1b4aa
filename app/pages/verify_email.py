"""/verify-email/<token>: the link mailed to a new address; opening it makes that address the login."""
import reflex as rx

from app.components.pages import page
from app.components.public import checking, done, link_problem, public_page
from state.links import CHECKING, DONE, PROBLEM
from state.nav import LOGIN
from state.settings import VerifyEmailState as S


@page(route="/verify-email/[email_token]", title="Verify your e-mail · Voltdesk", on_load=S.load)
def verify_email() -> rx.Component:
    log_in = rx.link(rx.button("Log in", size="3", width="100%"), href=LOGIN, width="100%")
    return public_page(rx.match(
        S.phase,
        (CHECKING, checking()),
        (PROBLEM, link_problem("This link can't be used", S.problem, log_in)),
        (DONE, done("E-mail address verified", rx.text("You now log in with ", rx.text.strong(S.email), "."),
                    log_in)),
        checking(),
    ))
