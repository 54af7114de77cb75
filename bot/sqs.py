"""The SQS consumer: long-poll the queue SES events reach through SNS, store each batch, then delete it.

This module's one job is the receive -> store -> delete cycle, in that order:

1. `receive`: one long poll (`ReceiveMessage`, up to 10 messages);
2. `store`: every body of the batch in **one** transaction (`bot.ingest.ingest_documents`); a body that
   cannot be read is quarantined in the same transaction, so it is "stored" too;
3. `delete`: `DeleteMessageBatch` for every message of the batch -- poison messages included, so they cannot
   loop -- only after the commit.

SES's status and Advisor events (EventBridge, `bot.events.PushedEvent`) are recorded by the alert engine
between 2 and 3 (`bot.alerts.pushed.record_pushed`: the account-status incident opens, or the Advisor notice
is owed, in that receive), and what they owe is delivered after 3 through the consumer's `poster`.

A crash between 2 and 3 loses nothing (the messages come back after the visibility timeout) and duplicates
nothing (natural ids: the second store is a no-op, see `bot.events`). If the store itself fails, nothing is
deleted and the messages come back. `run(stop_event)` loops with exponential backoff on errors, logging one
line per failure, so a broken queue never becomes a crash loop. `start_receivers` runs several consumers at
once (`SESBOT_SQS_WORKERS`).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from bot.alerts.outbox import deliver
from bot.alerts.pushed import record_pushed
from bot.aws import describe_error
from bot.deps import Deps
from bot.ingest import IngestResult, ingest_documents
from bot.notify import Poster
from bot.settings import queue_account_id

log = logging.getLogger(__name__)

WAIT_SECONDS = 20  # SQS's longest long poll: fewest empty receives
BACKOFF_START = 1.0
BACKOFF_MAX = 300.0
_QUEUE_REGION = re.compile(r"^https?://sqs[.-]([a-z0-9-]+)\.amazonaws\.com", re.I)


class SqsConsumer:
    """Consumes `settings.sqs_queue_url` into the store: `poll_once()` for one batch, `run()` forever."""

    def __init__(self, deps: Deps, *, queue_url: str | None = None, client: Any = None, poster: Poster | None = None):
        self.deps = deps
        self.poster = poster  # where what SES pushed is posted (None: levels recorded, nothing owed)
        url = queue_url or deps.settings.sqs_queue_url
        if not url:
            raise ValueError("no SQS queue configured: set SESBOT_SQS_QUEUE_URL")
        self.queue_url: str = url
        self._client = client

    @property
    def queue_name(self) -> str:
        """The queue's name, the last part of its URL (what `/healthz` names)."""
        return self.queue_url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def region(self) -> str | None:
        m = _QUEUE_REGION.match(self.queue_url)
        if m:
            return m.group(1)
        return self.deps.settings.regions[0] if self.deps.settings.regions else None

    @property
    def client(self) -> Any:
        # A long poll needs a read timeout longer than its wait, which the shared clients (tuned for
        # quick API checks) do not have.
        if self._client is None:
            self._client = self.deps.aws.get("sqs", self.region, read_timeout=WAIT_SECONDS + 15)
        return self._client

    # -- one cycle, in three steps ---------------------------------------------------------------------
    def receive(self, max_messages: int = 10, wait_seconds: int = WAIT_SECONDS) -> list[dict[str, Any]]:
        resp = self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(10, max_messages)),
            WaitTimeSeconds=max(0, min(WAIT_SECONDS, wait_seconds)),
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        return list(resp.get("Messages") or [])

    def store(self, messages: list[dict[str, Any]]) -> IngestResult:
        """All bodies in one transaction; raises if the store fails (then nothing may be deleted)."""
        bodies = [m.get("Body") or "" for m in messages]
        self.deps.store.durable()  # the batch is deleted from the queue once this commits
        return ingest_documents(
            self.deps.store,
            bodies,
            "sqs",
            now=self.deps.now(),
            batch_records=None,
            retention_days=self.deps.settings.retention_days,
        )

    def delete(self, messages: list[dict[str, Any]]) -> int:
        """Delete the batch; returns how many SQS refused (they come back and are deduplicated then)."""
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        resp = self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        failed = resp.get("Failed") or []
        if failed:
            log.warning("SQS did not delete %d of %d messages (they will be seen again)", len(failed), len(entries))
        return len(failed)

    def poll_once(self, max_messages: int = 10, wait_seconds: int = WAIT_SECONDS) -> IngestResult:
        """Receive one batch, store it in one transaction, delete it after the commit."""
        messages = self.receive(max_messages, wait_seconds)
        if not messages:
            return IngestResult()
        result = self.store(messages)
        pushed = record_pushed(self.deps, result.pushed, notify=self.poster is not None) if result.pushed else None
        self.delete(messages)
        if result.quarantined:
            log.warning("quarantined %d unreadable SQS message(s) (see the quarantine table)", result.quarantined)
        if pushed is not None and pushed.owes and self.poster is not None:
            deliver(self.deps, self.poster)  # a failure to post keeps the rows owed for the sweep
        return result

    # -- forever -------------------------------------------------------------------------------------
    def run(self, stop_event: threading.Event, wait_seconds: int = WAIT_SECONDS) -> None:
        """Poll until `stop_event` is set; on errors wait 1 s, 2 s, 4 s ... up to 5 min between tries."""
        backoff = BACKOFF_START
        failing = False
        while not stop_event.is_set():
            try:
                self.poll_once(wait_seconds=wait_seconds)
            except Exception as exc:  # any failure: one line, a pause, and try again
                log.warning("SQS consumer: %s; retrying in %.0f s", describe_error(exc), backoff)
                self.deps.health.failed(f"the SQS consumer of {self.queue_name}", describe_error(exc))
                failing = True
                stop_event.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            if failing:
                log.info("SQS consumer: receiving again")
                self.deps.health.working(f"the SQS consumer of {self.queue_name}")
                failing = False
            backoff = BACKOFF_START


