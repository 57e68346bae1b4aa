"""Every remaining OCPP 1.6 message, both directions: central-system calls go through the command channel."""
from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from ocpp.routing import on
from ocpp.v16 import call, call_result
from sqlalchemy import select

from models import AuditLog, ChargerCommand
from services.access.scope import scope_for
from services.ocpp.commands import send_command
from tests.ocpp.conftest import Charger, connect, until
from tests.utils.factories import make_user


class ObedientCharger(Charger):
    """Answers every central-system call the way a well-behaved charger does."""

    received: list

    @on("Reset")
    def reset(self, type):
        self.received.append(("Reset", type))
        return call_result.Reset(status="Accepted")

    @on("UnlockConnector")
    def unlock(self, connector_id):
        return call_result.UnlockConnector(status="Unlocked")

    @on("ChangeAvailability")
    def availability(self, connector_id, type):
        return call_result.ChangeAvailability(status="Scheduled")

    @on("ChangeConfiguration")
    def change_config(self, key, value):
        return call_result.ChangeConfiguration(status="Rejected" if key == "ReadOnly" else "Accepted")

    @on("GetConfiguration")
    def get_config(self, key=None):
        return call_result.GetConfiguration(
            configuration_key=[{"key": "HeartbeatInterval", "readonly": False, "value": "300"}])

    @on("ClearCache")
    def clear_cache(self):
        return call_result.ClearCache(status="Accepted")

    @on("DataTransfer")
    def data_transfer(self, vendor_id, **kwargs):
        return call_result.DataTransfer(status="Accepted", data="pong")

    @on("RemoteStartTransaction")
    def remote_start(self, id_tag, **kwargs):
        return call_result.RemoteStartTransaction(status="Accepted")

    @on("RemoteStopTransaction")
    def remote_stop(self, transaction_id):
        return call_result.RemoteStopTransaction(status="Accepted")

    @on("GetDiagnostics")
    def diagnostics(self, location, **kwargs):
        return call_result.GetDiagnostics(file_name="diag.zip")

    @on("UpdateFirmware")
    def firmware(self, location, retrieve_date, **kwargs):
        return call_result.UpdateFirmware()

    @on("GetLocalListVersion")
    def list_version(self):
        return call_result.GetLocalListVersion(list_version=7)

    @on("SendLocalList")
    def send_list(self, list_version, update_type, **kwargs):
        return call_result.SendLocalList(status="Accepted")

    @on("ReserveNow")
    def reserve(self, connector_id, expiry_date, id_tag, reservation_id, **kwargs):
        return call_result.ReserveNow(status="Accepted")

    @on("CancelReservation")
    def cancel(self, reservation_id):
        return call_result.CancelReservation(status="Accepted")

    @on("TriggerMessage")
    def trigger(self, requested_message, **kwargs):
        return call_result.TriggerMessage(status="Accepted")

    @on("SetChargingProfile")
    def set_profile(self, connector_id, cs_charging_profiles):
        return call_result.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def clear_profile(self, **kwargs):
        return call_result.ClearChargingProfile(status="Accepted")

    @on("GetCompositeSchedule")
    def composite(self, connector_id, duration, **kwargs):
        return call_result.GetCompositeSchedule(status="Accepted", connector_id=connector_id)


