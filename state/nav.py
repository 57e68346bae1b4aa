"""The sidebar, in one place: each page adds one entry with the capability it needs.

The state decides on the server which entries a role sees; the sidebar only renders them.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.access.permissions import Cap


@dataclass(frozen=True)
class NavItem:
    label: str
    route: str
    icon: str  # a lucide icon name
    cap: Cap


NAV: tuple[NavItem, ...] = (
    NavItem("Dashboard", "/dashboard", "layout-dashboard", Cap.VIEW_DASHBOARD),
    NavItem("Chargers", "/chargers", "plug-zap", Cap.VIEW_CHARGERS),
    NavItem("Unknown chargers", "/unknown-chargers", "shield-question", Cap.VIEW_UNKNOWN_CHARGERS),
    NavItem("Network map", "/network", "map", Cap.VIEW_NETWORK),
    NavItem("Transactions", "/transactions", "receipt", Cap.VIEW_TRANSACTIONS),
    NavItem("Finances", "/finances", "wallet", Cap.VIEW_FINANCE),
    NavItem("Invoices", "/invoices", "file-text", Cap.VIEW_INVOICES),
    NavItem("Organizations", "/organizations", "building-2", Cap.VIEW_ORGANIZATIONS),
    NavItem("Users", "/users", "users", Cap.VIEW_USERS),
    # customers (issue 9)
    NavItem("Accounts", "/accounts", "briefcase", Cap.VIEW_CUSTOMERS),
    NavItem("Billing plans", "/billing-plans", "tags", Cap.VIEW_CUSTOMERS),
    NavItem("Customers", "/users/customers", "contact", Cap.VIEW_CUSTOMERS),
    NavItem("Settings", "/settings/support-links", "settings", Cap.VIEW_CUSTOMERS),
    NavItem("Notifications", "/notifications", "bell", Cap.VIEW_DASHBOARD),
    NavItem("Compose message", "/notifications/compose", "send", Cap.SEND_CUSTOMER_MESSAGES),
    NavItem("Location owners", "/location-owners", "store", Cap.MANAGE_LOCATION_OWNERS),
    NavItem("Commission", "/commission", "hand-coins", Cap.VIEW_FINANCE),
    NavItem("Payments", "/payments", "credit-card", Cap.VIEW_PAYMENTS),
    NavItem("Grid monitor", "/grid", "activity", Cap.VIEW_GRID),
    NavItem("Firmware", "/firmware", "hard-drive-download", Cap.MANAGE_FIRMWARE),
)

HOME = "/dashboard"
LOGIN = "/login"

# The OEM tier (issue 15): the operator's staff manage their clients.
NAV = (*NAV, NavItem("Clients", "/clients", "briefcase-business", Cap.MANAGE_CLIENTS),
       # A client's custom roles: the operator for any client, a client admin for its own.
       NavItem("Roles", "/roles", "shield-check", Cap.MANAGE_ROLES))
