"""The mail transport reads every SMTP_URL form and refuses the rest."""
from __future__ import annotations

import pytest

from core.errors import ValidationError
from core.mail import parse_smtp_url


def test_smtp_url_forms():
    t = parse_smtp_url("smtps://user%40x:p%3Ass@mail.example:465")
    assert (t.host, t.port, t.implicit_tls, t.username, t.password) == ("mail.example", 465, True, "user@x", "p:ss")
    assert parse_smtp_url("smtp://relay").port == 25
    with pytest.raises(ValidationError):
        parse_smtp_url("http://relay")
