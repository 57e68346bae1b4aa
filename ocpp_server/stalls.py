"""Event-loop stall and garbage-collector pause warnings: the two things that turn into tail latency.

A stall is logged with how much of it this thread spent on a CPU: a 200 ms stall with 5 ms of CPU means the
process was waiting to be scheduled (a busy machine), not that our code was slow.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger("ocpp_server.stalls")

TICK = 0.01
WARN_AFTER = 0.1


class StallMonitor:
    def __init__(self, warn_after: float = WARN_AFTER) -> None:
        self.warn_after = warn_after
        self.stalls = 0
        self.worst = 0.0  # the longest stall seen, in seconds
        self.gc_pauses = 0
        self._gc_started: tuple[float, float] | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.create_task(self._watch(), name="stall-monitor")

    async def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter(), time.thread_time()
        elif self._gc_started is not None:
            took = time.perf_counter() - self._gc_started[0]
            cpu = time.thread_time() - self._gc_started[1]
            self._gc_started = None
            if took >= self.warn_after:
                self.gc_pauses += 1
                log.warning("garbage collection of generation %d took %.0f ms (%.0f ms of CPU, %d collected)",
                            info["generation"], took * 1000, cpu * 1000, info["collected"])

    async def _watch(self) -> None:
        while True:
            wall, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(TICK)
            lag = time.perf_counter() - wall - TICK
            self.worst = max(self.worst, lag)
            if lag >= self.warn_after:
                self.stalls += 1
                log.warning("event loop stalled %.0f ms (%.0f ms of CPU in that time)", lag * 1000,
                            (time.thread_time() - cpu) * 1000)
