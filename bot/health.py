"""How the bot's background parts are doing, for `/healthz`: the SQS consumer and the alert sweep say when
they fail and when they work again, and the threads they run on are watched.

`/healthz` stays 200 either way (the process is alive, and a restart would not fix a denied queue or a full
disk); its text says `degraded: ...` with the reasons, which a platform's health check or a person can read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable


class Health:
    """Thread-safe: each part reports from its own thread; `problems()` is read by the HTTP server."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failing: dict[str, tuple[str, float]] = {}  # part -> (why, since)
        self._threads: dict[str, list[threading.Thread]] = {}
        self._stopping = threading.Event()

    def failed(self, part: str, why: str) -> None:
        """`part` failed just now (the first failure of a run of them is when it started)."""
        with self._lock:
            since = self._failing.get(part, (why, self._clock()))[1]
            self._failing[part] = (why, since)

    def working(self, part: str) -> None:
        """`part` worked just now."""
        with self._lock:
            self._failing.pop(part, None)

    def watch(self, part: str, threads: Iterable[threading.Thread]) -> None:
        """Say so when one of `threads` (which should run until the bot stops) is gone."""
        with self._lock:
            self._threads[part] = list(threads)

    def stopping(self) -> None:
        """The bot is stopping: threads ending now are not a problem."""
        self._stopping.set()

    def problems(self) -> list[str]:
        """What is wrong now, one phrase each, oldest failure first."""
        now = self._clock()
        with self._lock:
            failing = sorted(self._failing.items(), key=lambda kv: kv[1][1])
            threads = dict(self._threads)
        out = [f"{part} failing for {int(now - since)} s ({why})" for part, (why, since) in failing]
        if not self._stopping.is_set():
            for part, ts in threads.items():
                gone = [t.name for t in ts if not t.is_alive()]
                if gone:
                    out.append(f"{part} stopped ({', '.join(gone)})")
        return out
