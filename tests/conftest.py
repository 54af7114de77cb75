"""Fixtures: the real local peers (AWS, DNS, SMTP, Slack) and the bot's deps pointed at them.

Every server binds 127.0.0.1 on an ephemeral port and is stopped by the fixture that started it.
The AWS peer is started once per session (moto's import and start are the slow part) and reset
before each test that uses it.

Also the scaffolding several test modules share, importable with `from tests.conftest import ...`:
the hand-moved `Clock`, the alert-sweep helpers (`put_rate`, `bounce_doc`, `slack_poster`, `CHANNEL`)
and the `StartPeer` and `Scripted` types of the `start_peer` and `scripted` fixtures.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from handlers.poster import SlackPoster
    from peers.smtp import SmtpPeer

# No test may reach a real AWS account: dummy credentials, no profile, no instance metadata.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
        "AWS_SESSION_TOKEN": "testing-session-token",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
)
for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
    os.environ.pop(var, None)

from bot.deps import Deps  # noqa: E402
from bot.settings import DnsServer, Settings  # noqa: E402
from bot.store import Store  # noqa: E402

REGION = "us-east-1"
# The AWS Developer Guide's example events (tests/data/ses-notifications) are dated 2016 to 2022: a retention
# that still covers them, for tests feeding them through the SQS or SNS path (which skips older events).
EXAMPLES_RETENTION_DAYS = 36_500
SENDER = "news@mail.example.com"


@pytest.fixture(scope="session")
def aws_peer_server():
    from peers.aws import AwsPeer

    peer = AwsPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def aws_peer(aws_peer_server):
    """The emulated AWS account (moto + our SESv2 layer), fresh for each test. A test fails if the peer
    had to refuse one of its own answers as not fitting botocore's model (`AwsPeer.shape_problems`)."""
    aws_peer_server.reset()
    yield aws_peer_server
    problems = list(aws_peer_server.shape_problems)
    aws_peer_server.reset()
    assert problems == [], "the AWS peer built answers SES would not send"


@pytest.fixture
def dns_peer():
    """A DNS server on loopback serving test zones; empty until a test adds records."""
    from peers.dns import DnsPeer

    peer = DnsPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def slack_peer():
    """The Slack Web API stand-in, recording every call. A test fails if the bot sent blocks or a view
    Slack would refuse (`SlackPeer.refused`)."""
    from peers.slack import SlackPeer

    peer = SlackPeer().start()
    yield peer
    refused = peer.refused
    peer.stop()
    assert refused == [], "the bot sent blocks or views Slack would refuse"


StartPeer = Callable[..., "SmtpPeer"]


@pytest.fixture
def start_peer() -> Iterator[StartPeer]:
    """Start SMTP peers on demand; every peer started is stopped after the test."""
    from peers.smtp import SmtpPeer

    started: list[SmtpPeer] = []

    def start(mode: str = "starttls", **options: object) -> SmtpPeer:
        peer = SmtpPeer(mode, **options).start()  # type: ignore[arg-type]
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.stop()


Scripted = Callable[..., int]


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    """Raw TCP servers for what the SMTP peer never does: each sends `greeting` on accept, then answers
    every line with `replies[first word]` (250 ok otherwise). Returns the port; all are closed after the test."""
    listeners: list[socket.socket] = []

    def serve(conn: socket.socket, greeting: bytes, replies: dict[str, bytes]) -> None:
        with conn, conn.makefile("rb") as lines:
            conn.sendall(greeting)
            for line in lines:
                word = line.split(b" ")[0].strip().upper().decode("ascii", "replace")
                conn.sendall(replies.get(word, b"250 ok\r\n"))

    def accept(listener: socket.socket, greeting: bytes, replies: dict[str, bytes]) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn, greeting, replies), daemon=True).start()

    def start(greeting: bytes, replies: dict[str, bytes] | None = None) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)
        threading.Thread(target=accept, args=(listener, greeting, replies or {}), daemon=True).start()
        return int(listener.getsockname()[1])

    yield start
    for listener in listeners:
        listener.close()


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(str(tmp_path / "sesbot.db"))
    yield s
    s.close()


def make_settings(tmp_path, *, aws_peer=None, dns_peer=None, slack_peer=None, **overrides) -> Settings:
    """Settings for a test: the local peers, a temp database, a sender in a test zone."""
    env = {"AWS_REGION": REGION, "SESBOT_SENDER": SENDER, "SESBOT_DB": str(tmp_path / "sesbot.db")}
    s = Settings.from_env(env)
    s.check_timeout = 5.0
    s.dns_timeout = 1.0
    if aws_peer is not None:
        s.aws_endpoint_url = aws_peer.endpoint_url
    if dns_peer is not None:
        s.dns_servers = [DnsServer(dns_peer.host, dns_peer.port)]
    else:
        # Never the system resolver in tests: a closed loopback port fails fast (as a timeout).
        s.dns_servers = [DnsServer("127.0.0.1", 9)]
    if slack_peer is not None:
        s.slack_api_url = slack_peer.base_url
    for k, v in overrides.items():
        setattr(s, k, v)
    return s


