"""`@sesbot why user@example.com` in a channel or thread: the answer goes in that thread, from the answer
pool (`handlers.work`; Slack's Events API is acknowledged before the listener runs).

In an incident thread, `status` and `ack` speak about that incident.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.commands import parse
from bot.deps import Deps
from bot.target import UsageError
from handlers.answer import for_channel, run_for_slack
from handlers.blocks import error_message
from handlers.slash import RESTARTED_TEXT, busy_text
from handlers.threads import DELIVER_AFTER, deliver_owed, incident_reply
from handlers.work import Work

log = logging.getLogger(__name__)
_LEADING_MENTIONS = re.compile(r"^\s*(?:<@[A-Z0-9]+(?:\|[^>]*)?>\s*)+")


def command_text(text: str, bot_user_id: str | None = None) -> str:
    """The command in a mention: the text without the bot's own mention (`<@BOT>`, wherever it stands when the
    bot's id is known, else the mentions it starts with). Other people's mentions stay: `assign <@U0ERIN>`."""
    text = text or ""
    if bot_user_id:
        return re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text).strip()
    return _LEADING_MENTIONS.sub("", text).strip()


def register(app: App, deps: Deps, work: Work) -> None:
    @app.event("app_mention")
    def on_mention(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        channel = event.get("channel")
        thread_ts = event.get("thread_ts") or event.get("ts")
        user = event.get("user")
        if not isinstance(channel, str) or not isinstance(user, str):
            # Slack's app_mention always carries both (and the guard refuses a mention from no one);
            # without them there is no one to answer and nowhere to answer.
            log.warning("app_mention without a channel or a user; not answered")
            return
        text = command_text(event.get("text", ""), context.bot_user_id)
        try:
            inv = parse(text)
        except UsageError as exc:
            client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **error_message(str(exc)))
            return
        if event.get("thread_ts"):
            msg = incident_reply(deps, inv, channel=channel, thread_ts=event["thread_ts"], user_id=user)
            if msg is not None:
                client.chat_postMessage(channel=channel, thread_ts=thread_ts, **for_channel(deps, msg))
                if inv.name in DELIVER_AFTER:
                    deliver_owed(deps, client)  # the parent shows the owner, the snooze or the resolution
                return
        admission = work.admit()
        if not admission.accepted:
            client.chat_postEphemeral(
                channel=channel, user=user, thread_ts=thread_ts, **error_message(busy_text(admission))
            )
            return

        def answer() -> None:
            msg, ok = run_for_slack(
                deps, inv, user_id=user, channel_id=channel, team_id=event.get("team"), thread_ts=thread_ts
            )
            if ok:
                client.chat_postMessage(channel=channel, thread_ts=thread_ts, **for_channel(deps, msg))
            else:  # a usage error is for the asker only
                client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **msg)

        def restarted() -> None:
            client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **error_message(RESTARTED_TEXT))

        admission.start(answer, if_dropped=restarted)
