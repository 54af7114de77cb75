"""How long the daily digest and a rate alert's forecast take on a large history (issue 13).

Fills a fresh store with 90 days of history: counters for 200 recipient domains (Send and Delivery every
hour: 8.6 million sends, 864,000 counter rows) and 300,000 bounce and complaint events, then times
`digest_answer` (three windows of rates, the top bounce domains and categories, open incidents) and the
history read behind a forecast (`history.hourly_series` over the last 6 hours, what `rate_forecast` adds
to a rate transition), each the median of 10 runs after a first one. Nothing is asserted.

    .venv/bin/python benchmarks/digest.py
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import history
from bot.deps import Deps
from bot.digest import digest_answer
from bot.settings import Settings
from bot.store import Store, iso

DAYS = 90
DOMAINS = 200
EVENTS = 300_000


def fill(store: Store, now: datetime) -> None:
    rng = random.Random(5)
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=DAYS)
    hours = [iso(start + timedelta(hours=h))[:13] for h in range(DAYS * 24)]
    with store.transaction() as db:
        db.conn.executemany(
            "INSERT INTO counters (hour, type, domain, config_set, count) VALUES (?, ?, ?, '', ?)",
            (
                (hour, kind, f"d{d}.example", 5 if kind == "Send" else 4)
                for hour in hours
                for d in range(DOMAINS)
                for kind in ("Send", "Delivery")
            ),
        )
        rows = []
        for n in range(EVENTS):
            at = start + timedelta(seconds=rng.randrange(DAYS * 86400))
            kind = "Complaint" if n % 20 == 0 else "Bounce"
            domain = f"d{rng.randrange(DOMAINS)}.example"
            category = rng.choice(["unknown_user", "mailbox_full", "ip_blocklist", "policy", None])
            rows.append((f"e{n}", kind, f"r{n}@{domain}", domain, iso(at), "Permanent", "General", category, iso(at)))
        db.conn.executemany(
            "INSERT INTO events (id, type, recipient, domain, timestamp, bounce_type, bounce_subtype, category, "
            "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def timed(fn, runs: int = 10) -> tuple[float, float]:
    started = time.perf_counter()
    fn()
    first = time.perf_counter() - started
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return first, statistics.median(times)


def main() -> None:
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "bench.db"))
        started = time.perf_counter()
        fill(store, now)
        print(f"filled {DAYS} days ({DOMAINS} domains, {EVENTS:,} events) in {time.perf_counter() - started:.1f} s")
        deps = Deps.build(Settings(regions=["us-east-1"]), store=store, clock=lambda: now)
        first, median = timed(lambda: digest_answer(deps, now))
        print(f"digest_answer: first {first * 1000:.0f} ms, median of 10 {median * 1000:.0f} ms")
        window = lambda: history.hourly_series(store, now - timedelta(hours=5), now + timedelta(minutes=1))  # noqa: E731
        first, median = timed(window)
        print(f"forecast's sends (6 h of counters): first {first * 1000:.1f} ms, median of 10 {median * 1000:.1f} ms")
        store.close()


if __name__ == "__main__":
    main()
