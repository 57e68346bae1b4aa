"""The app shell and the `template` decorator every page uses.

`template(route=, title=, cap=, on_load=)` declares the page (app/components/pages.py), wraps it in the shell
(sidebar, organization switcher, user menu) and puts the same server-side guard first in its
on_load: `AppState.guard(cap)` checks the login and the capability before the page's own loader
runs, and each loader checks the capability again when it reads data.
"""
from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from app.components.bell import bell
from app.components.pages import page as declare_page
from app.components.ui import loading_block
from services.access.permissions import Cap
from state.base import ALL_ORGS, LOGOUT_ACTION, LOGOUT_FORM, AppState
from state.clients import ClientsState
from state.nav import HOME, NAV, NavItem
from state.notifications import BellState

SIDEBAR_WIDTH = "248px"


def _brand() -> rx.Component:
    return rx.hstack(
        rx.center(rx.icon("zap", size=18, color="white"), width="32px", height="32px", border_radius="9px",
                  background=rx.color("teal", 9)),
        rx.text("Voltdesk", size="5", weight="bold", letter_spacing="-0.01em"),
        spacing="3", align="center",
    )


def _nav_link(item: NavItem, active: bool) -> rx.Component:
    link = rx.link(
        rx.hstack(
            rx.icon(item.icon, size=18),
            rx.text(item.label, size="3", weight="medium"),
            spacing="3", align="center", padding="8px 12px", border_radius="8px", width="100%",
            background=rx.color("teal", 3) if active else "transparent",
            color=rx.color("teal", 11) if active else rx.color("gray", 11),
            _hover={"background": rx.color("teal", 3) if active else rx.color("gray", 3)},
        ),
        href=item.route, underline="none", width="100%", class_name="nav-item",
        aria_current="page" if active else None,
    )
    # Hiding is cosmetic; the page's guard decides on the server.
    return rx.cond(AppState.allowed_routes.contains(item.route), link)


def sidebar(route: str) -> rx.Component:
    return rx.vstack(
        rx.box(_brand(), padding="20px 20px 24px"),
        rx.vstack(*[_nav_link(item, item.route == route) for item in NAV], spacing="1", width="100%",
                  padding_x="12px", id="sidebar-nav"),
        rx.spacer(),
        rx.text("Voltdesk CSMS", size="1", color_scheme="gray", padding="16px 20px"),
        width=SIDEBAR_WIDTH, min_width=SIDEBAR_WIDTH, height="100vh", position="sticky", top="0",
        background=rx.color("gray", 1), border_right=f"1px solid {rx.color('gray', 4)}", spacing="0",
        id="sidebar",
    )


def org_switcher(reload: list) -> rx.Component:
    return rx.cond(
        AppState.multi_org,
        rx.select.root(
            rx.select.trigger(rx.hstack(rx.icon("building-2", size=16), rx.text(AppState.org_label),
                                        spacing="2", align="center"),
                              variant="surface", min_width="220px", id="org-switcher"),
            rx.select.content(
                rx.select.item("All organizations", value=ALL_ORGS),
                rx.select.separator(),
                rx.foreach(AppState.org_options, lambda o: rx.select.item(o["name"], value=o["id"])),
            ),
            value=AppState.org_choice,
            on_change=lambda value: [AppState.set_org(value), *reload],
        ),
    )


def user_menu() -> rx.Component:
    menu = rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.avatar(fallback=AppState.initials, size="2", radius="full", color_scheme="teal"),
                rx.vstack(
                    rx.text(AppState.user_name, size="2", weight="medium"),
                    rx.text(AppState.role_label, size="1", color_scheme="gray"),
                    spacing="0", align="start",
                ),
                rx.icon("chevron-down", size=14),
                variant="ghost", color_scheme="gray", size="2", height="auto", padding="4px 8px",
                id="user-menu",
            ),
        ),
        rx.menu.content(
            rx.box(rx.text(AppState.user_email, size="1", color_scheme="gray"), padding="4px 12px"),
            rx.menu.separator(),
            rx.menu.item(rx.icon("user-round-cog", size=16), "Account", on_click=rx.redirect("/account")),
            rx.menu.item(rx.icon("log-out", size=16), "Log out", color_scheme="red", id="logout",
                         on_click=rx.call_script(f"document.getElementById('{LOGOUT_FORM}').submit()")),
            align="end",
        ),
    )
    return rx.fragment(
        menu,
        # Logging out is a plain form post: the API revokes the tokens and clears the HttpOnly cookie.
        rx.el.form(id=LOGOUT_FORM, action=LOGOUT_ACTION, method="post", on_submit=None, display="none"),
    )


def access_denied() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(rx.icon("shield-x", size=28), width="56px", height="56px", border_radius="50%",
                      background=rx.color("red", 3), color=rx.color("red", 10)),
            rx.heading("You don't have access to this page", size="5", id="access-denied"),
            rx.text("Your role (", AppState.role_label, ") does not include this page. "
                    "Ask an administrator if you need it.", color_scheme="gray", text_align="center"),
            rx.link(rx.button("Go to the dashboard", variant="soft"), href=HOME),
            align="center", spacing="3", max_width="420px",
        ),
        padding="80px 24px", width="100%",
    )


def view_as_banner() -> rx.Component:
    """The operator is viewing as a client (state/clients.py): read-only, and one click back."""
    return rx.flex(
        rx.icon("eye", size=16),
        rx.text("Viewing as ", rx.text.strong(AppState.view_as_name), " — read-only. This view is in the audit log.",
                size="2"),
        rx.spacer(),
        rx.button("Exit client view", size="1", variant="solid", color_scheme="amber", on_click=ClientsState.exit_view,
                  id="exit-view-as"),
        align="center", gap="8px", padding="8px 32px", background=rx.color("amber", 3),
        border_bottom=f"1px solid {rx.color('amber', 6)}", id="view-as-banner",
    )


def shell(content: rx.Component, *, route: str, reload: list) -> rx.Component:
    return rx.flex(
        sidebar(route),
        rx.box(
            rx.flex(
                rx.spacer(),
                bell(),
                org_switcher(reload),
                user_menu(),
                align="center", gap="16px", padding="12px 32px", height="64px",
                border_bottom=f"1px solid {rx.color('gray', 4)}", background=rx.color("gray", 1),
                position="sticky", top="0", z_index="10",
            ),
            rx.cond(AppState.view_as_name != "", view_as_banner()),
            rx.box(
                rx.cond(
                    AppState.ready,
                    rx.cond(AppState.denied, access_denied(), content),
                    loading_block(),
                ),
                padding="28px 32px 48px", max_width="1400px",
            ),
            flex="1", min_width="0",
        ),
        min_height="100vh", background=rx.color("gray", 2),
    )


def template(*, route: str, title: str, cap: Cap | None = None, on_load=None) -> Callable:
    """Register a page with the shared shell and the server-side guard for `cap`."""
    loaders = [] if on_load is None else (list(on_load) if isinstance(on_load, (list, tuple)) else [on_load])

    def decorator(page_content: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        def page() -> rx.Component:
            return shell(page_content(), route=route, reload=loaders)

        page.__name__ = page_content.__name__
        return declare_page(route=route, title=f"{title} · Voltdesk",
                            on_load=[AppState.guard(cap.value if cap else ""), *loaders, BellState.start])(page)

    return decorator
