"""Retries on both sides of the Slack connection: Slack re-sending an event, and Slack rate-limiting an answer."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta

from bot.ingest import prune
from peers.slack import app_mention_body, post_signed, signed_headers
from tests.conftest import SIGNING_SECRET


def post_again(url: str, body: bytes, retry_num: int) -> int:
    """The same delivery as Slack re-sends it: the same body, a fresh signature, the retry headers."""
    headers = signed_headers(body, SIGNING_SECRET)
    headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
    assert url.startswith("http://127.0.0.1:")  # the local app only
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        return response.status


def answers_in(slack_peer, thread_ts: str) -> list[dict]:
    return [c.params for c in slack_peer.calls_to("chat.postMessage") if c.params.get("thread_ts") == thread_ts]


def test_an_event_slack_sends_again_is_acknowledged_and_answered_only_once(bot_server, slack_peer):
    ts = "1700000100.000100"
    body = app_mention_body("explain 550 5.1.1 user unknown", ts=ts)
    assert post_signed(bot_server.events_url, body, SIGNING_SECRET)[0] == 200
    slack_peer.wait_for("chat.postMessage", lambda c: c.params.get("thread_ts") == ts, timeout=30)

    assert [post_again(bot_server.events_url, body, n) for n in (1, 2, 3)] == [200, 200, 200]
    time.sleep(0.5)  # give a wrongly re-run mention the time to answer a second time

    assert len(answers_in(slack_peer, ts)) == 1


def test_two_different_events_are_both_answered(bot_server, slack_peer):
    for ts in ("1700000200.000100", "1700000201.000100"):
        post_signed(bot_server.events_url, app_mention_body("help", ts=ts), SIGNING_SECRET)
    for ts in ("1700000200.000100", "1700000201.000100"):
        slack_peer.wait_for("chat.postMessage", lambda c, ts=ts: c.params.get("thread_ts") == ts, timeout=30)


def test_an_answer_slack_rate_limits_once_is_sent_again_after_its_retry_after(bot_server, slack_peer):
    ts = "1700000300.000100"
    slack_peer.fail("chat.postMessage", "ratelimited", status=429, retry_after=1, count=1)
    post_signed(bot_server.events_url, app_mention_body("help", ts=ts), SIGNING_SECRET)

    deadline = time.monotonic() + 30
    while len(answers_in(slack_peer, ts)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    refused, sent = answers_in(slack_peer, ts)

    assert refused == sent  # the same answer, sent again after Slack's Retry-After
    assert "sesbot" in json.dumps(sent)
    time.sleep(0.3)
    assert len(answers_in(slack_peer, ts)) == 2  # and not a third time


def test_an_event_claim_is_pruned_with_the_retention_like_every_seen_id(store):
    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    old, recent = now - timedelta(days=40), now - timedelta(minutes=5)
    assert [store.first_time("slack-event:EvOLD", old), store.first_time("slack-event:EvOLD", old)] == [True, False]
    assert store.first_time("slack-event:EvNEW", recent)

    prune(store, retention_days=30, now=now)

    assert store.first_time("slack-event:EvOLD", old)  # forgotten with the retention
    assert not store.first_time("slack-event:EvNEW", recent)  # still remembered