def queue_deps(deps: Deps, queue_url: str) -> Deps:
    """The deps to read `queue_url` with: the account (`SESBOT_ACCOUNTS`) whose id is in the URL's path
    (`https://sqs.<region>.amazonaws.com/<account id>/<name>`), else the default credentials."""
    account_id = queue_account_id(queue_url)
    for account in deps.settings.accounts:
        if account.account_id and account.account_id == account_id:
            return deps.for_account(account)
    return deps


def start_receivers(
    deps: Deps, stop_event: threading.Event, workers: int = 2, poster: Poster | None = None, **run_kw: Any
) -> list[threading.Thread]:
    """`workers` consumers of each queue, each in its own thread (`sqs-1`, `sqs-2` ...), until `stop_event`.

    Each long-polls on its own, so a busy queue is read `workers` x 10 messages a round trip; their stores
    are transactions on the one database, taken in turn (SQLite has one writer), and a batch is deleted only
    once it is committed, whichever receiver holds it. With several queues (`SESBOT_SQS_QUEUE_URL` lists
    one per account or region) each gets `workers` receivers, reading with its account's credentials. What SES
    pushes (its status and Advisor events) is posted through `poster`.
    """
    urls = deps.settings.sqs_queue_urls or ([deps.settings.sqs_queue_url] if deps.settings.sqs_queue_url else [])
    threads: list[threading.Thread] = []
    for url in urls:
        for _ in range(max(1, workers)):
            consumer = SqsConsumer(queue_deps(deps, url), queue_url=url, poster=poster)
            name = f"sqs-{len(threads) + 1}"
            t = threading.Thread(target=consumer.run, args=(stop_event,), kwargs=run_kw, name=name, daemon=True)
            t.start()
            threads.append(t)
    deps.health.watch("the SQS consumer", threads)
    return threads
