"""The frame of the pages people reach without logging in: activation, password reset."""
from __future__ import annotations

import reflex as rx


def brand() -> rx.Component:
    return rx.hstack(
        rx.center(rx.icon("zap", size=22, color="white"), width="40px", height="40px",
                  border_radius="11px", background=rx.color("teal", 9)),
        rx.heading("Voltdesk", size="7", weight="bold"),
        spacing="3", align="center",
    )


def public_page(*children: rx.Component, footer: rx.Component | None = None) -> rx.Component:
    """The brand above one card, on the login page's background."""
    return rx.center(
        rx.vstack(
            brand(),
            rx.card(*children, size="4", width="100%"),
            footer or rx.fragment(),
            spacing="5", align="center", width="100%", max_width="420px",
        ),
        min_height="100vh", padding="24px",
        background=f"radial-gradient(circle at 20% 0%, {rx.color('teal', 3)}, {rx.color('gray', 2)} 55%)",
    )


def field(label: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=props["id"], size="2", weight="medium"),
        rx.input(size="3", width="100%", **props),
        spacing="1", width="100%",
    )


def error_callout(message, **props) -> rx.Component:
    return rx.callout(message, icon="triangle-alert", color_scheme="red", role="alert", size="1", width="100%",
                      **props)


def link_problem(title: str, message, action: rx.Component) -> rx.Component:
    """What a page shows instead of its form when the link cannot be used."""
    return rx.vstack(
        rx.center(rx.icon("link-2-off", size=22), width="44px", height="44px", border_radius="12px",
                  background=rx.color("red", 3), color=rx.color("red", 11)),
        rx.heading(title, size="5"),
        rx.text(message, size="2", color_scheme="gray", id="link-problem"),
        action,
        spacing="3", width="100%",
    )


def done(title: str, message, action: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.center(rx.icon("circle-check", size=22), width="44px", height="44px", border_radius="12px",
                  background=rx.color("green", 3), color=rx.color("green", 11)),
        rx.heading(title, size="5"),
        rx.text(message, size="2", color_scheme="gray"),
        action,
        spacing="3", width="100%", id="link-done",
    )


def checking() -> rx.Component:
    return rx.center(rx.spinner(size="3"), padding="32px", width="100%")
