"""`@sesbot note <text>` in an incident thread (issue 13): the note goes on the incident's timeline, shown
by `status` in the thread, escaped like every untrusted text."""

from __future__ import annotations

import json

from peers.slack import app_mention_body, post_signed
from tests.conftest import SIGNING_SECRET
from tests.test_slack_flows import open_incident


def mention(bot_server, text: str, channel: str, thread_ts: str, user: str = "U0DAVE") -> None:
    body = app_mention_body(text, user=user, channel=channel, thread_ts=thread_ts)
    status, _ = post_signed(bot_server.events_url, body, SIGNING_SECRET)
    assert status == 200


def test_a_note_is_acknowledged_in_the_thread_and_shown_escaped_on_the_timeline(bot_server, slack_peer, deps):
    channel, _ = open_incident(deps, slack_peer)
    thread = deps.store.query("SELECT ts FROM incidents")[0]["ts"]
    mention(bot_server, "note paused the newsletter send <!channel> it's *not* DNS", channel, thread)
    reply = slack_peer.wait_for("chat.postMessage", timeout=30)
    assert reply.params["thread_ts"] == thread
    assert reply.params["text"].startswith(":memo: Noted on incident #1 by <@U0DAVE> (1 note)")
    assert deps.store.query("SELECT user_id, text FROM incident_log WHERE kind = 'note'") == [
        {"user_id": "U0DAVE", "text": "paused the newsletter send <!channel> it's *not* DNS"}
    ]
    slack_peer.clear()
    mention(bot_server, "status", channel, thread)
    status = slack_peer.wait_for("chat.postMessage", timeout=30)
    shown = json.dumps(status.params["blocks"])
    assert "note by U0DAVE: paused the newsletter send" in shown
    assert "<!channel>" not in shown  # escaped: the note cannot ping the channel


def test_an_empty_note_says_what_to_write(bot_server, slack_peer, deps):
    channel, _ = open_incident(deps, slack_peer)
    thread = deps.store.query("SELECT ts FROM incidents")[0]["ts"]
    mention(bot_server, "note", channel, thread)
    reply = slack_peer.wait_for("chat.postMessage", timeout=30)
    assert "Say what to note" in json.dumps(reply.params)
    assert deps.store.query("SELECT count(*) AS n FROM incident_log") == [{"n": 0}]


# -- assign and "I'll take it" ---------------------------------------------------------------------------


def owner_field(call) -> list[str]:
    first = call.params["blocks"][1]
    return [f["text"] for f in first.get("fields", []) if f["text"].startswith("*Owner*")]


def test_assign_names_the_owner_in_the_thread_on_the_parent_and_on_the_timeline(bot_server, slack_peer, deps):
    channel, parent = open_incident(deps, slack_peer)
    thread = deps.store.query("SELECT ts FROM incidents")[0]["ts"]
    mention(bot_server, "<@U0SESBOT> assign <@U0ERIN|erin>", channel, thread, user="U0DAVE")
    reply = slack_peer.wait_for("chat.postMessage", timeout=30)
    assert reply.params["text"].startswith(":bust_in_silhouette: <@U0ERIN> owns incident #1")
    edit = slack_peer.wait_for("chat.update", timeout=30)
    assert (edit.params["channel"], edit.params["ts"]) == (channel, thread)
    assert owner_field(edit) == ["*Owner*\n<@U0ERIN>"]
    assert deps.store.query("SELECT owner FROM incidents") == [{"owner": "U0ERIN"}]
    slack_peer.clear()
    mention(bot_server, "status", channel, thread)
    shown = json.dumps(slack_peer.wait_for("chat.postMessage", timeout=30).params["blocks"])
    assert "owner U0ERIN (set by U0DAVE)" in shown


def test_the_take_button_makes_the_clicker_the_owner(bot_server, slack_peer, deps):
    from bot.alerts import TAKE_ACTION
    from peers.slack import block_action_body

    channel, parent = open_incident(deps, slack_peer)
    assert "I'll take it" in json.dumps(parent.params["blocks"])
    body = block_action_body(TAKE_ACTION, "1", user_id="U0FRAN", channel_id=channel)
    post_signed(bot_server.events_url, body, SIGNING_SECRET)
    assert "<@U0FRAN> owns incident #1" in slack_peer.wait_for("chat.postMessage", timeout=30).params["text"]
    assert owner_field(slack_peer.wait_for("chat.update", timeout=30)) == ["*Owner*\n<@U0FRAN>"]


def test_assign_me_and_assign_without_anyone(bot_server, slack_peer, deps):
    channel, _ = open_incident(deps, slack_peer)
    thread = deps.store.query("SELECT ts FROM incidents")[0]["ts"]
    mention(bot_server, "assign me", channel, thread, user="U0GWEN")
    assert "<@U0GWEN> owns" in slack_peer.wait_for("chat.postMessage", timeout=30).params["text"]
    slack_peer.clear()
    mention(bot_server, "assign dana", channel, thread)
    assert "Say who owns it" in json.dumps(slack_peer.wait_for("chat.postMessage", timeout=30).params)
    assert deps.store.query("SELECT owner FROM incidents") == [{"owner": "U0GWEN"}]


