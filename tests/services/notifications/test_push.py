"""App-user devices and pushes through the FCM and Web Push stand-ins over real HTTP: the Web Push payload
is decrypted with the subscriber's key, unregistered devices are dropped, forged tokens change nothing,
switched-off kinds are skipped and quiet hours delay all but critical messages."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from core.clock import clock
from core.errors import Conflict, NotFound, ValidationError
from models import NotificationDelivery, NotificationPreference, PushDevice
from services.access.scope import scope_for
from services.notifications import credentials, devices
from services.notifications.customer_messages import notify_customer
from services.notifications.delivery import deliver
from tests.utils.factories import make_org, make_user
from tests.utils.notifications import Subscriber, make_customer, service_account

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _send(session, now=NOW) -> int:
    tried = deliver(session=session, now=now)
    session.commit()
    return tried


def _deliveries(session):
    session.expire_all()
    return list(session.execute(select(NotificationDelivery).order_by(NotificationDelivery.id)).scalars())


def _subscribe(session, standins, user, sub_id="sub-1") -> Subscriber:
    sub = Subscriber(f"{standins.webpush_url}/push/{sub_id}")
    devices.register_device(session=session, customer_user_id=user.id, kind="web_push", token=sub.endpoint,
                            p256dh=sub.p256dh, auth=sub.auth, now=NOW)
    session.commit()
    return sub


def test_a_web_push_arrives_encrypted_and_the_subscriber_decrypts_the_message(session, standins):
    org = make_org(session)
    account, user = make_customer(session, org)
    sub = _subscribe(session, standins, user)
    notify_customer(session=session, account_id=account.id, kind="wallet_low",
                    body="Your wallet holds 4.20 EUR. Top it up to keep charging.", now=NOW)
    session.commit()
    assert _send(session) == 1
    [got] = httpx.get(f"{standins.webpush_url}/_received").json()
    assert got["id"] == "sub-1" and got["body"]  # what travelled is ciphertext
    assert b"wallet" not in got["body"].encode()
    message = sub.decrypt(got["body"])
    assert message["title"] == "Wallet balance low"
    assert message["body"] == "Your wallet holds 4.20 EUR. Top it up to keep charging."
    assert [d.status for d in _deliveries(session)] == ["sent"]


def test_a_device_the_push_service_reports_unregistered_is_dropped(session, standins):
    org = make_org(session)
    account, user = make_customer(session, org)
    _subscribe(session, standins, user, "gone")
    keep = _subscribe(session, standins, user, "kept")
    httpx.post(f"{standins.webpush_url}/_unregister", json={"id": "gone"})
    notify_customer(session=session, account_id=account.id, kind="payment_failed", body="Your card was declined.",
                    now=NOW)
    session.commit()
    _send(session)
    rows = _deliveries(session)
    assert sorted(r.status for r in rows) == ["failed", "sent"]
    assert "410" in next(r.error for r in rows if r.status == "failed")
    assert [d.token for d in session.execute(select(PushDevice)).scalars()] == [keep.endpoint]


def test_an_fcm_push_goes_through_the_organizations_own_firebase_project(session, standins):
    org = make_org(session)
    admin = make_user(session, role="admin")
    credentials.set_fcm_credential(session=session, scope=scope_for(session, admin), organization_id=org.id,
                                   service_account_json=service_account("acme-app", f"{standins.fcm_url}/token"))
    session.commit()
    account, user = make_customer(session, org)
    devices.register_device(session=session, customer_user_id=user.id, kind="fcm", token="fcm-token-A", now=NOW)
    devices.register_device(session=session, customer_user_id=user.id, kind="fcm", token="fcm-token-B", now=NOW)
    session.commit()
    httpx.post(f"{standins.fcm_url}/_unregister", json={"token": "fcm-token-B"})
    notify_customer(session=session, account_id=account.id, kind="wallet_low", body="Low balance.", now=NOW)
    session.commit()
    _send(session)
    [got] = httpx.get(f"{standins.fcm_url}/_received").json()
    assert got["project"] == "acme-app"
    assert got["message"]["token"] == "fcm-token-A"
    assert got["message"]["notification"] == {"title": "Wallet balance low", "body": "Low balance."}
    assert [d.token for d in session.execute(select(PushDevice)).scalars()] == ["fcm-token-A"]


def test_a_push_service_failure_is_retried_with_backoff_and_sent_once(session, standins):
    org = make_org(session)
    account, user = make_customer(session, org)
    _subscribe(session, standins, user)
    httpx.post(f"{standins.webpush_url}/_fail", json={"count": 1})
    notify_customer(session=session, account_id=account.id, kind="wallet_low", body="Low.", now=NOW)
    session.commit()
    _send(session)
    [row] = _deliveries(session)
    assert (row.status, row.attempts) == ("queued", 1) and row.next_attempt_at > NOW
    assert _send(session, NOW + timedelta(seconds=10)) == 0       # not yet due
    _send(session, NOW + timedelta(minutes=1))
    assert [(r.status, r.attempts) for r in _deliveries(session)] == [("sent", 2)]
    assert httpx.get(f"{standins.webpush_url}/_count").json()["count"] == 1


def test_a_switched_off_kind_is_skipped_and_quiet_hours_wait_unless_critical(session, standins):
    org = make_org(session, timezone="UTC")
    account, user = make_customer(session, org)
    _subscribe(session, standins, user)
    session.add(NotificationPreference(customer_user_id=user.id, muted_kinds=["session_started"],
                                       quiet_start="22:00", quiet_end="07:00"))
    session.commit()
    night = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    clock.set(night)
    notify_customer(session=session, account_id=account.id, kind="session_started", body="Started.", now=NOW)
    notify_customer(session=session, account_id=account.id, kind="wallet_low", body="Low.", now=night)
    notify_customer(session=session, account_id=account.id, kind="payment_failed", body="Declined.",
                    critical=True, now=night)
    session.commit()
    _send(session, night)
    statuses = [(r.status, r.next_attempt_at) for r in _deliveries(session)]
    assert statuses[0][0] == "skipped"
    assert statuses[1] == ("queued", datetime(2026, 12, 4, 7, 0, tzinfo=UTC))   # waits for 07:00
    assert statuses[2][0] == "sent"                                              # critical: now
    _send(session, datetime(2026, 12, 4, 7, 0, tzinfo=UTC))
    assert [r.status for r in _deliveries(session)] == ["skipped", "sent", "sent"]


def test_a_token_of_another_user_or_a_forged_one_changes_nothing(session, standins):
    org = make_org(session)
    _, owner = make_customer(session, org)
    _, other = make_customer(session, org)
    devices.register_device(session=session, customer_user_id=owner.id, kind="fcm", token="tok-1", now=NOW)
    session.commit()
    with pytest.raises(Conflict):
        devices.register_device(session=session, customer_user_id=other.id, kind="fcm", token="tok-1", now=NOW)
    session.rollback()
    [mine] = devices.list_devices(session=session, customer_user_id=owner.id)
    with pytest.raises(NotFound):
        devices.remove_device(session=session, customer_user_id=other.id, device_id=mine.id)
    with pytest.raises(ValidationError):
        devices.register_device(session=session, customer_user_id=other.id, kind="web_push",
                                token="http://evil.example/push", p256dh="x", auth="y", now=NOW)
    with pytest.raises(ValidationError):
        devices.register_device(session=session, customer_user_id=other.id, kind="fcm", token="a b", now=NOW)
    session.rollback()
    assert [d.customer_user_id for d in session.execute(select(PushDevice)).scalars()] == [owner.id]


def _fcm_customer(session, standins, tokens):
    org = make_org(session)
    admin = make_user(session, role="admin")
    credentials.set_fcm_credential(session=session, scope=scope_for(session, admin), organization_id=org.id,
                                   service_account_json=service_account("acme-app", f"{standins.fcm_url}/token"))
    account, user = make_customer(session, org)
    for token in tokens:
        devices.register_device(session=session, customer_user_id=user.id, kind="fcm", token=token, now=NOW)
    session.commit()
    return account


def test_fcm_outcomes_are_written_per_row_in_one_pass(session, standins, monkeypatch):
    """A batch with every FCM outcome: sent, unregistered (dropped), malformed token (dropped), and a
    service that stays down for one of them (queued again with backoff, its error kept)."""
    from core import push as core_push

    monkeypatch.setattr(core_push, "FCM_BACKOFF_SECONDS", 0.01)
    account = _fcm_customer(session, standins, ["fine", "gone", "garbage"])
    httpx.post(f"{standins.fcm_url}/_unregister", json={"token": "gone"})
    httpx.post(f"{standins.fcm_url}/_unregister", json={"token": "garbage", "invalid": True})
    notify_customer(session=session, account_id=account.id, kind="wallet_low", body="Low.", now=NOW)
    session.commit()
    assert _send(session) == 3
    rows = _deliveries(session)
    [fine] = [r for r in rows if r.device_id is not None]
    assert (fine.status, fine.attempts, fine.sent_at, fine.error) == ("sent", 1, NOW, None)
    gone = [r for r in rows if r.device_id is None]   # the device row was deleted
    assert sorted(r.error.split(":")[0] for r in gone) == ["invalid token", "unregistered"]
    assert [(r.status, r.attempts, r.sent_at) for r in gone] == [("failed", 1, None)] * 2
    assert [d.token for d in session.execute(select(PushDevice)).scalars()] == ["fine"]


def test_an_fcm_service_that_stays_down_leaves_the_row_queued_with_backoff(session, standins, monkeypatch):
    from core import push as core_push

    monkeypatch.setattr(core_push, "FCM_BACKOFF_SECONDS", 0.01)
    account = _fcm_customer(session, standins, ["phone"])
    httpx.post(f"{standins.fcm_url}/_fail", json={"count": 5, "status": 503})   # 1 try + 4 retries
    notify_customer(session=session, account_id=account.id, kind="wallet_low", body="Low.", now=NOW)
    session.commit()
    _send(session)
    [row] = _deliveries(session)
    assert (row.status, row.attempts) == ("queued", 1) and row.next_attempt_at == NOW + timedelta(seconds=30)
    assert "UNAVAILABLE 503" in row.error and row.sent_at is None
    _send(session, NOW + timedelta(seconds=30))
    [row] = _deliveries(session)
    assert (row.status, row.attempts, row.error) == ("sent", 2, None)
    assert httpx.get(f"{standins.fcm_url}/_count").json() == {"count": 1, "fail_left": 0}
