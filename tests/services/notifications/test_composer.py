"""The composer: preview and recipient count, targeted and segment sends through the stand-in, bad input
refused before anything is queued, confirmation for big broadcasts, scope, and scheduled sends."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from core.config import get_settings
from core.errors import NotFound, ValidationError
from models import Notification, NotificationDelivery, NotificationPreference, Transaction
from services.access.scope import scope_for
from services.notifications import composer, devices
from services.notifications.composer import Audience
from services.notifications.delivery import deliver
from tests.utils.factories import make_charger, make_org, make_user
from tests.utils.notifications import make_customer

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _customer(session, org, email, token):
    account, user = make_customer(session, org, email=email)
    devices.register_device(session=session, customer_user_id=user.id, kind="fcm", token=token, now=NOW)
    session.commit()
    return account, user


def _charged(session, charger, account, when):
    session.add(Transaction(charger_id=charger.id, organization_id=charger.organization_id, connector_id=1,
                            id_tag="T", status="completed", meter_start=0, started_at=when, stopped_at=when,
                            currency="EUR", customer_account_id=account.id, created_at=when))
    session.commit()


def _run(session, now=NOW):
    composer.expand_due(session=session, now=now)
    session.commit()
    deliver(session=session, now=now)
    session.commit()


def _fcm_tokens(standins):
    return sorted(m["message"]["token"] for m in httpx.get(f"{standins.fcm_url}/_received").json())


@pytest.fixture
def fcm_org(session, standins):
    from services.notifications import credentials
    from tests.utils.notifications import service_account

    org = make_org(session)
    credentials.set_fcm_credential(session=session, scope=scope_for(session, make_user(session, role="admin")),
                                   organization_id=org.id,
                                   service_account_json=service_account("app", f"{standins.fcm_url}/token"))
    session.commit()
    return org


def test_preview_counts_and_a_targeted_send_reaches_only_the_named_user(session, standins, fcm_org):
    _customer(session, fcm_org, "ana@example.test", "ana-phone")
    _customer(session, fcm_org, "ben@example.test", "ben-phone")
    support = make_user(session, role="customer_support", orgs=[fcm_org])
    scope = scope_for(session, support)
    everyone = composer.preview(session=session, scope=scope, audience=Audience("everyone"), title="",
                                body="Hello all", now=NOW)
    assert (everyone.recipients, everyone.devices, everyone.title) == (2, 2, "Message")
    sent = composer.send(session=session, scope=scope, audience=Audience("users", emails=["ana@example.test"]),
                         title="Site closed", body="The Harbour site is closed on Sunday.", now=NOW)
    session.commit()
    assert sent.recipients == 1
    _run(session)
    assert _fcm_tokens(standins) == ["ana-phone"]


def test_segments_site_and_recent_charging(session, standins, fcm_org):
    a, _ = _customer(session, fcm_org, "ana@example.test", "ana-phone")
    b, _ = _customer(session, fcm_org, "ben@example.test", "ben-phone")
    harbour = make_charger(session, fcm_org, address="1 Harbour Road")
    make_charger(session, fcm_org, address="1 Harbour Road")
    elsewhere = make_charger(session, fcm_org, address="9 Hill Street")
    _charged(session, harbour, a, NOW - timedelta(days=40))
    _charged(session, elsewhere, b, NOW - timedelta(days=2))
    scope = scope_for(session, make_user(session, role="admin"))

    def count(aud):
        return composer.preview(session=session, scope=scope, audience=aud, title="", body="x", now=NOW).recipients

    assert count(Audience("site", charger_id=harbour.id)) == 1
    assert count(Audience("recent", days=7)) == 1
    assert count(Audience("recent", days=60)) == 2
    assert count(Audience("organization", organization_id=fcm_org.id)) == 2


def test_bad_input_and_out_of_scope_segments_are_refused_and_nothing_is_queued(session, standins, fcm_org):
    _customer(session, fcm_org, "ana@example.test", "ana-phone")
    other = make_org(session)
    _customer(session, other, "zed@example.test", "zed-phone")
    scope = scope_for(session, make_user(session, role="customer_support", orgs=[fcm_org]))
    everyone = Audience("everyone")
    for audience, title, body, error in [
        (everyone, "", "   ", ValidationError),
        (everyone, "", "x" * 1001, ValidationError),
        (Audience("users", emails=[]), "", "Hi", ValidationError),
        (Audience("users", emails=["zed@example.test"]), "", "Hi", ValidationError),   # another org's user
        (Audience("organization", organization_id=other.id), "", "Hi", NotFound),
        (Audience("recent", days=0), "", "Hi", ValidationError),
    ]:
        with pytest.raises(error):
            composer.send(session=session, scope=scope, audience=audience, title=title, body=body, now=NOW)
    session.rollback()
    assert session.execute(select(func.count()).select_from(Notification)).scalar_one() == 0


def test_a_broadcast_above_the_limit_needs_confirmation(session, standins, fcm_org, monkeypatch):
    monkeypatch.setattr(get_settings(), "broadcast_confirm_above", 1)
    _customer(session, fcm_org, "ana@example.test", "ana-phone")
    _customer(session, fcm_org, "ben@example.test", "ben-phone")
    scope = scope_for(session, make_user(session, role="admin"))
    with pytest.raises(ValidationError, match="Confirm"):
        composer.send(session=session, scope=scope, audience=Audience("everyone"), title="", body="Hi", now=NOW)
    sent = composer.send(session=session, scope=scope, audience=Audience("everyone"), title="", body="Hi",
                         now=NOW, confirm=True)
    assert sent.recipients == 2


def test_a_scheduled_send_waits_and_a_muted_user_is_skipped(session, standins, fcm_org):
    _customer(session, fcm_org, "ana@example.test", "ana-phone")
    _, ben = _customer(session, fcm_org, "ben@example.test", "ben-phone")
    session.add(NotificationPreference(customer_user_id=ben.id, muted_kinds=["message"]))
    session.commit()
    scope = scope_for(session, make_user(session, role="admin"))
    composer.send(session=session, scope=scope, audience=Audience("everyone"), title="", body="Tomorrow",
                  now=NOW, send_at=NOW + timedelta(hours=20))
    session.commit()
    _run(session, NOW + timedelta(hours=1))
    assert _fcm_tokens(standins) == []
    _run(session, NOW + timedelta(hours=20))
    assert _fcm_tokens(standins) == ["ana-phone"]
    statuses = sorted(session.execute(select(NotificationDelivery.status)).scalars())
    assert statuses == ["sent", "skipped"]
