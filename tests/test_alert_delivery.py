"""Slack errors retrying cannot fix (issue 13): the message is marked failed with the reason, never retried,
and `status` and `/healthz` say so until a later post lands; transient errors keep their back-off."""

from __future__ import annotations

import urllib.request

import pytest

from bot.alerts import sweep
from bot.alerts.outbox import delivery_problem
from bot.incidents import status_answer
from tests.conftest import CHANNEL, put_rate, slack_poster


def owed(store) -> list[dict]:
    return store.query(
        "SELECT kind, failed_reason IS NOT NULL AS failed, sent_at IS NOT NULL AS sent FROM notifications"
    )


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        ("not_in_channel", "invite the bot to the channel (/invite @sesbot)"),
        ("channel_not_found", "check SESBOT_ALERT_CHANNEL"),
        ("is_archived", "unarchive the channel"),
    ],
)
def test_a_channel_the_bot_cannot_post_in_fails_once_and_is_not_retried(
    aws_peer, slack_peer, alert_deps, clock, error, hint
):
    poster = slack_poster(slack_peer)
    slack_peer.fail("chat.postMessage", error=error, status=200, retry_after=None, count=None)
    put_rate(aws_peer, 0.03, clock.tick())
    first = sweep(alert_deps, poster)
    put_rate(aws_peer, 0.045, clock.tick())
    second = sweep(alert_deps, poster)  # the worse level is tried once, as the incident's new first message
    clock.tick()
    third = sweep(alert_deps, poster)

    assert (first.posted, first.pending) == ([], 0)
    assert (second.pending, third.pending) == (0, 0)
    # Each message tried once and never again: the open, then the worse level (with it, the edit it dooms).
    assert len(slack_peer.calls_to("chat.postMessage")) == 2
    assert all(r["failed"] and not r["sent"] for r in owed(alert_deps.store))
    problem = delivery_problem(alert_deps.store)
    assert problem is not None and problem["channel"] == CHANNEL
    assert problem["reason"].startswith(f"{error}: {hint}")
    status = status_answer(alert_deps)
    [lines] = [lines for title, lines in status.sections if title == "Alert delivery"]
    assert lines[0].startswith(f"alerts are not reaching <#{CHANNEL}>: {error}")
    assert status.data["alert_delivery"]["reason"].startswith(error)


def test_after_the_bot_is_invited_a_new_alert_lands_and_the_problem_clears(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    slack_peer.fail("chat.postMessage", error="not_in_channel", status=200, retry_after=None, count=1)
    put_rate(aws_peer, 0.03, clock.tick())
    sweep(alert_deps, poster)
    assert delivery_problem(alert_deps.store) is not None
    put_rate(aws_peer, 0.2, clock.tick())  # worse: a new message, now that the bot is in the channel
    later = sweep(alert_deps, poster)
    assert later.posted
    assert delivery_problem(alert_deps.store) is None


def test_a_dead_token_fails_everything_owed_and_stops_the_sweep(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    slack_peer.set_token_valid(False)
    put_rate(aws_peer, 0.03, clock.tick())
    result = sweep(alert_deps, poster)
    assert (result.posted, result.pending) == ([], 0)
    problem = delivery_problem(alert_deps.store)
    assert problem is not None and problem["reason"].startswith("invalid_auth: SLACK_BOT_TOKEN is not valid")


def test_a_transient_error_keeps_the_message_owed(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    slack_peer.fail("chat.postMessage", error="internal_error", status=200, retry_after=None, count=1)
    put_rate(aws_peer, 0.03, clock.tick())
    refused = sweep(alert_deps, poster)
    clock.tick()
    delivered = sweep(alert_deps, poster)
    assert refused.pending == 1
    assert [p.kind for p in delivered.posted] == ["open"]
    assert delivery_problem(alert_deps.store) is None


def test_healthz_says_degraded_with_the_reason(aws_peer, slack_peer, alert_deps, clock, bot_server_factory):
    poster = slack_poster(slack_peer)
    slack_peer.fail("chat.postMessage", error="not_in_channel", status=200, retry_after=None, count=1)
    put_rate(aws_peer, 0.03, clock.tick())
    sweep(alert_deps, poster)
    server = bot_server_factory()
    with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as resp:  # noqa: S310 - loopback
        body = resp.read().decode()
    assert resp.status == 200
    assert body.startswith(f"degraded: alerts are not reaching {CHANNEL}: not_in_channel: invite the bot")
