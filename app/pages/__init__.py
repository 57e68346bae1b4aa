"""Every page module registers itself on import."""
from app.pages import (  # noqa: F401
    account,
    activate,
    charger_detail,
    chargers,
    # The OEM tier (issue 15).
    client_detail,
    clients,
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
