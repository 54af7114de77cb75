"""SQS intake: how fast 1, 2 and 4 receivers (`SESBOT_SQS_WORKERS`) drain a queue of SES notifications.

The queue is a minimal SQS (ReceiveMessage and DeleteMessageBatch in botocore's JSON protocol, visibility
timeout, long poll) in a child process, so the queue's own Python does not share this process's
interpreter lock with the bot, with `--delay` (default 15 ms) added to every call. Not moto's: moto's SQS
walks every waiting message several times on each receive and delete (half a second a receive with
1,000 waiting, measured), so it would measure moto. All `--count` notifications are in the queue before
the receivers start, as SNS would have delivered them. They are real ones (`tests/data/ses-notifications`:
AWS's samples of every event type, SNS envelopes and bare, and bounces from sisimai's corpus), each copy
with its own message id. The bot's receivers are `bot.sqs.start_receivers`, as `sesbot run` starts them:
receive 10, store them in one transaction, delete them.

Printed:
* the round trip: one receive plus one delete of 10 messages, without storing (median of 30);
* per worker count: messages/s end to end (first receive to the queue empty) against the theoretical
  workers x 10 / round trip;
* the writer alone: `bot.ingest.ingest_documents` of the same notifications, 10 to a transaction as the
  receivers store them, without SQS: the ceiling of one process's intake (SQLite has one writer);
* whether every notification was stored once (the store's rows against the writer-alone run's).

    .venv/bin/python benchmarks/sqs_drain.py [--count 20000] [--delay 0.015] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import multiprocessing
import statistics
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from world import ROOT

from bot.deps import Deps
from bot.ingest import ingest_documents
from bot.settings import Settings
from bot.sqs import SqsConsumer, start_receivers
from bot.store import Store, iso, utcnow

TEMPLATES = ROOT / "tests" / "data" / "ses-notifications"
QUEUE = "sesbot-events"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


def notifications(count: int, run: str) -> list[str]:
    """`count` SQS bodies made from the real notifications in turn, each with its own message id and stamped
    now: the samples are dated 2016-2022, and the SQS receivers skip an event older than the retention."""
    templates = [json.loads(p.read_text()) for p in sorted(TEMPLATES.glob("*.json"))]
    now = iso(utcnow())
    bodies = []
    for i in range(count):
        doc = restamp(json.loads(json.dumps(templates[i % len(templates)])), now)
        inner = doc
        envelope = "Message" in doc and isinstance(doc["Message"], str)
        if envelope:
            inner = restamp(json.loads(doc["Message"]), now)
            doc["MessageId"] = f"{run}-{i:08d}-0000-0000-0000-000000000000"
        mail = inner.get("mail") or {}
        mail["messageId"] = f"0100018c{run}{i:010x}-5e5b0700-0000-4000-8000-{i:012x}-000000"
        if envelope:
            doc["Message"] = json.dumps(inner)
        bodies.append(json.dumps(doc))
    return bodies


def restamp(value: Any, now: str) -> Any:
    """`value` with every `timestamp`/`Timestamp`/`time` string in it (the mail's, the event's, the SNS
    envelope's, EventBridge's) set to `now`."""
    if isinstance(value, dict):
        return {
            k: now if k.lower() in ("timestamp", "time") and isinstance(v, str) else restamp(v, now)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [restamp(v, now) for v in value]
    return value


# -- the queue, in its own process ---------------------------------------------------------------------
class _Sqs:
    """One standard queue: waiting messages in order, received ones in flight until deleted or their
    visibility timeout (then they wait again)."""

    def __init__(self, visibility: float = 120.0) -> None:
        self.visibility = visibility
        self.waiting: collections.deque[tuple[str, str]] = collections.deque()  # (message id, body)
        self.in_flight: dict[str, tuple[float, str, str]] = {}  # receipt -> (visible again at, id, body)
        self.cond = threading.Condition()

    def put(self, bodies: list[str]) -> None:
        with self.cond:
            self.waiting.extend((str(uuid.uuid4()), b) for b in bodies)
            self.cond.notify_all()

    def receive(self, n: int, wait: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + wait
        with self.cond:
            while True:
                now = time.monotonic()
                for receipt in [r for r, (at, _, _) in self.in_flight.items() if at <= now]:
                    _, mid, body = self.in_flight.pop(receipt)
                    self.waiting.appendleft((mid, body))
                if self.waiting or now >= deadline:
                    break
                self.cond.wait(deadline - now)
            out = []
            while self.waiting and len(out) < n:
                mid, body = self.waiting.popleft()
                receipt = uuid.uuid4().hex
                self.in_flight[receipt] = (now + self.visibility, mid, body)
                md5 = hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()
                out.append({"MessageId": mid, "ReceiptHandle": receipt, "MD5OfBody": md5, "Body": body})
            return out

    def delete(self, entries: list[dict[str, str]]) -> dict[str, Any]:
        ok, failed = [], []
        with self.cond:
            for e in entries:
                if self.in_flight.pop(e["ReceiptHandle"], None) is None:
                    failed.append({"Id": e["Id"], "SenderFault": True, "Code": "ReceiptHandleIsInvalid"})
                else:
                    ok.append({"Id": e["Id"]})
        return {"Successful": ok, "Failed": failed}

    def remaining(self) -> int:
        with self.cond:
            return len(self.waiting) + len(self.in_flight)


def serve_queue(conn: Connection, delay: float) -> None:
    """A minimal SQS (ReceiveMessage, DeleteMessageBatch in botocore's JSON protocol) with `delay` added to
    each call; answers `fill`, `remaining`, `delay` and `stop` sent over `conn`."""
    queue = _Sqs()
    state = {"delay": delay}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed ACK

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            target = (self.headers.get("X-Amz-Target") or "").removeprefix("AmazonSQS.")
            time.sleep(state["delay"])
            if target == "ReceiveMessage":
                wait = float(body.get("WaitTimeSeconds", 0))
                out: dict[str, Any] = {"Messages": queue.receive(int(body.get("MaxNumberOfMessages", 1)), wait)}
            elif target == "DeleteMessageBatch":
                out = queue.delete(body.get("Entries") or [])
            else:
                out = {"__type": "com.amazonaws.sqs#UnsupportedOperation", "message": target}
            data = json.dumps(out).encode()
            self.send_response(200 if "__type" not in out else 400)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    conn.send((endpoint, f"{endpoint}/{ACCOUNT_ID}/{QUEUE}"))
    while True:
        cmd, *arg = conn.recv()
        if cmd == "fill":
            bodies = notifications(*arg)
            queue.put(bodies)
            conn.send(len(bodies))
        elif cmd == "remaining":
            conn.send(queue.remaining())
        elif cmd == "delay":
            state["delay"] = arg[0]
            conn.send(True)
        elif cmd == "stop":
            server.shutdown()
            conn.send(True)
            return


class Queue:
    """The parent's handle on the child's queue."""

    def __init__(self, delay: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=serve_queue, args=(child, delay), daemon=True)
        self.proc.start()
        self.endpoint_url, self.url = self.conn.recv()

    def ask(self, *cmd: Any) -> Any:
        self.conn.send(cmd)
        return self.conn.recv()

    def fill(self, count: int, run: str) -> None:
        """Put `count` notifications in (made in the child, as SNS would deliver them)."""
        self.ask("fill", count, run)

    def empty(self) -> bool:
        return bool(self.ask("remaining") == 0)

    def close(self) -> None:
        self.ask("stop")
        self.proc.join(10)


def bot_deps(queue: Queue, db: str) -> Deps:
    settings = Settings.from_env({"AWS_REGION": REGION, "SESBOT_SQS_QUEUE_URL": queue.url})
    settings.aws_endpoint_url = queue.endpoint_url
    return Deps.build(settings, store=Store(db))


def stored_rows(store: Store) -> int:
    rows = store.query(
        "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM seen) + (SELECT count(*) FROM quarantine) AS n"
    )
    return int(rows[0]["n"])


def round_trip(queue: Queue, db: str) -> float:
    """Median seconds of one receive (10) plus one delete, nothing stored."""
    queue.fill(400, "rt")
    consumer = SqsConsumer(bot_deps(queue, db))
    times = []
    for _ in range(30):
        start = time.perf_counter()
        messages = consumer.receive(wait_seconds=1)
        consumer.delete(messages)
        times.append(time.perf_counter() - start)
    while not queue.empty():  # the rest, so the next run starts from an empty queue
        consumer.delete(consumer.receive(wait_seconds=1))
    return statistics.median(times)


def drain(queue: Queue, workers: int, count: int, db: str) -> tuple[float, int]:
    """Seconds for `workers` receivers to drain `count` notifications; and the rows stored."""
    deps = bot_deps(queue, db)
    queue.fill(count, f"w{workers}")
    stop = threading.Event()
    start = time.perf_counter()
    threads = start_receivers(deps, stop, workers=workers, wait_seconds=1)
    while not queue.empty():
        time.sleep(0.005)
    elapsed = time.perf_counter() - start
    stop.set()
    for t in threads:
        t.join(5)
    return elapsed, stored_rows(deps.store)


def writer_alone(count: int, db: str) -> tuple[float, int]:
    """Seconds to store `count` notifications 10 to a transaction, as the receivers do, without SQS."""
    store = Store(db)
    store.durable()  # as the receivers store: each commit on the disk before the batch is deleted
    bodies = notifications(count, "wr")
    start = time.perf_counter()
    for i in range(0, len(bodies), 10):
        ingest_documents(store, bodies[i : i + 10], "sqs", batch_records=None)
    return time.perf_counter() - start, stored_rows(store)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="notifications per run")
    parser.add_argument("--delay", type=float, default=0.015, help="seconds added to every SQS call")
    parser.add_argument("--workers", default="1,2,4", help="receiver counts to measure, comma-separated")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]

    queue = Queue(0.0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            writer_s, writer_rows = writer_alone(args.count, str(Path(tmp) / "writer.db"))
            writer_rate = args.count / writer_s
            queue.ask("delay", args.delay)
            rt = round_trip(queue, str(Path(tmp) / "rt.db"))
            print(
                f"sqs drain: {args.count:,} SES notifications ({len(list(TEMPLATES.glob('*.json')))} real ones "
                f"in turn), all in the queue at the start, +{args.delay * 1000:.0f} ms per SQS call; "
                f"round trip (receive 10 + delete) {rt * 1000:.1f} ms"
            )
            print(
                f"writer alone (10 a transaction, no SQS): {writer_rate:,.0f} messages/s "
                f"({args.count:,} in {writer_s:.1f} s)"
            )
            print()
            header = f"{'workers':>7} {'messages/s':>11} {'theory':>8} {'of theory':>9} {'of writer':>9}  stored"
            print(header)
            print("-" * len(header))
            best = 0.0
            for workers in counts:
                seconds, rows = drain(queue, workers, args.count, str(Path(tmp) / f"w{workers}.db"))
                rate = args.count / seconds
                best = max(best, rate)
                theory = workers * 10 / rt
                ok = "all, once" if rows == writer_rows else f"{rows} rows, writer alone {writer_rows}: MISMATCH"
                print(
                    f"{workers:>7} {rate:>11,.0f} {theory:>8,.0f} {rate / theory:>9.0%} {rate / writer_rate:>9.0%}"
                    f"  {ok}"
                )
            print()
            print(
                f"end to end at best {best:,.0f} messages/s = {best / writer_rate:.0%} of the writer's ceiling "
                f"({writer_rate:,.0f}/s)"
            )
    finally:
        queue.close()


if __name__ == "__main__":
    main()