PROFILE = {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
           "chargingProfileKind": "Absolute",
           "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}}

COMMANDS = [
    ("Reset", {"type": "Soft"}, {"status": "Accepted"}),
    ("UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}),
    ("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}, {"status": "Scheduled"}),
    ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}, {"status": "Accepted"}),
    ("GetConfiguration", {}, {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]}),
    ("ClearCache", {}, {"status": "Accepted"}),
    ("DataTransfer", {"vendorId": "com.example", "data": "ping"}, {"status": "Accepted", "data": "pong"}),
    ("RemoteStartTransaction", {"idTag": "LANKA--0001", "connectorId": 1}, {"status": "Accepted"}),
    ("RemoteStopTransaction", {"transactionId": 5}, {"status": "Accepted"}),
    ("GetDiagnostics", {"location": "ftp://logs.example/"}, {"fileName": "diag.zip"}),
    ("UpdateFirmware", {"location": "https://fw.example/1.bin", "retrieveDate": "2026-12-01T00:00:00Z"}, {}),
    ("GetLocalListVersion", {}, {"listVersion": 7}),
    ("SendLocalList", {"listVersion": 8, "updateType": "Full", "localAuthorizationList": []},
     {"status": "Accepted"}),
    ("ReserveNow", {"connectorId": 1, "expiryDate": "2026-12-01T00:00:00Z", "idTag": "LANKA--0001",
                    "reservationId": 3}, {"status": "Accepted"}),
    ("CancelReservation", {"reservationId": 3}, {"status": "Accepted"}),
    ("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1}, {"status": "Accepted"}),
    ("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": PROFILE}, {"status": "Accepted"}),
    ("ClearChargingProfile", {"id": 1}, {"status": "Accepted"}),
    ("GetCompositeSchedule", {"connectorId": 1, "duration": 3600}, {"status": "Accepted", "connectorId": 1}),
]


@pytest.fixture
def admin_scope(session, org):
    return scope_for(session, make_user(session, role="admin"))


async def test_every_central_system_command_reaches_the_charger_and_its_answer_comes_back(
        server, session, engine, charger, admin_scope):
    async with connect(server, "CP-1", cls=ObedientCharger) as cp:
        cp.received = []
        for action, payload, expected in COMMANDS:
            result = await asyncio.to_thread(send_command, engine=engine, scope=admin_scope, charger_id=charger.id,
                                             action=action, payload=payload, timeout=5)
            assert (action, result.status, result.result, result.error) == (action, "done", expected, None)
    assert cp.received == [("Reset", "Soft")]


async def test_rejected_command_is_failed_with_rejected(server, engine, charger, admin_scope):
    async with connect(server, "CP-1", cls=ObedientCharger) as cp:
        cp.received = []
        result = await asyncio.to_thread(send_command, engine=engine, scope=admin_scope, charger_id=charger.id,
                                         action="ChangeConfiguration", payload={"key": "ReadOnly", "value": "1"})
    assert (result.status, result.error, result.result) == ("failed", "Rejected", {"status": "Rejected"})


async def test_command_to_offline_charger_fails_at_once_with_charger_is_offline(server, session, engine, charger,
                                                                                admin_scope):
    result = await asyncio.to_thread(send_command, engine=engine, scope=admin_scope, charger_id=charger.id,
                                     action="Reset", payload={"type": "Hard"})
    assert (result.status, result.error) == ("failed", "Charger is offline")
    assert session.scalars(select(ChargerCommand)).one().status == "failed"


class SilentCharger(Charger):
    @on("Reset")
    async def reset(self, type):
        await asyncio.sleep(30)  # never answers in time


async def test_charger_that_does_not_answer_gives_a_clear_timeout(server, engine, charger, admin_scope):
    async with connect(server, "CP-1", cls=SilentCharger):
        result = await asyncio.to_thread(send_command, engine=engine, scope=admin_scope, charger_id=charger.id,
                                         action="Reset", payload={"type": "Soft"}, timeout=1)
    assert (result.status, result.error) == ("failed", "Charger did not answer within 1 s")


class DeafCharger(Charger):
    """Reads every CALL the central system sends, records its action, and never answers."""

    calls: list

    async def route_message(self, raw):
        message = json.loads(raw)
        if message[0] == 2:
            self.calls.append(message[2])
            return
        await super().route_message(raw)


