from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import clock
from core.config import get_settings
from services.access.scope import scope_for
from tests.utils.factories import make_org, make_user
from tests.utils.smtp import SmtpServer

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp(monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setattr(get_settings(), "smtp_url", server.url)
        monkeypatch.setattr(get_settings(), "public_url", "https://voltdesk.example")
        yield server.inbox


@pytest.fixture
def outbox(monkeypatch, tmp_path):
    monkeypatch.setattr(get_settings(), "smtp_url", None)
    monkeypatch.setattr(get_settings(), "outbox_dir", tmp_path)


@pytest.fixture
def world(session, monkeypatch, tmp_path):
    monkeypatch.setattr(get_settings(), "outbox_dir", tmp_path)
    clock.set(T0)
    alpha, bravo = make_org(session, slug="alpha"), make_org(session, slug="bravo")
    support = make_user(session, role="customer_support", orgs=[alpha], email="support@x.test")
    admin = make_user(session, role="admin")
    return dict(alpha=alpha, bravo=bravo, support=support, scope=scope_for(session, support),
                admin=scope_for(session, admin), cpo_bravo=scope_for(session, make_user(session, role="cpo",
                                                                                         orgs=[bravo])))
