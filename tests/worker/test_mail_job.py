"""The worker sends the password-reset mails a request queued (when the web process could not)."""
from __future__ import annotations

import pytest

from core.config import get_settings
from services.access import invitations as inv
from tests.utils.factories import make_org, make_user
from tests.utils.smtp import SmtpServer, links
from worker.jobs import send_mail


@pytest.fixture
def smtp(monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setattr(get_settings(), "smtp_url", server.url)
        yield server.inbox


def test_the_worker_sends_a_queued_reset_mail_once(session, smtp):
    make_user(session, role="cpo", orgs=[make_org(session)], email="cpo@x.test")
    inv.request_password_reset(session=session, email="cpo@x.test")
    assert smtp.messages == []
    assert send_mail() == 1
    assert any(inv.RESET_PATH in link for link in links(smtp.wait_for("cpo@x.test")))
    assert send_mail() == 0 and len(smtp.messages) == 1
