"""Every page module registers itself on import."""
from app.pages import (  # noqa: F401
    account,
    # customers (issue 9)
    accounts,
    activate,
    charger_detail,
    chargers,
    # The OEM tier (issue 15).
    client_detail,
    clients,
    composer,
    customer_portal,
    customers,
    dashboard,
    finances,
    invoice_detail,
    invoices,
    login,
    network,
    notifications,
    organization_detail,
    organizations,
    reset_password,
    transaction_detail,
    transactions,
    unknown_chargers,
    users,
)
