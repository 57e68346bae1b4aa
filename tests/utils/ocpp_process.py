"""`python -m ocpp_server` as a real separate process on a free port, with `.port` like the in-process server."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OcppProcess:
    def __init__(self, database_url: str, **env: str) -> None:
        self.port = free_port()
        self.output: list[str] = []
        full_env = dict(os.environ, DATABASE_URL=database_url, OCPP_HOST="127.0.0.1", OCPP_PORT=str(self.port),
                        OCPP_COMMAND_TIMEOUT_SECONDS="5", **env)
        self.proc = subprocess.Popen([sys.executable, "-m", "ocpp_server"], env=full_env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        for line in self.proc.stdout:
            self.output.append(line)
            if "OCPP server ready" in line:
                break
        else:
            raise RuntimeError("OCPP server process did not start:\n" + "".join(self.output))
        # Keep reading its log so the pipe never fills up and blocks the server.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=30)

    def kill(self) -> None:
        """kill -9: no clean stop, nothing flushed."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
