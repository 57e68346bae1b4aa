"""The one permission table: role → capabilities. The README prints it from here."""
from __future__ import annotations

from enum import StrEnum

from core.errors import ValidationError


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
    # Customers (services/customers): see accounts and customer users; invite, set support links and plans.
    VIEW_CUSTOMERS = "view_customers"
    MANAGE_CUSTOMERS = "manage_customers"
    # The plan catalogue (Accounts → Billing plans): prices, so Accounts too, with the roles that manage customers.
    MANAGE_BILLING_PLANS = "manage_billing_plans"
    # Notifications: the per-recipient, per-channel delivery log (Admin and Technical, through _ALL).
    VIEW_DELIVERY_LOG = "view_delivery_log"
    # Write messages to app users (the composer): Admin, Technical, Customer Support.
    SEND_CUSTOMER_MESSAGES = "send_customer_messages"
    # The OEM tier (issue 15): clients, their API keys and their own roles.
    MANAGE_CLIENTS = "manage_clients"
    MANAGE_API_KEYS = "manage_api_keys"
    MANAGE_ROLES = "manage_roles"
    MANAGE_APPS = "manage_apps"
    # Issue 14: a CPO assigns location owners per charger, creates them and invites their users.
    ASSIGN_LOCATION_OWNERS = "assign_location_owners"
    MANAGE_LOCATION_OWNERS = "manage_location_owners"
    # Payments (issue 10): the payments dashboard and wallets; gateway configuration; the second user who
    # approves a manual payment or a refund above the threshold (maker–checker).
    VIEW_PAYMENTS = "view_payments"
    MANAGE_GATEWAYS = "manage_gateways"
    APPROVE_PAYMENTS = "approve_payments"
    # The grid monitor (services/grid): region readings and health are not tenant data; the chargers shown are.
    VIEW_GRID = "view_grid"
    # Demand-response policies and events: they send SetChargingProfile to the organization's chargers.
    MANAGE_DEMAND_RESPONSE = "manage_demand_response"
    # The signed firmware library (issue 13): upload signed images and roll them out to chargers.
    MANAGE_FIRMWARE = "manage_firmware"


_ALL = frozenset(Cap)
_READ_PORTAL = frozenset({Cap.VIEW_DASHBOARD, Cap.VIEW_CHARGERS, Cap.VIEW_NETWORK, Cap.VIEW_ORGANIZATIONS,
                          Cap.VIEW_TRANSACTIONS, Cap.VIEW_FINANCE, Cap.VIEW_INVOICES})

PERMISSIONS: dict[Role, frozenset[Cap]] = {
    Role.ADMIN: _ALL,
    Role.TECHNICAL: _ALL,
    Role.ACCOUNTS: frozenset({
        Cap.VIEW_DASHBOARD, Cap.VIEW_CHARGERS, Cap.VIEW_ORGANIZATIONS, Cap.MANAGE_ORGANIZATIONS,
        Cap.VIEW_TRANSACTIONS, Cap.VIEW_FINANCE, Cap.VIEW_INVOICES, Cap.MANAGE_INVOICES, Cap.MANAGE_PAYMENTS,
        Cap.MANAGE_TARIFFS, Cap.VIEW_CUSTOMERS,
    }) | {Cap.VIEW_PAYMENTS, Cap.MANAGE_GATEWAYS, Cap.APPROVE_PAYMENTS, Cap.MANAGE_BILLING_PLANS},
    Role.NETWORK_MANAGER: frozenset({
        Cap.VIEW_DASHBOARD, Cap.VIEW_CHARGERS, Cap.MANAGE_CHARGERS, Cap.COMMAND_CHARGERS, Cap.VIEW_NETWORK,
        Cap.VIEW_ORGANIZATIONS, Cap.VIEW_TRANSACTIONS, Cap.MANAGE_ID_TAGS, Cap.ASSIGN_LOCATION_OWNERS,
    }),
    Role.CUSTOMER_SUPPORT: frozenset({
        Cap.VIEW_DASHBOARD, Cap.VIEW_CHARGERS, Cap.VIEW_ORGANIZATIONS, Cap.VIEW_TRANSACTIONS,
        Cap.VIEW_USERS, Cap.MANAGE_USERS, Cap.MANAGE_ID_TAGS, Cap.VIEW_CUSTOMERS, Cap.MANAGE_CUSTOMERS,
    }) | {Cap.SEND_CUSTOMER_MESSAGES, Cap.MANAGE_BILLING_PLANS},
    # Read-only portals, except that a CPO manages its location owners (issue 14).
    Role.CPO: _READ_PORTAL | {Cap.VIEW_CUSTOMERS, Cap.ASSIGN_LOCATION_OWNERS, Cap.MANAGE_LOCATION_OWNERS,
                              Cap.VIEW_PAYMENTS},
    # Revenue it earned, but not the organization's books (invoices, billing runs).
    Role.LOCATION_OWNER: _READ_PORTAL - {Cap.VIEW_ORGANIZATIONS, Cap.VIEW_INVOICES},
}

