"""The `sesbot` console script, run as a person runs it: a real process, settings from the environment."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import bounce_doc

SESBOT = [sys.executable, "-m", "sesbot"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT_DATA = Path(ROOT) / "tests" / "data" / "ses-notifications"


def sesbot(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, cwd: str | None = None
) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SESBOT_", "SLACK_", "AWS_REGION", "PORT"))}
    # The checkout is on the path, so `-m sesbot` finds the package from any working directory.
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, base.get("PYTHONPATH")]))
    return subprocess.run(
        [*SESBOT, *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_env(slack_peer, tmp_path, **extra: str) -> dict[str, str]:
    """The environment of a `sesbot run` subprocess: the Slack peer, loopback HTTP, a fresh database."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SESBOT_", "SLACK_", "AWS_REGION", "PORT"))}
    return {
        **base,
        "SLACK_BOT_TOKEN": "xoxb-run-test-token",
        "SLACK_SIGNING_SECRET": "run-test-secret",
        "SLACK_API_URL": slack_peer.base_url,
        "AWS_REGION": "us-east-1",
        "SESBOT_HOST": "127.0.0.1",
        "SESBOT_DB": str(tmp_path / "s.db"),
        **extra,
    }


def test_help_lists_every_command_with_an_example():
    out = sesbot("help")
    assert out.returncode == 0
    for name in (
        "why",
        "status",
        "incidents",
        "incident",
        "digest",
        "history",
        "explain",
        "domain",
        "blocklist",
        "smtp",
        "template",
        "setup",
        "ingest",
        "sweep",
        "run",
        "demo",
    ):
        assert f"sesbot {name}" in out.stdout


def test_help_gives_the_incident_usage_with_every_incident_verb():
    import re

    from bot.incident_verbs import VERBS

    out = sesbot("help", "--json")
    assert out.returncode == 0, out.stderr
    [usage] = [c["usage"] for c in json.loads(out.stdout)["commands"] if c["command"] == "incident"]
    assert [v for v in VERBS if not re.search(rf"[\[|]{v}\b", usage)] == []


def test_an_unknown_command_is_one_line_and_exit_code_2():
    out = sesbot("frobnicate")
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == "sesbot: unknown command `frobnicate` (see `sesbot help`)\n"


def test_commands_that_need_no_history_leave_no_database_behind(tmp_path):
    for args in (("frobnicate",), ("help",), ("explain", "550 5.1.1 user unknown")):
        out = sesbot(*args, cwd=str(tmp_path))
        assert out.returncode in (0, 2), out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_run_with_missing_settings_lists_them_all_in_one_message(tmp_path):
    out = sesbot("run", env={"SESBOT_DB": str(tmp_path / "s.db")})
    assert out.returncode == 2
    assert out.stderr.splitlines() == [
        "sesbot cannot start; fix these settings (see README, Configuration):",
        "  - SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)",
        "  - SLACK_SIGNING_SECRET is not set (needed in HTTP mode, i.e. without SLACK_APP_TOKEN)",
        "  - AWS_REGION (or AWS_DEFAULT_REGION, or SESBOT_REGIONS) is not set",
    ]


def test_malformed_settings_are_listed_without_a_traceback(tmp_path):
    out = sesbot("why", "a@example.com", env={"PORT": "http", "SESBOT_RETENTION_DAYS": "-1"})
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "PORT='http' is not a whole number" in out.stderr
    assert "SESBOT_RETENTION_DAYS=-1 is out of range" in out.stderr


def test_run_with_a_token_slack_refuses_exits_with_one_clear_line(slack_peer, tmp_path):
    slack_peer.set_token_valid(False)
    out = sesbot(
        "run",
        env={
            "SLACK_BOT_TOKEN": "xoxb-revoked-token-0000",
            "SLACK_SIGNING_SECRET": "s3cret-value",
            "SLACK_API_URL": slack_peer.base_url,
            "AWS_REGION": "us-east-1",
            "SESBOT_DB": str(tmp_path / "s.db"),
        },
    )
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "sesbot: Slack refused SLACK_BOT_TOKEN (invalid_auth); check the token in your Slack app's "
        "OAuth & Permissions page."
    ]
    assert "xoxb-revoked-token-0000" not in out.stdout + out.stderr


