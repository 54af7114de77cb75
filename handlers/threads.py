"""Incident threads: `status`, `ack`, `assign @user` (or `assign me`), `note <text>`, `snooze 2h` /
`unsnooze`, `resolve <reason>` and `summary` mentioned in an incident's thread speak about that incident,
and the alert's buttons ("Acknowledge", "I'll take it", "Show bounces") act on it. The verbs are the engine's
(`bot.incident_verbs`, which `sesbot incident N <verb>` runs too); this module only renders their replies
for Slack (people as mentions, every other word escaped). A new owner, a snooze or a resolution is shown on
the parent message at once (the outbox delivers the edit, and the summary)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.alerts import ACK_ACTION, BOUNCES_ACTION, TAKE_ACTION, deliver
from bot.commands import Invocation
from bot.deps import Deps
from bot.incident_verbs import CHANGES_PARENT, VERBS, VerbError, VerbReply, run_verb
from bot.incidents import Incident, get_incident, incident_bounces_answer, incident_for_thread
from bot.slack_ids import slack_user
from bot.target import whole_number
from handlers.answer import for_channel
from handlers.blocks import answer_message, error_message, escape, mention, section
from handlers.poster import SlackPoster

THREAD_VERBS = VERBS
DELIVER_AFTER = CHANGES_PARENT  # what changes the parent message (or owes a reply) is delivered at once
HOW = "@sesbot "  # how a verb is said in a thread, for the examples of its error messages
GONE = "That incident no longer exists, or this is not its alert message."


def _person(who: str) -> str:
    """A user as a mention; anything else (a terminal user's name) as escaped text."""
    return (mention(who) if slack_user(who) else "") or escape(who)


def reply_message(reply: VerbReply) -> dict[str, Any]:
    """The verb's reply as Slack renders it: people as mentions, every other word escaped."""
    if reply.answer is not None:
        return answer_message(reply.answer)
    line = f"{reply.emoji} {reply.render(_person, escape)}"
    return {"text": line, "blocks": [section(line)]}


def _verb_message(
    deps: Deps, incident: Incident, verb: str, args: list[str], rest: str, user_id: str | None
) -> dict[str, Any]:
    try:
        return reply_message(run_verb(deps, incident, verb, args, rest, slack_user(user_id), how=HOW))
    except VerbError as exc:
        return error_message(str(exc))


def incident_reply(
    deps: Deps, inv: Invocation, *, channel: str, thread_ts: str, user_id: str | None
) -> dict[str, Any] | None:
    """The reply for an incident-thread command, or None when the thread is no incident's or the
    command is not incident-specific (then the ordinary command runs)."""
    if inv.name not in THREAD_VERBS:
        return None
    incident = incident_for_thread(deps.store, channel, thread_ts)
    if incident is None:
        return None
    return _verb_message(deps, incident, inv.name, inv.args, inv.rest, user_id)


def _on_its_message(body: dict[str, Any], incident: Incident) -> bool:
    """Whether the button was clicked on the incident's own alert message: a button's value is only its
    number, and a payload copied to another channel (or edited) must not act on, or show, another incident."""
    channel = (body.get("channel") or {}).get("id")
    clicked = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
    if not incident.channel or channel != incident.channel:
        return False
    return not incident.ts or clicked == incident.ts


def register(app: App, deps: Deps) -> None:
    def incident_of(action: dict[str, Any], body: dict[str, Any]) -> Incident | None:
        number = whole_number(str(action.get("value") or ""))
        incident = get_incident(deps.store, number) if number is not None else None
        return incident if incident is not None and _on_its_message(body, incident) else None

    def thread_of(
        body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> tuple[Incident, str, str | None, str | None] | None:
        """The button's incident, channel, clicker and the thread to answer in; None (said to the clicker
        when the incident is gone) when there is nothing to answer."""
        incident = incident_of(action, body)
        channel = (body.get("channel") or {}).get("id")
        user = (body.get("user") or {}).get("id")
        if incident is None or not channel:
            if channel and user:
                client.chat_postEphemeral(channel=channel, user=user, text=GONE)
            return None
        return incident, channel, user, incident.ts or (body.get("message") or {}).get("ts")

    @app.action(ACK_ACTION)
    def on_ack(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        target = thread_of(body, action, client)
        if target is None:
            return
        incident, channel, user, thread = target
        msg = _verb_message(deps, incident, "ack", [], "", user)
        client.chat_postMessage(channel=channel, thread_ts=thread, **for_channel(deps, msg))

    @app.action(BOUNCES_ACTION)
    def on_bounces(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        incident = incident_of(action, body)
        channel = (body.get("channel") or {}).get("id")
        user = (body.get("user") or {}).get("id")
        if not channel or not user:
            return
        if incident is None:
            client.chat_postEphemeral(channel=channel, user=user, text=GONE)
            return
        # Ephemeral, to the asker only: the addresses stay whole even with SESBOT_REDACT=local.
        client.chat_postEphemeral(channel=channel, user=user, **answer_message(incident_bounces_answer(deps, incident)))

    @app.action(TAKE_ACTION)
    def on_take(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        target = thread_of(body, action, client)
        if target is None:
            return
        incident, channel, user, thread = target
        msg = _verb_message(deps, incident, "assign", ["me"], "me", user)
        client.chat_postMessage(channel=channel, thread_ts=thread, **for_channel(deps, msg))
        deliver_owed(deps, client)


def deliver_owed(deps: Deps, client: WebClient) -> None:
    """Deliver what the outbox owes now (the parent's new owner), rather than at the next sweep."""
    deliver(deps, SlackPoster(client, redact=deps.settings.redact == "local"))
