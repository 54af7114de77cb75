"""`resolve <reason>` in an incident thread and the summary every resolution posts (issue 13): closed by hand
with who and why on the timeline; a signal still bad for the next sweeps opens a new incident that links
the one closed by hand; automatic or by hand, the resolution posts the summary in the thread."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.alerts import ACK_ACTION, TAKE_ACTION, stored_readings, sweep
from bot.incidents import (
    acknowledge,
    add_note,
    assign,
    get_incident,
    incident_status_answer,
    open_incidents,
    resolve,
    snooze,
    status_answer,
)
from peers.slack import block_action_body, post_signed
from tests.conftest import CHANNEL, SIGNING_SECRET, put_rate, slack_poster
from tests.test_incident_notes import mention
from tests.test_slack_flows import open_incident


def thread_replies(slack_peer, thread: str) -> list[str]:
    return [c.params["text"] for c in slack_peer.calls_to("chat.postMessage") if c.params.get("thread_ts") == thread]


def test_resolve_in_the_thread_closes_the_incident_by_hand_and_posts_the_summary(bot_server, slack_peer, deps):
    channel, _ = open_incident(deps, slack_peer)
    thread = deps.store.query("SELECT ts FROM incidents")[0]["ts"]
    mention(bot_server, "resolve paused the <!channel> import", channel, thread, user="U0DAVE")
    reply = slack_peer.wait_for("chat.postMessage", timeout=30)
    assert reply.params["text"].startswith(":white_check_mark: <@U0DAVE> resolved incident #1 by hand: paused the")
    assert "<!channel>" not in reply.params["text"]  # the reason is escaped
    summary = slack_peer.wait_for(
        "chat.postMessage", lambda c: "Incident #1 summary" in c.params.get("text", ""), timeout=30
    )
    assert summary.params["thread_ts"] == thread
    shown = json.dumps(summary.params["blocks"])
    assert "resolved by hand by <@U0DAVE>: paused the" in shown
    edit = slack_peer.wait_for("chat.update", timeout=30)
    assert "Resolved by hand by <@U0DAVE>: paused the" in json.dumps(edit.params["blocks"])
    incident = get_incident(deps.store, 1)
    assert incident is not None
    assert (incident.status, incident.resolved_by) == ("resolved", "U0DAVE")


def test_resolve_without_a_reason_or_twice_says_so(bot_server, slack_peer, deps):
    channel, _ = open_incident(deps, slack_peer)
    thread = deps.store.query("SELECT ts FROM incidents")[0]["ts"]
    mention(bot_server, "resolve", channel, thread)
    assert "Say why it is resolved" in json.dumps(slack_peer.wait_for("chat.postMessage", timeout=30).params)
    assert open_incidents(deps.store)
    resolve(deps, 1, "U0DAVE", "fixed")
    slack_peer.clear()
    mention(bot_server, "resolve fixed again", channel, thread)
    refused = slack_peer.wait_for("chat.postMessage", lambda c: "already" in json.dumps(c.params), timeout=30)
    assert "Incident #1 is already resolved" in json.dumps(refused.params)


def test_a_hand_resolved_incident_still_bad_at_the_next_sweeps_reopens_as_a_new_linked_one(
    aws_peer, slack_peer, alert_deps, clock
):
    alert_deps.settings.ack_reminder_minutes = 0
    poster = slack_poster(slack_peer)
    put_rate(aws_peer, 0.06, clock.tick())  # review: incident #1
    sweep(alert_deps, poster)
    resolve(alert_deps, 1, "U0DAVE", "fixed the list", clock.tick(1))
    put_rate(aws_peer, 0.06, clock.tick())  # still bad, one sweep: not yet (as many as a recovery needs)
    sweep(alert_deps, poster)
    assert open_incidents(alert_deps.store) == []
    put_rate(aws_peer, 0.06, clock.tick())  # still bad, the second sweep: it reopens
    sweep(alert_deps, poster)
    [again] = open_incidents(alert_deps.store)
    assert (again.id, again.reopens) == (2, 1)
    parents = [c for c in slack_peer.calls_to("chat.postMessage") if not c.params.get("thread_ts")]
    assert len(parents) == 2
    assert "Reopens incident #1, resolved by hand" in json.dumps(parents[1].params["blocks"])
    assert "by <@U0DAVE> (fixed the list)" in json.dumps(parents[1].params["blocks"])


def test_a_hand_resolved_signal_still_bad_shows_its_own_level_and_the_sweeps_before_it_reopens(
    aws_peer, slack_peer, alert_deps, clock
):
    alert_deps.settings.ack_reminder_minutes = 0
    poster = slack_poster(slack_peer)
    put_rate(aws_peer, 0.06, clock.tick())
    sweep(alert_deps, poster)
    resolve(alert_deps, 1, "U0DAVE", "fixed", clock.tick(1))
    put_rate(aws_peer, 0.06, clock.tick())  # still bad, one sweep of the 2 that reopen it
    sweep(alert_deps, poster)

    waiting = "incident #1 resolved by hand; bad 1 of 2 sweeps before it reopens"
    for answer in (status_answer(alert_deps), status_answer(alert_deps, stored_readings)):  # live, App Home
        assert f"Bounce rate: 6% (CloudWatch), review (from 5%); {waiting}" in answer.sections[0][1]
    incident = get_incident(alert_deps.store, 1)
    assert incident is not None
    now = dict(incident_status_answer(alert_deps, incident).sections)["Now"]
    assert now[:2] == [
        "Bounce rate: 6% (CloudWatch) review",
        "Incident #1 resolved by hand; bad 1 of 2 sweeps before it reopens",
    ]


def test_a_hand_resolved_signal_that_recovers_opens_nothing(aws_peer, slack_peer, alert_deps, clock):
    alert_deps.settings.ack_reminder_minutes = 0
    poster = slack_poster(slack_peer)
    put_rate(aws_peer, 0.06, clock.tick())
    sweep(alert_deps, poster)
    resolve(alert_deps, 1, "U0DAVE", "fixed", clock.tick(1))
    for value in (0.06, 0.001, 0.06):  # bad once, then OK: the next bad spell is a new incident of its own
        put_rate(aws_peer, value, clock.tick())
        sweep(alert_deps, poster)
    [later] = open_incidents(alert_deps.store)
    assert (later.id, later.reopens) == (2, None)


def test_an_automatic_resolution_posts_the_summary_in_the_thread(aws_peer, slack_peer, alert_deps, clock):
    alert_deps.settings.ack_reminder_minutes = 0
    poster = slack_poster(slack_peer)
    for value in (0.03, 0.001, 0.001):
        put_rate(aws_peer, value, clock.tick())
        sweep(alert_deps, poster)
    thread = alert_deps.store.query("SELECT ts FROM incidents")[0]["ts"]
    replies = thread_replies(slack_peer, thread)
    assert replies[-2].startswith("Resolved: bounce rate in us-east-1")
    assert replies[-1].startswith("Incident #1 summary: bounce rate in us-east-1")
    summary = slack_peer.calls_to("chat.postMessage")[-1].params
    shown = json.dumps(summary["blocks"])
    assert "Worst level: elevated (3%)" in shown and "resolved" in shown
    assert "not posted yet" not in shown  # the resolution is posted just before it
    assert summary["channel"] == CHANNEL


def test_the_timeline_lists_what_people_did_in_the_order_they_did_it(aws_peer, slack_peer, alert_deps, clock):
    from bot.incidents import incident_summary_answer

    alert_deps.settings.ack_reminder_minutes = 0
    poster = slack_poster(slack_peer)
    put_rate(aws_peer, 0.03, clock.tick())
    sweep(alert_deps, poster)
    acknowledge(alert_deps.store, 1, "U0DAVE", clock.tick(1))
    assign(alert_deps.store, 1, "U0ERIN", "U0DAVE", clock.tick(1))
    add_note(alert_deps.store, 1, "U0ERIN", "paused the import", clock.tick(1))
    snooze(alert_deps.store, 1, clock.now + timedelta(hours=1), "U0ERIN", clock.tick(1))
    snooze(alert_deps.store, 1, None, "U0ERIN", clock.tick(1))
    put_rate(aws_peer, 0.045, clock.tick())
    sweep(alert_deps, poster)
    resolve(alert_deps, 1, "U0ERIN", "list cleaned", clock.tick(1))
    incident = get_incident(alert_deps.store, 1)
    assert incident is not None
    answer = incident_summary_answer(alert_deps, incident)
    assert [e["kind"] for e in answer.data["timeline"]] == [
        "open",
        "ack",
        "owner",
        "note",
        "snooze",
        "snooze",
        "update",
        "resolved_by_hand",
    ]
    lines = dict(answer.sections)["Timeline"]
    assert lines[-1].endswith("resolved by hand by U0ERIN: list cleaned")
    assert dict(answer.sections)["Summary"][0].split(", ")[1].startswith("resolved")


def test_a_resolved_incident_refuses_the_verbs_and_buttons_that_change_it_but_takes_notes_for_its_review(
    bot_server, slack_peer, deps
):
    channel, _ = open_incident(deps, slack_peer)
    thread = deps.store.query("SELECT ts FROM incidents")[0]["ts"]
    mention(bot_server, "resolve fixed", channel, thread)
    slack_peer.wait_for("chat.postMessage", lambda c: "Incident #1 summary" in c.params.get("text", ""), timeout=30)
    before = get_incident(deps.store, 1)
    owed = "SELECT kind, count(*) AS n FROM notifications GROUP BY kind ORDER BY kind"
    owed_before = deps.store.query(owed)
    for text in ("snooze 2h", "unsnooze", "ack", "assign <@U0ERIN|erin>", "assign me"):
        slack_peer.clear()
        mention(bot_server, text, channel, thread, user="U0FRAN")
        reply = slack_peer.wait_for("chat.postMessage", timeout=30)
        assert reply.params["text"] == ":warning: Incident #1 is already resolved.", text
    for action in (ACK_ACTION, TAKE_ACTION):
        slack_peer.clear()
        body = block_action_body(action, "1", user_id="U0FRAN", channel_id=channel, message_ts=thread)
        post_signed(bot_server.events_url, body, SIGNING_SECRET)
        reply = slack_peer.wait_for("chat.postMessage", timeout=30)
        assert reply.params["text"] == ":warning: Incident #1 is already resolved.", action
    slack_peer.clear()
    mention(bot_server, "note the list came from a bought CRM export", channel, thread, user="U0FRAN")
    reply = slack_peer.wait_for("chat.postMessage", timeout=30)
    assert reply.params["text"].startswith(":memo: Noted on incident #1 by <@U0FRAN> (1 note) for its review")
    assert get_incident(deps.store, 1) == before  # nobody acked, owns or snoozed it
    assert deps.store.query(owed) == owed_before  # no edit of the resolved parent is owed
    assert [r["kind"] for r in deps.store.query("SELECT kind FROM incident_log ORDER BY id")] == [
        "resolved_by_hand",
        "note",
    ]
