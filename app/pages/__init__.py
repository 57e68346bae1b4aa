import reflex as rx


@rx.page(route="/login", title="Voltdesk · Log in")
def login() -> rx.Component:
    return rx.center(rx.heading("Voltdesk"), height="100vh")