def test_every_acknowledgement_is_on_the_timeline_once_and_the_first_stays_the_incidents(bot_server, slack_peer, deps):
    channel, _ = open_incident(deps, slack_peer)
    thread = deps.store.query("SELECT ts FROM incidents")[0]["ts"]
    for user in ("U0DAVE", "U0ERIN", "U0DAVE"):
        slack_peer.clear()
        mention(bot_server, "ack", channel, thread, user=user)
        assert f"<@{user}> is on it" in slack_peer.wait_for("chat.postMessage", timeout=30).params["text"]
    first = deps.store.query("SELECT user_id, at FROM incident_log WHERE kind = 'ack' ORDER BY id")
    assert [r["user_id"] for r in first] == ["U0DAVE", "U0ERIN"]  # Dave's second ack is not logged again
    # The time to acknowledge is the first person's.
    assert deps.store.query("SELECT acked_by, acked_at FROM incidents") == [
        {"acked_by": "U0DAVE", "acked_at": first[0]["at"]}
    ]
    slack_peer.clear()
    mention(bot_server, "summary", channel, thread)
    shown = json.dumps(slack_peer.wait_for("chat.postMessage", timeout=30).params["blocks"])
    assert shown.count("acknowledged by <@U0DAVE>") == 2  # the summary line (the first) and the timeline
    assert shown.count("acknowledged by <@U0ERIN>") == 1


def test_an_acknowledgement_from_before_the_log_stays_on_the_timeline(tmp_path):
    from bot.alerts.summary import timeline
    from bot.incidents import get_incident
    from bot.store import MIGRATIONS, Store

    path = str(tmp_path / "s.db")
    old = Store(path, migrations=MIGRATIONS[:14])
    old.conn.execute(
        "INSERT INTO incidents (signal, region, level, status, opened_at, acked_by, acked_at) VALUES "
        "('bounce_rate', 'us-east-1', 'review', 'open', '2026-12-03T09:00:00.000Z', 'U0DAVE', "
        "'2026-12-03T09:05:00.000Z')"
    )
    old.close()
    store = Store(path)
    events = timeline(store.conn, get_incident(store, 1))
    assert [(e["at"], e["kind"], e["user_id"]) for e in events] == [("2026-12-03T09:05:00.000Z", "ack", "U0DAVE")]


# -- summary ------------------------------------------------------------------------------------------------


def summary_after_a_note(bot_server, slack_peer, deps, note: str) -> str:
    """An incident that U0DAVE took and noted `note` on; its thread summary's blocks, as JSON."""
    channel, _ = open_incident(deps, slack_peer)
    thread = deps.store.query("SELECT ts FROM incidents")[0]["ts"]
    mention(bot_server, "<@U0SESBOT> assign me", channel, thread, user="U0DAVE")
    slack_peer.wait_for("chat.postMessage", timeout=30)
    mention(bot_server, f"note {note}", channel, thread, user="U0DAVE")
    slack_peer.wait_for("chat.postMessage", lambda c: "Noted" in c.params.get("text", ""), timeout=30)
    slack_peer.clear()
    mention(bot_server, "summary", channel, thread)
    return json.dumps(slack_peer.wait_for("chat.postMessage", timeout=30).params["blocks"])


def test_a_thread_summary_gives_duration_worst_level_the_owner_as_a_person_and_the_timeline(
    bot_server, slack_peer, deps
):
    shown = summary_after_a_note(bot_server, slack_peer, deps, "rolled back the import; U0EVE was not involved")
    assert "Incident #1 summary" in shown
    assert "still open" in shown and "Worst level" in shown
    # People the bot recorded are shown as people; an id someone merely wrote in a note stays text.
    assert "Owner: <@U0DAVE>" in shown
    assert "note by <@U0DAVE>: rolled back the import; U0EVE was not involved" in shown
    assert "<@U0EVE>" not in shown


def test_a_mention_written_in_a_note_is_shown_once_as_that_person_or_stays_escaped_text(bot_server, slack_peer, deps):
    shown = summary_after_a_note(bot_server, slack_peer, deps, "handing over to <@U0DAVE|dave>, cc <@U0EVE>")
    # The recorded owner, written as a mention, is that person once (not "&lt;@<@U0DAVE>&gt;"); someone the
    # incident never recorded stays escaped text, so the summary pings nobody new.
    assert "note by <@U0DAVE>: handing over to <@U0DAVE>, cc &lt;@U0EVE&gt;" in shown
    assert "&lt;@<@" not in shown and "<@U0EVE>" not in shown


def test_the_incident_command_prints_the_summary_as_json_and_refuses_a_bad_number(deps, slack_peer):
    from bot.commands import CommandContext, execute, parse
    from bot.target import UsageError

    open_incident(deps, slack_peer)
    answer = execute(CommandContext(deps), parse("incident 1 --json"))
    data = answer.as_dict()
    assert (data["incident"]["id"], data["worst_level"]) == (1, data["incident"]["level"])
    assert [e["kind"] for e in data["timeline"]][0] == "open"
    for bad in ("incident", "incident x", "incident 99"):
        try:
            execute(CommandContext(deps), parse(bad))
        except UsageError as exc:
            assert "incident" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")
