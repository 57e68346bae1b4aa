"""The claim code on a charger's detail page: what a customer enters to activate the charger (issue 9)."""
import reflex as rx

from state.customers import ClaimCodeState as C


def claim_code_card() -> rx.Component:
    return rx.box(rx.cond(C.code != "", rx.card(rx.hstack(
        rx.icon("key-round", size=18),
        rx.text("Claim code for customers: ", size="2", color_scheme="gray"),
        rx.code(C.code, size="3", id="claim-code"),
        rx.spacer(),
        rx.cond(C.can_manage, rx.button("New code", size="1", variant="soft", on_click=C.renew)),
        align="center", spacing="2", width="100%"), size="1", width="100%")), width="100%", on_mount=C.load_code)
