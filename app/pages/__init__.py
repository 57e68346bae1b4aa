"""Every page module registers itself on import."""
from app.pages import account, chargers, dashboard, login, organizations, users  # noqa: F401
