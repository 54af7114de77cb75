"""What the benchmarks share: no real AWS, the demo's world on the local peers, the real Slack app over HTTP.

Imported by the scripts next to it (`.venv/bin/python benchmarks/why.py` puts this folder on `sys.path`).
Importing it makes the process unable to reach a real AWS account: dummy credentials, no profile, no
instance metadata, no endpoint from the environment.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OFFLINE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
os.environ.update(OFFLINE_AWS_ENV)
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.deps import Deps  # noqa: E402
from bot.ingest import ingest_documents  # noqa: E402
from bot.settings import DnsServer, Settings  # noqa: E402
from bot.setup.apply import queue_policy_statement  # noqa: E402
from bot.store import Store  # noqa: E402
from peers import scenario  # noqa: E402
from peers.aws import AwsPeer  # noqa: E402
from peers.dns import DnsPeer  # noqa: E402

SECRET = "bench-signing-secret"


@dataclass
class World:
    """The demo's account and DNS on the local peers, and the deps of a bot pointed at them."""

    aws: AwsPeer
    dns: DnsPeer
    deps: Deps
    store: Store
    db_path: str

    def slow(self, seconds: float) -> None:
        """Add `seconds` to every AWS request and every DNS answer from now on."""
        self.aws.set_delay(seconds)
        self.dns.delay(seconds)

    def fast(self) -> None:
        self.aws.set_delay(0)
        self.dns.clear_faults()

    def environ(self) -> dict[str, str]:
        """The environment of a `sesbot` process pointed at this world (same database, region, sender)."""
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("SESBOT_")},
            "AWS_REGION": scenario.REGION,
            "AWS_ENDPOINT_URL": self.aws.endpoint_url,
            "SESBOT_SENDER": scenario.SENDER,
            "SESBOT_DB": self.db_path,
            "SESBOT_SQS_QUEUE_URL": self.deps.settings.sqs_queue_url or "",
            "SESBOT_DNS_SERVERS": f"{self.dns.host}:{self.dns.port}",
            "SESBOT_DNS_TIMEOUT": f"{self.deps.settings.dns_timeout:g}",
            "SESBOT_CHECK_TIMEOUT": f"{self.deps.settings.check_timeout:g}",
        }


def publish_events(aws: AwsPeer, region: str = scenario.REGION) -> str:
    """Event publishing as `setup --apply` leaves it: an SNS topic subscribed to the bot's queue (with the
    queue policy), and two configuration sets (`app`, `marketing`) sending every event type to the topic.
    Returns the queue's URL."""
    sns, sqs, sesv2 = aws.client("sns", region), aws.client("sqs", region), aws.client("sesv2", region)
    topic = sns.create_topic(Name="ses-events")["TopicArn"]
    url = sqs.create_queue(QueueName="sesbot-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {"Version": "2012-10-17", "Statement": [queue_policy_statement(arn, topic)]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    for name in ("app", "marketing"):
        sesv2.create_configuration_set(ConfigurationSetName=name)
        sesv2.create_configuration_set_event_destination(
            ConfigurationSetName=name,
            EventDestinationName="to-ops",
            EventDestination={
                "Enabled": True,
                "MatchingEventTypes": ["SEND", "BOUNCE", "COMPLAINT", "DELIVERY", "DELIVERY_DELAY", "REJECT"],
                "SnsDestination": {"TopicArn": topic},
            },
        )
    return str(url)


@contextlib.contextmanager
def demo_world(*, dns_timeout: float | None = None, check_timeout: float | None = None) -> Iterator[World]:
    """The demo's account (in production, its events in the store, events published to the bot's queue)
    on fresh peers; stopped on exit."""
    with AwsPeer() as aws, DnsPeer() as dns, tempfile.TemporaryDirectory() as tmp:
        now = datetime.now(UTC)
        scenario.setup_aws(aws, now)
        scenario.setup_dns(dns)
        scenario.go_to_production(aws)
        queue_url = publish_events(aws)
        settings = Settings.from_env({"AWS_REGION": scenario.REGION, "SESBOT_SENDER": scenario.SENDER})
        settings.sqs_queue_url = queue_url
        settings.aws_endpoint_url = aws.endpoint_url
        settings.dns_servers = [DnsServer(dns.host, dns.port)]
        if dns_timeout is not None:
            settings.dns_timeout = dns_timeout
        if check_timeout is not None:
            settings.check_timeout = check_timeout
        db_path = str(Path(tmp) / "bench.db")
        store = Store(db_path)
        deps = Deps.build(settings, store=store)
        ingest_documents(store, scenario.events(now), origin="benchmark")
        try:
            yield World(aws, dns, deps, store, db_path)
        finally:
            store.close()


@contextlib.contextmanager
def slack_app(deps: Deps) -> Iterator[tuple[Any, str]]:
    """The real Bolt app behind the real HTTP server, talking to a Slack peer: yields (the peer, the
    app's events URL)."""
    from slack_sdk import WebClient

    from bot.settings import Secret
    from handlers.app import build_app
    from handlers.server import HttpServer, make_wsgi
    from peers.slack import SlackPeer

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" is what we measure
    with SlackPeer() as slack:
        deps.settings.slack_signing_secret = Secret(SECRET)
        deps.settings.diagnoses_per_minute = 10_000
        app = build_app(deps, WebClient(token="xoxb-bench", base_url=slack.base_url))
        with HttpServer(make_wsgi(app, deps)) as server:
            yield slack, f"{server.url}/slack/events"


@dataclass
class BotProcess:
    """`sesbot run` in its own process: its events URL and pid."""

    url: str
    pid: int

    def memory_mb(self) -> tuple[float, float]:
        """(resident now, peak resident) in MB, from /proc."""
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{self.pid}/status").read_text().splitlines() if ":" in line
        )
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


