"""Secrets never leave the environment: a full run, then a grep of everything it wrote.

The run goes through every surface that could leak: the Slack app over HTTP (slash commands,
a mention, a button), the SMTP probe with credentials (one accepted, one refused), the CLI with
`--json`, the alert sweep posting to Slack, and the logs at DEBUG through the production logging
setup. Then the logs, every Web API call the Slack peer recorded (bodies, not the Authorization header
that must carry the token), every response_url body, the CLI output and the whole database are
searched for each secret and its obvious encodings.
"""

from __future__ import annotations

import base64
import io
import json
import logging
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient

from bot.logs import setup_logging
from bot.settings import Secret
from peers.slack import app_mention_body, block_action_body, post_signed, slash_command_body
from peers.smtp import SmtpPeer
from sesbot.main import main as cli_main
from tests.conftest import BOT_TOKEN, SIGNING_SECRET

SMTP_USER = "AKIASMTPUSERFORTESTS1"
SMTP_PASSWORD = "BSmtpPasswordThatMustNeverShow0123456789ab"


def forms(secret: str) -> list[str]:
    return [secret, base64.b64encode(secret.encode()).decode(), json.dumps(secret)[1:-1]]


@pytest.fixture
def smtp_peers():
    good = SmtpPeer("starttls", auth={SMTP_USER: SMTP_PASSWORD}).start()
    bad = SmtpPeer("implicit", auth={SMTP_USER: "a-different-password"}).start()
    yield good, bad
    good.stop()
    bad.stop()


def test_no_secret_appears_in_logs_slack_messages_cli_output_or_the_database(
    bot_server_factory, slack_peer, aws_peer, smtp_peers, deps, capsys, monkeypatch
):
    good, bad = smtp_peers
    log_stream = io.StringIO()
    deps.settings.log_level = "DEBUG"
    deps.settings.smtp_host = "127.0.0.1"
    deps.settings.smtp_ca_file = good.ca_file
    deps.settings.smtp_username = Secret(SMTP_USER)
    deps.settings.smtp_password = Secret(SMTP_PASSWORD)
    deps.settings.alert_channel = "C0ALERTS"
    server = bot_server_factory()
    setup_logging(deps.settings, stream=log_stream)
    try:
        # Slack: slash commands, a mention, a button.
        for i, text in enumerate(
            [
                "help",
                "why jane@example.net",
                f"smtp {good.port}",
                "explain 535 Authentication Credentials Invalid",
                "status",
                "frobnicate",
            ]
        ):
            body = slash_command_body(text, response_url=slack_peer.response_url(f"s{i}"))
            status, _ = post_signed(server.events_url, body, SIGNING_SECRET)
            assert status == 200
        for i in (1, 2, 4):
            slack_peer.wait_for_response(f"s{i}", timeout=30)
        post_signed(server.events_url, app_mention_body(f"smtp {bad.port}/tls"), SIGNING_SECRET)
        slack_peer.wait_for("chat.postMessage", timeout=30)
        post_signed(
            server.events_url,
            block_action_body("sesbot_rerun", "help", response_url=slack_peer.response_url("b")),
            SIGNING_SECRET,
        )
        slack_peer.wait_for_response("b", timeout=30)

        # The alert sweep, posting to Slack.
        from bot.alerts import sweep
        from handlers.poster import SlackPoster

        cw = deps.aws.get("cloudwatch")
        cw.put_metric_data(
            Namespace="AWS/SES",
            MetricData=[{"MetricName": "Reputation.BounceRate", "Value": 0.06, "Timestamp": datetime.now(UTC)}],
        )
        sweep(deps, SlackPoster(WebClient(token=BOT_TOKEN, base_url=slack_peer.base_url)))

        # The CLI, configured through the environment like a person would.
        for key, value in {
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": aws_peer.endpoint_url,
            "SESBOT_DB": deps.settings.db_path,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SESBOT_SMTP_HOST": "127.0.0.1",
            "SESBOT_SMTP_CA_FILE": good.ca_file,
            "SESBOT_SMTP_USERNAME": SMTP_USER,
            "SESBOT_SMTP_PASSWORD": SMTP_PASSWORD,
            "SESBOT_LOG_LEVEL": "DEBUG",
            "SESBOT_DNS_SERVERS": "127.0.0.1:9",
        }.items():
            monkeypatch.setenv(key, value)
        assert cli_main(["smtp", str(good.port), "--json"]) == 0
        assert cli_main(["smtp", f"{bad.port}/tls"]) == 0
        assert cli_main(["help"]) == 0
    finally:
        logging.getLogger().handlers.clear()
    cli_out = capsys.readouterr()

    slack_bodies = [json.dumps(c.params, default=str) for c in slack_peer.calls]
    responses = [
        json.dumps(r, default=str) for name in [f"s{i}" for i in range(6)] + ["b"] for r in slack_peer.responses(name)
    ]
    database = "\n".join(deps.store.conn.iterdump())
    haystacks = {
        "logs": log_stream.getvalue(),
        "slack calls": "\n".join(slack_bodies),
        "responses": "\n".join(responses),
        "cli": cli_out.out + cli_out.err,
        "database": database,
    }
    assert slack_bodies and responses and "smtp" in cli_out.out and log_stream.getvalue()  # it really ran
    secrets = [BOT_TOKEN, SIGNING_SECRET, SMTP_PASSWORD, "testing-secret-key", "testing-session-token"]
    leaks = [(where, s) for where, text in haystacks.items() for secret in secrets for s in forms(secret) if s in text]
    assert leaks == []
