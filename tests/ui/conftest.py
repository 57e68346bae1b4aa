"""Browser tests: the real app (`reflex run --env prod --single-port`) driven by Debian's chromium.

The app runs once per test session against the test database. Each test seeds its own committed
data through the factories (the `session` fixture empties the tables after the test, once the
browser page is closed), so no test removes data the app is using while that test runs.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = str(ROOT / ".venv" / "bin")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Seconds for the app to build and answer; a loaded shared machine may need more (UI_START_TIMEOUT).
START_TIMEOUT = int(os.environ.get("UI_START_TIMEOUT", "180"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def mail_server():
    """A real SMTP server (aiosmtpd) the app sends every mail to; tests read `mail_server.inbox`."""
    from tests.utils.smtp import SmtpServer

    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="session")
def app_log(app_url) -> Path:
    """What `reflex run` printed for the app under test (start-up warnings included)."""
    return Path(f"/tmp/voltdesk-ui-test-{app_url.rsplit(':', 1)[-1]}.log")


@pytest.fixture(scope="session")
def app_url(database_url, mail_server):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # PUBLIC_URL: links in mail (invitations, password resets) open this app.
    env = dict(os.environ, DATABASE_URL=database_url, REFLEX_USE_NPM="1", SMTP_URL=mail_server.url,
               PUBLIC_URL=url, PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}")
    log = open(f"/tmp/voltdesk-ui-test-{port}.log", "w")
    proc = subprocess.Popen(
        [f"{VENV_BIN}/reflex", "run", "--env", "prod", "--single-port", "--frontend-port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(f"{url}/login"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"The app did not start; see {log.name}")
            time.sleep(1)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def world(session):
    """The test's own committed data lives in the test database; `session` empties it afterwards."""
    return session


@pytest.fixture
def page(browser, app_url, world):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=app_url)
    pg = context.new_page()
    # Printed only when a test fails: what the browser fetched and where it went.
    pg.on("response", lambda r: print("http", r.status, r.url) if r.status >= 400 else None)
    pg.on("framenavigated", lambda f: print("navigated", f.url) if f == pg.main_frame else None)
    pg.on("console", lambda m: print("console", m.type, m.text) if m.type in ("error", "warning") else None)
    yield pg
    context.close()


@pytest.fixture
def screenshot():
    """Save what the browser shows to /tmp, to look at when a page changes."""
    def take(pg, name: str) -> Path:
        path = Path("/tmp") / f"voltdesk-ui-{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    return take
