"""The client's address behind reverse proxies.

X-Forwarded-For is written by whoever sends the request, so it counts only when the peer is one of the
TRUSTED_PROXIES (CIDRs; default none). Then the header is read from the right, skipping every trusted
proxy: the first address that is not one is the client. Anything unparsable ends the walk at the last
trusted hop, so a forged header can never name an address further left than the proxies vouch for.
"""
from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from core.config import get_settings


def trusted_networks() -> tuple[IPv4Network | IPv6Network, ...]:
    """TRUSTED_PROXIES as networks (Settings refuses a malformed list at start-up)."""
    return tuple(ip_network(p.strip(), strict=False) for p in get_settings().trusted_proxies.split(",") if p.strip())


def _trusted(address: str) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted_networks())


def client_address(peer: str | None, forwarded_for: str | None) -> str | None:
    """The address to count logins against: the peer, or, behind trusted proxies, the client they name."""
    if not peer or not _trusted(peer):
        return peer or None
    client = peer
    for hop in reversed([h.strip() for h in (forwarded_for or "").split(",") if h.strip()]):
        try:
            client = str(ip_address(hop))
        except ValueError:
            break
        if not _trusted(client):
            break
    return client
