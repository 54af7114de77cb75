"""`sesbot incident N <verb>` (issue 13): the incident-thread verbs from the terminal, through the real CLI
process. The same engine as the thread (`bot.incident_verbs`): on the timeline with the terminal's user as
the actor, and owed as a reply in the incident's thread, which the outbox posts to Slack."""

from __future__ import annotations

import json

from bot.alerts import deliver
from bot.incidents import get_incident
from handlers.poster import SlackPoster
from tests.conftest import BOT_TOKEN
from tests.test_cli import sesbot
from tests.test_incident_notes import owner_field
from tests.test_slack_flows import open_incident

ACTOR = "dana (terminal)"


def terminal(deps, *args: str):
    env = {
        "AWS_REGION": "us-east-1",
        "SESBOT_DB": deps.settings.db_path,
        "SESBOT_ALERT_CHANNEL": "C0ALERTS",
        "LOGNAME": "dana",
        "USER": "dana",
    }
    return sesbot("incident", *args, env=env)


def deliver_to(deps, slack_peer):
    from slack_sdk import WebClient

    posted, _ = deliver(deps, SlackPoster(WebClient(token=BOT_TOKEN, base_url=slack_peer.base_url)))
    return posted


def thread_texts(slack_peer, thread: str) -> list[str]:
    return [c.params["text"] for c in slack_peer.calls_to("chat.postMessage") if c.params.get("thread_ts") == thread]


def test_a_note_from_the_terminal_is_on_the_timeline_by_the_terminal_user_and_reaches_the_thread(deps, slack_peer):
    open_incident(deps, slack_peer)
    thread = deps.store.query("SELECT ts FROM incidents")[0]["ts"]

    out = terminal(deps, "1", "note", "paused the newsletter send <!channel>")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == (
        f"Noted on incident #1 by {ACTOR} (1 note); `status` in this thread shows the timeline."
    )
    assert deps.store.query("SELECT kind, user_id, text FROM incident_log") == [
        {"kind": "note", "user_id": ACTOR, "text": "paused the newsletter send <!channel>"}
    ]
    assert [p.kind for p in deliver_to(deps, slack_peer)] == ["reply"]
    (reply,) = thread_texts(slack_peer, thread)
    assert f"Noted on incident #1 by {ACTOR} (1 note)" in reply
    assert "<!channel>" not in json.dumps(slack_peer.calls_to("chat.postMessage")[-1].params)  # escaped


def test_assign_from_the_terminal_names_the_owner_on_the_parent_and_mentions_them_in_the_thread(deps, slack_peer):
    open_incident(deps, slack_peer)
    thread = deps.store.query("SELECT ts FROM incidents")[0]["ts"]

    out = terminal(deps, "1", "assign", "U0ERIN")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("U0ERIN owns incident #1, bounce rate in us-east-1.")
    assert get_incident(deps.store, 1).owner == "U0ERIN"
    assert [p.kind for p in deliver_to(deps, slack_peer)] == ["parent_update", "reply"]
    edit = slack_peer.calls_to("chat.update")[-1]
    assert owner_field(edit) == ["*Owner*\n<@U0ERIN>"]
    reply = slack_peer.calls_to("chat.postMessage")[-1]
    assert reply.params["thread_ts"] == thread
    assert "<@U0ERIN>" in json.dumps(reply.params["blocks"])  # the new owner is notified


def test_assign_me_from_the_terminal_makes_the_terminal_user_the_owner(deps, slack_peer):
    open_incident(deps, slack_peer)
    out = terminal(deps, "1", "assign", "me")
    assert out.returncode == 0, out.stderr
    assert get_incident(deps.store, 1).owner == ACTOR
    assert deps.store.query("SELECT kind, user_id, text FROM incident_log") == [
        {"kind": "owner", "user_id": ACTOR, "text": ACTOR}
    ]


def test_assign_to_a_plain_name_from_the_terminal_asks_for_the_member_id(deps, slack_peer):
    open_incident(deps, slack_peer)
    out = terminal(deps, "1", "assign", "erin")
    assert out.returncode == 2
    assert "`sesbot incident 1 assign U0123ABCD`" in out.stderr and "Traceback" not in out.stderr
    assert get_incident(deps.store, 1).owner is None


def test_snooze_unsnooze_and_ack_from_the_terminal_are_on_the_timeline_in_order(deps, slack_peer):
    open_incident(deps, slack_peer)
    for args in (("snooze", "2h"), ("unsnooze",), ("ack",)):
        out = terminal(deps, "1", *args)
        assert out.returncode == 0, out.stderr
    incident = get_incident(deps.store, 1)
    assert (incident.snoozed_until, incident.acked_by) == (None, ACTOR)
    out = terminal(deps, "1", "summary")
    assert out.returncode == 0, out.stderr
    events = [line.strip().split(" UTC: ", 1)[1] for line in out.stdout.split("Timeline:")[1].strip().splitlines()]
    assert events[0].startswith("opened: review")
    assert events[1].startswith("snoozed until ") and events[1].endswith(f" UTC by {ACTOR}")
    assert events[2:] == [f"unsnoozed by {ACTOR}", f"acknowledged by {ACTOR}"]
    kinds = [p.kind for p in deliver_to(deps, slack_peer)]
    assert kinds == ["parent_update", "reply", "parent_update", "reply", "reply", "summary"]


def test_resolve_from_the_terminal_says_it_in_the_thread_before_the_summary(deps, slack_peer):
    open_incident(deps, slack_peer)
    thread = deps.store.query("SELECT ts FROM incidents")[0]["ts"]

    out = terminal(deps, "1", "resolve", "paused", "the", "import")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"{ACTOR} resolved incident #1 by hand: paused the import.")
    incident = get_incident(deps.store, 1)
    assert (incident.status, incident.resolved_by) == ("resolved", ACTOR)
    assert [p.kind for p in deliver_to(deps, slack_peer)] == ["reply", "parent_update", "summary"]
    texts = thread_texts(slack_peer, thread)
    assert "resolved incident #1 by hand: paused the import" in texts[0]
    assert texts[1].startswith("Incident #1 summary")

    again = terminal(deps, "1", "resolve", "twice")
    assert (again.returncode, again.stdout) == (2, "")
    assert again.stderr == "sesbot: Incident #1 is already resolved. (see `sesbot help`)\n"


def test_markdown_prints_the_summary_as_a_review_document(deps, slack_peer):
    open_incident(deps, slack_peer)
    terminal(deps, "1", "note", "paused the send")
    out = terminal(deps, "1", "--markdown")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "# Incident #1 summary: bounce rate in us-east-1"
    assert "## Timeline" in lines
    assert any(line.startswith("- ") and f"note by {ACTOR}: paused the send" in line for line in lines)


def test_a_bad_verb_or_duration_is_one_line_saying_what_to_type(deps, slack_peer):
    open_incident(deps, slack_peer)
    out = terminal(deps, "1", "snooze", "forever")
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == (
        "sesbot: Say for how long, like `sesbot incident 1 snooze 2h` (30m, 2h, 1d; at most 7 days). "
        "(see `sesbot help`)\n"
    )
    out = terminal(deps, "1", "frobnicate")
    assert out.returncode == 2
    assert out.stderr.startswith("sesbot: `frobnicate` is no incident verb; say one of status, ack, note")
    out = terminal(deps, "9", "ack")
    assert out.stderr == "sesbot: there is no incident #9; `incidents` lists them (see `sesbot help`)\n"
    assert deps.store.query("SELECT count(*) AS n FROM notifications WHERE kind = 'reply'") == [{"n": 0}]
