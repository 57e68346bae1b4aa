"""The demo's printed logins, shown by `make run` and `manage.py seed`."""
from __future__ import annotations

from services.access.permissions import ROLE_LABELS, Role


def print_logins(logins) -> None:
    print("Demo logins:")
    for role, email, password in logins:
        print(f"  {ROLE_LABELS[Role(role)]:<17} {email:<26} {password}")
