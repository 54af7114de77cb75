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
    assert deps.store.query("SELECT user_id, text FROM incident_notes") == [
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
    assert deps.store.query("SELECT count(*) AS n FROM incident_notes") == [{"n": 0}]
