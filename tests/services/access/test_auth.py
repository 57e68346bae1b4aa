"""Login, throttling and tokens."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import clock
from core.config import Settings
from core.errors import ValidationError
from services.access import auth
from services.access.scope import scope_for
from services.access.users import set_status
from tests.utils.factories import PASSWORD, make_org, make_user


def test_production_settings_hash_with_bcrypt_cost_12(monkeypatch):
    monkeypatch.delenv("BCRYPT_ROUNDS")
    assert Settings(secret_key="x" * 40).bcrypt_rounds == 12


def test_settings_refuse_the_demo_secret_key_outside_demo_mode():
    from core.config import DEMO_SECRET_KEY

    with pytest.raises(ValueError, match="SECRET_KEY is the demo key"):
        Settings(secret_key=DEMO_SECRET_KEY, demo_mode=False)
    assert Settings(secret_key=DEMO_SECRET_KEY, demo_mode=True).demo_mode


def test_settings_refuse_a_short_secret_key():
    with pytest.raises(ValueError, match="at least 32"):
        Settings(secret_key="short", demo_mode=False)


def test_password_longer_than_72_bytes_is_refused_with_a_clear_message():
    with pytest.raises(ValidationError, match="at most 72 bytes"):
        auth.hash_password("é" * 37)  # 74 bytes in UTF-8, only 37 characters


def test_login_with_the_right_password_returns_the_user(session):
    user = make_user(session, role="admin")
    assert auth.authenticate(session=session, email=user.email.upper(), password=PASSWORD).id == user.id


def test_wrong_password_and_unknown_email_get_the_same_message(session):
    user = make_user(session, role="admin")
    with pytest.raises(auth.AuthError) as wrong:
        auth.authenticate(session=session, email=user.email, password="nope-nope-nope")
    with pytest.raises(auth.AuthError) as unknown:
        auth.authenticate(session=session, email="ghost@example.test", password="nope-nope-nope")
    assert str(wrong.value) == str(unknown.value) == "Incorrect email or password."


def test_unknown_email_still_costs_a_bcrypt_check(session, monkeypatch):
    calls = []
    real = auth.bcrypt.checkpw
    monkeypatch.setattr(auth.bcrypt, "checkpw", lambda p, h: calls.append(h) or real(p, h))
    with pytest.raises(auth.AuthError):
        auth.authenticate(session=session, email="ghost@example.test", password="whatever-123")
    assert len(calls) == 1


def test_repeated_failures_throttle_that_account_from_that_ip_only(session):
    user = make_user(session, role="admin")
    for _ in range(5):
        with pytest.raises(auth.AuthError):
            auth.authenticate(session=session, email=user.email, password="bad-password", ip="10.0.0.1")
    with pytest.raises(auth.Throttled) as exc:
        auth.authenticate(session=session, email=user.email, password=PASSWORD, ip="10.0.0.1")
    assert "Too many failed logins" in str(exc.value)
    # Another address is not locked out by someone else's guessing.
    assert auth.authenticate(session=session, email=user.email, password=PASSWORD, ip="10.0.0.2").id == user.id


def test_throttle_lifts_after_the_lockout_period(session):
    user = make_user(session, role="admin")
    clock.set(clock.now())
    for _ in range(5):
        with pytest.raises(auth.AuthError):
            auth.authenticate(session=session, email=user.email, password="bad-password", ip="10.0.0.1")
    clock.advance(timedelta(seconds=301))
    assert auth.authenticate(session=session, email=user.email, password=PASSWORD, ip="10.0.0.1").id == user.id


def test_disabled_user_cannot_log_in(session):
    user = make_user(session, role="admin")
    user.status = "disabled"
    session.commit()
    with pytest.raises(auth.AuthError, match="disabled"):
        auth.authenticate(session=session, email=user.email, password=PASSWORD)


def test_token_round_trip_gives_back_the_user(session):
    user = make_user(session, role="admin")
    token = auth.issue_token(user)
    assert auth.user_from_token(session=session, token=token).id == user.id


def test_expired_token_is_refused(session):
    user = make_user(session, role="admin")
    token = auth.issue_token(user, ttl=timedelta(minutes=5))
    clock.set(clock.now() + timedelta(minutes=6))
    with pytest.raises(auth.AuthError, match="expired"):
        auth.user_from_token(session=session, token=token)


def test_token_for_another_audience_or_tampered_is_refused(session):
    user = make_user(session, role="admin")
    token = auth.issue_token(user)
    head, body, sig = token.split(".")
    with pytest.raises(auth.AuthError):
        auth.user_from_token(session=session, token=f"{head}.{body}.{sig[:-4]}AAAA")
    from joserfc import jwt
    from joserfc.jwk import OctKey

    from core.config import get_settings

    foreign = jwt.encode({"alg": "HS256"}, {"sub": str(user.id), "aud": "other", "exp": 4102444800, "ver": 0},
                         OctKey.import_key(get_settings().secret_key))
    with pytest.raises(auth.AuthError):
        auth.user_from_token(session=session, token=foreign)


def test_logout_revokes_every_token_issued_before(session):
    user = make_user(session, role="admin")
    token = auth.issue_token(user)
    auth.revoke_tokens(session=session, user=user)
    with pytest.raises(auth.AuthError, match="ended"):
        auth.user_from_token(session=session, token=token)
    assert auth.user_from_token(session=session, token=auth.issue_token(user)).id == user.id


def test_password_change_revokes_old_tokens_and_checks_the_current_password(session):
    user = make_user(session, role="admin")
    token = auth.issue_token(user)
    with pytest.raises(ValidationError, match="Current password is incorrect"):
        auth.change_password(session=session, user=user, current="wrong-password", new="new-password-123")
    auth.change_password(session=session, user=user, current=PASSWORD, new="new-password-123")
    with pytest.raises(auth.AuthError):
        auth.user_from_token(session=session, token=token)
    assert auth.authenticate(session=session, email=user.email, password="new-password-123").id == user.id


def test_disabling_a_user_ends_its_session_at_once(session):
    org = make_org(session)
    admin = make_user(session, role="admin")
    cpo = make_user(session, role="cpo", orgs=[org])
    token = auth.issue_token(cpo)
    set_status(session=session, scope=scope_for(session, admin), user_id=cpo.id, status="disabled")
    session.commit()
    with pytest.raises(auth.AuthError):
        auth.user_from_token(session=session, token=token)


def test_spraying_48_wrong_passwords_over_12_accounts_from_one_address_is_refused(session):
    """Each account sees only 4 failures (under its own limit of 5); the address's budget over all accounts
    (LOGIN_IP_MAX_FAILURES, 20) runs out, and then even a right password from that address waits."""
    clock.set(clock.now())
    org = make_org(session)
    users = [make_user(session, role="cpo", orgs=[org]) for _ in range(12)]
    refused = 0
    for attempt in range(48):
        try:
            auth.authenticate(session=session, email=users[attempt % 12].email, password="Summer2026!",
                              ip="203.0.113.7")
        except auth.Throttled as exc:
            assert "Too many failed logins from your network address" in str(exc) and exc.retry_after > 0
            refused += 1
        except auth.AuthError:
            pass
    assert refused == 48 - 20
    with pytest.raises(auth.Throttled, match="from your network address"):
        auth.authenticate(session=session, email=users[0].email, password=PASSWORD, ip="203.0.113.7")
    # Another address is untouched, and the lockout ends after LOGIN_LOCKOUT_SECONDS.
    assert auth.authenticate(session=session, email=users[0].email, password=PASSWORD, ip="198.51.100.1")
    clock.advance(timedelta(seconds=301))
    assert auth.authenticate(session=session, email=users[0].email, password=PASSWORD, ip="203.0.113.7")


def test_a_successful_login_does_not_refill_the_address_budget(session):
    org = make_org(session)
    mine, *others = [make_user(session, role="cpo", orgs=[org]) for _ in range(6)]
    for attempt in range(19):
        with pytest.raises(auth.AuthError):
            auth.authenticate(session=session, email=others[attempt % 5].email, password="wrong-one",
                              ip="203.0.113.7")
        if attempt % 4 == 0:
            auth.authenticate(session=session, email=mine.email, password=PASSWORD, ip="203.0.113.7")
    with pytest.raises(auth.AuthError):
        auth.authenticate(session=session, email=others[0].email, password="wrong-one", ip="203.0.113.7")
    with pytest.raises(auth.Throttled):
        auth.authenticate(session=session, email=mine.email, password=PASSWORD, ip="203.0.113.7")
