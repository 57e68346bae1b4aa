"""Invitations, activation and password resets: mailed one-time links over a real SMTP server."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from core.clock import clock
from core.config import get_settings
from core.errors import Conflict, NotFound, ValidationError
from core.mail import MailError
from models import AuditLog, MailOutbox, User, UserToken
from services.access import invitations as inv
from services.access import users as user_svc
from services.access.auth import AuthError, authenticate, change_password, issue_token, user_from_token
from services.access.permissions import PermissionDenied
from services.access.scope import scope_for
from tests.utils.factories import PASSWORD, make_location_owner, make_org, make_user
from tests.utils.smtp import SmtpServer, free_port, links

NEW_PASSWORD = "a-brand-new-passphrase"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp(monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setattr(get_settings(), "smtp_url", server.url)
        monkeypatch.setattr(get_settings(), "public_url", "https://voltdesk.example")
        yield server.inbox


@pytest.fixture
def world(session):
    clock.set(T0)
    alpha, bravo = make_org(session, slug="alpha"), make_org(session, slug="bravo")
    support = make_user(session, role="customer_support", orgs=[alpha], email="support@x.test")
    support.full_name = "Sam Support"
    session.commit()
    return dict(alpha=alpha, bravo=bravo, support=support, scope=scope_for(session, support))


def invite(session, world, email="carla@x.test", role="cpo", org=None, **kw):
    return inv.invite_user(session=session, scope=world["scope"], email=email, role=role,
                           organization_id=(org or world["alpha"]).id, **kw)


def request_reset(session, email: str) -> str:
    """Ask for a reset link, then send the queued mail as the web process does right after answering."""
    answer = inv.request_password_reset(session=session, email=email)
    inv.deliver_password_resets(session=session)
    return answer


def token_of(msg, path=inv.ACTIVATE_PATH) -> str:
    link = next(link for link in links(msg) if path in link)
    return link.rsplit("/", 1)[-1]


def test_invitation_creates_an_invited_user_and_mails_a_24_hour_activation_link(session, world, smtp):
    result = invite(session, world, full_name="Carla CPO")
    assert result.delivered and "carla@x.test" in result.message
    user = session.get(User, result.user_id)
    assert (user.status, user.role, user.full_name) == ("invited", "cpo", "Carla CPO")
    assert [o.slug for o in user_svc.bound_organizations(session=session, user=user)] == ["alpha"]

    [msg] = smtp.to("carla@x.test")
    assert "invited" in msg["Subject"]
    body = msg.get_body(("plain",)).get_content()
    assert "Sam Support has invited you to Voltdesk as CPO for Alpha" in body and "24 hours" in body
    [link] = [link for link in links(msg) if "/activate/" in link]
    assert link.startswith("https://voltdesk.example/activate/")
    # Only a hash is stored: the token itself appears nowhere in the database.
    row = session.execute(select(UserToken)).scalar_one()
    assert row.token_hash == inv.hash_token(token_of(msg)) and token_of(msg) not in row.token_hash
    assert row.expires_at == T0 + timedelta(hours=24)


def test_an_invited_user_cannot_log_in_before_activating(session, world, smtp):
    """It has no password yet; the answer is the same as for an unknown address, so nobody learns who was invited."""
    invite(session, world)
    for password in (PASSWORD, "", "!invited", user_svc.NO_PASSWORD):
        with pytest.raises(AuthError, match="Incorrect email or password"):
            authenticate(session=session, email="carla@x.test", password=password)


def test_activation_sets_name_and_password_activates_and_uses_up_the_link(session, world, smtp):
    invite(session, world)
    token = token_of(smtp.to("carla@x.test")[0])
    info = inv.check_link(session=session, token=token)
    assert (info.email, info.role_label, info.organizations) == ("carla@x.test", "CPO", ["Alpha"])

    user = inv.activate(session=session, token=token, full_name="  Carla   Cortez ", password=NEW_PASSWORD)
    assert (user.status, user.full_name, user.token_version) == ("active", "Carla Cortez", 1)
    assert authenticate(session=session, email="carla@x.test", password=NEW_PASSWORD).id == user.id
    with pytest.raises(inv.LinkError, match="already activated") as exc:
        inv.activate(session=session, token=token, full_name="Mallory", password="another-password")
    assert exc.value.reason == "used"
    session.expire_all()
    assert session.get(User, user.id).full_name == "Carla Cortez"
    assert session.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars().all() == ["invite", "activate"]


def test_activation_applies_the_login_password_rules_and_changes_nothing_on_bad_input(session, world, smtp):
    invite(session, world)
    token = token_of(smtp.to("carla@x.test")[0])
    with pytest.raises(ValidationError, match="at least 8 characters"):
        inv.activate(session=session, token=token, full_name="Carla", password="short")
    with pytest.raises(ValidationError, match="at most 72 bytes"):
        inv.activate(session=session, token=token, full_name="Carla", password="é" * 37)
    with pytest.raises(ValidationError, match="full name"):
        inv.activate(session=session, token=token, full_name="   ", password=NEW_PASSWORD)
    session.expire_all()
    assert session.execute(select(User.status).where(User.email == "carla@x.test")).scalar_one() == "invited"
    assert inv.check_link(session=session, token=token).email == "carla@x.test"  # still usable


def test_an_activation_link_expires_after_24_hours_with_a_clear_message(session, world, smtp):
    invite(session, world)
    token = token_of(smtp.to("carla@x.test")[0])
    clock.set(T0 + timedelta(hours=23, minutes=59))
    assert inv.check_link(session=session, token=token).email == "carla@x.test"
    clock.set(T0 + timedelta(hours=24))
    with pytest.raises(inv.LinkError, match="expired.*24 hours.*new invitation") as exc:
        inv.activate(session=session, token=token, full_name="Carla", password=NEW_PASSWORD)
    assert exc.value.reason == "expired"


def test_resend_mails_a_fresh_link_and_the_earlier_link_stops_working(session, world, smtp):
    first = invite(session, world)
    clock.set(T0 + timedelta(days=3))
    result = inv.resend_invitation(session=session, scope=world["scope"], user_id=first.user_id)
    assert result.delivered and "resent" in result.message
    old, new = (token_of(m) for m in smtp.to("carla@x.test"))
    with pytest.raises(inv.LinkError, match="replaced by a newer invitation"):
        inv.check_link(session=session, token=old)
    user = inv.activate(session=session, token=new, full_name="Carla", password=NEW_PASSWORD)
    assert user.status == "active"
    with pytest.raises(Conflict, match="already activated"):
        inv.resend_invitation(session=session, scope=world["scope"], user_id=first.user_id)


def test_activation_revokes_tokens_issued_before_it(session, world, smtp):
    """A JWT issued before activation (there should be none, but the version is bumped anyway) stops working."""
    result = invite(session, world)
    user = session.get(User, result.user_id)
    stale = issue_token(user)
    inv.activate(session=session, token=token_of(smtp.to("carla@x.test")[0]), full_name="Carla",
                 password=NEW_PASSWORD)
    with pytest.raises(AuthError):
        user_from_token(session=session, token=stale)


def test_support_may_invite_only_roles_it_may_assign_and_only_into_its_organizations(session, world, smtp):
    with pytest.raises(PermissionDenied):
        invite(session, world, email="eve@x.test", role="admin")
    with pytest.raises(NotFound):
        invite(session, world, email="eve@x.test", org=world["bravo"])
    with pytest.raises(ValidationError, match="not a valid email"):
        invite(session, world, email="not-an-email")
    with pytest.raises(Conflict, match="already exists"):
        invite(session, world, email="support@x.test")
    cpo = make_user(session, role="cpo", orgs=[world["alpha"]])
    with pytest.raises(PermissionDenied):
        inv.invite_user(session=session, scope=scope_for(session, cpo), email="eve@x.test", role="cpo",
                        organization_id=world["alpha"].id)
    assert smtp.messages == []
    assert session.execute(select(User.id).where(User.email == "eve@x.test")).first() is None


def test_support_invites_a_location_owner_bound_to_its_owner(session, world, smtp):
    owner = make_location_owner(session, world["alpha"], name="Mall Garage")
    result = inv.invite_user(session=session, scope=world["scope"], email="lo@x.test", role="location_owner",
                             location_owner_id=owner.id)
    assert session.get(User, result.user_id).location_owner_id == owner.id
    assert "Location Owner for Alpha" in smtp.to("lo@x.test")[0].get_body(("plain",)).get_content()


def test_resend_of_another_organizations_user_answers_not_found(session, world, smtp):
    admin_scope = scope_for(session, make_user(session, role="admin"))
    other = inv.invite_user(session=session, scope=admin_scope, email="bob@x.test", role="cpo",
                            organization_id=world["bravo"].id)
    with pytest.raises(NotFound):
        inv.resend_invitation(session=session, scope=world["scope"], user_id=other.user_id)
    assert len(smtp.to("bob@x.test")) == 1


def test_a_refused_mail_saves_nothing_and_keeps_the_earlier_link(session, world, smtp, monkeypatch):
    first = invite(session, world)
    token = token_of(smtp.to("carla@x.test")[0])
    monkeypatch.setattr(get_settings(), "smtp_url", f"smtp://127.0.0.1:{free_port()}")  # nobody listens
    with pytest.raises(MailError, match="did not take the message"):
        invite(session, world, email="dave@x.test")
    with pytest.raises(MailError):
        inv.resend_invitation(session=session, scope=world["scope"], user_id=first.user_id)
    session.expire_all()
    assert session.execute(select(User.id).where(User.email == "dave@x.test")).first() is None
    assert inv.check_link(session=session, token=token).email == "carla@x.test"


def test_without_smtp_the_invitation_goes_to_the_outbox_and_says_so(session, world, monkeypatch, tmp_path):
    monkeypatch.setattr(get_settings(), "smtp_url", None)
    monkeypatch.setattr(get_settings(), "outbox_dir", tmp_path)
    result = invite(session, world)
    assert not result.delivered and "SMTP is not configured" in result.message
    assert "queued for delivery" in result.message and str(tmp_path) not in result.message
    [eml] = tmp_path.glob("invitation-*.eml")
    assert "/activate/" in eml.read_text()


def test_a_disabled_invited_user_cannot_activate_and_enabling_returns_it_to_invited(session, world, smtp):
    result = invite(session, world)
    token = token_of(smtp.to("carla@x.test")[0])
    user_svc.set_status(session=session, scope=world["scope"], user_id=result.user_id, status="disabled")
    session.commit()
    with pytest.raises(inv.LinkError, match="disabled"):
        inv.activate(session=session, token=token, full_name="Carla", password=NEW_PASSWORD)
    user_svc.set_status(session=session, scope=world["scope"], user_id=result.user_id, status="active")
    session.commit()
    assert session.get(User, result.user_id).status == "invited"
    assert inv.activate(session=session, token=token, full_name="Carla", password=NEW_PASSWORD).status == "active"


@pytest.mark.parametrize("token", ["", "x", "../../etc/passwd", "A" * 43])
def test_a_made_up_link_is_not_valid(session, world, token):
    with pytest.raises(inv.LinkError, match="not valid"):
        inv.check_link(session=session, token=token)


# --- password reset --------------------------------------------------------------------------------------

def test_reset_request_answers_the_same_for_known_and_unknown_addresses(session, world, smtp):
    known = request_reset(session, email="Support@X.test")
    unknown = request_reset(session, email="nobody@x.test")
    assert known == unknown and "1 hour" in known
    assert [m["To"] for m in smtp.messages] == ["support@x.test"]


def test_a_reset_link_sets_a_new_password_once_and_logs_out_other_sessions(session, world, smtp):
    old_token = issue_token(world["support"])
    request_reset(session, email="support@x.test")
    msg = smtp.to("support@x.test")[0]
    assert "1 hour" in msg.get_body(("plain",)).get_content()
    token = token_of(msg, inv.RESET_PATH)
    inv.reset_password(session=session, token=token, password=NEW_PASSWORD)
    assert authenticate(session=session, email="support@x.test", password=NEW_PASSWORD).id == world["support"].id
    with pytest.raises(AuthError):
        user_from_token(session=session, token=old_token)
    with pytest.raises(inv.LinkError, match="already been used"):
        inv.reset_password(session=session, token=token, password="yet-another-password")


def test_a_reset_link_expires_after_one_hour(session, world, smtp):
    request_reset(session, email="support@x.test")
    token = token_of(smtp.to("support@x.test")[0], inv.RESET_PATH)
    clock.set(T0 + timedelta(minutes=60))
    with pytest.raises(inv.LinkError, match="expired.*1 hour"):
        inv.reset_password(session=session, token=token, password=NEW_PASSWORD)
    assert authenticate(session=session, email="support@x.test", password=PASSWORD)


def test_reset_is_not_sent_to_invited_or_disabled_users_nor_twice_within_a_minute(session, world, smtp):
    invite(session, world)
    request_reset(session, email="carla@x.test")
    assert len(smtp.to("carla@x.test")) == 1  # only the invitation
    request_reset(session, email="support@x.test")
    request_reset(session, email="support@x.test")
    assert len(smtp.to("support@x.test")) == 1
    clock.set(T0 + timedelta(minutes=2))
    request_reset(session, email="support@x.test")
    first, second = (token_of(m, inv.RESET_PATH) for m in smtp.to("support@x.test"))
    with pytest.raises(inv.LinkError, match="newer link was sent"):
        inv.reset_password(session=session, token=first, password=NEW_PASSWORD)
    inv.reset_password(session=session, token=second, password=NEW_PASSWORD)


def test_an_invitation_link_is_not_a_reset_link(session, world, smtp):
    invite(session, world)
    token = token_of(smtp.to("carla@x.test")[0])
    with pytest.raises(inv.LinkError, match="not valid"):
        inv.reset_password(session=session, token=token, password=NEW_PASSWORD)


def test_the_users_list_knows_when_an_invitation_link_has_expired(session, world, smtp):
    first = invite(session, world)
    active = make_user(session, role="cpo", orgs=[world["alpha"]])
    pending = inv.pending_invitations(session=session, scope=world["scope"], user_ids=[first.user_id, active.id])
    assert list(pending) == [first.user_id] and not pending[first.user_id].expired
    clock.set(T0 + timedelta(hours=24))
    assert inv.pending_invitations(session=session, scope=world["scope"],
                                   user_ids=[first.user_id])[first.user_id].expired
    other = make_user(session, role="customer_support", orgs=[world["bravo"]])
    assert inv.pending_invitations(session=session, scope=scope_for(session, other), user_ids=[first.user_id]) == {}


def _open_reset_link(session, smtp, email="support@x.test") -> str:
    request_reset(session, email=email)
    return token_of(smtp.to(email)[-1], inv.RESET_PATH)


def test_changing_the_password_revokes_every_open_reset_link(session, world, smtp):
    token = _open_reset_link(session, smtp)
    change_password(session=session, user=world["support"], current=PASSWORD, new=NEW_PASSWORD)
    with pytest.raises(inv.LinkError, match="password or the account changed"):
        inv.reset_password(session=session, token=token, password="an-attackers-password")
    assert authenticate(session=session, email="support@x.test", password=NEW_PASSWORD)


def test_an_administrators_action_on_the_account_revokes_every_open_reset_link(session, world, smtp):
    cpo = make_user(session, role="cpo", orgs=[world["alpha"]], email="cpo@x.test")
    token = _open_reset_link(session, smtp, "cpo@x.test")
    for status in ("disabled", "active"):
        user_svc.set_status(session=session, scope=world["scope"], user_id=cpo.id, status=status)
        session.commit()
    with pytest.raises(inv.LinkError, match="no longer works"):
        inv.reset_password(session=session, token=token, password=NEW_PASSWORD)
    assert authenticate(session=session, email="cpo@x.test", password=PASSWORD)


def test_using_a_reset_link_revokes_the_other_open_ones(session, world, smtp, monkeypatch):
    first = _open_reset_link(session, smtp)
    # Two links open at once (the cooldown is per request window; a second worker may race the first).
    clock.set(T0 + timedelta(minutes=2))
    second = _open_reset_link(session, smtp)
    session.execute(UserToken.__table__.update().values(revoked_at=None))
    session.commit()
    inv.reset_password(session=session, token=second, password=NEW_PASSWORD)
    with pytest.raises(inv.LinkError, match="no longer works"):
        inv.reset_password(session=session, token=first, password="an-attackers-password")


def test_a_reset_request_answers_before_any_mail_and_the_queued_mail_then_arrives(session, world, smtp):
    inv.request_password_reset(session=session, email="support@x.test")
    assert smtp.messages == [] and session.execute(select(UserToken)).first() is None
    # The outbox holds no secret: the link is minted when the mail is sent.
    [queued] = session.execute(select(MailOutbox)).scalars()
    assert (queued.user_id, queued.sent_at) == (world["support"].id, None)
    assert inv.deliver_password_resets(session=session) == 1
    token = token_of(smtp.to("support@x.test")[0], inv.RESET_PATH)
    assert inv.check_link(session=session, token=token, purpose=inv.RESET).email == "support@x.test"
    assert inv.deliver_password_resets(session=session) == 0  # sent once


def test_known_and_unknown_addresses_do_the_same_database_work(session, world, smtp, engine):
    def statements(email: str) -> list[str]:
        seen: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            inv.request_password_reset(session=session, email=email)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return seen

    known, unknown = statements("support@x.test"), statements("nobody@x.test")
    assert known == unknown and len(known) == 1  # one statement, then the commit
    assert session.execute(select(MailOutbox.user_id)).scalars().all() == [world["support"].id]


def test_a_refused_reset_mail_stores_no_link_and_is_sent_by_a_later_drain(session, world, smtp, monkeypatch):
    inv.request_password_reset(session=session, email="support@x.test")
    working = get_settings().smtp_url
    monkeypatch.setattr(get_settings(), "smtp_url", f"smtp://127.0.0.1:{free_port()}")
    assert inv.deliver_password_resets(session=session) == 0
    row = session.execute(select(MailOutbox)).scalar_one()
    session.refresh(row)
    assert row.attempts == 1 and row.sent_at is None and "did not take" in row.last_error
    assert session.execute(select(UserToken)).first() is None
    monkeypatch.setattr(get_settings(), "smtp_url", working)
    assert inv.deliver_password_resets(session=session) == 1
    assert len(smtp.to("support@x.test")) == 1


def test_a_reset_queued_for_an_account_disabled_before_sending_is_not_sent(session, world, smtp):
    cpo = make_user(session, role="cpo", orgs=[world["alpha"]], email="cpo@x.test")
    inv.request_password_reset(session=session, email="cpo@x.test")
    user_svc.set_status(session=session, scope=world["scope"], user_id=cpo.id, status="disabled")
    session.commit()
    assert inv.deliver_password_resets(session=session) == 0
    assert smtp.to("cpo@x.test") == [] and session.execute(select(UserToken)).first() is None


def test_inviting_an_address_used_in_another_tenant_reveals_nothing(session, world, smtp):
    make_user(session, role="cpo", orgs=[world["bravo"]], email="rival@x.test")
    make_user(session, role="cpo", orgs=[world["alpha"]], email="colleague@x.test")
    with pytest.raises(Conflict) as foreign:
        invite(session, world, email="Rival@x.test")
    session.rollback()
    assert "already exists" not in str(foreign.value) and "Bravo" not in str(foreign.value)
    assert "cannot be used for a new user" in str(foreign.value)
    # A user the inviter can see anyway is named as such.
    with pytest.raises(Conflict, match="already exists"):
        invite(session, world, email="colleague@x.test")
    session.rollback()
    assert smtp.messages == []
