"""Every page module registers itself on import."""
from app.pages import (  # noqa: F401
    account,
    chargers,
    dashboard,
    login,
    organization_detail,
    organizations,
    transaction_detail,
    transactions,
    users,
)
