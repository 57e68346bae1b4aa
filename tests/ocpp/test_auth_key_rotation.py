"""AuthorizationKey rotation as one action (OCTT TC_073, "Update Charge Point Password for HTTP Basic
Authentication"): Voltdesk generates the key and sends it with ChangeConfiguration; only its keyed hash is
stored; both keys work until the charger connects with the new one; the key is in no stored payload or frame."""
from __future__ import annotations

import asyncio

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import call_result
from sqlalchemy import select, text

from core.errors import ValidationError
from models import Charger, ChargerCommand
from services.access.scope import scope_for
from services.network.chargers import hash_auth_key
from services.ocpp.commands import rotate_auth_key, send_command
from tests.ocpp.conftest import KEY, connect
from tests.ocpp.conftest import Charger as LibCharger
from tests.utils.factories import make_user


class KeyCharger(LibCharger):
    """Stores the AuthorizationKey it is given, or refuses it."""

    keys: list
    refuse = False

    @on("ChangeConfiguration")
    def change_config(self, key, value):
        if self.refuse:
            return call_result.ChangeConfiguration(status="Rejected")
        self.keys.append((key, value))
        return call_result.ChangeConfiguration(status="Accepted")


@pytest.fixture
def admin_scope(session, org):
    return scope_for(session, make_user(session, role="admin"))


def _charger(session, charger_id) -> Charger:
    session.expire_all()
    return session.get(Charger, charger_id)


async def _refused(server, key) -> int:
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with connect(server, "CP-1", key):
            pass
    return refused.value.response.status_code


async def test_tc_073_rotated_key_is_sent_hashed_never_stored_and_both_keys_work_until_the_new_one_connects(
        server, session, engine, charger, admin_scope):
    async with connect(server, "CP-1", cls=KeyCharger) as cp:
        cp.keys = []
        result = await asyncio.to_thread(rotate_auth_key, engine=engine, scope=admin_scope, charger_id=charger.id,
                                         timeout=5)
    assert (result.status, result.result) == ("done", {"status": "Accepted"})
    [(name, new_key)] = cp.keys
    assert name == "AuthorizationKey" and 16 <= len(new_key) <= 40 and new_key != KEY
    row = _charger(session, charger.id)
    assert (row.auth_key_hash, row.auth_key_hash_next) == (hash_auth_key(KEY), hash_auth_key(new_key))
    # The key is nowhere in the database: not in the command, not in the frame log.
    await server.frames.flush()
    dump = session.execute(text("SELECT string_agg(frame, ' ') FROM ocpp_message")).scalar_one()
    stored = session.scalars(select(ChargerCommand)).one()
    assert new_key not in dump and new_key not in str(stored.payload) and new_key not in str(stored.result)
    assert '"value":"********"' in dump
    # The old key still opens the connection (the charger may not have switched yet), and so does the new one.
    async with connect(server, "CP-1", KEY):
        pass
    async with connect(server, "CP-1", new_key):
        pass
    row = _charger(session, charger.id)
    assert (row.auth_key_hash, row.auth_key_hash_next) == (hash_auth_key(new_key), None)
    assert await _refused(server, KEY) == 401  # once the charger used the new key, the old one is gone


async def test_a_refused_key_is_dropped_and_the_old_key_stays_the_only_one(server, session, engine, charger,
                                                                           admin_scope):
    async with connect(server, "CP-1", cls=KeyCharger) as cp:
        cp.keys, cp.refuse = [], True
        result = await asyncio.to_thread(rotate_auth_key, engine=engine, scope=admin_scope, charger_id=charger.id,
                                         timeout=5)
    assert (result.status, result.error) == ("failed", "Rejected")
    row = _charger(session, charger.id)
    assert (row.auth_key_hash, row.auth_key_hash_next) == (hash_auth_key(KEY), None)


def test_a_key_typed_into_a_generic_command_is_refused_and_nothing_is_stored(session, engine, charger,
                                                                             admin_scope):
    with pytest.raises(ValidationError) as refused:
        send_command(engine=engine, scope=admin_scope, charger_id=charger.id, action="ChangeConfiguration",
                     payload={"key": "AuthorizationKey", "value": "my-new-secret-key-1234"})
    assert "key rotation" in refused.value.message
    assert session.scalars(select(ChargerCommand)).all() == []