@pytest.fixture
def settings(tmp_path, aws_peer, dns_peer) -> Settings:
    return make_settings(tmp_path, aws_peer=aws_peer, dns_peer=dns_peer)


@pytest.fixture
def deps(settings, store) -> Deps:
    """The engine's dependencies pointed at the local AWS and DNS peers and a temp store."""
    return Deps.build(settings, store=store)


SIGNING_SECRET = "test-signing-secret-5f0c2a9d"
BOT_TOKEN = "xoxb-test-bot-token-77c1e0"


@pytest.fixture
def bot_server_factory(deps, slack_peer):
    """Start the real Bolt app behind the real HTTP server (waitress) on loopback, talking to the Slack
    peer, after applying setting overrides (`charts=True`: the App Home's charts, as `sesbot run` wires
    them); every server started is stopped at the end, and its answer pool (and chart worker) drained before
    the Slack peer stops (an answer still running would otherwise find the peer gone)."""
    from slack_sdk import WebClient

    from bot.settings import Secret
    from handlers.app import build_app, home_charts
    from handlers.server import HttpServer, make_wsgi
    from handlers.work import Work

    started = []

    def start(charts: bool = False, **overrides):
        deps.settings.slack_signing_secret = Secret(SIGNING_SECRET)
        deps.settings.slack_bot_token = Secret(BOT_TOKEN)
        deps.settings.slack_api_url = slack_peer.base_url
        for k, v in overrides.items():
            setattr(deps.settings, k, v)
        client = WebClient(token=BOT_TOKEN, base_url=slack_peer.base_url)
        work = Work(deps.settings.answer_workers, deps.settings.answer_queue)
        home = home_charts(deps, client) if charts else None
        app = build_app(deps, client, charts=home, work=work)
        server = HttpServer(make_wsgi(app, deps)).start()
        server.events_url = f"{server.url}/slack/events"
        started.append((server, work, home))
        return server

    yield start
    for server, work, home in started:
        server.stop()
        work.shutdown(wait=True)
        if home is not None:
            home.shutdown(wait=True)


@pytest.fixture
def bot_server(bot_server_factory):
    """The bot with default settings, over real HTTP."""
    return bot_server_factory()


# -- the alert sweep: a clock the test moves, CloudWatch figures, SES events ----------------------------

CHANNEL = "C0ALERTS"


class Clock:
    """A clock the test moves by hand; `deps.clock` reads it."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: float = 5) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


@pytest.fixture
def clock() -> Clock:
    """Starts three hours ago, on the hour; tests move it with `tick`."""
    return Clock(datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3))


@pytest.fixture
def alert_deps(settings, store, clock, slack_peer) -> Deps:
    """Deps for the alert sweep: alerts go to `CHANNEL`, time is `clock`, and any Slack client the bot
    builds from its settings talks to the Slack peer, never to slack.com."""
    settings.alert_channel = CHANNEL
    settings.slack_api_url = slack_peer.base_url
    return Deps.build(settings, store=store, clock=clock)


def slack_poster(slack_peer, *, redact: bool = False) -> SlackPoster:
    """The poster the sweep posts alerts through, talking to the Slack peer (`redact`: SESBOT_REDACT=local)."""
    from slack_sdk import WebClient

    from handlers.poster import SlackPoster

    return SlackPoster(WebClient(base_url=slack_peer.base_url, token="xoxb-test"), redact=redact)


def put_rate(aws_peer, value: float, at: datetime, metric: str = "Reputation.BounceRate") -> None:
    """One CloudWatch figure at the sweep's "now", as SES would publish it."""
    cw = aws_peer.client("cloudwatch", REGION)
    cw.put_metric_data(Namespace="AWS/SES", MetricData=[{"MetricName": metric, "Value": value, "Timestamp": at}])


# The enhanced status code a diagnostic quotes ("550 5.1.1 ..."), which SES also reports as `status`.
_ENHANCED_STATUS = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")


def bounce_doc(n: int, recipient: str, diagnostic: str, at: datetime) -> str:
    """An SES event-publishing Bounce for one recipient, as SNS/SQS would deliver its body.

    Its `status` is the enhanced code the diagnostic quotes, as SES reports it (5.0.0 if it quotes none),
    so the event classifies the same whichever field the classifier weighs.
    """
    ts = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    code = _ENHANCED_STATUS.search(diagnostic)
    status = code.group() if code else "5.0.0"
    bounced = {"emailAddress": recipient, "action": "failed", "status": status, "diagnosticCode": diagnostic}
    return json.dumps(
        {
            "eventType": "Bounce",
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [bounced],
                "timestamp": ts,
                "feedbackId": f"feedback-{n}",
                "reportingMTA": "dsn; a9-1.smtp-out.amazonses.com",
            },
            "mail": {
                "timestamp": ts,
                "messageId": f"message-{n}",
                "source": SENDER,
                "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/mail.example.com",
                "sendingAccountId": "123456789012",
                "destination": [recipient],
            },
        }
    )
