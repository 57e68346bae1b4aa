"""The login page, and `/` sending people on to the dashboard."""
import reflex as rx

from app.components.pages import page
from state.auth import LOGIN_ACTION, LoginState
from state.nav import HOME


def _field(label: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=props["id"], size="2", weight="medium"),
        rx.input(size="3", width="100%", **props),
        spacing="1", width="100%",
    )


@page(route="/login", title="Log in · Voltdesk", on_load=LoginState.check_session)
def login() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.hstack(
                rx.center(rx.icon("zap", size=22, color="white"), width="40px", height="40px",
                          border_radius="11px", background=rx.color("teal", 9)),
                rx.heading("Voltdesk", size="7", weight="bold"),
                spacing="3", align="center",
            ),
            rx.card(
                # A plain form post: the API sets the HttpOnly login cookie and sends the browser on (ADR 0007).
                rx.el.form(
                    rx.vstack(
                        rx.heading("Log in", size="6"),
                        rx.text("Manage your charging network.", size="2", color_scheme="gray"),
                        _field("Email", id="email", name="email", type="email", placeholder="you@company.com",
                               auto_focus=True, auto_complete="username"),
                        _field("Password", id="password", name="password", type="password",
                               auto_complete="current-password"),
                        rx.link("Forgot password?", href="/forgot-password", size="2", align_self="end",
                                margin_top="-8px", id="forgot-password"),
                        rx.cond(
                            LoginState.error != "",
                            rx.callout(LoginState.error, icon="triangle-alert", color_scheme="red", role="alert",
                                       size="1", width="100%", id="login-error"),
                        ),
                        rx.cond(
                            LoginState.notice != "",
                            rx.callout(LoginState.notice, icon="info", color_scheme="teal", role="status",
                                       size="1", width="100%", id="login-notice"),
                        ),
                        rx.button("Log in", type="submit", size="3", width="100%", margin_top="8px",
                                  id="login-submit"),
                        spacing="4", width="100%",
                    ),
                    action=LOGIN_ACTION, method="post", on_submit=None,
                ),
                size="4", width="100%",
            ),
            rx.text("Charging with us? ", rx.link("Sign up", href="/signup", id="signup-link"), size="2"),
            rx.text("Access is provided by your organization's administrator.", size="1", color_scheme="gray"),
            spacing="5", align="center", width="100%", max_width="400px",
        ),
        min_height="100vh", padding="24px",
        background=f"radial-gradient(circle at 20% 0%, {rx.color('teal', 3)}, {rx.color('gray', 2)} 55%)",
    )


@page(route="/", title="Voltdesk", on_load=rx.redirect(HOME))
def index() -> rx.Component:
    return rx.center(rx.spinner(size="3"), min_height="100vh")
