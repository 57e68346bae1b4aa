"""Simulated chargers for demos and manual testing, built on the `ocpp` library's ChargePoint.

    python -m ocpp_server.simulator --url ws://127.0.0.1:9000/ocpp (--chargers N | --ids ID1,ID2,...)
        [--auth-key KEY] [--duration S] [--wait-for-server S] [--id-tags T1,T2] [--pace F]

Each charger boots, heartbeats, reports status, runs sessions with meter values every 10-30 s, now and
then faults or drops offline, and answers the central system's commands, the security extension's too
(signed firmware updates, GetLog, certificate requests and installs, security events). Traffic is modest (a session
every few minutes per charger) so a demo database stays small. `--pace 0.01` runs everything 100x faster.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import logging
import random
import time
from datetime import UTC, datetime

import httpx
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result

log = logging.getLogger("simulator")
# HTTP answers to the websocket upgrade that mean "not you": an unknown id or a wrong AuthorizationKey.
REFUSED = frozenset({401, 403, 404})
# The demo seed's idTags (demo/seed.py): one set per client organization.
DEMO_TAGS = ["LANKA--0001", "LANKA--0002", "LANKA--0003", "BERLIN-0001", "BERLIN-0002", "BERLIN-0003",
             "GOTHAM-0001", "GOTHAM-0002", "GOTHAM-0003"]
DEMO_PREFIX_TAGS = {"LK-": "LANKA-", "DE-": "BERLIN", "US-": "GOTHAM"}


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class SimCharger(ChargePoint):
    """One charger's behaviour on one connection; `sim` keeps state across reconnects."""

    sim: Simulated

    @on("Reset")
    def on_reset(self, type):
        self.sim.reboot_requested = True
        return call_result.Reset(status="Accepted")

    @on("UnlockConnector")
    def on_unlock(self, connector_id):
        return call_result.UnlockConnector(status="Unlocked" if connector_id <= self.sim.connectors else "NotSupported")

    @on("ChangeAvailability")
    def on_availability(self, connector_id, type):
        self.sim.available = type == "Operative"
        self.sim.pending.append(("status", connector_id, "Available" if self.sim.available else "Unavailable"))
        return call_result.ChangeAvailability(status="Scheduled" if self.sim.tx_id else "Accepted")

    @on("ChangeConfiguration")
    def on_change_configuration(self, key, value):
        if key not in self.sim.config:
            return call_result.ChangeConfiguration(status="NotSupported")
        if self.sim.config[key][0]:
            return call_result.ChangeConfiguration(status="Rejected")
        self.sim.config[key] = (False, value)
        return call_result.ChangeConfiguration(status="Accepted")

    @on("GetConfiguration")
    def on_get_configuration(self, key=None):
        keys = key or list(self.sim.config)
        known = [{"key": k, "readonly": self.sim.config[k][0], "value": self.sim.config[k][1]}
                 for k in keys if k in self.sim.config]
        unknown = [k for k in keys if k not in self.sim.config]
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on("ClearCache")
    def on_clear_cache(self):
        return call_result.ClearCache(status="Accepted")

    @on("DataTransfer")
    def on_data_transfer(self, vendor_id, **kwargs):
        return call_result.DataTransfer(status="UnknownVendorId")

    @on("RemoteStartTransaction")
    def on_remote_start(self, id_tag, **kwargs):
        if self.sim.tx_id or not self.sim.available:
            return call_result.RemoteStartTransaction(status="Rejected")
        self.sim.pending.append(("start", id_tag))
        return call_result.RemoteStartTransaction(status="Accepted")

    @on("RemoteStopTransaction")
    def on_remote_stop(self, transaction_id):
        if transaction_id != self.sim.tx_id:
            return call_result.RemoteStopTransaction(status="Rejected")
        self.sim.stop_requested = "Remote"
        return call_result.RemoteStopTransaction(status="Accepted")

    @on("TriggerMessage")
    def on_trigger(self, requested_message, **kwargs):
        if requested_message not in ("BootNotification", "Heartbeat", "StatusNotification", "MeterValues"):
            return call_result.TriggerMessage(status="NotImplemented")
        self.sim.pending.append(("trigger", requested_message))
        return call_result.TriggerMessage(status="Accepted")

    @on("GetDiagnostics")
    def on_diagnostics(self, location, **kwargs):
        self.sim.pending.append(("diagnostics", location, f"{self.id}-diagnostics.txt"))
        return call_result.GetDiagnostics(file_name=f"{self.id}-diagnostics.txt")

    @on("UpdateFirmware")
    def on_update_firmware(self, location, retrieve_date, **kwargs):
        self.sim.pending.append(("firmware",))
        return call_result.UpdateFirmware()

    # --- the security extension (OCPP 1.6 security whitepaper) ---------------------------------------------

    @on("SignedUpdateFirmware")
    def on_signed_update_firmware(self, request_id, firmware, **kwargs):
        self.sim.pending.append(("signed_firmware", request_id))
        return call_result.SignedUpdateFirmware(status="Accepted")

    @on("GetLog")
    def on_get_log(self, log_type, request_id, log, **kwargs):
        location = log.get("remote_location") or log.get("remoteLocation")
        self.sim.pending.append(("log", request_id, location, f"{self.id}-{log_type}.log"))
        return call_result.GetLog(status="Accepted", filename=f"{self.id}-{log_type}.log")

    @on("ExtendedTriggerMessage")
    def on_extended_trigger(self, requested_message, **kwargs):
        if requested_message != "SignChargePointCertificate":
            return call_result.ExtendedTriggerMessage(status="NotImplemented")
        self.sim.pending.append(("csr",))
        return call_result.ExtendedTriggerMessage(status="Accepted")

    @on("CertificateSigned")
    def on_certificate_signed(self, certificate_chain):
        self.sim.certificates.append(certificate_chain)
        return call_result.CertificateSigned(status="Accepted")

    @on("InstallCertificate")
    def on_install_certificate(self, certificate_type, certificate):
        self.sim.installed[certificate_type] = certificate
        return call_result.InstallCertificate(status="Accepted")

    @on("GetInstalledCertificateIds")
    def on_installed_ids(self, certificate_type):
        if certificate_type not in self.sim.installed:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(status="Accepted", certificate_hash_data=[{
            "hashAlgorithm": "SHA256", "issuerNameHash": "0" * 64, "issuerKeyHash": "0" * 64,
            "serialNumber": "1"}])

    @on("DeleteCertificate")
    def on_delete_certificate(self, certificate_hash_data):
        deleted = self.sim.installed.pop("CentralSystemRootCertificate", None)
        return call_result.DeleteCertificate(status="Accepted" if deleted else "NotFound")

    @on("GetLocalListVersion")
    def on_list_version(self):
        return call_result.GetLocalListVersion(list_version=self.sim.local_list_version)

    @on("SendLocalList")
    def on_send_list(self, list_version, update_type, **kwargs):
        self.sim.local_list_version = list_version
        return call_result.SendLocalList(status="Accepted")

    @on("ReserveNow")
    def on_reserve(self, connector_id, expiry_date, id_tag, reservation_id, **kwargs):
        if self.sim.tx_id:
            return call_result.ReserveNow(status="Occupied")
        self.sim.reservation = reservation_id
        self.sim.pending.append(("status", connector_id or 1, "Reserved"))
        return call_result.ReserveNow(status="Accepted")

    @on("CancelReservation")
    def on_cancel(self, reservation_id):
        if reservation_id != self.sim.reservation:
            return call_result.CancelReservation(status="Rejected")
        self.sim.reservation = None
        self.sim.pending.append(("status", 1, "Available"))
        return call_result.CancelReservation(status="Accepted")

    @on("SetChargingProfile")
    def on_set_profile(self, connector_id, cs_charging_profiles):
        return call_result.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def on_clear_profile(self, **kwargs):
        return call_result.ClearChargingProfile(status="Accepted")

    @on("GetCompositeSchedule")
    def on_composite(self, connector_id, duration, **kwargs):
        return call_result.GetCompositeSchedule(status="Accepted", connector_id=connector_id,
                                                schedule_start=now_iso())


