"""A per-user sliding-window rate limit, in memory (one process runs the bot).

>>> limit = RateLimit(per_minute=2, clock=lambda: 0.0)
>>> limit.check("U1"), limit.check("U1"), limit.check("U1")
(0.0, 0.0, 60.0)
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class RateLimit:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, window: float = 60.0):
        self.per_minute = per_minute
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key: str) -> float:
        """Record a hit and return 0, or refuse it and return the seconds to wait."""
        now = self.clock()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(1.0, round(hits[0] + self.window - now, 0))
            hits.append(now)
            return 0.0
