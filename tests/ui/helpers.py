"""Steps the browser tests share."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.utils.factories import PASSWORD

ON_LOGIN = re.compile(r".*/login/?(\?.*)?$")


def on(path: str) -> re.Pattern:
    return re.compile(rf".*{re.escape(path)}/?(\?.*)?$")


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(on("/dashboard"), timeout=20_000)


def sidebar_items(page: Page) -> list[str]:
    links = page.locator("#sidebar-nav a")
    expect(links.first).to_be_visible()
    return [t.strip() for t in links.all_inner_texts()]


def open_user_menu(page: Page, item: str) -> None:
    """Open the user menu until `item` shows: a click that lands before the page has hydrated opens nothing."""
    entry = page.get_by_role("menuitem", name=item)
    for _ in range(10):
        page.locator("#user-menu").click()
        try:
            expect(entry).to_be_visible(timeout=3_000)
            return
        except AssertionError:
            page.keyboard.press("Escape")
    expect(entry).to_be_visible()
