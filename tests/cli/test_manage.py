"""The operator command line, run as a real subprocess against the test database."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from core.config import ROOT
from models import Charger, IdTag, Organization, User


def manage(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def count(session, model) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize("cmd", [[], ["createuser"], ["org", "add"], ["charger", "add"], ["idtag", "add"],
                                 ["seed-demo"], ["migrate"]])
def test_every_command_has_help(cmd):
    r = manage(*cmd, "--help")
    assert r.returncode == 0 and "usage: manage.py" in r.stdout


def test_operator_provisions_an_organization_user_charger_and_idtag(session):
    assert manage("org", "add", "--name", "Platform", "--slug", "platform", "--currency", "USD",
                  "--timezone", "UTC").returncode == 0
    r = manage("org", "add", "--name", "Acme", "--slug", "acme", "--currency", "eur", "--timezone",
               "Europe/Paris", "--parent", "platform", "--region", "EU")
    assert r.returncode == 0, r.stderr
    assert "Created client organization acme" in r.stdout
    r = manage("createuser", "--email", "Cpo@Acme.test", "--password", "long-enough-pw", "--role", "cpo",
               "--org", "acme")
    assert r.returncode == 0, r.stderr
    r = manage("charger", "add", "--id", "ACME-1", "--org", "acme")
    assert r.returncode == 0 and "AuthorizationKey (shown once" in r.stdout
    r = manage("idtag", "add", "--tag", "CARD-1", "--org", "acme", "--expires", "2030-01-01T00:00:00+00:00")
    assert r.returncode == 0, r.stderr
    session.expire_all()
    org = session.execute(select(Organization).where(Organization.slug == "acme")).scalar_one()
    assert org.currency == "EUR" and org.kind == "client"
    assert session.execute(select(User.email)).scalar_one() == "cpo@acme.test"
    assert session.execute(select(Charger.organization_id)).scalar_one() == org.id
    assert session.execute(select(IdTag.tag)).scalar_one() == "CARD-1"


@pytest.mark.parametrize("args, message", [
    (["org", "add", "--name", "X", "--slug", "x-org", "--currency", "XXQ", "--timezone", "UTC"], "Unknown currency"),
    (["org", "add", "--name", "X", "--slug", "x-org", "--currency", "USD", "--timezone", "Mars/Base"],
     "Unknown timezone"),
    (["org", "add", "--name", "X", "--slug", "Bad Slug", "--currency", "USD", "--timezone", "UTC"], "Slug must"),
    (["createuser", "--email", "a@b.test", "--password", "long-enough-pw", "--role", "wizard"], "Unknown role"),
    (["createuser", "--email", "not-an-email", "--password", "long-enough-pw", "--role", "admin"],
     "not a valid email"),
    (["createuser", "--email", "a@b.test", "--password", "short", "--role", "admin"], "at least 8"),
    (["createuser", "--email", "a@b.test", "--password", "long-enough-pw", "--role", "cpo"],
     "must be bound to an organization"),
    (["charger", "add", "--id", "C1", "--org", "nowhere"], "Organization 'nowhere' does not exist"),
    (["idtag", "add", "--tag", "T1", "--org", "nowhere", "--expires", "tomorrow"], "does not exist"),
])
def test_bad_arguments_give_a_clear_message_exit_non_zero_and_change_nothing(session, args, message):
    before = (count(session, Organization), count(session, User))
    r = manage(*args)
    assert r.returncode != 0
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert (count(session, Organization), count(session, User)) == before


def test_argparse_errors_exit_2_with_usage():
    r = manage("charger", "add", "--id", "C1")
    assert r.returncode == 2 and "the following arguments are required: --org" in r.stderr


def test_seed_demo_is_idempotent_and_prints_the_logins(session):
    first = manage("seed-demo")
    assert first.returncode == 0, first.stderr
    orgs, users = count(session, Organization), count(session, User)
    second = manage("seed-demo")
    assert second.returncode == 0 and "(0 rows created)" in second.stdout
    # 8 staff logins, and each of the two demo clients' admin and dispatcher (demo/oem.py).
    assert (count(session, Organization), count(session, User)) == (orgs, users) == (5, 12)
    assert "admin@voltdesk.local" in second.stdout and "Location Owner" in second.stdout


def test_refuses_the_demo_secret_key_outside_demo_mode():
    from core.config import DEMO_SECRET_KEY

    r = manage("migrate", env={"SECRET_KEY": DEMO_SECRET_KEY, "DEMO_MODE": "0"})
    assert r.returncode != 0 and "SECRET_KEY is the demo key" in r.stderr and "Traceback" not in r.stderr
