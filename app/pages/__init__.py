"""Every page module registers itself on import."""
from app.pages import (  # noqa: F401
    account,
    # customers (issue 9)
    accounts,
    activate,
    charger_detail,
    chargers,
    customer_portal,
    customers,
    dashboard,
    finances,
    invoice_detail,
    invoices,
    login,
    network,
    organization_detail,
    organizations,
    reset_password,
    transaction_detail,
    transactions,
    unknown_chargers,
    users,
)
