"""Fixtures: the real local peers (AWS, DNS, SMTP, Slack) and the bot's deps pointed at them.

Every server binds 127.0.0.1 on an ephemeral port and is stopped by the fixture that started it.
The AWS peer is started once per session (moto's import and start are the slow part) and reset
before each test that uses it.
"""

from __future__ import annotations

import os

import pytest

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
SENDER = "news@mail.example.com"


@pytest.fixture(scope="session")
def aws_peer_server():
    from peers.aws import AwsPeer

    peer = AwsPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def aws_peer(aws_peer_server):
    """The emulated AWS account (moto + our SESv2 layer), fresh for each test."""
    aws_peer_server.reset()
    yield aws_peer_server
    aws_peer_server.reset()


@pytest.fixture
def dns_peer():
    """A DNS server on loopback serving test zones; empty until a test adds records."""
    from peers.dns import DnsPeer

    peer = DnsPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def slack_peer():
    """The Slack Web API stand-in, recording every call."""
    from peers.slack import SlackPeer

    peer = SlackPeer().start()
    yield peer
    peer.stop()


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
    peer, after applying setting overrides; every server started is stopped at the end."""
    from slack_sdk import WebClient

    from bot.settings import Secret
    from handlers.app import build_app
    from handlers.server import HttpServer, make_wsgi

    servers = []

    def start(**overrides):
        deps.settings.slack_signing_secret = Secret(SIGNING_SECRET)
        deps.settings.slack_bot_token = Secret(BOT_TOKEN)
        deps.settings.slack_api_url = slack_peer.base_url
        for k, v in overrides.items():
            setattr(deps.settings, k, v)
        app = build_app(deps, WebClient(token=BOT_TOKEN, base_url=slack_peer.base_url))
        server = HttpServer(make_wsgi(app, deps)).start()
        server.events_url = f"{server.url}/slack/events"
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def bot_server(bot_server_factory):
    """The bot with default settings, over real HTTP."""
    return bot_server_factory()
