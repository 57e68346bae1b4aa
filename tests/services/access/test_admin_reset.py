"""An administrator resets a user's password: a mailed link or a temporary password; the user's sessions end."""
from __future__ import annotations

import pytest

from core.config import get_settings
from models import AuditLog
from services.access import invitations
from services.access.auth import AuthError, authenticate, change_password, issue_token, user_from_token
from services.access.permissions import PermissionDenied
from services.access.scope import scope_for
from tests.utils.factories import make_org, make_user
from tests.utils.smtp import SmtpServer, links


@pytest.fixture
def smtp(monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setattr(get_settings(), "smtp_url", server.url)
        yield server.inbox


def test_a_reset_link_is_mailed_and_every_session_of_the_user_ends(session, smtp):
    org = make_org(session, slug="lanka")
    cpo = make_user(session, role="cpo", orgs=[org], email="cpo@lanka.test")
    token = issue_token(cpo)
    admin = make_user(session, role="admin")
    message = invitations.admin_reset_password(session=session, scope=scope_for(session, admin), user_id=cpo.id,
                                               method="link")
    assert "e-mailed to cpo@lanka.test" in message
    with pytest.raises(AuthError):
        user_from_token(session=session, token=token)
    link = next(u for u in links(smtp.wait_for("cpo@lanka.test")) if "/reset-password/" in u)
    invitations.reset_password(session=session, token=link.rsplit("/", 1)[-1], password="a-fresh-password")
    assert authenticate(session=session, email="cpo@lanka.test", password="a-fresh-password").id == cpo.id
    assert session.query(AuditLog).filter_by(action="reset_password").one().changes == {"method": "link"}


def test_a_temporary_password_must_be_changed_at_next_login(session):
    org = make_org(session, slug="lanka")
    cpo = make_user(session, role="cpo", orgs=[org], email="cpo@lanka.test")
    support = make_user(session, role="customer_support", orgs=[org])
    invitations.admin_reset_password(session=session, scope=scope_for(session, support), user_id=cpo.id,
                                     method="temporary", temporary_password="temporary-123")
    user = authenticate(session=session, email="cpo@lanka.test", password="temporary-123")
    assert user.must_change_password
    change_password(session=session, user=user, current="temporary-123", new="my-own-password")
    assert not authenticate(session=session, email="cpo@lanka.test", password="my-own-password").must_change_password


def test_support_cannot_reset_an_admins_password(session):
    org = make_org(session, slug="lanka")
    admin = make_user(session, role="admin", orgs=[org])
    support = make_user(session, role="customer_support", orgs=[org])
    with pytest.raises(PermissionDenied):
        invitations.admin_reset_password(session=session, scope=scope_for(session, support), user_id=admin.id,
                                         method="link")
