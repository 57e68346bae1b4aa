"""The FCM HTTP v1 client (core/push.py) against the FCM stand-in over real HTTP: what each answer of the
push service means for the device, firebase-admin's retry policy (500/503 and 429 tried again, Retry-After
honoured up to a limit), and an access token the service refuses minted again."""
from __future__ import annotations

import email.utils
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core import push
from core.config import get_settings
from demo.push_standins import Standins
from tests.utils.notifications import service_account


@pytest.fixture
def fcm(monkeypatch):
    with Standins() as s:
        monkeypatch.setattr(get_settings(), "fcm_endpoint", s.fcm_url)
        # firebase-admin's waits (0, 1, 2, 4 s) made short: the tests prove the retries, not the waiting.
        monkeypatch.setattr(push, "FCM_BACKOFF_SECONDS", 0.01)
        yield s


def _client(fcm, project="acme-app") -> push.FcmClient:
    return push.fcm_client(f"test-{project}-{time.monotonic_ns()}",
                           service_account(project, f"{fcm.fcm_url}/token"))


def _push(token: str) -> push.FcmPush:
    return push.FcmPush(token, "Wallet low", "Top it up.", {"kind": "wallet_low", "notification_id": "7"}, "n7")


def _count(fcm) -> dict:
    return httpx.get(f"{fcm.fcm_url}/_count").json()


def test_pushes_arrive_as_the_documented_v1_message_in_order(fcm):
    results = _client(fcm).send_many([_push(f"tok-{i}") for i in range(40)])
    assert results == [push.PushResult(True)] * 40
    got = httpx.get(f"{fcm.fcm_url}/_received").json()
    assert sorted(g["message"]["token"] for g in got) == sorted(f"tok-{i}" for i in range(40))
    message = got[0]["message"]
    assert got[0]["project"] == "acme-app"
    assert message["notification"] == {"title": "Wallet low", "body": "Top it up."}
    assert message["data"] == {"kind": "wallet_low", "notification_id": "7"}
    assert message["android"] == {"collapse_key": "n7"}
    assert message["apns"] == {"headers": {"apns-collapse-id": "n7"}}


def test_an_unregistered_token_and_a_malformed_one_are_gone_and_the_others_sent(fcm):
    httpx.post(f"{fcm.fcm_url}/_unregister", json={"token": "old-phone"})
    httpx.post(f"{fcm.fcm_url}/_unregister", json={"token": "garbage", "invalid": True})
    ok, gone, invalid = _client(fcm).send_many([_push("phone"), _push("old-phone"), _push("garbage")])
    assert ok.ok
    assert (gone.ok, gone.unregistered) == (False, True) and gone.error.startswith("unregistered:")
    assert (invalid.ok, invalid.unregistered) == (False, True) and invalid.error.startswith("invalid token:")
    assert _count(fcm)["count"] == 1


def test_an_unavailable_service_is_tried_again_and_the_push_sent_once(fcm):
    httpx.post(f"{fcm.fcm_url}/_fail", json={"count": 2, "status": 503})
    [result] = _client(fcm).send_many([_push("phone")])
    assert result.ok
    assert _count(fcm) == {"count": 1, "fail_left": 0}


def test_a_service_that_stays_down_is_tried_five_times_then_reported_for_a_later_pass(fcm):
    httpx.post(f"{fcm.fcm_url}/_fail", json={"count": 9, "status": 500})
    [result] = _client(fcm).send_many([_push("phone")])
    assert (result.ok, result.unregistered) == (False, False)
    assert "INTERNAL 500" in result.error
    assert _count(fcm) == {"count": 0, "fail_left": 4}  # 1 try + 4 retries, as firebase-admin


def test_a_rate_limit_with_a_short_retry_after_is_waited_out(fcm):
    httpx.post(f"{fcm.fcm_url}/_fail", json={"count": 1, "status": 429, "retry_after": 0})
    [result] = _client(fcm).send_many([_push("phone")])
    assert result.ok
    assert _count(fcm) == {"count": 1, "fail_left": 0}


def test_a_retry_after_beyond_the_limit_gives_the_push_back_to_the_outbox_at_once(fcm):
    httpx.post(f"{fcm.fcm_url}/_fail", json={"count": 3, "status": 503, "retry_after": 3600})
    [result] = _client(fcm).send_many([_push("phone")])
    assert not result.ok and not result.unregistered
    assert "UNAVAILABLE 503" in result.error
    assert _count(fcm) == {"count": 0, "fail_left": 2}  # asked once, not waited an hour


def test_a_refused_access_token_is_minted_again_and_the_push_sent(fcm):
    client = _client(fcm)
    assert client.send_many([_push("phone")])[0].ok
    httpx.post(f"{fcm.fcm_url}/_expire_tokens")
    assert client.send_many([_push("phone")])[0].ok
    assert _count(fcm)["count"] == 2


def test_a_token_endpoint_that_refuses_the_service_account_fails_the_batch_for_later(fcm):
    client = push.fcm_client("test-bad-grant", service_account("acme-app", f"{fcm.fcm_url}/nowhere"))
    results = client.send_many([_push("a"), _push("b")])
    assert [r.ok for r in results] == [False, False] and all(r.error.startswith("token:") for r in results)
    assert _count(fcm)["count"] == 0


def test_retry_after_reads_seconds_and_http_dates():
    assert push.retry_after("7") == 7.0
    assert push.retry_after(None) is None and push.retry_after("soon") is None
    later = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert 100 < push.retry_after(later) <= 120


def test_an_answer_without_fcm_details_maps_by_its_status():
    assert push.fcm_result(200, b'{"name": "projects/p/messages/1"}') == push.PushResult(True)
    sender = push.fcm_result(403, b'{"error": {"status": "PERMISSION_DENIED", "message": "mismatch", "details": '
                                  b'[{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", '
                                  b'"errorCode": "SENDER_ID_MISMATCH"}]}}')
    assert (sender.ok, sender.unregistered) == (False, False) and sender.error.startswith("SenderIdMismatchError")
    html = push.fcm_result(502, b"<html>bad gateway</html>")
    assert (html.ok, html.unregistered) == (False, False) and "502" in html.error
