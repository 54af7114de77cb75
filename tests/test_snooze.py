"""`snooze 2h` / `unsnooze` on an incident (issue 13): no thread updates at the same or a better level until
it expires; a worse level still posts and says the snooze was overridden; the parent shows the expiry."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.alerts import sweep
from bot.incidents import incident_status_answer, open_incidents, snooze
from peers.slack import app_mention_body, post_signed
from tests.conftest import SIGNING_SECRET, put_rate, slack_poster
from tests.test_slack_flows import open_incident


def thread_headers(slack_peer) -> list[str]:
    return [
        c.params["blocks"][0]["text"]["text"]
        for c in slack_peer.calls_to("chat.postMessage")
        if c.params.get("thread_ts")
    ]


def test_a_snoozed_incident_posts_only_what_is_worse_and_says_the_snooze_was_overridden(
    aws_peer, slack_peer, alert_deps, clock
):
    alert_deps.settings.ack_reminder_minutes = 0
    poster = slack_poster(slack_peer)
    put_rate(aws_peer, 0.03, clock.tick())  # elevated: the incident opens
    sweep(alert_deps, poster)
    [incident] = open_incidents(alert_deps.store)
    until = clock.now + timedelta(hours=2)
    snooze(alert_deps.store, incident.id, until, "U0DAVE", clock.now)
    sweep(alert_deps, poster)  # delivers the parent edit
    edit = slack_peer.calls_to("chat.update")[-1]
    assert "Snoozed until" in json.dumps(edit.params["blocks"])

    put_rate(aws_peer, 0.045, clock.tick())  # near review: worse than elevated, posts through the snooze
    sweep(alert_deps, poster)
    put_rate(aws_peer, 0.03, clock.tick())  # back down: hysteresis keeps near review, nothing worse
    sweep(alert_deps, poster)
    worse = [c for c in slack_peer.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert len(worse) == 1
    shown = json.dumps(worse[0].params["blocks"])
    assert f"Posted although the incident is snoozed until {until:%Y-%m-%d %H:%M} UTC: worse." in shown


def test_the_same_level_during_a_snooze_goes_on_the_timeline_not_the_thread(aws_peer, slack_peer, alert_deps, clock):
    alert_deps.settings.ack_reminder_minutes = 0
    poster = slack_poster(slack_peer)
    put_rate(aws_peer, 0.045, clock.tick())  # near review
    sweep(alert_deps, poster)
    [incident] = open_incidents(alert_deps.store)
    put_rate(aws_peer, 0.03, clock.tick())
    until = clock.now + timedelta(hours=2)
    snooze(alert_deps.store, incident.id, until, "U0DAVE", clock.now)
    for _ in range(3):  # calm sweeps drop it to elevated: better, so not posted while snoozed
        put_rate(aws_peer, 0.03, clock.tick())
        sweep(alert_deps, poster)
    assert thread_headers(slack_peer) == []
    lines = dict(incident_status_answer(alert_deps, open_incidents(alert_deps.store)[0]).sections)["Timeline"]
    assert any("snoozed until" in line and "by U0DAVE" in line for line in lines)
    assert any(f"(not posted: snoozed until {until:%Y-%m-%d %H:%M} UTC)" in line for line in lines)


def test_after_the_snooze_expires_changes_post_again(aws_peer, slack_peer, alert_deps, clock):
    alert_deps.settings.ack_reminder_minutes = 0
    poster = slack_poster(slack_peer)
    put_rate(aws_peer, 0.045, clock.tick())
    sweep(alert_deps, poster)
    [incident] = open_incidents(alert_deps.store)
    snooze(alert_deps.store, incident.id, clock.now + timedelta(minutes=10), "U0DAVE", clock.now)
    clock.tick(30)
    for _ in range(3):
        put_rate(aws_peer, 0.03, clock.tick())
        sweep(alert_deps, poster)
    assert thread_headers(slack_peer)  # the drop to elevated is posted: the snooze is over


def test_the_first_sweep_after_a_snooze_ends_edits_the_parent_once_to_drop_the_expiry(
    aws_peer, slack_peer, alert_deps, clock
):
    alert_deps.settings.ack_reminder_minutes = 0
    poster = slack_poster(slack_peer)
    put_rate(aws_peer, 0.06, clock.tick())
    sweep(alert_deps, poster)
    [incident] = open_incidents(alert_deps.store)
    snooze(alert_deps.store, incident.id, clock.now + timedelta(minutes=30), "U0DAVE", clock.now)
    sweep(alert_deps, poster)  # the parent shows the expiry
    assert "Snoozed until" in json.dumps(slack_peer.calls_to("chat.update")[-1].params["blocks"])
    clock.tick(60)
    for _ in range(3):  # the same level: no other reason to edit the parent
        put_rate(aws_peer, 0.06, clock.tick())
        sweep(alert_deps, poster)
    edits = slack_peer.calls_to("chat.update")
    assert len(edits) == 2
    assert "Snoozed until" not in json.dumps(edits[-1].params["blocks"])


def test_snooze_and_unsnooze_in_the_thread(bot_server, slack_peer, deps):
    channel, _ = open_incident(deps, slack_peer)
    thread = deps.store.query("SELECT ts FROM incidents")[0]["ts"]
    for text, expect in (
        ("snooze 2h", ":zzz: Incident #1 snoozed for 2 hours, until"),
        ("snooze 90m", ":zzz: Incident #1 snoozed for 1 hour 30 minutes, until"),
        ("snooze 36h", ":zzz: Incident #1 snoozed for 1 day 12 hours, until"),
        ("snooze forever", "Say for how long"),
        ("unsnooze", ":bell: Incident #1 is no longer snoozed"),
    ):
        slack_peer.clear()
        body = app_mention_body(text, user="U0DAVE", channel=channel, thread_ts=thread)
        assert post_signed(bot_server.events_url, body, SIGNING_SECRET)[0] == 200
        assert expect in json.dumps(slack_peer.wait_for("chat.postMessage", timeout=30).params)
    assert deps.store.query("SELECT snoozed_until FROM incidents") == [{"snoozed_until": None}]
