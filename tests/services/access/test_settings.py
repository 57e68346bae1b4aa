"""Self-service settings: name, time zone, date format, and a verified e-mail change. (Notification switches:
tests/services/notifications/test_preferences.py.)"""
from __future__ import annotations

import pytest

from core.config import get_settings
from core.errors import Conflict, ValidationError
from services.access import invitations, settings
from services.access.auth import authenticate
from services.access.scope import scope_for
from services.charging import transactions as tx_svc
from tests.utils.factories import PASSWORD, make_org, make_user
from tests.utils.smtp import SmtpServer, links


@pytest.fixture
def smtp(monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setattr(get_settings(), "smtp_url", server.url)
        yield server.inbox


def test_settings_save_name_zone_and_date_format_and_refuse_bad_input(session):
    user = make_user(session, role="accounts")
    out = settings.update_user_settings(session=session, user=user, full_name="Asha Perera",
                                        timezone="Asia/Colombo", date_format="dmy")
    assert (out.full_name, out.timezone, out.date_format) == ("Asha Perera", "Asia/Colombo", "dmy")
    with pytest.raises(ValidationError, match="Unknown timezone"):
        settings.update_user_settings(session=session, user=user, full_name="X", timezone="Mars/Olympus",
                                      date_format="iso")
    with pytest.raises(ValidationError, match="at most 200"):
        settings.update_user_settings(session=session, user=user, full_name="x" * 201, timezone="",
                                      date_format="iso")
    session.rollback()
    assert settings.get_user_settings(session=session, user=user).full_name == "Asha Perera"


def test_a_multi_organization_list_shows_the_viewers_zone(session):
    make_org(session, slug="lanka", timezone="Asia/Colombo")
    make_org(session, slug="berlin", timezone="Europe/Berlin")
    user = make_user(session, role="accounts")
    assert tx_svc.display_timezone(session=session, scope=scope_for(session, user)) == "UTC"
    settings.update_user_settings(session=session, user=user, full_name="", timezone="America/New_York",
                                  date_format="iso")
    assert tx_svc.display_timezone(session=session, scope=scope_for(session, user)) == "America/New_York"


def test_an_email_change_takes_effect_only_from_the_link_sent_to_the_new_address(session, smtp):
    user = make_user(session, role="accounts", email="old@example.test")
    make_user(session, role="accounts", email="taken@example.test")
    with pytest.raises(ValidationError, match="password is incorrect"):
        invitations.request_email_change(session=session, user=user, new_email="new@example.test", password="x")
    with pytest.raises(Conflict):
        invitations.request_email_change(session=session, user=user, new_email="taken@example.test",
                                         password=PASSWORD)
    message = invitations.request_email_change(session=session, user=user, new_email="New@Example.test",
                                               password=PASSWORD)
    assert "verification link was sent to new@example.test" in message
    assert authenticate(session=session, email="old@example.test", password=PASSWORD).id == user.id
    link = next(u for u in links(smtp.wait_for("new@example.test")) if "/verify-email/" in u)
    invitations.confirm_email_change(session=session, token=link.rsplit("/", 1)[-1])
    assert authenticate(session=session, email="new@example.test", password=PASSWORD).id == user.id
    with pytest.raises(invitations.LinkError, match="already verified"):
        invitations.confirm_email_change(session=session, token=link.rsplit("/", 1)[-1])
