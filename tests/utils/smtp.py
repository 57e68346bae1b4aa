"""A real SMTP server (aiosmtpd) for tests that follow links in mail."""
from __future__ import annotations

import email
import re
import socket
import time
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LINK_RE = re.compile(r"https?://\S+")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """Collects every message the server accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelope_recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.envelope_recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 20) -> EmailMessage:
        """The `count`-th message to `address`, once it has arrived (the web app sends from its own process)."""
        deadline = time.monotonic() + timeout
        while len(self.to(address)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"No mail #{count} to {address}; got {[m['To'] for m in self.messages]}")
            time.sleep(0.1)
        return self.to(address)[count - 1]


def links(msg: EmailMessage) -> list[str]:
    return LINK_RE.findall(msg.get_body(("plain",)).get_content())


class SmtpServer:
    """`login=(user, password)` makes the server require that login (AUTH LOGIN/PLAIN without TLS)."""

    def __init__(self, login: tuple[str, str] | None = None) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.login = login
        auth = {"authenticator": self._check, "auth_require_tls": False, "auth_required": True} if login else {}
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **auth)

    def _check(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        user, password = self.login
        return AuthResult(success=isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
                          and auth_data.password == password.encode())

    @property
    def url(self) -> str:
        creds = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        return f"smtp://{creds}127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
