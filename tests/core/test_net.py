"""Which address counts as the client's: X-Forwarded-For only from trusted proxies."""
from __future__ import annotations

import pytest

from core.config import Settings, get_settings
from core.net import client_address


@pytest.fixture
def proxies(monkeypatch):
    def trust(value: str) -> None:
        monkeypatch.setattr(get_settings(), "trusted_proxies", value)

    return trust


def test_without_trusted_proxies_the_header_is_ignored(proxies):
    proxies("")
    assert client_address("203.0.113.7", "1.2.3.4") == "203.0.113.7"


def test_a_trusted_proxy_names_the_client(proxies):
    proxies("10.0.0.0/8, 2001:db8::/32")
    assert client_address("10.1.2.3", "198.51.100.9") == "198.51.100.9"
    # Through two trusted hops; whatever the client wrote further left is not believed.
    assert client_address("10.1.2.3", "6.6.6.6, 198.51.100.9, 10.9.9.9") == "198.51.100.9"
    assert client_address("2001:db8::1", "198.51.100.9") == "198.51.100.9"


def test_an_untrusted_peer_cannot_choose_its_address(proxies):
    proxies("10.0.0.0/8")
    assert client_address("203.0.113.7", "10.0.0.1") == "203.0.113.7"


def test_a_garbled_header_from_a_trusted_proxy_leaves_the_last_trusted_hop(proxies):
    proxies("10.0.0.0/8")
    assert client_address("10.1.2.3", "not-an-ip") == "10.1.2.3"
    assert client_address("10.1.2.3", "") == "10.1.2.3"


def test_settings_refuse_a_malformed_proxy_list():
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        Settings(secret_key="x" * 40, trusted_proxies="10.0.0.0/8, bogus")