@contextlib.contextmanager
def bot_process(world: World, slack: Any, **env: str) -> Iterator[BotProcess]:
    """`python -m sesbot run` (HTTP mode) pointed at the world and the Slack peer, as in production: the
    Bolt app behind waitress, the answer pool, the sweep scheduler and the SQS receivers. Stopped with
    SIGTERM on exit."""
    import socket
    import subprocess
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ = {
        **world.environ(),
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.base_url,
        "SESBOT_HOST": "127.0.0.1",
        "PORT": str(port),
        "SESBOT_DIAGNOSES_PER_MINUTE": "1000",
        **env,
    }
    log = tempfile.TemporaryFile(mode="w+")  # the bot's log: shown only if it fails to start
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "sesbot", "run"], cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"sesbot run exited with {proc.returncode}: {log.read()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1):  # noqa: S310 (loopback)
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield BotProcess(f"{base}/slack/events", proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@dataclass
class LoadResult:
    """What `slash_load` saw: every acknowledgement's time (ms, sorted), and the answers."""

    acks: list[float]
    busy: int  # refused by the answer pool ("The bot is busy"): no answer follows
    delivered: int  # answers posted to their response_url
    last_answer_s: float  # from the first command sent to the last answer received
    undelivered: list[str] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        return self.acks[int(p * (len(self.acks) - 1))]

    @property
    def median(self) -> float:
        return statistics.median(self.acks)

    def late(self, limit_ms: float = 3000) -> int:
        return sum(1 for a in self.acks if a > limit_ms)


def slash_load(
    slack: Any,
    url: str,
    recipient: Callable[[int], str],
    n: int,
    senders: int,
    *,
    name: str = "load",
    answer_timeout: float = 600,
) -> LoadResult:
    """`n` signed `/ses why <recipient(i)>` from `senders` threads at once, each to its own response_url
    (`<name><i>`); then wait for every answer there."""
    from peers.slack import post_signed, slash_command_body

    def one(i: int) -> tuple[float, bool]:
        body = slash_command_body(
            f"why {recipient(i)}", user_id=f"U0{name.upper()}{i:04d}", response_url=slack.response_url(f"{name}{i}")
        )
        start = time.perf_counter()
        status, text = post_signed(url, body, SECRET, timeout=60)
        assert status == 200, (status, text[:200])
        return (time.perf_counter() - start) * 1000, "the bot is busy" in text.lower()

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        results = list(pool.map(one, range(n)))
    deadline = time.monotonic() + answer_timeout
    undelivered = []
    for i, (_, busy) in enumerate(results):
        if busy:
            continue
        try:
            slack.wait_for_response(f"{name}{i}", timeout=max(0.1, deadline - time.monotonic()))
        except (AssertionError, TimeoutError):
            undelivered.append(f"{name}{i}")
    last = time.perf_counter() - start
    delivered = sum(1 for i in range(n) if slack.responses(f"{name}{i}"))
    return LoadResult(
        acks=sorted(a for a, _ in results),
        busy=sum(1 for _, b in results if b),
        delivered=delivered,
        last_answer_s=last,
        undelivered=undelivered,
    )
