"""Incident threads: `status`, `ack`, `assign @user` (or `assign me`), `note <text>`, `snooze 2h` /
`unsnooze`, `resolve <reason>` and `summary` mentioned in an incident's thread speak about that incident,
and the alert's buttons ("Acknowledge", "I'll take it", "Show bounces") act on it. A new owner, a snooze or
a resolution is shown on the parent message at once (the outbox delivers the edit, and the summary)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.alerts import ACK_ACTION, BOUNCES_ACTION, TAKE_ACTION, deliver
from bot.commands import Invocation
from bot.deps import Deps
from bot.incidents import (
    MAX_SNOOZE,
    Incident,
    acknowledge,
    add_note,
    assign,
    get_incident,
    incident_bounces_answer,
    incident_for_thread,
    incident_status_answer,
    incident_summary_answer,
    resolve,
    snooze,
)
from bot.timefmt import parse_duration, span
from handlers.answer import for_channel
from handlers.blocks import answer_message, error_message, escape, section
from handlers.poster import SlackPoster

THREAD_VERBS = ("status", "ack", "note", "assign", "summary", "snooze", "unsnooze", "resolve")
# The verbs that change what the parent message shows (or owe a reply), delivered at once.
DELIVER_AFTER = ("assign", "snooze", "unsnooze", "resolve")

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def _user(user_id: object) -> str | None:
    """`user_id` when it is a Slack user id, else None (never text that could be a mention or markup)."""
    return user_id if isinstance(user_id, str) and _USER_ID.match(user_id) else None


_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>$")


def _assign_message(deps: Deps, incident: Incident, owner: str | None, by: str | None) -> dict[str, Any]:
    if not owner:
        return error_message("Say who owns it, like `@sesbot assign @dana` or `@sesbot assign me`.")
    inc = assign(deps.store, incident.id, owner, _user(by)) or incident
    line = f":bust_in_silhouette: <@{owner}> owns incident #{inc.id}, {escape(inc.label)} in {escape(inc.where)}."
    return {"text": line, "blocks": [section(line)]}


def _snooze_message(deps: Deps, incident: Incident, inv: Invocation, user_id: str | None) -> dict[str, Any]:
    by = _user(user_id)
    if inv.name == "unsnooze":
        inc = snooze(deps.store, incident.id, None, by, deps.now()) or incident
        line = f":bell: Incident #{inc.id} is no longer snoozed: every change is posted here again."
        return {"text": line, "blocks": [section(line)]}
    length = parse_duration(" ".join(inv.args))
    if length is None or length <= timedelta(0) or length > MAX_SNOOZE:
        return error_message("Say for how long, like `@sesbot snooze 2h` (30m, 2h, 1d; at most 7 days).")
    until = deps.now() + length
    inc = snooze(deps.store, incident.id, until, by, deps.now()) or incident
    line = (
        f":zzz: Incident #{inc.id} snoozed for {span(length)}, until {until:%Y-%m-%d %H:%M} UTC: changes at the "
        "same or a better level are not posted here until then; a worse level still is."
    )
    return {"text": line, "blocks": [section(line)]}


def assignee(args: list[str], asker: str | None) -> str | None:
    """The user `assign` names: a Slack mention, or `me` (the asker); None when it names nobody."""
    if len(args) != 1:
        return None
    if args[0].lower() == "me":
        return _user(asker)
    m = _USER_MENTION.match(args[0])
    return m.group(1) if m else None


def _ack_message(deps: Deps, incident: Incident, user_id: str | None) -> dict[str, Any]:
    who = _user(user_id)
    if who is None:
        return error_message("Slack did not say who acknowledged; try again.")
    inc = acknowledge(deps.store, incident.id, who) or incident
    line = f":eyes: <@{who}> is on it: incident #{inc.id}, {escape(inc.label)} in {escape(inc.where)}."
    return {"text": line, "blocks": [section(line)]}


def _note_message(deps: Deps, incident: Incident, user_id: str | None, text: str) -> dict[str, Any]:
    if not text.strip():
        return error_message("Say what to note, like `@sesbot note paused the newsletter send`.")
    who = _user(user_id)
    count = add_note(deps.store, incident.id, who, text)
    by = f" by <@{who}>" if who else ""
    notes = f"{count} note{'s' if count != 1 else ''}"
    line = f":memo: Noted on incident #{incident.id}{by} ({notes}); `status` in this thread shows the timeline."
    return {"text": line, "blocks": [section(line)]}


def _resolve_message(deps: Deps, incident: Incident, user_id: str | None, reason: str) -> dict[str, Any]:
    who = _user(user_id)
    if not reason.strip():
        return error_message("Say why it is resolved, like `@sesbot resolve paused the import, bounces stopped`.")
    if who is None:
        return error_message("Slack did not say who resolved it; try again.")
    inc = resolve(deps, incident.id, who, reason)
    if inc is None:
        return error_message(f"Incident #{incident.id} is already resolved.")
    line = (
        f":white_check_mark: <@{who}> resolved incident #{inc.id} by hand: {escape(reason.strip())}. "
        f"If the signal is still bad for the next {deps.settings.recovery_sweeps} sweeps, a new incident opens "
        "and links this one. The summary follows."
    )
    return {"text": line, "blocks": [section(line)]}


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
    if inv.name == "ack":
        return _ack_message(deps, incident, user_id)
    if inv.name == "note":
        return _note_message(deps, incident, user_id, inv.rest)
    if inv.name == "assign":
        return _assign_message(deps, incident, assignee(inv.args, user_id), user_id)
    if inv.name == "summary":
        return answer_message(incident_summary_answer(deps, incident))
    if inv.name in ("snooze", "unsnooze"):
        return _snooze_message(deps, incident, inv, user_id)
    if inv.name == "resolve":
        return _resolve_message(deps, incident, user_id, inv.rest)
    return answer_message(incident_status_answer(deps, incident))


def register(app: App, deps: Deps) -> None:
    def incident_of(action: dict[str, Any]) -> Incident | None:
        try:
            return get_incident(deps.store, int(str(action.get("value") or "")))
        except ValueError:
            return None

    def thread_of(
        body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> tuple[Incident, str, str | None, str | None] | None:
        """The button's incident, channel, clicker and the thread to answer in; None (said to the clicker
        when the incident is gone) when there is nothing to answer."""
        incident = incident_of(action)
        channel = (body.get("channel") or {}).get("id")
        user = (body.get("user") or {}).get("id")
        if incident is None or not channel:
            if channel and user:
                client.chat_postEphemeral(channel=channel, user=user, text="That incident no longer exists.")
            return None
        return incident, channel, user, incident.ts or (body.get("message") or {}).get("ts")

    @app.action(ACK_ACTION)
    def on_ack(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        target = thread_of(body, action, client)
        if target is None:
            return
        incident, channel, user, thread = target
        client.chat_postMessage(
            channel=channel, thread_ts=thread, **for_channel(deps, _ack_message(deps, incident, user))
        )

    @app.action(BOUNCES_ACTION)
    def on_bounces(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        incident = incident_of(action)
        channel = (body.get("channel") or {}).get("id")
        user = (body.get("user") or {}).get("id")
        if not channel or not user:
            return
        if incident is None:
            client.chat_postEphemeral(channel=channel, user=user, text="That incident no longer exists.")
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
        owner = _user(user)
        msg = _assign_message(deps, incident, owner, owner)
        client.chat_postMessage(channel=channel, thread_ts=thread, **for_channel(deps, msg))
        deliver_owed(deps, client)


def deliver_owed(deps: Deps, client: WebClient) -> None:
    """Deliver what the outbox owes now (the parent's new owner), rather than at the next sweep."""
    deliver(deps, SlackPoster(client, redact=deps.settings.redact == "local"))
