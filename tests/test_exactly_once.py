"""Exactly once, also across a crash (issue 13): every outbox message carries its outbox id in Slack message
metadata, and a message tried before is looked for in the channel (or its thread) and adopted, not posted twice.

The crash is real: `sesbot sweep --once` runs as its own process, the Slack peer takes its chat.postMessage
(the message is in the channel) and holds the HTTP answer back, and the test kills the process with SIGKILL
while it waits, so Slack has the message and the bot never heard `ok`. The restarted sweep finds it.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime

from slack_sdk import WebClient

from bot.alerts import sweep
from bot.alerts.outbox import claimer, claimer_gone, deliver
from bot.alerts.pushed import record_pushed
from bot.events import PushedEvent
from bot.ingest import ingest_documents
from bot.store import Store, iso
from handlers.poster import METADATA_EVENT_TYPE, SlackPoster
from tests.conftest import CHANNEL, REGION, bounce_doc, put_rate, slack_poster
from tests.test_alerts import SPAMHAUS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def outbox_ids(messages: list[dict]) -> list[int]:
    return [
        m["metadata"]["event_payload"]["outbox_id"]
        for m in messages
        if (m.get("metadata") or {}).get("event_type") == METADATA_EVENT_TYPE
    ]


def sweep_process(aws_peer, slack_peer, db: str) -> subprocess.Popen:
    """`sesbot sweep --once` as a person runs it, posting to the Slack peer."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SESBOT_", "SLACK_", "AWS_REGION", "PORT"))}
    env = {
        **base,
        "PYTHONPATH": ROOT,
        "SLACK_BOT_TOKEN": "xoxb-crash-test-token",
        "SLACK_API_URL": slack_peer.base_url,
        "SESBOT_ALERT_CHANNEL": CHANNEL,
        "SESBOT_CHARTS": "off",
        "SESBOT_DB": db,
        "SESBOT_DNS_SERVERS": "127.0.0.1:9",
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": aws_peer.endpoint_url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "sesbot", "sweep", "--once"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_every_alert_carries_its_outbox_id_in_slack_metadata(aws_peer, slack_peer, alert_deps, clock):
    put_rate(aws_peer, 0.06, clock.tick())
    result = sweep(alert_deps, slack_poster(slack_peer))
    [row] = alert_deps.store.query("SELECT id, ts FROM notifications WHERE kind = 'open'")
    [kept] = slack_peer.messages_in(CHANNEL, uploads=False)
    assert [p.kind for p in result.posted] == ["open"]
    assert kept["ts"] == row["ts"]
    assert outbox_ids([kept]) == [row["id"]]
    assert kept["metadata"]["event_payload"]["instance"]


def test_a_bot_killed_between_slacks_ok_and_the_outbox_commit_posts_the_alert_once(aws_peer, slack_peer, tmp_path):
    put_rate(aws_peer, 0.06, datetime.now(UTC))  # the process reads CloudWatch at the real time
    db = str(tmp_path / "sesbot.db")
    slack_peer.hold("chat.postMessage")
    first = sweep_process(aws_peer, slack_peer, db)
    try:
        held = slack_peer.wait_for_held("chat.postMessage", timeout=60)
        assert slack_peer.messages_in(CHANNEL), "Slack has the message"
        first.send_signal(signal.SIGKILL)  # Slack said ok; the bot never read it nor marked the row sent
        first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
        slack_peer.release()
    assert first.returncode == -signal.SIGKILL
    store = Store(db)
    try:
        [row] = store.query("SELECT id, kind, sent_at, claimed_at, attempts FROM notifications")
    finally:
        store.close()
    assert (row["kind"], row["sent_at"], row["attempts"]) == ("open", None, 1)
    assert row["claimed_at"] is not None  # claimed by the dead process, its lease not yet expired

    second = sweep_process(aws_peer, slack_peer, db)
    out, _ = second.communicate(timeout=120)
    assert second.returncode == 0, out

    messages = slack_peer.messages_in(CHANNEL)
    assert outbox_ids(messages) == [row["id"]]  # once in the channel
    assert len(slack_peer.calls_to("chat.postMessage")) == 1  # never posted again
    history = slack_peer.calls_to("conversations.history")
    assert history and all(c.params.get("include_all_metadata") in ("1", "true", True) for c in history)
    store = Store(db)
    try:
        [after] = store.query("SELECT ts, sent_at FROM notifications")
        [incident] = store.query("SELECT ts FROM incidents")
    finally:
        store.close()
    assert after["sent_at"] is not None
    assert after["ts"] == incident["ts"] == messages[0]["ts"]
    assert held.params["metadata"]["event_payload"]["outbox_id"] == row["id"]


def test_a_reply_whose_answer_was_lost_is_found_in_its_thread_and_not_posted_twice(
    aws_peer, slack_peer, alert_deps, clock
):
    poster = slack_poster(slack_peer)
    put_rate(aws_peer, 0.03, clock.tick())
    sweep(alert_deps, poster)  # the incident opens: its parent is posted
    [parent] = slack_peer.messages_in(CHANNEL, uploads=False)
    # A client that gives up after a second, and an answer held longer: Slack has the reply, the bot does not
    # know it (a timeout is transient: the row stays owed).
    impatient = SlackPoster(WebClient(base_url=slack_peer.base_url, token="xoxb-test", timeout=1))
    slack_peer.hold("chat.postMessage")
    put_rate(aws_peer, 0.06, clock.tick())
    lost = sweep(alert_deps, impatient)
    slack_peer.release()
    assert (lost.posted, lost.pending) == ([], 2)  # the reply, and the parent's edit queued behind it
    later = sweep(alert_deps, poster)

    thread = slack_peer.messages_in(CHANNEL, thread_ts=parent["ts"], uploads=False)
    [reply_row] = alert_deps.store.query("SELECT id, ts, thread_ts FROM notifications WHERE kind = 'update'")
    assert outbox_ids(thread[1:]) == [reply_row["id"]]  # one reply in the thread
    assert (reply_row["ts"], reply_row["thread_ts"]) == (thread[1]["ts"], parent["ts"])
    assert [c.params["ts"] for c in slack_peer.calls_to("conversations.replies")] == [parent["ts"]]
    assert len(slack_peer.calls_to("chat.postMessage")) == 2  # the parent, the reply: nothing twice
    assert "update" in [p.kind for p in later.posted]


def test_without_the_history_scope_a_retried_alert_is_posted_again_rather_than_lost(
    aws_peer, slack_peer, alert_deps, clock
):
    impatient = SlackPoster(WebClient(base_url=slack_peer.base_url, token="xoxb-test", timeout=1))
    slack_peer.hold("chat.postMessage")
    put_rate(aws_peer, 0.03, clock.tick())
    sweep(alert_deps, impatient)
    slack_peer.release()
    slack_peer.fail("conversations.history", error="missing_scope", status=200, retry_after=None)
    later = sweep(alert_deps, slack_poster(slack_peer))
    assert [p.kind for p in later.posted] == ["open"]
    assert (
        len(slack_peer.messages_in(CHANNEL, uploads=False)) == 2
    )  # at least once: the older way, said in one log line


def test_a_bot_posting_by_chat_write_public_without_being_in_the_channel_posts_a_retried_alert_again(
    aws_peer, slack_peer, alert_deps, clock
):
    # README step 4 allows chat:write.public instead of an invitation: the bot may post but not read history.
    slack_peer.channels[CHANNEL] = {"is_member": False}
    impatient = SlackPoster(WebClient(base_url=slack_peer.base_url, token="xoxb-test", timeout=1))
    slack_peer.hold("chat.postMessage")
    put_rate(aws_peer, 0.03, clock.tick())
    sweep(alert_deps, impatient)  # Slack has it, the bot never heard so: the row stays owed
    slack_peer.release()
    put_rate(aws_peer, 0.06, clock.tick())
    sweep(alert_deps, slack_poster(slack_peer))
    rows = alert_deps.store.query("SELECT kind, sent_at, failed_at FROM notifications WHERE kind != 'chart'")
    assert [r["kind"] for r in rows] == ["open", "update", "parent_update"]
    assert [(bool(r["sent_at"]), r["failed_at"]) for r in rows] == [(True, None)] * 3  # none given up on
    # (a chart is a file upload, which does need membership: that alone fails, and says to invite the bot)


def test_a_chart_whose_upload_answer_was_lost_is_found_in_the_thread_and_not_uploaded_twice(
    aws_peer, slack_peer, alert_deps, clock
):
    put_rate(aws_peer, 0.06, clock.tick())
    impatient = SlackPoster(WebClient(base_url=slack_peer.base_url, token="xoxb-test", timeout=1))
    slack_peer.hold("files.completeUploadExternal")  # Slack shares the chart; the bot never hears it did
    sweep(alert_deps, impatient)
    slack_peer.release()
    [row] = alert_deps.store.query("SELECT id, sent_at, attempts FROM notifications WHERE kind = 'chart'")
    assert row["sent_at"] is None and row["attempts"] == 1
    clock.tick()
    sweep(alert_deps, slack_poster(slack_peer))
    [parent] = slack_peer.messages_in(CHANNEL, uploads=False)
    shared = [m for m in slack_peer.messages_in(CHANNEL, thread_ts=parent["ts"]) if m.get("upload")]
    assert len(shared) == 1 and len(slack_peer.calls_to("files.completeUploadExternal")) == 1
    assert f".o{row['id']}-" in shared[0]["files"][0]["name"]  # the outbox mark, in the file's name
    [after] = alert_deps.store.query("SELECT sent_at, ts FROM notifications WHERE kind = 'chart'")
    assert after["sent_at"] is not None and after["ts"] == shared[0]["ts"]


def test_two_deliveries_in_one_process_post_an_alert_whose_answer_one_of_them_lost_once(slack_peer, alert_deps):
    # The sweep and the SQS consumer deliver at once. The sweep read both rows, then waits on Slack's answer
    # for the first; meanwhile the consumer posts the second, Slack takes it, the answer is lost (a timeout)
    # and the row is released, tried once. The sweep, reaching that row, must look for it before posting.
    events = [
        PushedEvent(
            f"advisor-{i}",
            "Advisor Recommendation Status Open",
            "123456789012",
            REGION,
            "2026-12-03T12:00:00.000Z",
            {"type": "DKIM", "resourceArn": f"arn:aws:ses:{REGION}:123456789012:identity/d{i}.example.com"},
        )
        for i in (1, 2)
    ]
    assert record_pushed(alert_deps, events, notify=True).owes == 2
    patient = SlackPoster(WebClient(base_url=slack_peer.base_url, token="xoxb-test", timeout=60))
    impatient = SlackPoster(WebClient(base_url=slack_peer.base_url, token="xoxb-test", timeout=1))
    slack_peer.hold("chat.postMessage", count=2)
    swept = threading.Thread(target=deliver, args=(alert_deps, patient))
    swept.start()
    try:
        slack_peer.wait_for_held("chat.postMessage")  # the sweep is posting the first row
        consumed, _ = deliver(alert_deps, impatient)  # the second row: posted, its answer lost
    finally:
        slack_peer.release()
        swept.join(60)
    assert consumed == []
    rows = alert_deps.store.query("SELECT id, sent_at FROM notifications ORDER BY id")
    assert all(r["sent_at"] for r in rows)
    assert sorted(outbox_ids(slack_peer.messages_in(CHANNEL))) == [r["id"] for r in rows]  # each once
    assert len(slack_peer.calls_to("conversations.history")) == 1  # the second row was looked for


def test_a_restarted_bot_with_the_dead_ones_pid_takes_over_its_claims_at_once(aws_peer, slack_peer, alert_deps, clock):
    # In a container the bot is PID 1 on the same hostname: the process that died had this process's pid.
    poster = slack_poster(slack_peer)
    slack_peer.fail("chat.postMessage", error="internal_error", status=500, retry_after=None, count=1)
    put_rate(aws_peer, 0.06, clock.tick())
    assert sweep(alert_deps, poster).pending == 1
    host_and_pid, _, start = claimer().rpartition(":")
    dead = f"{host_and_pid}:{int(start) - 1}"  # the same host and pid, started earlier
    assert claimer_gone(dead) and not claimer_gone(claimer())  # this process's own claims stay held
    alert_deps.store.conn.execute(
        "UPDATE notifications SET claimed_at = ?, claimed_by = ? WHERE kind = 'open'", [iso(clock.now), dead]
    )
    clock.tick(1)  # well inside the lease
    again = sweep(alert_deps, poster)
    assert [p.kind for p in again.posted] == ["open"]
    assert outbox_ids(slack_peer.messages_in(CHANNEL, uploads=False)) == [1]


def test_the_sweep_reads_the_dedicated_ips_holding_no_write_lock_and_a_listing_that_came_in_after_could_not_tell(
    aws_peer, slack_peer, alert_deps, settings, clock
):
    alert_deps.settings.regions = [REGION, "eu-west-1"]
    poster = slack_poster(slack_peer)
    sweep(alert_deps, poster)
    at = clock.tick()
    ingest_documents(alert_deps.store, [bounce_doc(1, "a@gmail.com", SPAMHAUS.format(ip="54.240.8.1"), at)], "t")
    writes = []

    def meanwhile(call) -> None:
        """While the sweep waits on GetDedicatedIps: another process writes, and a listing in eu-west-1 comes in."""
        other = sqlite3.connect(settings.db_path, timeout=0, isolation_level=None)  # fails at once if locked
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            writes.append("written")
        except sqlite3.OperationalError as exc:
            writes.append(str(exc))
        finally:
            other.close()
        doc = bounce_doc(2, "b@gmail.com", SPAMHAUS.format(ip="54.240.9.9"), at)
        ingest_documents(alert_deps.store, [doc.replace("arn:aws:ses:us-east-1", "arn:aws:ses:eu-west-1")], "t")

    aws_peer.on_request("GetDedicatedIps", meanwhile)
    sweep(alert_deps, poster)

    assert writes == ["written"]
    assert [c.region for c in aws_peer.calls_to("GetDedicatedIps")] == [REGION]
    opened = {json.dumps(c.params["blocks"]) for c in slack_peer.calls_to("chat.postMessage")}
    [east] = [b for b in opened if "54.240.8.1" in b]
    [west] = [b for b in opened if "54.240.9.9" in b]
    assert "54.240.8.1: not among the account's dedicated IPs" in east
    assert "(could not tell whether this IP is dedicated)" in west
