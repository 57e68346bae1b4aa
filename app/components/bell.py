"""The bell in the header: unread notifications, live (state/notifications.py BellState)."""
from __future__ import annotations

import reflex as rx

from state.notifications import BellState as B


def _item(r) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.cond(r["critical"] == "1", rx.icon("siren", size=14, color=rx.color("red", 10)),
                    rx.icon("bell", size=14, color=rx.color("gray", 10))),
            rx.text(r["kind"], size="1", weight="medium", color_scheme="gray"),
            rx.spacer(),
            rx.text(r["when"], size="1", color_scheme="gray"),
            width="100%", align="center", spacing="2",
        ),
        rx.text(r["title"], size="2", weight=rx.cond(r["read"] == "1", "regular", "bold")),
        rx.cond(r["ackable"] == "1",
                rx.button("Acknowledge", size="1", variant="soft", margin_top="4px",
                          on_click=B.acknowledge(r["alert_id"]), class_name="bell-ack")),
        padding="8px 4px", border_bottom=f"1px solid {rx.color('gray', 4)}", width="100%", class_name="bell-item",
    )


def bell() -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(
            rx.button(
                rx.icon("bell", size=18),
                rx.cond(B.unread > 0,
                        rx.badge(B.unread, color_scheme="red", variant="solid", radius="full", id="bell-count",
                                 position="absolute", top="-4px", right="-6px", size="1")),
                variant="ghost", color_scheme="gray", position="relative", id="bell", aria_label="Notifications",
            ),
        ),
        rx.popover.content(
            rx.hstack(
                rx.text("Notifications", weight="bold"),
                rx.spacer(),
                rx.button("Mark all read", size="1", variant="ghost", on_click=B.mark_all_read, id="bell-read"),
                width="100%", align="center",
            ),
            rx.cond(B.items.length() > 0,
                    rx.vstack(rx.foreach(B.items, _item), spacing="0", width="100%", max_height="360px",
                              overflow_y="auto"),
                    rx.text("Nothing yet.", size="2", color_scheme="gray", padding="12px 0")),
            rx.link("All notifications", href="/notifications", size="2", id="bell-all"),
            width="360px",
        ),
    )