def test_run_with_slack_down_blames_slack_not_the_token(slack_peer, tmp_path):
    slack_peer.fail("auth.test", error="service_unavailable", status=503, retry_after=None, count=None)
    out = sesbot("run", env=run_env(slack_peer, tmp_path))
    assert out.returncode == 1
    assert (
        out.stderr.strip()
        .splitlines()[-1]
        .startswith("sesbot: Slack answered HTTP 503 to auth.test; it is not the token")
    )


def test_run_with_an_app_token_slack_refuses_exits_with_one_clear_line(slack_peer, tmp_path):
    slack_peer.fail("apps.connections.open", error="invalid_auth", status=200, retry_after=None, count=None)
    env = run_env(slack_peer, tmp_path, SLACK_APP_TOKEN="xapp-1-revoked-app-token-0000")
    out = sesbot("run", env=env)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "sesbot: Slack refused SLACK_APP_TOKEN (invalid_auth); generate a new app-level token with the "
        "connections:write scope in your Slack app's Basic Information page (App-Level Tokens)."
    ]
    assert "xapp-1-revoked-app-token-0000" not in out.stdout + out.stderr


def test_run_with_slack_down_at_the_socket_mode_connection_blames_slack_not_the_app_token(slack_peer, tmp_path):
    slack_peer.fail("apps.connections.open", error="service_unavailable", status=503, retry_after=None, count=None)
    out = sesbot("run", env=run_env(slack_peer, tmp_path, SLACK_APP_TOKEN="xapp-1-app-token"))
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "sesbot: Slack answered HTTP 503 to apps.connections.open; it is not the token: try again in a few "
        "minutes (https://slack-status.com)."
    ]


def test_run_with_a_database_it_cannot_write_exits_at_once_with_one_line(slack_peer, tmp_path):
    env = run_env(slack_peer, tmp_path, SESBOT_DB=str(tmp_path))  # a directory: no database can be written
    out = sesbot("run", env=env)
    assert out.returncode == 1
    [line] = out.stderr.strip().splitlines()
    assert line.startswith(f"sesbot: cannot write the database {tmp_path} (") and line.endswith("; check SESBOT_DB.")


def test_run_that_cannot_listen_says_where_and_what_to_change_in_one_line(slack_peer, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = sesbot("run", env=run_env(slack_peer, tmp_path, PORT=str(port)))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1] == (
        f"sesbot: cannot listen on 127.0.0.1:{port} (Address already in use); change PORT or SESBOT_HOST."
    )
    out = sesbot("run", env=run_env(slack_peer, tmp_path, PORT=str(free_port()), SESBOT_HOST="not an address"))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("sesbot: cannot listen on not an address:") and last.endswith(
        "; change PORT or SESBOT_HOST."
    )


@pytest.mark.parametrize("args", [("sweep", "--once"), ("setup",), ("template", "welcome")])
def test_a_command_that_needs_a_region_says_so_in_one_line_with_exit_code_2(args, tmp_path):
    out = sesbot(*args, env={"SESBOT_DB": str(tmp_path / "s.db")})
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == (
        "sesbot: no AWS region is configured: set AWS_REGION (or SESBOT_REGIONS) (see `sesbot help`)\n"
    )


@pytest.mark.parametrize("kind", ["a directory", "a file that is no database"])
def test_a_terminal_command_on_a_bad_database_names_sesbot_db_in_one_line(kind, tmp_path):
    db = tmp_path
    if kind != "a directory":
        db = tmp_path / "notes.txt"
        db.write_text("these are not the tables you are looking for\n")
    out = sesbot("incidents", env={"AWS_REGION": "us-east-1", "SESBOT_DB": str(db)})
    assert (out.returncode, out.stdout) == (1, "")
    [line] = out.stderr.strip().splitlines()
    assert line.startswith(f"sesbot: cannot write the database {db} (") and line.endswith("; check SESBOT_DB.")


