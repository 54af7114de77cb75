"""Slack end to end: a diagnosis from the slash command to the response_url, incident threads and
their buttons, and the write button offered on a diagnosis — all over real HTTP to the app."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient

from bot.alerts import ACK_ACTION, BOUNCES_ACTION, TAKE_ACTION, sweep
from handlers.poster import SlackPoster
from handlers.threads import GONE
from peers.slack import app_mention_body, block_action_body, post_signed, slash_command_body
from tests.conftest import BOT_TOKEN, REGION, SIGNING_SECRET


def texts(msg):
    return json.dumps(msg.get("blocks", []), ensure_ascii=False) + msg.get("text", "")


def test_a_signed_why_is_acknowledged_at_once_and_answered_at_the_response_url(bot_server, slack_peer, aws_peer):
    aws_peer.set_account(production_access=True)
    aws_peer.set_identity("mail.example.com")
    aws_peer.suppress("jane@example.net", region=REGION)
    body = slash_command_body(
        "why <mailto:jane@example.net|jane@example.net>", response_url=slack_peer.response_url("why")
    )
    status, raw = post_signed(bot_server.events_url, body, SIGNING_SECRET)
    ack = json.loads(raw)
    assert (status, ack["response_type"]) == (200, "ephemeral")
    assert ack["text"] == ":hourglass_flowing_sand: Working on `why jane@example.net`…"
    report = slack_peer.wait_for_response("why", timeout=30)
    assert report["response_type"] == "in_channel"
    assert report["blocks"][0]["text"]["text"] == "Diagnosis: jane@example.net"
    assert "`recipient.suppressed`" in report["blocks"][1]["text"]["text"]
    assert report["blocks"][-1]["elements"][0]["action_id"] == "sesbot_rerun"


def test_each_diagnosis_is_stored_with_who_asked_and_the_verdict(bot_server, slack_peer, aws_peer, deps):
    aws_peer.set_account(production_access=True)
    aws_peer.set_identity("mail.example.com")
    aws_peer.suppress("jane@example.net", region=REGION)
    body = slash_command_body("why jane@example.net", user_id="U0CAROL", response_url=slack_peer.response_url("d"))
    post_signed(bot_server.events_url, body, SIGNING_SECRET)
    slack_peer.wait_for_response("d", timeout=30)
    row = deps.store.query("SELECT via, user_id, channel_id, target, verdict_check FROM diagnoses")[-1]
    assert row == {
        "via": "slack",
        "user_id": "U0CAROL",
        "channel_id": "C0OPS",
        "target": "jane@example.net",
        "verdict_check": "recipient.suppressed",
    }


def test_the_remove_button_is_offered_only_when_writes_are_on(bot_server_factory, slack_peer, aws_peer):
    aws_peer.suppress("jane@example.net", region=REGION)
    answers = {}
    for allow, name in ((False, "off"), (True, "on")):
        server = bot_server_factory(allow_writes=allow, admins=frozenset({"U0ADMIN"}))
        post_signed(
            server.events_url,
            slash_command_body("why jane@example.net", response_url=slack_peer.response_url(name)),
            SIGNING_SECRET,
        )
        answers[name] = slack_peer.wait_for_response(name, timeout=30)
    off, on = answers["off"], answers["on"]
    actions = lambda m: [e["action_id"] for e in m["blocks"][-1]["elements"]]  # noqa: E731
    assert actions(off) == ["sesbot_rerun"]
    assert actions(on) == ["sesbot_rerun", "suppression_remove"]


def test_an_address_only_on_a_tenant_list_gets_no_account_list_remove_button(bot_server_factory, slack_peer, aws_peer):
    aws_peer.set_account(production_access=True, region=REGION)
    aws_peer.set_identity("mail.example.com")
    # The tenant checks its own list (SuppressionScope TENANT; unset, SES uses the account's list).
    aws_peer.add_tenant("acme", region=REGION, suppression_scope="TENANT")
    aws_peer.suppress("jane@example.net", region=REGION, tenant="acme")
    server = bot_server_factory(allow_writes=True, admins=frozenset({"U0ADMIN"}), tenant="acme")
    post_signed(
        server.events_url,
        slash_command_body("why jane@example.net", response_url=slack_peer.response_url("tenant")),
        SIGNING_SECRET,
    )
    answer = slack_peer.wait_for_response("tenant", timeout=30)
    verdict = answer["blocks"][1]["text"]["text"]
    assert "`recipient.suppressed`" in verdict and "acme" in verdict
    assert [e["action_id"] for e in answer["blocks"][-1]["elements"]] == ["sesbot_rerun"]


def template_command(length: int) -> str:
    """`template welcome {...}` padded to exactly `length` characters."""
    command = 'template welcome {"name": "Ana", "note": ""}'
    return command.replace('""', '"' + "x" * (length - len(command)) + '"')


def test_a_command_that_fits_in_a_button_is_re_run_whole_and_a_longer_one_gets_no_re_run_button(
    bot_server, slack_peer, aws_peer
):
    # A button's value holds 2,000 characters: a cut command would re-run broken JSON.
    aws_peer.add_template("welcome", "Welcome, {{name}}!", text="Hello {{name}}")
    answers = {}
    for name, length in (("fits", 2000), ("long", 2001)):
        body = slash_command_body(template_command(length), response_url=slack_peer.response_url(name))
        post_signed(bot_server.events_url, body, SIGNING_SECRET)
        answers[name] = slack_peer.wait_for_response(name, timeout=30)
    assert "Template 'welcome' renders" in texts(answers["long"])
    assert [b for b in answers["long"]["blocks"] if b["type"] == "actions"] == []
    rerun = answers["fits"]["blocks"][-1]["elements"][0]
    assert (rerun["action_id"], rerun["value"]) == ("sesbot_rerun", template_command(2000))
    post_signed(
        bot_server.events_url,
        block_action_body(rerun["action_id"], rerun["value"], response_url=slack_peer.response_url("rerun")),
        SIGNING_SECRET,
    )
    again = slack_peer.wait_for_response("rerun", timeout=30)
    assert "Template 'welcome' renders" in texts(again)


def open_incident(deps, slack_peer):
    """One sweep at a 6% bounce rate: an incident opens with its parent message in the alert channel."""
    deps.settings.alert_channel = "C0ALERTS"
    deps.aws.get("cloudwatch").put_metric_data(
        Namespace="AWS/SES",
        MetricData=[{"MetricName": "Reputation.BounceRate", "Value": 0.06, "Timestamp": datetime.now(UTC)}],
    )
    sweep(deps, SlackPoster(WebClient(token=BOT_TOKEN, base_url=slack_peer.base_url)))
    parent = slack_peer.wait_for("chat.postMessage")
    slack_peer.clear()
    return parent.params["channel"], parent


def test_status_mentioned_in_an_incident_thread_answers_about_that_incident(bot_server, slack_peer, deps):
    channel, _ = open_incident(deps, slack_peer)
    incident_ts = deps.store.query("SELECT ts FROM incidents")[0]["ts"]
    post_signed(
        bot_server.events_url, app_mention_body("status", channel=channel, thread_ts=incident_ts), SIGNING_SECRET
    )
    reply = slack_peer.wait_for("chat.postMessage", timeout=30)
    assert reply.params["thread_ts"] == incident_ts
    assert "Incident #1" in texts(reply.params)


def test_ack_in_an_incident_thread_records_who_is_on_it(bot_server, slack_peer, deps):
    channel, _ = open_incident(deps, slack_peer)
    incident_ts = deps.store.query("SELECT ts FROM incidents")[0]["ts"]
    post_signed(
        bot_server.events_url,
        app_mention_body("ack", user="U0DAVE", channel=channel, thread_ts=incident_ts),
        SIGNING_SECRET,
    )
    reply = slack_peer.wait_for("chat.postMessage", timeout=30)
    assert reply.params["text"].startswith(":eyes: <@U0DAVE> is on it: incident #1")
    assert deps.store.query("SELECT acked_by FROM incidents") == [{"acked_by": "U0DAVE"}]


def test_the_alert_buttons_acknowledge_and_show_the_bounces(bot_server, slack_peer, deps):
    channel, _ = open_incident(deps, slack_peer)
    post_signed(
        bot_server.events_url, block_action_body(ACK_ACTION, "1", user_id="U0ERIN", channel_id=channel), SIGNING_SECRET
    )
    assert "<@U0ERIN> is on it" in slack_peer.wait_for("chat.postMessage", timeout=30).params["text"]
    post_signed(
        bot_server.events_url,
        block_action_body(BOUNCES_ACTION, "1", user_id="U0ERIN", channel_id=channel),
        SIGNING_SECRET,
    )
    shown = slack_peer.wait_for("chat.postEphemeral", timeout=30)
    assert shown.params["user"] == "U0ERIN"


def test_a_button_for_an_incident_that_does_not_exist_says_so(bot_server, slack_peer):
    post_signed(bot_server.events_url, block_action_body(ACK_ACTION, "999"), SIGNING_SECRET)
    assert slack_peer.wait_for("chat.postEphemeral").params["text"] == GONE


@pytest.mark.parametrize("where", ["another channel", "another message"])
def test_an_alert_button_acts_only_on_its_own_incidents_message(bot_server, slack_peer, deps, where):
    channel, _ = open_incident(deps, slack_peer)
    elsewhere = (
        {"channel_id": "C0OTHER"} if where == "another channel" else {"channel_id": channel, "message_ts": "1.2"}
    )
    for action in (ACK_ACTION, TAKE_ACTION, BOUNCES_ACTION):
        post_signed(
            bot_server.events_url, block_action_body(action, "1", user_id="U0ERIN", **elsewhere), SIGNING_SECRET
        )
        assert slack_peer.wait_for("chat.postEphemeral", timeout=30).params["text"] == GONE
        slack_peer.clear()
    assert deps.store.query("SELECT acked_by, owner FROM incidents") == [{"acked_by": None, "owner": None}]
