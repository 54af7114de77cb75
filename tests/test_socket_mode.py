"""Socket Mode end to end: the real app, served by `serve_socket_mode` through slack_sdk's own client, over a
real WebSocket on loopback — slash commands acknowledged over the socket and answered at the response_url."""

from __future__ import annotations

import io
import logging
import threading

import pytest
from slack_sdk import WebClient

from bot.settings import Secret
from handlers.app import build_app
from handlers.main import serve_socket_mode
from peers.socket_mode import SocketModePeer
from tests.conftest import BOT_TOKEN, REGION


@pytest.fixture
def socket_mode_peer(slack_peer):
    """The Socket Mode server, handed out by the Slack peer's apps.connections.open."""
    peer = SocketModePeer().start()
    slack_peer.socket_mode_url = peer.url
    yield peer
    peer.stop()


@pytest.fixture
def socket_mode_bot(deps, slack_peer, socket_mode_peer):
    """The real app in Socket Mode (no signing secret at all), connected to the peer; stopped at the end."""
    deps.settings.slack_app_token = Secret("xapp-test")
    deps.settings.slack_signing_secret = None
    deps.settings.slack_bot_token = Secret(BOT_TOKEN)
    app = build_app(deps, WebClient(token=BOT_TOKEN, base_url=slack_peer.base_url))
    stop = threading.Event()
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            serve_socket_mode(app, "xapp-test", stop)
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
            errors.append(exc)

    thread = threading.Thread(target=serve, name="socket-mode-bot", daemon=True)
    thread.start()
    try:
        socket_mode_peer.wait_for_connection(timeout=10)
        yield socket_mode_peer
    finally:
        stop.set()
        thread.join(timeout=15)
    assert not thread.is_alive(), "serve_socket_mode did not return after the stop event"
    assert errors == []


def test_ses_help_over_the_socket_is_acknowledged_with_the_commands(socket_mode_bot, slack_peer):
    opened = slack_peer.wait_for("apps.connections.open")
    assert (opened.token, socket_mode_bot.connections) == ("xapp-test", 1)
    envelope_id = socket_mode_bot.send_slash_command("help", response_url=slack_peer.response_url("help"))
    ack = socket_mode_bot.wait_for_ack(envelope_id, timeout=10)
    answer = ack["payload"]
    assert (ack["envelope_id"], answer["response_type"]) == (envelope_id, "ephemeral")
    assert answer["text"].startswith("sesbot")
    listed = "\n".join(b["text"]["text"] for b in answer["blocks"] if b["type"] == "section")
    assert "/ses help" in listed
    assert slack_peer.responses("help") == []


def test_ses_why_over_the_socket_is_acknowledged_then_answered_at_the_response_url(
    socket_mode_bot, slack_peer, aws_peer, dns_peer
):
    aws_peer.set_account(production_access=True)
    aws_peer.set_identity("mail.example.com")
    aws_peer.suppress("jo@example.com", region=REGION)
    envelope_id = socket_mode_bot.send_slash_command("why jo@example.com", response_url=slack_peer.response_url("why"))
    ack = socket_mode_bot.wait_for_ack(envelope_id, timeout=10)
    assert ack == {
        "envelope_id": envelope_id,
        "payload": {"response_type": "ephemeral", "text": ":hourglass_flowing_sand: Working on `why jo@example.com`…"},
    }
    report = slack_peer.wait_for_response("why", timeout=30)
    assert report["response_type"] == "in_channel"
    assert report["blocks"][0]["text"]["text"] == "Diagnosis: jo@example.com"
    assert "`recipient.suppressed`" in report["blocks"][1]["text"]["text"]


@pytest.fixture
def debug_log(deps):
    """The production logging setup at `SESBOT_LOG_LEVEL=DEBUG`, into a buffer; set up before the app is built
    (request it before `socket_mode_bot`), as `sesbot run` does; the root logger restored at the end."""
    from bot.logs import setup_logging

    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    stream = io.StringIO()
    deps.settings.log_level = "DEBUG"
    setup_logging(deps.settings, stream=stream)
    yield stream
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]


def test_at_debug_the_log_has_no_request_body_verification_token_or_response_url(
    debug_log, socket_mode_bot, slack_peer
):
    response_url = slack_peer.response_url("debug")
    envelope_id = socket_mode_bot.send_slash_command("explain secretword-in-the-text", response_url=response_url)
    socket_mode_bot.wait_for_ack(envelope_id, timeout=10)
    logging.getLogger("sesbot").debug("the log is written at DEBUG")  # it really logs at DEBUG
    logged = debug_log.getvalue()
    assert "the log is written at DEBUG" in logged
    leaks = [s for s in ("secretword-in-the-text", "verification-token", response_url, envelope_id) if s in logged]
    assert leaks == [], logged
