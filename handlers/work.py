"""The slow part of answering a person, off the listener that acknowledges.

Bolt runs listeners on a small pool (5 threads); a listener that acknowledges and then runs a diagnosis holds
its thread for the whole diagnosis, so six slow answers at once make the seventh acknowledgement wait past
Slack's 3 seconds. Here the listener only admits the work (`admit`), acknowledges, and hands it over
(`Admission.start`): the work runs on this bounded pool of `SESBOT_ANSWER_WORKERS` threads, at most
`SESBOT_ANSWER_QUEUE` more wait, and beyond that the person is told at once that the bot is busy.

    >>> work = Work(workers=1, queue=1)
    >>> a, b, c = work.admit(), work.admit(), work.admit()
    >>> (a.accepted, a.ahead), (b.accepted, b.ahead), c.accepted
    ((True, 0), (True, 1), False)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Admission:
    """A place in the pool (or not): `ahead` is how many answers wait before this one."""

    work: Work
    accepted: bool
    ahead: int = 0
    waiting: int = 0  # when refused: how many were already waiting
    _started: bool = False

    def start(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run `fn` on the pool; an exception is logged (the person's answer says what failed)."""
        if not self.accepted or self._started:
            raise RuntimeError("this admission was refused or has already started")
        self._started = True
        self.work._submit(fn, args, kwargs)

    def cancel(self) -> None:
        """Give the place back without running anything (the acknowledgement failed, the input was bad)."""
        if self.accepted and not self._started:
            self._started = True
            self.work._done()


class Work:
    """A bounded thread pool with a bounded wait: `workers` run, `queue` more wait, the rest are refused."""

    def __init__(self, workers: int, queue: int) -> None:
        self.workers, self.queue = max(1, workers), max(0, queue)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="answer")
        self._lock = threading.Lock()
        self._active = 0  # admitted and not yet finished (running + waiting)

    @property
    def active(self) -> int:
        with self._lock:
            return self._active

    def admit(self) -> Admission:
        with self._lock:
            if self._active >= self.workers + self.queue:
                return Admission(self, False, waiting=self._active - self.workers)
            ahead = max(0, self._active - self.workers + 1)
            self._active += 1
            return Admission(self, True, ahead=ahead)

    def _done(self) -> None:
        with self._lock:
            self._active -= 1

    def _submit(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        def run() -> None:
            try:
                fn(*args, **kwargs)
            except Exception:  # the worker survives; the log has the detail
                log.exception("answering failed")
            finally:
                self._done()

        self._pool.submit(run)

    def shutdown(self, wait: bool = False) -> None:
        """Take no more work and drop what waits; with `wait`, return once the answers running are done (so
        nothing is still talking to Slack when the caller stops what it talks to)."""
        self._pool.shutdown(wait=wait, cancel_futures=True)
