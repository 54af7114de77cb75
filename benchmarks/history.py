"""History read speed: one recipient's events and a 24-hour bounce rate on a big database.

    .venv/bin/python benchmarks/history.py                      # 5,000,000 problem events, 100,000 recipients
    .venv/bin/python benchmarks/history.py --events 500000      # quicker
    .venv/bin/python benchmarks/history.py --db /tmp/h.db       # keep the database and reuse it next time

The database is built with the bot's own schema (`bot.store` migrations): problem events spread over 90
days (the default retention) in time order, as they arrive -- 70 % bounces (a realistic mix of hard,
soft, suppressed and blocklist bounces), 10 % complaints, 15 % delivery delays, 5 % rejects -- across
`--recipients` addresses on 2,000 domains (one big mailbox provider takes a third), plus hourly send and
delivery counters at 50 sends per problem event.

Printed: the median (and 95th percentile) time of `bot.history.recipient_events` for random recipients
(target: median under 5 ms) and of `bot.history.rate_estimate` over the last 24 hours (target: under
50 ms), plus the other alert queries for reference; then the sweep's blocklist read and the blocklist
check's latest example without ANALYZE statistics, as the bot's own database has none before its first prune.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.alerts.signals import blocklist_readings  # noqa: E402
from bot.events import EVENT_COLUMNS  # noqa: E402
from bot.history import (  # noqa: E402
    blocklist_events,
    domain_blocklist_events,
    domain_events,
    hourly_series,
    rate_estimate,
    recipient_events,
    sending_ips,
)
from bot.settings import Settings  # noqa: E402
from bot.store import KV_BLOCKLIST_MARK as KV  # noqa: E402
from bot.store import Store, iso  # noqa: E402

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
DAYS = 90
BOUNCES = [
    ("Permanent", "General", "smtp; 550 5.1.1 user unknown", "unknown_user", None, None),
    ("Permanent", "NoEmail", "smtp; 550 5.1.1 mailbox does not exist", "unknown_user", None, None),
    (
        "Permanent",
        "OnAccountSuppressionList",
        "Amazon SES has suppressed sending to this address",
        "suppressed",
        None,
        None,
    ),
    ("Transient", "MailboxFull", "smtp; 552 5.2.2 mailbox full", "mailbox_full", None, None),
    ("Transient", "General", "smtp; 421 4.7.0 try again later", "throttling", None, None),
    (
        "Permanent",
        "General",
        "smtp; 554 5.7.1 Client host [54.240.8.{n}] blocked using zen.spamhaus.org",
        "ip_blocklist",
        "zen.spamhaus.org",
        "54.240.8.{n}",
    ),
]


def build(path: str, n_events: int, n_recipients: int) -> None:
    rng = random.Random(7)
    domains = ["gmail.com"] + [f"d{i}.example" for i in range(1999)]
    weights = [1000] + [1] * 1999  # one provider holds a third of the addresses
    recipients = [f"user{i}@{d}" for i, d in enumerate(rng.choices(domains, weights, k=n_recipients))]
    start = NOW - timedelta(days=DAYS)
    step = DAYS * 86400 / n_events
    cols = ", ".join(EVENT_COLUMNS)
    marks = ", ".join("?" for _ in EVENT_COLUMNS)
    store = Store(path)
    conn = store.conn
    # Building only: a big page cache, so five million random-key index inserts do not thrash the disk.
    conn.execute("PRAGMA cache_size = -1000000")
    received = iso(NOW)
    t0 = time.perf_counter()
    chunk: list[tuple] = []
    index = {c: k for k, c in enumerate(EVENT_COLUMNS)}
    base_row = [None] * len(EVENT_COLUMNS)
    base_row[index["source"]] = "news@mail.example.com"
    base_row[index["region"]] = "us-east-1"
    base_row[index["received_at"]] = received
    t_start = start.timestamp()
    for i in range(n_events):
        t = t_start + i * step
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"
        recipient = rng.choice(recipients)
        row = base_row.copy()
        roll = rng.random()
        if roll < 0.70:
            bounce_type, subtype, diag, category, blocklist, ip = rng.choice(BOUNCES)
            n = i % 8
            row[index["type"]] = "Bounce"
            row[index["bounce_type"]] = bounce_type
            row[index["bounce_subtype"]] = subtype
            row[index["diagnostic"]] = diag.format(n=n)
            row[index["status"]] = "5.1.1"
            row[index["category"]] = category
            row[index["blocklist"]] = blocklist
            row[index["sending_ip"]] = ip.format(n=n) if ip else None
        elif roll < 0.80:
            row[index["type"]] = "Complaint"
            row[index["complaint_type"]] = "abuse"
        elif roll < 0.95:
            row[index["type"]] = "DeliveryDelay"
            row[index["delay_type"]] = "TransientCommunicationFailure"
            row[index["diagnostic"]] = "421 4.4.1 timeout"
            row[index["status"]] = "4.4.1"
            row[index["category"]] = "connection"
        else:
            row[index["type"]] = "Reject"
            row[index["reason"]] = "Bad content"
            row[index["category"]] = "content"
        row[index["id"]] = hashlib.blake2b(str(i).encode(), digest_size=16).hexdigest()
        row[index["recipient"]] = recipient
        row[index["domain"]] = recipient.rpartition("@")[2]
        row[index["timestamp"]] = ts
        row[index["message_id"]] = f"0100018f{i:012x}-000000"
        row[index["config_set"]] = "newsletter" if i % 4 else "transactional"
        chunk.append(tuple(row))
        if len(chunk) >= 100_000:
            with store.transaction():
                conn.executemany(f"INSERT INTO events ({cols}) VALUES ({marks})", chunk)
            chunk = []
            done = i + 1
            print(f"  {done:,} events ({done / (time.perf_counter() - t0):,.0f}/s)", end="\r", flush=True)
    if chunk:
        with store.transaction():
            conn.executemany(f"INSERT INTO events ({cols}) VALUES ({marks})", chunk)
    # Hourly counters: 50 sends and 48 deliveries per problem event, over 50 domains each hour.
    hours = DAYS * 24
    per_hour = n_events * 50 // hours
    counters = []
    for h in range(hours):
        hour = iso(start + timedelta(hours=h))[:13]
        for d in domains[:50]:
            counters.append((hour, "Send", d, "newsletter", per_hour // 50))
            counters.append((hour, "Delivery", d, "newsletter", per_hour * 48 // 50 // 50))
    with store.transaction():
        conn.executemany(
            "INSERT INTO counters (hour, type, domain, config_set, count) VALUES (?, ?, ?, ?, ?)", counters
        )
    conn.execute("ANALYZE")
    store.close()
    print(f"\nbuilt {n_events:,} events and {len(counters):,} counter rows in {time.perf_counter() - t0:.0f} s")


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def report(name: str, times: list[float], target: float | None = None) -> None:
    times = sorted(times)
    median = statistics.median(times)
    p95 = times[int(len(times) * 0.95) - 1] if len(times) >= 20 else times[-1]
    verdict = "" if target is None else f"  (target < {target:g} ms: {'met' if median < target else 'NOT met'})"
    print(f"{name:38} median {median:8.2f} ms   p95 {p95:8.2f} ms{verdict}")


def without_statistics(store: Store, path: str, picks: list[str]) -> None:
    """The sweep's blocklist read (inside its write transaction) and the blocklist check's latest example, as
    the bot's own database has them until its first prune runs `PRAGMA optimize`: with no ANALYZE statistics
    (hidden inside a transaction rolled back at the end, so the file keeps them)."""
    conn = store.conn
    settings = Settings.from_env({"SESBOT_DB": path})
    top = conn.execute("SELECT max(rowid) FROM events").fetchone()[0]
    later = NOW + timedelta(days=1)  # nothing received in the first sweep's interval: it must find none, fast
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DELETE FROM sqlite_stat1")
        conn.execute("ANALYZE sqlite_schema")  # the planner reloads the (now empty) statistics
        print("without ANALYZE statistics (the bot never runs ANALYZE; its prune runs PRAGMA optimize):")

        def steady() -> None:  # the last ~100 events are new since the last sweep
            conn.execute("INSERT OR REPLACE INTO kv (key, value, updated_at) VALUES (?, ?, '')", [KV, str(top - 100)])
            blocklist_readings(conn, settings, NOW)

        def first() -> None:
            conn.execute("DELETE FROM kv WHERE key = ?", [KV])
            blocklist_readings(conn, settings, later)

        it = iter(picks)

        def latest() -> None:
            who = next(it)
            domain_blocklist_events(store, who.rsplit("@", 1)[1], since=NOW - timedelta(days=30), recipient=who)

        report("sweep blocklist read (100 new events)", timed(steady, 30))
        report("first sweep's blocklist read", timed(first, 5))
        report("blocklist check, latest to recipient", timed(latest, min(30, len(picks))))
    finally:
        conn.execute("ROLLBACK")
        conn.execute("ANALYZE sqlite_schema")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=5_000_000, help="problem events (default 5,000,000)")
    parser.add_argument("--recipients", type=int, default=100_000, help="distinct recipients (default 100,000)")
    parser.add_argument("--db", help="database file to build (or reuse when it exists)")
    parser.add_argument("--lookups", type=int, default=500, help="recipient lookups to time")
    args = parser.parse_args(argv)

    tmp = None
    path = args.db
    if path is None:
        tmp = tempfile.TemporaryDirectory(prefix="sesbot-history-")
        path = os.path.join(tmp.name, "history.db")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        print(f"building {path}: {args.events:,} problem events across {args.recipients:,} recipients ...")
        build(path, args.events, args.recipients)
    store = Store(path)
    total = store.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    size = os.path.getsize(path) / 1e6
    print(f"database: {total:,} events, {size:,.0f} MB")

    rng = random.Random(11)
    users = [r[0] for r in store.conn.execute("SELECT recipient FROM events WHERE rowid % 997 = 0 LIMIT 5000")]
    picks = [rng.choice(users) for _ in range(args.lookups)]
    rows = []
    it = iter(picks)
    lookups = timed(lambda: rows.append(len(recipient_events(store, next(it)))), args.lookups)
    print(f"(a recipient has {statistics.mean(rows):.0f} events on average; up to 200 are returned)")
    report("recipient history lookup", lookups, 5)
    day = NOW - timedelta(hours=24)
    report("24 h bounce-rate estimate", timed(lambda: rate_estimate(store, day, NOW), 30), 50)
    report("24 h bounce rate, one config set", timed(lambda: rate_estimate(store, day, NOW, "newsletter"), 30))
    report("domain history (gmail.com, 200)", timed(lambda: domain_events(store, "gmail.com"), 30))
    report("24 h hourly series (sparkline)", timed(lambda: hourly_series(store, day, NOW), 30))
    report("blocklist events, last hour", timed(lambda: blocklist_events(store, NOW - timedelta(hours=1)), 30))
    report("sending IPs, last 24 h", timed(lambda: sending_ips(store, day), 30))
    est = rate_estimate(store, day, NOW)
    print(
        f"(24 h estimate: {est['sends']:,} sends, {est['hard_bounces_counted']:,} counted hard bounces, "
        f"bounce rate {est['bounce_rate']:.4f})"
    )
    without_statistics(store, path, picks)
    store.close()
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