class Simulated:
    """A simulated charger: its state survives reconnects, like a real one's."""

    def __init__(self, ocpp_id: str, *, url: str, auth_key: str | None, tags: list[str], pace: float,
                 connectors: int = 1, rng: random.Random | None = None, steady: bool = False) -> None:
        self.ocpp_id = ocpp_id
        self.steady = steady  # only answer the server: no random sessions, faults or drop-outs
        self.url = url.rstrip("/") + "/" + ocpp_id
        self.auth_key = auth_key
        self.tags = tags
        self.pace = pace
        self.connectors = connectors
        self.rng = rng or random.Random(ocpp_id)
        self.meter_wh = self.rng.randint(100_000, 5_000_000)
        self.tx_id: int | None = None
        self.available = True
        self.reboot_requested = False
        self.stop_requested: str | None = None
        self.reservation: int | None = None
        self.local_list_version = 0
        self.pending: list[tuple] = []
        self.heartbeat = 300
        self.config = {"HeartbeatInterval": (False, "300"), "MeterValueSampleInterval": (False, "15"),
                       "NumberOfConnectors": (True, str(connectors)), "AuthorizeRemoteTxRequests": (False, "true")}
        self.transactions_completed = 0
        self.certificates: list[str] = []  # chains received in CertificateSigned
        self.installed: dict[str, str] = {}  # InstallCertificate: type -> PEM

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self.pace)

    def _headers(self) -> dict:
        if self.auth_key is None:
            return {}
        token = base64.b64encode(f"{self.ocpp_id}:{self.auth_key}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def run(self, until: float) -> None:
        """Connect, live, reconnect after drops, until the monotonic deadline."""
        backoff = 1.0
        while time.monotonic() < until:
            try:
                async with websockets.connect(self.url, subprotocols=["ocpp1.6"], additional_headers=self._headers(),
                                              open_timeout=10) as ws:
                    backoff = 1.0
                    cp = SimCharger(self.ocpp_id, ws, response_timeout=30)
                    cp.sim = self
                    receiver = asyncio.create_task(cp.start())
                    try:
                        await self._live(cp, until)
                    finally:
                        receiver.cancel()
                        with contextlib.suppress(BaseException):
                            await receiver
            except websockets.exceptions.InvalidStatus as exc:
                if exc.response.status_code in REFUSED:  # unknown id or wrong key: retrying cannot help
                    log.error("%s: the server refused the charger (HTTP %s); not retrying", self.ocpp_id,
                              exc.response.status_code)
                    return
                log.info("%s: connection problem (%s); retrying in %.0f s", self.ocpp_id, exc, backoff)
                await asyncio.sleep(min(backoff, max(0.0, until - time.monotonic())))
                backoff = min(backoff * 2, 30)
            except (TimeoutError, OSError, websockets.exceptions.WebSocketException) as exc:
                log.info("%s: connection problem (%s); retrying in %.0f s", self.ocpp_id, exc, backoff)
                await asyncio.sleep(min(backoff, max(0.0, until - time.monotonic())))
                backoff = min(backoff * 2, 30)

    async def _status(self, cp: SimCharger, connector: int, status: str, error: str = "NoError") -> None:
        await cp.call(call.StatusNotification(connector_id=connector, error_code=error, status=status,
                                              timestamp=now_iso()))

    async def _live(self, cp: SimCharger, until: float) -> None:
        boot = await cp.call(call.BootNotification(charge_point_vendor="Voltdesk Sim", charge_point_model="VS-22",
                                                   charge_point_serial_number=f"SN-{self.ocpp_id}",
                                                   firmware_version="1.4.2"))
        self.heartbeat = max(10, boot.interval or 300)
        await self._status(cp, 0, "Available" if self.available else "Unavailable")
        for n in range(1, self.connectors + 1):
            await self._status(cp, n, "Charging" if self.tx_id else ("Available" if self.available
                                                                     else "Unavailable"))
        next_beat = time.monotonic() + self.heartbeat * self.pace
        next_start = time.monotonic() + self.rng.uniform(20, 240) * self.pace
        while time.monotonic() < until:
            await self._do_pending(cp)
            if self.reboot_requested:
                self.reboot_requested = False
                if self.tx_id:
                    await self._stop_transaction(cp, "SoftReset")
                return  # close the socket; run() reconnects and boots again
            if time.monotonic() >= next_beat:
                await cp.call(call.Heartbeat())
                next_beat = time.monotonic() + self.heartbeat * self.pace
            if not self.steady and not self.tx_id and self.available and time.monotonic() >= next_start:
                roll = self.rng.random()
                if roll < 0.04:  # drop off the network for a while, as real chargers do
                    log.info("%s: going offline", self.ocpp_id)
                    await cp._connection.close()
                    await asyncio.sleep(min(self.rng.uniform(60, 180) * self.pace,
                                            max(0.0, until - time.monotonic())))
                    return
                if roll < 0.10:
                    await self._status(cp, 1, "Faulted", "GroundFailure")
                    await self.sleep(self.rng.uniform(30, 120))
                    await self._status(cp, 1, "Available")
                else:
                    await self._run_transaction(cp, self.rng.choice(self.tags), until)
                next_start = time.monotonic() + self.rng.uniform(120, 420) * self.pace
            await self.sleep(1)

    async def _do_pending(self, cp: SimCharger) -> None:
        while self.pending:
            job = self.pending.pop(0)
            if job[0] == "status":
                await self._status(cp, job[1], job[2])
            elif job[0] == "start":
                await self._run_transaction(cp, job[1], time.monotonic() + 600 * self.pace, authorize=False)
            elif job[0] == "trigger":
                if job[1] == "BootNotification":
                    await cp.call(call.BootNotification(charge_point_vendor="Voltdesk Sim",
                                                        charge_point_model="VS-22"))
                elif job[1] == "Heartbeat":
                    await cp.call(call.Heartbeat())
                elif job[1] == "StatusNotification":
                    await self._status(cp, 1, "Charging" if self.tx_id else "Available")
                else:
                    await self._meter(cp)
            elif job[0] == "diagnostics":
                await cp.call(call.DiagnosticsStatusNotification(status="Uploading"))
                uploaded = await self.upload(job[1], job[2])
                await cp.call(call.DiagnosticsStatusNotification(status="Uploaded" if uploaded else "UploadFailed"))
            elif job[0] == "signed_firmware":
                for status in ("Downloading", "Downloaded", "SignatureVerified", "Installing", "Installed"):
                    await cp.call(call.SignedFirmwareStatusNotification(status=status, request_id=job[1]))
                # tech_info is optional in OCPP but a required argument of the library's dataclass (None is dropped).
                await cp.call(call.SecurityEventNotification(type="FirmwareUpdated", timestamp=now_iso(),
                                                             tech_info=None))
            elif job[0] == "log":
                await cp.call(call.LogStatusNotification(status="Uploading", request_id=job[1]))
                uploaded = await self.upload(job[2], job[3])
                await cp.call(call.LogStatusNotification(status="Uploaded" if uploaded else "UploadFailure",
                                                         request_id=job[1]))
            elif job[0] == "csr":
                await cp.call(call.SignCertificate(csr=self.csr()))
            elif job[0] == "firmware":
                for status in ("Downloading", "Downloaded", "Installing", "Installed"):
                    await cp.call(call.FirmwareStatusNotification(status=status))

    async def upload(self, location: str | None, filename: str) -> bool:
        """PUT a small log to the location the server gave (Voltdesk's file endpoint), as a charger would."""
        if not location or not location.startswith(("http://", "https://")):
            return False
        lines = [f"{now_iso()} {self.ocpp_id} firmware 1.4.2, {self.transactions_completed} sessions completed",
                 f"{now_iso()} {self.ocpp_id} local list version {self.local_list_version}"]
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                answer = await client.put(f"{location.rstrip('/')}/{filename}", content="\n".join(lines).encode())
            return answer.status_code < 300
        except httpx.HTTPError as exc:
            log.info("%s: upload to %s failed (%s)", self.ocpp_id, location, exc)
            return False

    def csr(self) -> str:
        """A certificate request for this charger's own id, with a fresh P-256 key (kept for the session)."""
        self.key = ec.generate_private_key(ec.SECP256R1())
        request = (x509.CertificateSigningRequestBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.ocpp_id)]))
                   .sign(self.key, hashes.SHA256()))
        return request.public_bytes(serialization.Encoding.PEM).decode()

    async def _meter(self, cp: SimCharger) -> None:
        await cp.call(call.MeterValues(connector_id=1, transaction_id=self.tx_id, meter_value=[{
            "timestamp": now_iso(), "sampledValue": [
                {"value": str(self.meter_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh",
                 "context": "Sample.Periodic"},
                {"value": f"{self.power_w:.0f}", "measurand": "Power.Active.Import", "unit": "W",
                 "context": "Sample.Periodic"}]}]))

    async def _run_transaction(self, cp: SimCharger, tag: str, until: float, authorize: bool = True) -> None:
        if authorize:
            auth = await cp.call(call.Authorize(id_tag=tag))
            if auth.id_tag_info["status"] != "Accepted":
                log.info("%s: tag %s not accepted (%s)", self.ocpp_id, tag, auth.id_tag_info["status"])
                return
        await self._status(cp, 1, "Preparing")
        start = await cp.call(call.StartTransaction(connector_id=1, id_tag=tag, meter_start=self.meter_wh,
                                                    timestamp=now_iso()))
        if start.id_tag_info["status"] != "Accepted":
            self.tx_id = start.transaction_id
            await self._stop_transaction(cp, "DeAuthorized")
            return
        self.tx_id = start.transaction_id
        await self._status(cp, 1, "Charging")
        self.power_w = self.rng.choice([7400, 11000, 22000])
        ends = time.monotonic() + self.rng.uniform(120, 900) * self.pace
        sample = self.rng.uniform(10, 30)
        while time.monotonic() < min(ends, until) and not self.stop_requested and not self.reboot_requested:
            await self.sleep(sample)
            self.meter_wh += int(self.power_w * sample / 3600)
            await self._meter(cp)
            await self._do_pending(cp)
        if not self.reboot_requested:
            await self._stop_transaction(cp, self.stop_requested or "EVDisconnected")

    async def _stop_transaction(self, cp: SimCharger, reason: str) -> None:
        await cp.call(call.StopTransaction(meter_stop=self.meter_wh, timestamp=now_iso(),
                                           transaction_id=self.tx_id, reason=reason))
        self.tx_id, self.stop_requested = None, None
        self.transactions_completed += 1
        await self._status(cp, 1, "Finishing")
        await self._status(cp, 1, "Available")

    power_w = 0.0


def tags_for(ocpp_id: str, tags: list[str]) -> list[str]:
    """With the demo tags, a charger uses the tags of its own organization (by the demo id prefix)."""
    for prefix, tag_prefix in DEMO_PREFIX_TAGS.items():
        if ocpp_id.startswith(prefix):
            mine = [t for t in tags if t.startswith(tag_prefix)]
            if mine:
                return mine
    return tags


async def wait_for_server(url: str, seconds: float) -> None:
    """Wait until something listens at the URL's host and port (the OCPP server starting up)."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "wss" else 80)
    deadline = time.monotonic() + seconds
    while True:
        try:
            _, writer = await asyncio.open_connection(parsed.hostname, port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"No OCPP server at {parsed.hostname}:{port} after {seconds:.0f} s") from None
            await asyncio.sleep(0.5)


async def main(args: argparse.Namespace) -> None:
    ids = [i.strip() for i in args.ids.split(",") if i.strip()] if args.ids else \
        [f"{args.prefix}{n:04d}" for n in range(1, args.chargers + 1)]
    tags = [t.strip() for t in args.id_tags.split(",") if t.strip()]
    if args.wait_for_server:
        await wait_for_server(args.url, args.wait_for_server)
    until = time.monotonic() + (args.duration if args.duration else 10 ** 9)
    sims = [Simulated(i, url=args.url, auth_key=args.auth_key, tags=tags_for(i, tags), pace=args.pace,
                      connectors=args.connectors, steady=args.steady) for i in ids]
    print(f"Simulating {len(sims)} chargers against {args.url}", flush=True)

    async def staggered(n: int, sim: Simulated) -> None:
        await asyncio.sleep(min(n * 0.05, 5))  # do not boot the whole fleet in the same millisecond
        await sim.run(until)

    await asyncio.gather(*(staggered(n, s) for n, s in enumerate(sims)))
    done = sum(s.transactions_completed for s in sims)
    print(f"Simulation finished: {done} sessions completed", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m ocpp_server.simulator", description=__doc__.split("\n")[0])
    p.add_argument("--url", default="ws://127.0.0.1:9000/ocpp", help="OCPP endpoint without the charger id")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--chargers", type=int, help="simulate N chargers named PREFIX0001..")
    who.add_argument("--ids", help="comma-separated charger ids (registered chargers)")
    p.add_argument("--prefix", default="SIM-", help="id prefix with --chargers (default SIM-)")
    p.add_argument("--auth-key", help="AuthorizationKey for HTTP Basic auth (security profile 1)")
    p.add_argument("--id-tags", default=",".join(DEMO_TAGS), help="idTags to charge with (default: demo tags)")
    p.add_argument("--connectors", type=int, default=1, help="connectors per charger (default 1)")
    p.add_argument("--duration", type=float, help="stop after S seconds (default: run until interrupted)")
    p.add_argument("--wait-for-server", type=float, default=0, help="wait up to S seconds for the server")
    p.add_argument("--pace", type=float, default=1.0, help="time scale: 0.01 runs everything 100x faster")
    p.add_argument("--steady", action="store_true",
                   help="stay connected and idle, only answering the server (no random sessions or drop-outs)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    logging.basicConfig(level=logging.INFO if arguments.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(arguments))
