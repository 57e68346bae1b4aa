"""The demo's printed logins, shown by `make run` and `manage.py seed`."""
from __future__ import annotations

from services.access.permissions import ROLE_LABELS, Role


def print_logins(logins) -> None:
    print("Demo logins:")
    for role, email, password in logins:
        print(f"  {ROLE_LABELS[Role(role)]:<17} {email:<26} {password}")


def print_customer_logins(logins, password: str) -> None:
    """Customer logins (issue 9): the same login screen opens the customer portal."""
    print("Demo customer logins (portal at /my):")
    for who, email in logins:
        print(f"  {who:<17} {email:<26} {password}")
