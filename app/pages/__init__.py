"""Every page module registers itself on import."""
from app.pages import (  # noqa: F401
    account,
    activate,
    charger_detail,
    chargers,
    dashboard,
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