# Grid monitor and demand response.
PERMISSIONS[Role.NETWORK_MANAGER] |= {Cap.VIEW_GRID, Cap.MANAGE_DEMAND_RESPONSE}
PERMISSIONS[Role.CPO] |= {Cap.VIEW_GRID}
# The firmware library: those who already command the chargers (Admin and Technical hold every capability).
PERMISSIONS[Role.NETWORK_MANAGER] |= {Cap.MANAGE_FIRMWARE}

# Roles whose scope is every organization, whatever they are bound to.
ALL_ORGANIZATION_ROLES = frozenset({Role.ADMIN, Role.TECHNICAL, Role.ACCOUNTS})

# Which roles a user may give to users it creates or invites.
ASSIGNABLE_ROLES: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role),
    Role.TECHNICAL: frozenset(Role),
    Role.CUSTOMER_SUPPORT: frozenset({Role.CUSTOMER_SUPPORT, Role.CPO, Role.LOCATION_OWNER}),
    Role.CPO: frozenset({Role.LOCATION_OWNER}),  # its location owners' users, by invitation (issue 14)
}


class PermissionDenied(Exception):
    """The user's role does not allow this action."""


# What a client may ever hold: a client's custom role or API key is a subset of this (and of its creator's).
# The rest runs the whole network or sets the operator's terms (commission, billing) and stays with it.
OPERATOR_ONLY = frozenset({Cap.MANAGE_CLIENTS, Cap.VIEW_UNKNOWN_CHARGERS, Cap.REGISTER_NEW_CHARGER_IDS,
                           Cap.MANAGE_ORGANIZATIONS})
CLIENT_CAPS = _ALL - OPERATOR_ONLY


def capabilities(role: str | Role) -> frozenset[Cap]:
    """A built-in role's row of the table; a custom role's row is data (models.client.CustomRole)."""
    try:
        return PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()


def denied(cap: Cap) -> PermissionDenied:
    return PermissionDenied(f"Your role may not {cap.value.replace('_', ' ')}.")


def can(role: str | Role, cap: Cap) -> bool:
    return cap in capabilities(role)


def require(role: str | Role, cap: Cap) -> None:
    if not can(role, cap):
        raise denied(cap)


def parse_caps(names: list[str], field: str = "scopes") -> frozenset[Cap]:
    """Capability names from a request; an unknown name is refused, naming it."""
    caps = set()
    for name in names:
        try:
            caps.add(Cap(name))
        except ValueError:
            raise ValidationError(f"Unknown capability: {name[:60]}.", field) from None
    return frozenset(caps)


def markdown_table() -> str:
    """The permission table as Markdown; the README embeds it (tests/test_readme.py keeps them equal)."""
    lines = ["| Capability | " + " | ".join(ROLE_LABELS[r] for r in Role) + " |",
             "|---|" + "---|" * len(Role)]
    for cap in Cap:
        marks = " | ".join("✓" if cap in PERMISSIONS[r] else "" for r in Role)
        lines.append(f"| {cap.value} | {marks} |")
    return "\n".join(lines)
