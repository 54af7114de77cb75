"""The acknowledgement reminder (issue 13): an open incident nobody acknowledged for
SESBOT_ACK_REMINDER_MINUTES gets one reply in its thread, mentioning SESBOT_ONCALL when set."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.alerts import sweep
from bot.incidents import acknowledge, assign, open_incidents, snooze
from tests.conftest import CHANNEL, put_rate, slack_poster


def replies(slack_peer) -> list[dict]:
    return [c.params for c in slack_peer.calls_to("chat.postMessage") if c.params.get("thread_ts")]


def run_for(aws_peer, alert_deps, clock, poster, minutes: int, rate: float = 0.03) -> None:
    for _ in range(minutes // 5):
        put_rate(aws_peer, rate, clock.tick())
        sweep(alert_deps, poster)


def test_an_unacknowledged_incident_gets_one_reminder_naming_the_on_call_group(aws_peer, slack_peer, alert_deps, clock):
    alert_deps.settings.oncall = "S0ONCALL1"
    poster = slack_poster(slack_peer)
    run_for(aws_peer, alert_deps, clock, poster, 25)
    assert replies(slack_peer) == []  # 25 minutes: not yet
    run_for(aws_peer, alert_deps, clock, poster, 60)
    [reminder] = replies(slack_peer)
    parent = slack_peer.calls_to("chat.postMessage")[0]
    assert (reminder["channel"], reminder["thread_ts"]) == (CHANNEL, "1700000000.000100")
    assert parent.params.get("thread_ts") is None
    body = json.dumps(reminder["blocks"])
    assert "Nobody has acknowledged this incident for 30 minutes" in body
    assert "<!subteam^S0ONCALL1>" in body


def test_an_acknowledged_incident_gets_no_reminder(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    run_for(aws_peer, alert_deps, clock, poster, 10)
    [incident] = open_incidents(alert_deps.store)
    acknowledge(alert_deps.store, incident.id, "U0ALICE", clock.now)
    run_for(aws_peer, alert_deps, clock, poster, 60)
    assert replies(slack_peer) == []


def test_an_incident_someone_has_taken_gets_no_reminder(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    run_for(aws_peer, alert_deps, clock, poster, 10)
    [incident] = open_incidents(alert_deps.store)
    assign(alert_deps.store, incident.id, "U0FRAN", "U0FRAN", clock.now)  # "I'll take it": an owner, no ack
    run_for(aws_peer, alert_deps, clock, poster, 60)
    assert replies(slack_peer) == []


def test_zero_minutes_turns_reminders_off_and_no_id_means_no_mention(aws_peer, slack_peer, alert_deps, clock):
    alert_deps.settings.ack_reminder_minutes = 0
    poster = slack_poster(slack_peer)
    run_for(aws_peer, alert_deps, clock, poster, 60)
    assert replies(slack_peer) == []
    alert_deps.settings.ack_reminder_minutes = 30
    run_for(aws_peer, alert_deps, clock, poster, 5)
    [reminder] = replies(slack_peer)
    assert "<@" not in json.dumps(reminder["blocks"]) and "subteam" not in json.dumps(reminder["blocks"])


def test_the_on_call_setting_takes_only_a_slack_id():
    from bot.settings import Settings, SettingsError

    assert Settings.from_env({"SESBOT_ONCALL": "U0123ABCD"}).oncall == "U0123ABCD"
    try:
        Settings.from_env({"SESBOT_ONCALL": "@oncall <!channel>"})
    except SettingsError as exc:
        assert "SESBOT_ONCALL" in str(exc)
    else:
        raise AssertionError("a mention text was accepted as SESBOT_ONCALL")


def test_a_snoozed_incident_gets_no_reminder_until_its_snooze_is_over(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    run_for(aws_peer, alert_deps, clock, poster, 5)
    [incident] = open_incidents(alert_deps.store)
    snooze(alert_deps.store, incident.id, clock.now + timedelta(hours=2), "U0ALICE", clock.now)
    run_for(aws_peer, alert_deps, clock, poster, 60)
    assert [r for r in replies(slack_peer) if "Nobody has acknowledged" in json.dumps(r["blocks"])] == []
    run_for(aws_peer, alert_deps, clock, poster, 65)  # the snooze is over, and still nobody has acknowledged it
    assert [r for r in replies(slack_peer) if "Nobody has acknowledged" in json.dumps(r["blocks"])] != []