def test_why_in_the_terminal_prints_the_report_as_json(aws_peer, tmp_path):
    aws_peer.set_account(production_access=True, sending_enabled=False)
    out = sesbot(
        "why",
        "jo@example.com",
        "--json",
        env={
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": aws_peer.endpoint_url,
            "SESBOT_DB": str(tmp_path / "s.db"),
            "SESBOT_DNS_SERVERS": "127.0.0.1:9",
            "SESBOT_DNS_TIMEOUT": "0.3",
        },
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert set(report) >= {"target", "region", "verdict", "findings", "elapsed_ms"}
    assert report["target"] == "jo@example.com"
    assert report["verdict"]["check"] == "account.sending"
    assert {"check", "severity", "summary", "evidence", "fix"} <= set(report["findings"][0])


@pytest.mark.parametrize("command", ["why", "history"])
def test_an_argument_that_is_not_utf8_is_a_usage_error_before_anything_runs(command, aws_peer, tmp_path):
    latin1 = os.fsdecode(b"j\xf6hn@example.com")  # what `sesbot why $'j\xf6hn@example.com'` passes
    env = {"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": aws_peer.endpoint_url, "SESBOT_DB": str(tmp_path / "s.db")}
    out = sesbot(command, latin1, env=env)
    assert (out.returncode, out.stdout) == (2, "")
    assert (
        out.stderr
        == "sesbot: the argument `j\ufffdhn@example.com` is not UTF-8; set the terminal to UTF-8 (see `sesbot help`)\n"
    )
    assert not (tmp_path / "s.db").exists()


def stored_history(tmp_path, recipient: str, diagnostic: str) -> str:
    """What `sesbot history` prints of one bounce `sesbot ingest` stored from a file."""
    env = {"AWS_REGION": "us-east-1", "SESBOT_DB": str(tmp_path / "s.db")}
    events = tmp_path / "events.jsonl"
    events.write_text(bounce_doc(1, recipient, diagnostic, datetime.now(UTC) - timedelta(hours=1)) + "\n")
    assert sesbot("ingest", str(events), env=env).returncode == 0
    out = sesbot("history", recipient, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_terminal_shows_a_stored_diagnostics_bidi_controls_and_zero_width_characters_as_text(tmp_path):
    diagnostic = "smtp; 550 5.7.1 see https://\u202emoc.nozama.swa\u202c/unblock \u200bamazon\u2066.com\ufeff"
    shown = stored_history(tmp_path, "rtl@example.com", diagnostic)
    assert "https://\\u202emoc.nozama.swa\\u202c/unblock \\u200bamazon\\u2066.com\\ufeff" in shown
    assert not re.search("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060\ufeff]", shown)


def test_the_terminal_shows_every_c1_control_character_of_a_stored_diagnostic_as_text(tmp_path):
    diagnostic = "smtp; 550 5.7.1 \x9d8;;http://evil.example\x9cclick\x90q\x9c \x9b2J \x85\x80\x9f"
    shown = stored_history(tmp_path, "c1@example.com", diagnostic)
    assert "\\x9d8;;http://evil.example\\x9cclick\\x90q\\x9c \\x9b2J \\x85\\x80\\x9f" in shown
    assert not re.search("[\x80-\x9f]", shown)


@pytest.mark.parametrize("bots_database", ["SESBOT_ALERT_CHANNEL is set", "sesbot run has started on it"])
def test_sweep_once_without_a_slack_token_leaves_the_alerts_of_a_slack_bot_s_database_for_the_bot_to_post(
    bots_database, aws_peer, slack_peer, settings, store
):
    from bot.alerts import deliver
    from bot.deps import Deps
    from bot.store import KV_STARTED_AT
    from tests.conftest import CHANNEL, put_rate, slack_poster

    env = {"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": aws_peer.endpoint_url, "SESBOT_DB": settings.db_path}
    if bots_database == "SESBOT_ALERT_CHANNEL is set":
        env["SESBOT_ALERT_CHANNEL"] = CHANNEL
    else:
        store.kv_set(KV_STARTED_AT, "2026-12-08T04:00:00Z")
    put_rate(aws_peer, 0.06, datetime.now(UTC))

    out = sesbot("sweep", "--once", env=env)  # from cron, say: no SLACK_BOT_TOKEN in its environment
    assert out.returncode == 0, out.stderr
    assert "Bounce rate 6% in us-east-1: review" not in out.stdout  # not printed as if it were posted
    assert "us-east-1 bounce rate: 6%, review" in out.stdout
    assert "1 messages left for the Slack bot to post" in out.stdout
    assert store.query("SELECT kind, claimed_at, sent_at, ts FROM notifications ORDER BY id") == [
        {"kind": kind, "claimed_at": None, "sent_at": None, "ts": None} for kind in ("open", "chart")
    ]

    settings.alert_channel = CHANNEL  # the bot's next delivery posts it: the incident opens in Slack
    posted, pending = deliver(Deps.build(settings, store=store), slack_poster(slack_peer))
    assert ([(p.kind, p.thread_ts) for p in posted], pending) == ([("open", None)], 0)
    [incident] = store.query("SELECT ts FROM incidents")
    assert incident["ts"] == posted[0].ts and not incident["ts"].startswith("term-")


@pytest.mark.parametrize("arg", ["", "not-an-address", "x" * 5000])
def test_why_with_bad_input_is_one_line_and_exit_code_2(arg, tmp_path):
    out = sesbot("why", arg, env={"AWS_REGION": "us-east-1", "SESBOT_DB": str(tmp_path / "s.db")})
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stderr.startswith("sesbot: ")


def test_run_serves_slack_over_http_and_stops_cleanly_on_sigterm(slack_peer, tmp_path):
    import signal
    import time
    import urllib.request

    from peers.slack import post_signed, slash_command_body

    port = free_port()
    env = run_env(
        slack_peer, tmp_path, PORT=str(port), SESBOT_ALERT_CHANNEL="C0ALERTS", AWS_ENDPOINT_URL="http://127.0.0.1:9"
    )
    proc = subprocess.Popen([*SESBOT, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(100):  # bounded: the process imports everything first
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:  # noqa: S310
                    assert resp.read() == b"ok\n"
                break
            except OSError:
                time.sleep(0.1)
        body = slash_command_body("help", response_url=slack_peer.response_url("r"))
        status, text = post_signed(f"http://127.0.0.1:{port}/slack/events", body, "run-test-secret")
        assert (status, json.loads(text)["response_type"]) == (200, "ephemeral")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    assert "HTTP mode: listening on 127.0.0.1" in out
    assert "xoxb-run-test-token" not in out and "run-test-secret" not in out
    assert "Traceback" not in out


def test_sigterm_does_not_wait_out_the_sqs_long_poll_and_loses_nothing(slack_peer, aws_peer, tmp_path):
    import signal
    import time

    from bot.deps import Deps
    from bot.settings import Settings
    from bot.sqs import WAIT_SECONDS, SqsConsumer
    from bot.store import Store
    from tests.conftest import EXAMPLES_RETENTION_DAYS

    sqs = aws_peer.client("sqs")
    url = sqs.create_queue(QueueName="run-events", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    db = str(tmp_path / "s.db")
    env = run_env(
        slack_peer,
        tmp_path,
        AWS_ENDPOINT_URL=aws_peer.endpoint_url,
        PORT=str(free_port()),
        SESBOT_SQS_QUEUE_URL=url,
        # One receiver, so one receive is abandoned and the one message below ends it: a second would hold the
        # peer for the rest of its 20 s long poll, after this test (the default is 2).
        SESBOT_SQS_WORKERS="1",
        SESBOT_DNS_SERVERS="127.0.0.1:9",
    )
    proc = subprocess.Popen([*SESBOT, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(200):  # bounded: wait until the consumer sits in its long poll
            if aws_peer.calls_to("ReceiveMessage"):
                break
            time.sleep(0.05)
        assert aws_peer.calls_to("ReceiveMessage"), "the consumer never polled"
        time.sleep(0.3)  # the receive is in flight, with nothing on the queue: SES is quiet
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=WAIT_SECONDS + 30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    # The process is gone while the peer still holds its long poll open: a message sent now is taken at
    # once by that abandoned receive (nobody else is receiving). Had stopping waited out the poll, no
    # receive would be open any more and the message would stay visible on the queue.
    bounce = json.loads((ROOT_DATA / "awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json").read_text())
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(bounce))
    counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    for _ in range(100):  # bounded: the taken message stays invisible for the visibility timeout (1 s)
        seen = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=counts)["Attributes"]
        if seen["ApproximateNumberOfMessagesNotVisible"] == "1":
            break
        time.sleep(0.01)
    assert seen == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "1"}, (
        f"no receive was open when the process exited: it waited out the {WAIT_SECONDS} s long poll ({seen})"
    )
    # Nothing lost: the message the abandoned receive took comes back after the queue's visibility
    # timeout (1 s) and the next consumer stores it.
    settings = Settings.from_env({"AWS_REGION": "us-east-1", "SESBOT_DB": db})
    settings.aws_endpoint_url, settings.sqs_queue_url = aws_peer.endpoint_url, url
    settings.retention_days = EXAMPLES_RETENTION_DAYS
    store = Store(db)
    try:
        consumer = SqsConsumer(Deps.build(settings, store=store))
        for _ in range(10):  # bounded: each poll waits up to 2 s for the message to be visible again
            if consumer.poll_once(wait_seconds=2).ingested:
                break
        assert [r["type"] for r in store.query("SELECT type FROM events")] == ["Bounce"]
    finally:
        store.close()
    # The abandoned receive ended when it took the message: nothing of the stopped process is left on the peer.
    # (The bound is well short of the long poll, so a receive still waiting it out fails here.)
    assert aws_peer.wait_idle(timeout=WAIT_SECONDS / 2), "a receive of the stopped process is still open"


def test_sigterm_does_not_wait_for_an_answer_stuck_on_aws(slack_peer, aws_peer, tmp_path):
    import signal
    import time
    import urllib.request

    from handlers.main import LEAVE_GRACE, SHUTDOWN_GRACE
    from peers.slack import post_signed, slash_command_body

    # Every AWS answer takes longer than stopping may (README: at most 2 s) and than the bot's read timeout
    # (SESBOT_CHECK_TIMEOUT=1 below), so a process that waited for the answer would log the timeout; and no
    # longer, since the peer's request thread sleeps it out after the process is gone and the test waits for it.
    delay = SHUTDOWN_GRACE + LEAVE_GRACE
    port = free_port()
    env = run_env(
        slack_peer, tmp_path, AWS_ENDPOINT_URL=aws_peer.endpoint_url, PORT=str(port), SESBOT_CHECK_TIMEOUT="1"
    )
    proc = subprocess.Popen([*SESBOT, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(100):  # bounded: the process imports everything first
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:  # noqa: S310
                    resp.read()
                break
            except OSError:
                time.sleep(0.1)
        aws_peer.set_delay(delay)  # the answer to `status` is stuck on its first call
        body = slash_command_body("status", response_url=slack_peer.response_url("r"))
        assert post_signed(f"http://127.0.0.1:{port}/slack/events", body, "run-test-secret")[0] == 200
        for _ in range(200):  # bounded: wait until the answer is waiting on AWS
            if aws_peer.calls:
                break
            time.sleep(0.05)
        assert aws_peer.calls, "the answer never called AWS"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)  # a guard against a hang, not a time budget
    finally:
        aws_peer.set_delay(0)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        # The requests the process left behind still sleep out the delay: answered before the next test starts.
        idle = aws_peer.wait_idle()
    assert idle, "the AWS peer is still answering a request of the stopped process"
    assert proc.returncode == 0, out
    assert "shutting down (signal 15)" in out and "stopped" in out
    # It left while the call was still waiting: the timeout the answer would have logged never came.
    assert "did not answer in time" not in out
    assert "Traceback" not in out


def test_sigterm_does_not_wait_for_an_idle_keep_alive_connection(slack_peer, dns_peer, tmp_path):
    import signal
    import time
    import urllib.request

    from peers.slack import post_signed, slash_command_body

    # The clock: a diagnosis whose DNS never answers is posted when its checks time out, 3 s after it starts:
    # past the 2 s stopping may take (README), well before the seconds a wait on the idle connection would.
    dns_peer.fault("example.com", "timeout", suffix=True)
    port = free_port()
    env = run_env(
        slack_peer,
        tmp_path,
        PORT=str(port),
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        SESBOT_DNS_SERVERS=dns_peer.server_spec,
        SESBOT_DNS_TIMEOUT="10",
        SESBOT_CHECK_TIMEOUT="3",
    )
    proc = subprocess.Popen([*SESBOT, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    idle = None
    try:
        for _ in range(100):  # bounded: the process imports everything first
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:  # noqa: S310
                    resp.read()
                break
            except OSError:
                time.sleep(0.1)
        idle = socket.create_connection(("127.0.0.1", port), timeout=10)
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: sesbot\r\n\r\n")  # answered, then kept alive, idle
        assert idle.recv(1000).startswith(b"HTTP/1.1 200")
        body = slash_command_body("why jo@example.com", response_url=slack_peer.response_url("r"))
        assert post_signed(f"http://127.0.0.1:{port}/slack/events", body, "run-test-secret")[0] == 200
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)  # a guard against a hang, not a time budget
    finally:
        if idle is not None:
            idle.close()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    assert "shutting down (signal 15)" in out and "stopped" in out
    # It left before the diagnosis timed out: the report never came.
    assert not [r for r in slack_peer.responses("r") if "Diagnosis" in json.dumps(r)], slack_peer.responses("r")


def test_sigterm_tells_each_person_whose_answer_it_drops_to_ask_again(slack_peer, aws_peer, tmp_path):
    import signal
    import time
    import urllib.request

    from handlers.main import LEAVE_GRACE, SHUTDOWN_GRACE
    from peers.slack import post_signed, slash_command_body

    port = free_port()
    env = run_env(
        slack_peer,
        tmp_path,
        AWS_ENDPOINT_URL=aws_peer.endpoint_url,
        PORT=str(port),
        SESBOT_CHECK_TIMEOUT="1",
        SESBOT_ANSWER_WORKERS="1",  # one answer runs, the other waits for it
    )
    proc = subprocess.Popen([*SESBOT, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(100):  # bounded: the process imports everything first
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:  # noqa: S310
                    resp.read()
                break
            except OSError:
                time.sleep(0.1)
        aws_peer.set_delay(SHUTDOWN_GRACE + LEAVE_GRACE)  # the running answer is stuck on its first call
        for name in ("running", "waiting"):
            body = slash_command_body("status", response_url=slack_peer.response_url(name))
            assert post_signed(f"http://127.0.0.1:{port}/slack/events", body, "run-test-secret")[0] == 200
        for _ in range(200):  # bounded: wait until the first answer is waiting on AWS
            if aws_peer.calls:
                break
            time.sleep(0.05)
        assert aws_peer.calls, "the answer never called AWS"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)  # a guard against a hang, not a time budget
    finally:
        aws_peer.set_delay(0)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        idle = aws_peer.wait_idle()  # the requests the process left behind still sleep out the delay
    assert idle, "the AWS peer is still answering a request of the stopped process"
    assert proc.returncode == 0, out
    line = ":warning: sesbot restarted before it could answer. Ask again in a minute."
    told = {
        "response_type": "ephemeral",
        "replace_original": False,
        "text": line,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": line}}],
    }
    assert (slack_peer.responses("running"), slack_peer.responses("waiting")) == ([told], [told])
    assert "stopping: 2 answers not given (1 waiting, 1 running); 2 of their askers told to ask again" in out
