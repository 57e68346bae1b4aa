"""The push stand-ins over real HTTP, with the product pointed at them."""
from __future__ import annotations

import pytest

from core.config import get_settings
from demo.push_standins import Standins
from tests.utils.notifications import vapid_private_key


@pytest.fixture
def standins(monkeypatch):
    with Standins() as s:
        settings = get_settings()
        monkeypatch.setattr(settings, "fcm_endpoint", s.fcm_url)
        monkeypatch.setattr(settings, "webpush_insecure_base", s.webpush_url)
        monkeypatch.setattr(settings, "vapid_private_key", vapid_private_key())
        yield s