async def test_commands_queued_past_their_deadline_are_expired_and_never_sent(server, session, engine, charger,
                                                                               admin_scope):
    async with connect(server, "CP-1", cls=DeafCharger) as cp:
        cp.calls = []
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(4) as pool:
            def reset(timeout):
                return loop.run_in_executor(pool, partial(send_command, engine=engine, scope=admin_scope,
                                                          charger_id=charger.id, action="Reset",
                                                          payload={"type": "Soft"}, timeout=timeout))
            first = reset(5)  # sent, never answered: it holds the charger's one CALL slot for 5 s
            await until(lambda: cp.calls, timeout=30)
            queued = [reset(1) for _ in range(3)]  # their 1 s passes while they wait behind it
            results = await asyncio.gather(first, *queued)
        sent_when_reported = len(cp.calls)
        await asyncio.sleep(2)  # a CALL let through after its command was reported would arrive now
        calls = list(cp.calls)
    outcomes = [(r.status, r.error) for r in results]
    expired = ("expired", "Not sent: the command expired after 1 s while waiting for the charger")
    assert outcomes == [("failed", "Charger did not answer within 5 s")] + [expired] * 3, (outcomes, calls)
    assert calls == ["Reset"] and sent_when_reported == 1
    rows = session.scalars(select(ChargerCommand)).all()
    assert sorted(r.status for r in rows) == ["expired"] * 3 + ["failed"]


class WrongAnswerCharger(Charger):
    """Answers Reset with a status OCPP 1.6 does not have."""

    async def route_message(self, raw):
        message = json.loads(raw)
        if message[0] == 2 and message[2] == "Reset":
            await self._connection.send(json.dumps([3, message[1], {"status": "Maybe"}]))
            return
        await super().route_message(raw)


async def test_an_answer_that_breaks_the_response_schema_fails_the_command_and_says_why(server, engine, charger,
                                                                                        admin_scope):
    async with connect(server, "CP-1", cls=WrongAnswerCharger):
        result = await asyncio.to_thread(send_command, engine=engine, scope=admin_scope, charger_id=charger.id,
                                         action="Reset", payload={"type": "Soft"}, timeout=5)
    assert (result.status, result.result) == ("failed", {"status": "Maybe"})
    assert result.error == "Invalid answer from the charger: status: 'Maybe' is not one of ['Accepted', 'Rejected']"


async def test_charger_without_handler_answers_callerror_and_command_fails_with_it(server, engine, charger,
                                                                                   admin_scope):
    async with connect(server, "CP-1"):  # the plain test charger implements no central-system calls
        result = await asyncio.to_thread(send_command, engine=engine, scope=admin_scope, charger_id=charger.id,
                                         action="ClearCache", payload={}, timeout=5)
    assert result.status == "failed" and result.error.startswith("Charger answered with an error: NotImplemented")


async def test_firmware_and_diagnostics_status_notifications_are_kept_in_the_charger_history(server, session,
                                                                                             charger):
    async with connect(server, "CP-1") as cp:
        await cp.call(call.FirmwareStatusNotification(status="Downloading"))
        await cp.call(call.DiagnosticsStatusNotification(status="Uploaded"))
        data = await cp.call(call.DataTransfer(vendor_id="com.unknown", message_id="x", data="y"))
    assert data.status == "UnknownVendorId"
    rows = session.scalars(select(AuditLog).where(AuditLog.entity_id == str(charger.id)).order_by(AuditLog.id)).all()
    assert [(r.action, r.changes) for r in rows] == [("firmware_status", {"status": "Downloading"}),
                                                    ("diagnostics_status", {"status": "Uploaded"})]


async def test_command_whose_notification_was_missed_is_picked_up_by_the_sweep(server, session, charger):
    async with connect(server, "CP-1", cls=ObedientCharger) as cp:
        cp.received = []
        # Inserted without NOTIFY, as if the listener had been reconnecting at that moment.
        session.add(ChargerCommand(charger_id=charger.id, action="Reset", payload={"type": "Hard"}))
        session.commit()
        await server.sweep_commands()

        def finished():
            session.expire_all()
            return session.scalars(select(ChargerCommand)).one().status == "done"

        await until(finished)
    assert cp.received == [("Reset", "Hard")]
