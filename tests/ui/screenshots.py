"""Capture the main pages of a running demo at 1280×800 into docs/screenshots/.

    python -m tests.ui.screenshots [--url http://localhost:3000]

Logs in as the demo admin (`make run` seeds it). Later pages add themselves to PAGES.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEMO_EMAIL, DEMO_PASSWORD = "admin@voltdesk.local", "voltdesk-demo"

# (file name, path, a selector that shows the page has its data)
PAGES = [
    ("dashboard", "/dashboard", ".charger-card"),
    ("chargers", "/chargers", ".charger-row"),
    ("charger-detail", "/chargers/1", "#charger-facts"),
    ("network-map", "/network", "#network-map .marker-cluster, #network-map path.leaflet-interactive"),
    ("transactions", "/transactions", "#totals"),
    ("finances", "/finances", "#currency-totals"),
    ("invoices", "/invoices", ".invoice-row, #invoices-table, :text('No invoices yet')"),
    ("organizations", "/organizations", ".org-row"),
    ("users", "/users", ".user-row"),
    ("accounts", "/accounts", ".account-row"),  # customers (issue 9)
    ("billing-plans", "/billing-plans", ".plan-row"),
    ("notifications", "/notifications", ".notification-row"),
    ("composer", "/notifications/compose", "#preview-button"),
    ("clients", "/clients", ".client-row"),
    ("settings", "/account", "#settings-card"),  # issue 14: the user's own settings
    ("roles", "/roles", ".role-row"),  # a client's custom roles (issue 15)
    # Payments (issue 10): the demo's second payment is a CyberSource card session, its first wallet Nimal's.
    ("payments-dashboard", "/payments", ".payment-row"),
    ("payment-timeline", "/payments/2", "#payment-timeline"),
    ("wallet", "/wallets/1", "#wallet-history"),
    ("grid-monitor", "/grid", "#grid-frequency"),
    ("firmware", "/firmware", ".firmware-row"),  # issue 13: the demo seeds a signed image per client
]


def _detail_pages(page) -> list[tuple[str, str, str]]:
    """Pages reached by id: the newest completed session and the newest invoice (the not-found page when there
    is none) and the first organization."""
    token = page.request.post("/api/v1/auth/token", data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    done = page.request.get("/api/v1/transactions?status=completed&limit=1", headers=headers).json()["items"]
    session = f"/transactions/{done[0]['id']}" if done else "/transactions/0"
    page.goto("/organizations")
    expect(page.locator(".org-link").first).to_be_visible(timeout=30_000)
    org = page.locator(".org-link").first.get_attribute("href")
    # The newest invoice (the billing worker makes them for closed periods), or the not-found page.
    page.goto("/invoices")
    expect(page.locator("#invoices-table, :text('No invoices yet')").first).to_be_visible(timeout=30_000)
    invoices = page.locator(".invoice-link")
    invoice = invoices.first.get_attribute("href") if invoices.count() else "/invoices/0"
    # The first client's page: its API keys and the App Builder (issue 15).
    page.goto("/clients")
    expect(page.locator(".client-link").first).to_be_visible(timeout=30_000)
    client = page.locator(".client-link").first.get_attribute("href")
    return [("transaction_detail", session, "#session-title, #session-not-found"),
            ("organization", org, "#org-title"),
            ("invoice", invoice, "#invoice-title, #invoice-not-found"),
            ("client", client, "#app-preview")]


def capture(url: str, out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, base_url=url)
        page.goto("/login")
        page.fill("#email", DEMO_EMAIL)
        page.fill("#password", DEMO_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/dashboard**")
        for name, path, ready in PAGES + _detail_pages(page):
            page.goto(path)
            expect(page.locator(ready).first).to_be_visible(timeout=30_000)
            page.wait_for_load_state("networkidle")
            target = out / f"{name}.png"
            page.screenshot(path=str(target))
            saved.append(target)
        saved += _customer_pages(browser, page, url, out)
        saved += _portal_pages(browser, url, out)
        browser.close()
    return saved


# Customers (issue 9): an account with its sub-accounts, then, logged out, the sign-up page and the portal of the
# demo's business customer (demo/customers.py).
CUSTOMER_EMAIL = "fleet@spree.local"


def _shot(page, name: str, path: str, ready: str, out: Path) -> Path:
    page.goto(path)
    expect(page.locator(ready).first).to_be_visible(timeout=30_000)
    page.wait_for_load_state("networkidle")
    target = out / f"{name}.png"
    page.screenshot(path=str(target))
    return target


def _customer_pages(browser, page, url: str, out: Path) -> list[Path]:
    page.goto("/accounts")
    link = page.locator(".account-link", has_text="Spree Logistics")
    expect(link).to_be_visible(timeout=30_000)
    saved = [_shot(page, "account", link.get_attribute("href"), "#sub-accounts-table", out)]
    customer = browser.new_page(viewport={"width": 1280, "height": 800}, base_url=url)
    saved.append(_shot(customer, "signup", "/signup", "#signup-submit", out))
    customer.goto("/login")
    customer.fill("#email", CUSTOMER_EMAIL)
    customer.fill("#password", DEMO_PASSWORD)
    customer.get_by_role("button", name="Log in").click()
    customer.wait_for_url("**/my**")
    saved.append(_shot(customer, "customer-portal", "/my", "#my-sessions", out))
    # Cards and chargers: the assets with their plans, activate a card, claim a home charger.
    customer.get_by_role("tab", name="Cards and chargers").click()
    expect(customer.locator("#activate-card")).to_be_visible(timeout=30_000)
    target = out / "customer-assets.png"
    customer.screenshot(path=str(target), full_page=True)
    saved.append(target)
    return saved


# The portals (issue 14): the CPO of Lanka Charge (owners in its chargers table, its location owners) and the
# demo location owner (its commission statements, Finances showing its commission, the network map it sees).
PORTALS = [
    ("cpo@lanka.local", [("cpo-chargers", "/chargers", ".owner-name"),
                         ("location-owners", "/location-owners", ".owner-row")]),
    ("owner@galleface.local", [("owner-commission", "/commission", ".statement-row"),
                               ("owner-finances", "/finances", "#currency-totals"),
                               ("owner-network-map", "/network", "#network-map path.leaflet-interactive")]),
]


def _portal_pages(browser, url: str, out: Path) -> list[Path]:
    saved = []
    for email, pages in PORTALS:
        portal = browser.new_page(viewport={"width": 1280, "height": 800}, base_url=url)
        portal.goto("/login")
        portal.fill("#email", email)
        portal.fill("#password", DEMO_PASSWORD)
        portal.get_by_role("button", name="Log in").click(timeout=90_000)  # a loaded machine answers slowly
        portal.wait_for_url("**/dashboard**", timeout=90_000)
        saved += [_shot(portal, name, path, ready, out) for name, path, ready in pages]
        portal.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:3000", help="where the demo runs")
    args = parser.parse_args(argv)
    try:
        for path in capture(args.url.rstrip("/")):
            print(f"saved {path.relative_to(ROOT)}")
    except PlaywrightError as exc:
        print(f"Could not capture {args.url}: {exc.message.splitlines()[0]}", file=sys.stderr)
        print("Is the demo running (`make run`)?", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
