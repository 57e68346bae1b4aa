"""Every page module registers itself on import."""
from app.pages import (  # noqa: F401
    account,
    charger_detail,
    chargers,
    dashboard,
    finances,
    invoice_detail,
    invoices,
    login,
    network,
    organization_detail,
    organizations,
    transaction_detail,
    transactions,
    unknown_chargers,
    users,
)
