"""The gateway: accepts charger websockets, keeps the live registry and runs the background jobs
(batch writers, liveness, offline sweep, command channel).

Several processes may run at once against one database; each serves the chargers connected to it.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import os
import socket
import ssl as ssl_mod
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

import psycopg
from sqlalchemy.engine import Engine
from sqlmodel import Session
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from core.clock import utcnow
from core.config import Settings, get_settings
from core.db import get_ocpp_engine, libpq_url
from core.errors import ValidationError
from core.events import COMMAND_CHANNEL
from ocpp_server.batch import BatchWriter, GroupCall, GroupCommit
from ocpp_server.connection import CallFailed, ChargerConnection, NotSent
from ocpp_server.outage import Availability, DatabaseUnavailable, is_unavailable
from ocpp_server.stalls import StallMonitor
from ocpp_server.writers import Writers
from services.network.chargers import validate_ocpp_id
from services.ocpp import auth_key, presence, registry
from services.ocpp import commands as cmd_svc
from services.ocpp.frames import insert_frames_async
from services.ocpp.meter import insert_meter_rows_async

log = logging.getLogger("ocpp_server")

PATH_PREFIX = "/ocpp/"
# The load balancer's health check (demo/haproxy.cfg): 200 while this process takes new chargers, 503 while it
# drains before a restart.
HEALTH_PATH = "/health"
SUBPROTOCOL = "ocpp1.6"
# Keepalive pings detect dead TCP connections that never send a FIN.
PING_INTERVAL = 60
PING_TIMEOUT = 30
STOP_CLOSE_TIMEOUT = 1.0
COMMAND_SWEEP_SECONDS = 5.0
LIVENESS_STEP = timedelta(seconds=15)


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def tls_context(cert: str, key: str, client_ca: str | None = None) -> ssl_mod.SSLContext:
    ctx = ssl_mod.SSLContext(ssl_mod.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl_mod.TLSVersion.TLSv1_2  # OCPP security profile 2 asks for TLS 1.2 or above
    ctx.load_cert_chain(cert, key)
    if client_ca:
        # Security profile 3: a client certificate, when presented, must chain to the CSMS CA; profile 2
        # chargers present none, so it is optional here and required per charger at the handshake.
        ctx.load_verify_locations(client_ca)
        ctx.verify_mode = ssl_mod.CERT_OPTIONAL
    return ctx


def client_common_name(ws: ServerConnection) -> str | None:
    """The CN of the verified client certificate on this connection, if any (security profile 3)."""
    ssl_object = ws.transport.get_extra_info("ssl_object") if ws.transport else None
    peer = ssl_object.getpeercert() if ssl_object else None
    for rdn in (peer or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


class OcppServer:
    def __init__(self, *, settings: Settings | None = None, engine: Engine | None = None) -> None:
        self.settings = settings or get_settings()
        self.engine = engine or get_ocpp_engine()  # no user: system scope (core/rls.py); no pre-ping
        self.connections: dict[int, ChargerConnection] = {}
        # Meter values are acknowledged only once committed (docs/adr/0013-connection-registry-and-durable-ack.md).
        self.meters = GroupCommit("meter_values", self._write_meters)
        self.frames = BatchWriter("frames", self._write_frames, max_rows=5000, interval=0.5)
        # Handshakes arriving together are checked and registered in one transaction (docs/adr/0013).
        self.handshakes = GroupCall("handshakes", self._admit, key=lambda a: a.ocpp_id)
        self._seen: dict[int, datetime] = {}
        self._tasks: list[asyncio.Task] = []
        self._running: set[asyncio.Task] = set()
        self._ws_server = None
        # Batch writes run on async connections (ocpp_server/writers.py). Samples have their own, so an
        # acknowledgement never waits behind the frame log; they and the log run on a loop of their own, where a
        # round trip does not wait for a busy loop's iteration. Handshakes have theirs too, on this loop (a hand-off
        # per batch cost more than it saved in a reconnect storm): no pool, no pre-ping; a lost connection is
        # dropped and opened again.
        self._db_url = libpq_url(self.engine)
        self._writers = Writers(self._db_url, ("meters", "log"), local=("handshakes",))
        self.stalls = StallMonitor()
        self.availability = Availability()
        self._tls = False
        self._stopping = False
        self.port: int | None = None
        self.process_id: int | None = None  # this process's liveness row (services/ocpp/registry.py)
        self.draining = False

    # --- database access, always off the event loop ---------------------------------------------------

    def _run_db(self, fn: Callable[..., Any], kwargs: dict) -> Any:
        with Session(self.engine, expire_on_commit=False) as session:
            result = fn(session=session, **kwargs)
            session.commit()
            return result

    async def _available(self, work: Awaitable[Any]) -> Any:
        """Await database work and keep the availability (one log line per change of state): DatabaseUnavailable
        when the database cannot be reached."""
        try:
            result = await work
        except Exception as exc:
            if is_unavailable(exc):
                self.availability.failed(exc)
                raise DatabaseUnavailable from exc
            raise
        self.availability.ok()
        return result

    async def db(self, fn: Callable[..., Any], **kwargs) -> Any:
        """Run a service function in a database session; DatabaseUnavailable when the database cannot be reached."""
        return await self._available(asyncio.to_thread(self._run_db, fn, kwargs))

    async def write(self, fn: Callable[..., Any], *, writer: str = "log", **kwargs) -> Any:
        """Run an async service function on a writer connection (reconnecting after a failure)."""
        return await self._available(self._writers.run(writer, fn, kwargs))

    async def _write_meters(self, rows: list) -> None:
        await self.write(insert_meter_rows_async, writer="meters", rows=rows)

    async def _write_frames(self, rows: list) -> None:
        await self.write(insert_frames_async, rows=rows)

    async def _admit(self, attempts: list[presence.Attempt]) -> list[presence.Admitted]:
        stale = self._writers.connected("handshakes")
        try:
            return await self.write(presence.connect_many_async, writer="handshakes", attempts=attempts,
                                    tls=self._tls, process_id=self.process_id, now=utcnow())
        except DatabaseUnavailable:
            if not stale:
                raise
            # The connection died since the last batch (a database restart): once more, on a new one. Safe even
            # if the lost transaction committed: connecting again only raises the generation once more.
            return await self.write(presence.connect_many_async, writer="handshakes", attempts=attempts,
                                    tls=self._tls, process_id=self.process_id, now=utcnow())

    def seen(self, conn: ChargerConnection, when: datetime) -> None:
        """Liveness is written at most every LIVENESS_STEP per charger: far finer than heartbeat + grace."""
        if conn.touched_at is None or when - conn.touched_at >= LIVENESS_STEP or when < conn.touched_at:
            conn.touched_at = when
            self._seen[conn.charger.id] = when

    # --- lifecycle ---------------------------------------------------------------------------------------

    async def start(self, host: str | None = None, port: int | None = None,
                    ssl: ssl_mod.SSLContext | None = None) -> OcppServer:
        s = self.settings
        if ssl is None and s.ocpp_tls_cert and s.ocpp_tls_key:
            ssl = tls_context(str(s.ocpp_tls_cert), str(s.ocpp_tls_key),
                              str(s.csms_ca_cert) if s.csms_ca_cert else None)
        self._tls = ssl is not None
        try:
            await self._register()
        except DatabaseUnavailable:
            pass  # serve anyway (handshakes get 503 until the database is back); the liveness loop registers
        self.meters.start()
        self.frames.start()
        self.handshakes.start()
        self.stalls.start()
        self._ws_server = await serve(
            self._handle, host if host is not None else s.ocpp_host, s.ocpp_port if port is None else port,
            ssl=ssl, subprotocols=[SUBPROTOCOL], process_request=self._process_request,
            process_response=self._process_response,
            max_size=s.ocpp_max_frame_bytes, max_queue=4, write_limit=4096,
            # OCPP frames are small: compression would cost ~100 KiB of zlib state per connection for little gain.
            compression=None, ping_interval=PING_INTERVAL, ping_timeout=PING_TIMEOUT, close_timeout=5,
            server_header="Voltdesk-OCPP",
            # A restart brings every charger back at once: a deep accept queue and a patient opening handshake
            # let the batched handshakes drain the storm instead of refusing it into retries.
            backlog=4096, open_timeout=60,
        )
        self.port = self._ws_server.sockets[0].getsockname()[1]
        for job in (self._touch_loop, self._offline_loop, self._command_listener, self._command_sweep_loop,
                    self._liveness_loop):
            self._tasks.append(asyncio.create_task(job(), name=job.__name__))
        log.info("OCPP 1.6J server listening on %s:%s%s", host or s.ocpp_host, self.port,
                 " (TLS)" if self._tls else "")
        return self

    async def stop(self) -> None:
        """Clean shutdown: close the sockets, write everything acknowledged, mark our chargers Offline."""
        self._stopping = True
        tokens = [c.token for c in self.connections.values()]
        for conn in self.connections.values():
            # A charger that does not answer the close frame soon is cut off: a stop takes seconds, not the
            # full close timeout of its slowest charger.
            conn.ws.close_timeout = STOP_CLOSE_TIMEOUT
        if self._ws_server is not None:
            self._ws_server.close()
            await self._ws_server.wait_closed()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.stalls.stop()
        await self.handshakes.stop()
        if self.handshakes.batches:
            log.info("handshakes: %d in %d transactions", self.handshakes.items, self.handshakes.batches)
        await self.meters.stop()
        await self.frames.stop()
        try:
            await self._flush_seen()
            if self.process_id is not None:  # every charger we held, Offline in one transaction
                await self.db(registry.release_process, process_id=self.process_id, now=utcnow())
            else:
                await self.db(presence.reset_connections, tokens=tokens, now=utcnow())
        except DatabaseUnavailable:
            pass  # logged by the availability; the next start or the offline sweep marks them Offline
        await self._writers.close()

    # --- the websocket handshake and connection -----------------------------------------------------------

    async def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        """The checks that need no database; the rest is in `_process_response`, once the upgrade is valid."""
        path = request.path.split("?", 1)[0]
        if path == HEALTH_PATH:
            return ws.respond(503, "draining\n") if self.draining else ws.respond(200, "ok\n")
        ocpp_id = unquote(path[len(PATH_PREFIX):]) if path.startswith(PATH_PREFIX) else ""
        if not ocpp_id or "/" in ocpp_id:
            return ws.respond(404, "Connect to /ocpp/{chargePointId}.\n")
        offered = {p.strip() for h in request.headers.get_all("Sec-WebSocket-Protocol") for p in h.split(",")}
        if SUBPROTOCOL not in offered:
            return ws.respond(400, "The ocpp1.6 subprotocol is required.\n")
        try:
            ocpp_id = validate_ocpp_id(ocpp_id)
        except ValidationError:
            return ws.respond(404, "Unknown charge point id.\n")
        creds = basic_credentials(request.headers.get("Authorization"))
        if creds is not None and creds[0] != ocpp_id:
            creds = (creds[0], "")  # the username must be the charge point id
        ws.voltdesk_attempt = presence.Attempt(ocpp_id, creds[1] if creds else None, client_common_name(ws),
                                               uuid.uuid4().hex)
        return None

    async def _process_response(self, ws: ServerConnection, request: Request, response: Response) -> Response | None:
        """The upgrade is valid: check the charger and register its connection, in one transaction shared with
        the handshakes arriving at the same time (`connect_many_async`)."""
        attempt = getattr(ws, "voltdesk_attempt", None)
        if response.status_code != 101 or attempt is None:
            return None  # refused already (by _process_request or by the websocket checks)
        remote = ws.remote_address[0] if ws.remote_address else None
        try:
            answer = await self._admitted(attempt)
            if answer.unknown:
                await self.db(presence.record_unknown, ocpp_id=attempt.ocpp_id, remote_address=remote, now=utcnow())
        except DatabaseUnavailable:
            # Not the charger's fault, and temporary: it should retry (logged once, by the availability).
            refused = ws.respond(503, "The central system is temporarily unavailable.\n")
            refused.headers["Retry-After"] = "30"
            return refused
        if answer.charger is None:
            log.info("refused %s from %s: %s", attempt.ocpp_id, remote, answer.reason)
            refused = ws.respond(answer.status, answer.reason + "\n")
            if answer.status == 401:
                refused.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
            return refused
        ws.voltdesk_admitted = answer  # read by _handle
        return None

    async def _admitted(self, attempt: presence.Attempt) -> presence.Admitted:
        future = self.handshakes.submit(attempt)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # The handshake timed out while its batch ran: if the batch registered it, no handler will ever
            # close it, so it is closed here.
            future.add_done_callback(lambda f: self._abandoned(f, attempt))
            raise

    def _abandoned(self, future: asyncio.Future, attempt: presence.Attempt) -> None:
        if future.cancelled() or future.exception() is not None or future.result().charger is None:
            return
        self._spawn(self._close_registration(future.result().charger.id, attempt.token))

    async def _close_registration(self, charger_id: int, token: str) -> None:
        try:
            await self.db(presence.mark_disconnected, charger_id=charger_id, token=token, now=utcnow())
        except DatabaseUnavailable:
            pass  # the offline sweep marks it once the database is back

    async def _handle(self, ws: ServerConnection) -> None:
        admitted: presence.Admitted = ws.voltdesk_admitted
        conn = ChargerConnection(self, ws, admitted.charger, token=ws.voltdesk_attempt.token)
        conn.generation = admitted.generation
        charger_id = conn.charger.id
        old = self.connections.get(charger_id)
        if old is None or old.generation < conn.generation:
            self.connections[charger_id] = conn
            if old is not None:  # a reconnect supersedes the stale socket
                asyncio.ensure_future(old.ws.close(1000, "Replaced by a new connection"))
        else:  # a newer connection of this charger registered first: this one is already stale
            asyncio.ensure_future(ws.close(1000, "Replaced by a new connection"))
        try:
            await conn.serve()
        except ConnectionClosed:
            pass
        finally:
            conn.close_pending()
            if self.connections.get(charger_id) is conn:
                del self.connections[charger_id]
            if not self._stopping:
                await self._close_registration(charger_id, conn.token)

    # --- liveness and offline detection --------------------------------------------------------------------

    async def _flush_seen(self) -> None:
        seen, self._seen = self._seen, {}
        if seen:
            await self.write(presence.touch_async, seen=seen)

    async def _touch_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self._flush_seen()
            except DatabaseUnavailable:
                pass  # logged once by the availability; tried again next round
            except Exception:
                log.exception("liveness flush failed")

    async def sweep_offline(self) -> list[int]:
        """Chargers silent beyond heartbeat interval + grace go Offline; their sockets here are closed."""
        await self._flush_seen()
        s = self.settings
        silence = timedelta(seconds=s.ocpp_heartbeat_interval + s.ocpp_offline_grace_seconds)
        ids = await self.db(presence.mark_silent_offline, now=utcnow(), silence=silence)
        for cid in ids:
            conn = self.connections.get(cid)
            if conn is not None:
                asyncio.ensure_future(conn.ws.close(1001, "Missed heartbeats"))
        return ids

    async def _offline_loop(self) -> None:
        period = max(1.0, min(30.0, self.settings.ocpp_offline_grace_seconds / 2))
        while True:
            await asyncio.sleep(period)
            try:
                await self.sweep_offline()
            except DatabaseUnavailable:
                pass  # logged once by the availability; tried again next round
            except Exception:
                log.exception("offline sweep failed")

    async def _liveness_loop(self) -> None:
        """Renew this process's liveness row; mark the chargers of dead processes Offline (docs/adr/0008)."""
        s = self.settings
        dead_after = timedelta(seconds=s.ocpp_process_dead_after_seconds)
        while True:
            await asyncio.sleep(s.ocpp_process_renew_seconds)
            try:
                await self.renew_liveness()
                await self.db(registry.sweep_dead_processes, now=utcnow(), dead_after=dead_after,
                              sweeper_id=self.process_id)
            except DatabaseUnavailable:
                pass  # logged once by the availability; tried again next round
            except Exception:
                log.exception("liveness renewal failed")

    async def _register(self) -> None:
        self.process_id = await self.db(registry.register_process, hostname=socket.gethostname(),
                                        pid=os.getpid(), now=utcnow())

    async def renew_liveness(self) -> None:
        if self.process_id is None:
            await self._register()
            return
        if await self.db(registry.renew_process, process_id=self.process_id):
            return
        # We stalled past the limit and were swept as dead: our chargers are marked Offline and our sockets no
        # longer own them. Start over under a new row; the chargers reconnect and register again.
        log.warning("this process was swept as dead; closing its %d connections", len(self.connections))
        await self._register()
        for conn in list(self.connections.values()):
            asyncio.ensure_future(conn.ws.close(1012, "Service restart"))

    def _superseded(self, data: dict) -> None:
        """Another process took a charger's newest connection: close ours if it is older."""
        if data.get("process_id") != self.process_id:
            return
        conn = self.connections.get(data.get("charger_id"))
        if conn is not None and conn.generation < data.get("generation", 0):
            asyncio.ensure_future(conn.ws.close(1000, "Replaced by a newer connection"))

    # --- the command channel (docs/adr/0003-command-channel.md) ------------------------------------------

    async def _command_listener(self) -> None:
        url = self._db_url
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(url, autocommit=True) as aconn:
                    await aconn.execute(f"LISTEN {COMMAND_CHANNEL}")
                    await aconn.execute(f"LISTEN {presence.CONNECTION_CHANNEL}")
                    await self.sweep_commands()  # catch up on anything sent while we were not listening
                    async for note in aconn.notifies():
                        try:
                            data = json.loads(note.payload)
                            if note.channel == presence.CONNECTION_CHANNEL:
                                self._superseded(data)
                                continue
                            command_id, charger_id = int(data["id"]), int(data["charger_id"])
                        except (ValueError, KeyError, TypeError, AttributeError):
                            continue
                        if charger_id in self.connections:
                            self._spawn(self._claim_and_run(command_id, charger_id))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_unavailable(exc) or isinstance(exc, DatabaseUnavailable):
                    self.availability.failed(exc)
                else:
                    log.exception("command listener lost its connection; reconnecting")
                await asyncio.sleep(2)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _claim_and_run(self, command_id: int, charger_id: int) -> None:
        conn = self.connections.get(charger_id)
        if conn is None:
            return
        claimed = await self.db(cmd_svc.claim_command, command_id=command_id, charger_id=charger_id,
                                token=conn.token)
        if claimed is not None:
            await self._run_command(claimed)

    async def sweep_commands(self) -> None:
        held = {cid: conn.token for cid, conn in self.connections.items()}
        claimed = await self.db(cmd_svc.claim_pending, held=held)
        for cmd in claimed:
            self._spawn(self._run_command(cmd))

    async def _command_sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(COMMAND_SWEEP_SECONDS)
            try:
                await self.sweep_commands()
            except DatabaseUnavailable:
                pass  # logged once by the availability; tried again next round
            except Exception:
                log.exception("command sweep failed")

    async def _run_command(self, cmd: cmd_svc.ClaimedCommand) -> None:
        conn = self.connections.get(cmd.charger_id)
        result, error, expired = None, None, False
        payload, rotated = cmd.payload, None
        if conn is None:
            error = cmd_svc.OFFLINE
        elif cmd.remaining <= 0:
            error, expired = cmd_svc.EXPIRED.format(wait=cmd.timeout), True
        else:
            if auth_key.is_key_change(cmd.action, cmd.payload):
                # Generated here and now, never stored: only its keyed hash (services/ocpp/auth_key.py).
                key, rotated = auth_key.new_key()
                await self.db(auth_key.offer_key, charger_id=cmd.charger_id, key_hash=rotated)
                payload = {"key": auth_key.KEY, "value": key}
            try:
                result = await conn.call(cmd.action, payload, cmd.remaining)
            except NotSent:
                error, expired = cmd_svc.EXPIRED.format(wait=cmd.timeout), True
            except TimeoutError:
                error = f"Charger did not answer within {cmd.timeout:g} s"
            except CallFailed as exc:
                error = f"Charger answered with an error: {exc}"
            except (ConnectionClosed, ConnectionError):
                error = cmd_svc.OFFLINE
        # The charger surely kept its old key only when it said so; without an answer it may hold either.
        refused = expired or (error or "").startswith("Charger answered with an error") or (
            isinstance(result, dict) and result.get("status") in ("Rejected", "NotSupported"))
        if rotated is not None and refused:
            await self.db(auth_key.withdraw_key, charger_id=cmd.charger_id, key_hash=rotated)
        await self.db(cmd_svc.complete_command, command_id=cmd.id, action=cmd.action, result=result, error=error,
                      expired=expired)
