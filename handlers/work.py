"""The slow part of answering a person, off the listener that acknowledges.

Bolt runs listeners on a small pool (5 threads); a listener that acknowledges and then runs a diagnosis holds
its thread for the whole diagnosis, so six slow answers at once make the seventh acknowledgement wait past
Slack's 3 seconds. Here the listener only admits the work (`admit`), acknowledges, and hands it over
(`Admission.start`): the work runs on this bounded pool of `SESBOT_ANSWER_WORKERS` threads, at most
`SESBOT_ANSWER_QUEUE` more wait, and beyond that the person is told at once that the bot is busy. When the bot
stops, an answer still waiting or running is not given: its `if_dropped` tells the person to ask again.

    >>> work = Work(workers=1, queue=1)
    >>> a, b, c = work.admit(), work.admit(), work.admit()
    >>> (a.accepted, a.ahead), (b.accepted, b.ahead), c.accepted
    ((True, 0), (True, 1), False)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)
# How long telling people their answer is not coming may take when `Work.shutdown` is given no deadline.
TELL_SECONDS = 5.0


@dataclass
class Admission:
    """A place in the pool (or not): `ahead` is how many answers wait before this one."""

    work: Work
    accepted: bool
    ahead: int = 0
    waiting: int = 0  # when refused: how many were already waiting
    _started: bool = False

    def start(
        self, fn: Callable[..., Any], *args: Any, if_dropped: Callable[[], None] | None = None, **kwargs: Any
    ) -> None:
        """Run `fn` on the pool; an exception is logged (the person's answer says what failed). `if_dropped`
        tells the person the answer is not coming, should the bot stop before `fn` is done."""
        if not self.accepted or self._started:
            raise RuntimeError("this admission was refused or has already started")
        self._started = True
        self.work._submit(fn, args, kwargs, if_dropped)

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
        self._promised: dict[Future[None], Callable[[], None] | None] = {}  # started, not finished: if_dropped

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

    def _submit(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        if_dropped: Callable[[], None] | None,
    ) -> None:
        def run() -> None:
            try:
                fn(*args, **kwargs)
            except Exception:  # the worker survives; the log has the detail
                log.exception("answering failed")
            finally:
                self._done()

        with self._lock:
            future = self._pool.submit(run)
            self._promised[future] = if_dropped
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[None]) -> None:
        if not future.cancelled():  # a cancelled one is dropped: `shutdown` tells its person
            with self._lock:
                self._promised.pop(future, None)

    def shutdown(self, wait: bool = False, finish_by: float | None = None) -> int:
        """Take no more work and drop what waits; with `wait`, return once the answers running are done (so
        nothing is still talking to Slack when the caller stops what it talks to), else drop those too. Each
        person whose answer is dropped is told to ask again, at once, all of them together, until `finish_by`
        (`time.monotonic()`; `TELL_SECONDS` from now without it): a slow Slack does not hold the caller past
        it. Returns how many answers were dropped."""
        with self._lock:
            promised = dict(self._promised)
        self._pool.shutdown(wait=wait, cancel_futures=True)
        waiting = [tell for future, tell in promised.items() if future.cancelled()]
        running = [tell for future, tell in promised.items() if not future.done()]
        if not waiting and not running:
            return 0
        told = _tell([t for t in waiting + running if t is not None], finish_by or time.monotonic() + TELL_SECONDS)
        log.warning(
            "stopping: %d answers not given (%d waiting, %d running); %d of their askers told to ask again",
            len(waiting) + len(running),
            len(waiting),
            len(running),
            told,
        )
        return len(waiting) + len(running)


def _tell(tells: list[Callable[[], None]], finish_by: float) -> int:
    """Run each of `tells` on its own thread, all at once, waiting for them until `finish_by`; how many were
    done by then (one that is not is abandoned: its thread does not keep the process)."""
    told: list[bool] = []

    def tell(fn: Callable[[], None]) -> None:
        try:
            fn()
            told.append(True)
        except Exception as exc:  # noqa: BLE001 - one failed notice is one log line, the others still go
            log.warning("could not tell an asker their answer is not coming: %s", type(exc).__name__)

    threads = [threading.Thread(target=tell, args=(fn,), name="answer-dropped", daemon=True) for fn in tells]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, finish_by - time.monotonic()))
    return len(told)
