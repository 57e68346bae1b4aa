"""The one permission table: role → capabilities. The README prints it from here."""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    TECHNICAL = "technical"
    ACCOUNTS = "accounts"
    NETWORK_MANAGER = "network_manager"
    CUSTOMER_SUPPORT = "customer_support"
    CPO = "cpo"
    LOCATION_OWNER = "location_owner"


ROLE_LABELS = {
    Role.ADMIN: "Admin",
    Role.TECHNICAL: "Technical",
    Role.ACCOUNTS: "Accounts",
    Role.NETWORK_MANAGER: "Network Manager",
    Role.CUSTOMER_SUPPORT: "Customer Support",
    Role.CPO: "CPO",
    Role.LOCATION_OWNER: "Location Owner",
}


class Cap(StrEnum):
    VIEW_DASHBOARD = "view_dashboard"
    VIEW_CHARGERS = "view_chargers"
    MANAGE_CHARGERS = "manage_chargers"
    # Register an OCPP id the server has never seen connect (ids are global: see docs/adr/0004-scoping.md).
    REGISTER_NEW_CHARGER_IDS = "register_new_charger_ids"
    COMMAND_CHARGERS = "command_chargers"
    VIEW_NETWORK = "view_network"
    # Ids that knocked without being registered, with their addresses: they belong to no tenant, so only
    # roles that manage the whole network (the operator) see them.
    VIEW_UNKNOWN_CHARGERS = "view_unknown_chargers"
    VIEW_ORGANIZATIONS = "view_organizations"
    MANAGE_ORGANIZATIONS = "manage_organizations"
    VIEW_TRANSACTIONS = "view_transactions"
    VIEW_RAW_OCPP = "view_raw_ocpp"
    VIEW_FINANCE = "view_finance"
    VIEW_INVOICES = "view_invoices"
    MANAGE_INVOICES = "manage_invoices"
    MANAGE_PAYMENTS = "manage_payments"
    MANAGE_TARIFFS = "manage_tariffs"
    VIEW_USERS = "view_users"
    MANAGE_USERS = "manage_users"
    MANAGE_ID_TAGS = "manage_id_tags"
    # The grid monitor (services/grid): region readings and health are not tenant data; the chargers shown are.
    VIEW_GRID = "view_grid"
    # Demand-response policies and events: they send SetChargingProfile to the organization's chargers.
    MANAGE_DEMAND_RESPONSE = "manage_demand_response"


_ALL = frozenset(Cap)
_READ_PORTAL = frozenset({Cap.VIEW_DASHBOARD, Cap.VIEW_CHARGERS, Cap.VIEW_NETWORK, Cap.VIEW_ORGANIZATIONS,
                          Cap.VIEW_TRANSACTIONS, Cap.VIEW_FINANCE, Cap.VIEW_INVOICES})

PERMISSIONS: dict[Role, frozenset[Cap]] = {
    Role.ADMIN: _ALL,
    Role.TECHNICAL: _ALL,
    Role.ACCOUNTS: frozenset({
        Cap.VIEW_DASHBOARD, Cap.VIEW_CHARGERS, Cap.VIEW_ORGANIZATIONS, Cap.MANAGE_ORGANIZATIONS,
        Cap.VIEW_TRANSACTIONS, Cap.VIEW_FINANCE, Cap.VIEW_INVOICES, Cap.MANAGE_INVOICES, Cap.MANAGE_PAYMENTS,
        Cap.MANAGE_TARIFFS,
    }),
    Role.NETWORK_MANAGER: frozenset({
        Cap.VIEW_DASHBOARD, Cap.VIEW_CHARGERS, Cap.MANAGE_CHARGERS, Cap.COMMAND_CHARGERS, Cap.VIEW_NETWORK,
        Cap.VIEW_ORGANIZATIONS, Cap.VIEW_TRANSACTIONS, Cap.MANAGE_ID_TAGS,
    }),
    Role.CUSTOMER_SUPPORT: frozenset({
        Cap.VIEW_DASHBOARD, Cap.VIEW_CHARGERS, Cap.VIEW_ORGANIZATIONS, Cap.VIEW_TRANSACTIONS,
        Cap.VIEW_USERS, Cap.MANAGE_USERS, Cap.MANAGE_ID_TAGS,
    }),
    # Read-only portals.
    Role.CPO: _READ_PORTAL,
    # Revenue it earned, but not the organization's books (invoices, billing runs).
    Role.LOCATION_OWNER: _READ_PORTAL - {Cap.VIEW_ORGANIZATIONS, Cap.VIEW_INVOICES},
}

# Grid monitor and demand response.
PERMISSIONS[Role.NETWORK_MANAGER] |= {Cap.VIEW_GRID, Cap.MANAGE_DEMAND_RESPONSE}
PERMISSIONS[Role.CPO] |= {Cap.VIEW_GRID}

# Roles whose scope is every organization, whatever they are bound to.
ALL_ORGANIZATION_ROLES = frozenset({Role.ADMIN, Role.TECHNICAL, Role.ACCOUNTS})

# Which roles a user may give to users it creates or invites.
ASSIGNABLE_ROLES: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role),
    Role.TECHNICAL: frozenset(Role),
    Role.CUSTOMER_SUPPORT: frozenset({Role.CUSTOMER_SUPPORT, Role.CPO, Role.LOCATION_OWNER}),
}


class PermissionDenied(Exception):
    """The user's role does not allow this action."""


def can(role: str | Role, cap: Cap) -> bool:
    try:
        return cap in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def require(role: str | Role, cap: Cap) -> None:
    if not can(role, cap):
        raise PermissionDenied(f"Your role may not {cap.value.replace('_', ' ')}.")


def markdown_table() -> str:
    """The permission table as Markdown; the README embeds it (tests/test_readme.py keeps them equal)."""
    lines = ["| Capability | " + " | ".join(ROLE_LABELS[r] for r in Role) + " |",
             "|---|" + "---|" * len(Role)]
    for cap in Cap:
        marks = " | ".join("✓" if cap in PERMISSIONS[r] else "" for r in Role)
        lines.append(f"| {cap.value} | {marks} |")
    return "\n".join(lines)
