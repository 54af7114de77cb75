"""The "Explain with sesbot" message shortcut: on any message, explain the bounce or SES error text in it, or
diagnose the addresses and SES message ids it names (at most three; `bot.pasted` decides which), and
answer in that message's thread.

`explain` is quick and offline, so it is answered at once; a diagnosis runs on the answer pool. When the
bot cannot post in that channel (a private channel it is not in, a DM between others), the answer goes to
the asker in a direct message instead, saying why. The global shortcut is `handlers.diagnose`'s.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.commands import parse, resolve
from bot.commands.why import MAX_TARGETS
from bot.deps import Deps
from bot.pasted import question_in
from handlers.answer import for_channel, run_for_slack
from handlers.blocks import context, error_message
from handlers.slash import RESTARTED_TEXT, busy_text
from handlers.work import Work

log = logging.getLogger(__name__)

EXPLAIN_SHORTCUT = "sesbot_explain"  # the message shortcut (slack/manifest.yml)
NOTHING_TO_ASK = (
    "That message holds no bounce or SES error text, email address or SES message id for sesbot to look at."
)
_CANNOT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})


def register(app: App, deps: Deps, work: Work) -> None:
    @app.message_shortcut(EXPLAIN_SHORTCUT)
    def on_explain(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = str((body.get("user") or {}).get("id") or "")
        channel = str((body.get("channel") or {}).get("id") or "")
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or message.get("ts")
        question = question_in(str(message.get("text") or ""))

        def tell(msg: dict[str, Any]) -> None:
            client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **msg)

        if question is None:
            tell(error_message(NOTHING_TO_ASK))
            return
        inv = parse(question.command)
        notes = [f"<@{user}> asked sesbot about this message."]
        if question.found > MAX_TARGETS:
            notes.append(f"It names {question.found} addresses or message ids; these are the first {MAX_TARGETS}.")

        def answer() -> None:
            # The notes are built into the answer: added after it was fitted, they would push its buttons out.
            msg, ok = run_for_slack(
                deps,
                inv,
                user_id=user,
                channel_id=channel,
                team_id=(body.get("team") or {}).get("id"),
                lead=[context(*notes)],
            )
            if not ok:
                tell(msg)
                return
            shown = for_channel(deps, msg)
            try:
                client.chat_postMessage(channel=channel, thread_ts=thread_ts, **shown)
            except SlackApiError as exc:
                error = exc.response.get("error") if exc.response is not None else None
                if error not in _CANNOT_POST:
                    raise
                dm = client.conversations_open(users=user)["channel"]["id"]
                why = context(f"sesbot cannot post in that conversation ({error}), so here is the answer.")
                # The asker's own copy says why it came here in place of the notes (one block for one).
                client.chat_postMessage(channel=dm, text=msg["text"], blocks=[why, *msg["blocks"][1:]])

        if resolve(inv, "slack").answer_in_ack:
            answer()
            return
        admission = work.admit()
        if not admission.accepted:
            tell(error_message(busy_text(admission)))
            return
        admission.start(answer, if_dropped=lambda: tell(error_message(RESTARTED_TEXT)))
