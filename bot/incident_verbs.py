"""Incident verbs: `ack`, `assign`, `note`, `snooze` / `unsnooze`, `resolve` and `summary` on one incident.

One engine for both front ends: mentioned in the incident's thread (`handlers.threads`) and typed in the
terminal (`sesbot incident N <verb>`, `bot.commands.incidents`). Each verb does its work through
`bot.incidents` (on the timeline, with who did it) and answers with a `VerbReply`: a sentence whose people
and untrusted words are kept apart, so Slack renders people as mentions and escapes the words, while the
terminal prints them as they are. `owe_reply` writes the reply to the outbox as a reply in the incident's
thread, which is how a verb typed in the terminal reaches Slack (the next delivery posts it).

A verb that cannot be done raises `VerbError` (a `UsageError`: one line saying what to type), worded for
where it was asked (`how`: "@sesbot " in a thread, "sesbot incident 3 " in the terminal).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.alerts.records import Incident
from bot.alerts.transitions import Owed, insert_owed, summary_owed
from bot.deps import Deps
from bot.findings import Answer, Severity
from bot.incidents import (
    MAX_SNOOZE,
    acknowledge,
    add_note,
    assign,
    get_incident,
    incident_status_answer,
    incident_summary_answer,
    resolve,
    snooze,
)
from bot.notify import Message
from bot.slack_ids import USER_ID, slack_user
from bot.target import UsageError
from bot.timefmt import duration, parse_duration

VERBS = ("status", "ack", "note", "assign", "summary", "snooze", "unsnooze", "resolve")
# The verbs that change what the parent message shows (or owe a reply), delivered at once in Slack.
CHANGES_PARENT = ("assign", "snooze", "unsnooze", "resolve")

_USER_MENTION = re.compile(rf"^<?@?({USER_ID})(?:\|[^>]*)?>?$")


class VerbError(UsageError):
    """The verb cannot be done as asked; the message says what to type instead."""


def assignee(args: list[str], asker: str | None) -> str | None:
    """The user `assign` names: a Slack mention (`<@U0ERIN|erin>`), a Slack user id (`U0ERIN`), or `me`
    (the asker); None when it names nobody."""
    if len(args) != 1:
        return None
    if args[0].lower() == "me":
        return asker
    m = _USER_MENTION.match(args[0])
    return m.group(1) if m else None


@dataclass
class VerbReply:
    """What a verb says in the thread. `template` names its `people` (Slack user ids, or a terminal user's
    name) and its `words` (untrusted text) as `{placeholders}`; `answer` is the whole answer of `status` and
    `summary`."""

    verb: str
    incident: Incident
    emoji: str = ""
    template: str = ""
    people: dict[str, str] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)
    answer: Answer | None = None
    notify: str = ""  # a Slack user the thread reply mentions (the new owner)

    def render(self, person: Callable[[str], str], word: Callable[[str], str]) -> str:
        """The sentence with each person through `person` and each word through `word`."""
        values = {k: person(v) for k, v in self.people.items()} | {k: word(v) for k, v in self.words.items()}
        return self.template.format(**values)

    def text(self) -> str:
        """The sentence as plain text (the terminal, the outbox's message; its renderer escapes)."""
        if self.answer is not None:
            return self.answer.title
        return self.render(str, str)

    def message(self) -> Message:
        """The reply as the neutral message the outbox posts in the incident's thread."""
        return Message(title=f"Incident #{self.incident.id}: {self.verb}", lines=[self.text()], notify=self.notify)


def _facts(incident: Incident) -> dict[str, str]:
    return {"label": incident.label, "where": incident.where}


def _still_open(changed: Incident | None, incident: Incident) -> Incident:
    """The incident as the verb left it; a resolved one is not changed (the verb's UPDATE wants it open)."""
    if changed is None:
        raise VerbError(f"Incident #{incident.id} is already resolved.")
    return changed


def do_ack(deps: Deps, incident: Incident, actor: str) -> VerbReply:
    inc = _still_open(acknowledge(deps.store, incident.id, actor, deps.now()), incident)
    return VerbReply(
        "ack", inc, ":eyes:", "{who} is on it: incident #" + str(inc.id) + ", {label} in {where}.",
        people={"who": actor}, words=_facts(inc),
    )  # fmt: skip


def do_note(deps: Deps, incident: Incident, actor: str | None, text: str, how: str) -> VerbReply:
    if not text.strip():
        raise VerbError(f"Say what to note, like `{how}note paused the newsletter send`.")
    count = add_note(deps.store, incident.id, actor, text, deps.now())
    notes = f"{count} note{'s' if count != 1 else ''}"
    by = " by {who}" if actor else ""
    if incident.status != "open":  # kept for the review: on the timeline only, the parent stays as resolved
        template = (
            f"Noted on incident #{incident.id}{by} ({notes}) for its review: it is resolved, so only its timeline "
            "changes; `summary` in this thread shows it."
        )
    else:
        template = f"Noted on incident #{incident.id}{by} ({notes}); `status` in this thread shows the timeline."
    return VerbReply("note", incident, ":memo:", template, people={"who": actor} if actor else {})


def do_assign(deps: Deps, incident: Incident, owner: str | None, actor: str | None, how: str) -> VerbReply:
    if not owner:
        # In a thread Slack turns "@dana" into a mention; the terminal takes the member id (profile > Copy member ID).
        who = "@dana" if how.startswith("@") else "U0123ABCD"
        raise VerbError(f"Say who owns it, like `{how}assign {who}` or `{how}assign me`.")
    inc = _still_open(assign(deps.store, incident.id, owner, actor, deps.now()), incident)
    return VerbReply(
        "assign", inc, ":bust_in_silhouette:", "{owner} owns incident #" + str(inc.id) + ", {label} in {where}.",
        people={"owner": owner}, words=_facts(inc), notify=slack_user(owner) or "",
    )  # fmt: skip


def do_snooze(deps: Deps, incident: Incident, length: str, actor: str | None, how: str) -> VerbReply:
    wanted = parse_duration(length)
    if wanted is None or wanted <= timedelta(0) or wanted > MAX_SNOOZE:
        raise VerbError(f"Say for how long, like `{how}snooze 2h` (30m, 2h, 1d; at most 7 days).")
    now = deps.now()
    until = now + wanted
    inc = _still_open(snooze(deps.store, incident.id, until, actor, now), incident)
    template = (
        f"Incident #{inc.id} snoozed for {duration(wanted)}, until {until:%Y-%m-%d %H:%M} UTC: changes at the "
        "same or a better level are not posted here until then; a worse level still is."
    )
    return VerbReply("snooze", inc, ":zzz:", template)


def do_unsnooze(deps: Deps, incident: Incident, actor: str | None) -> VerbReply:
    inc = _still_open(snooze(deps.store, incident.id, None, actor, deps.now()), incident)
    template = f"Incident #{inc.id} is no longer snoozed: every change is posted here again."
    return VerbReply("unsnooze", inc, ":bell:", template)


def do_resolve(deps: Deps, incident: Incident, actor: str, reason: str, how: str, *, owe: bool = False) -> VerbReply:
    if not reason.strip():
        raise VerbError(f"Say why it is resolved, like `{how}resolve paused the import, bounces stopped`.")
    template = (
        "{who} resolved incident #" + str(incident.id) + " by hand: {reason}. If the signal is still bad for the "
        f"next {deps.settings.recovery_sweeps} sweeps, a new incident opens and links this one. The summary follows."
    )
    reply = VerbReply(
        "resolve", incident, ":white_check_mark:", template, people={"who": actor}, words={"reason": reason.strip()}
    )
    # Owed, the reply goes before the resolution's own messages (the parent's edit, the summary).
    inc = resolve(deps, incident.id, actor, reason, deps.now(), first=_owed(deps, reply) if owe else None)
    reply.incident = _still_open(inc, incident)
    return reply


def run_verb(
    deps: Deps,
    incident: Incident,
    verb: str,
    args: list[str],
    rest: str,
    actor: str | None,
    *,
    how: str,
    owe: bool = False,
) -> VerbReply:
    """Do `verb` on the incident as `actor` (a Slack user id, or the terminal's user); `args`/`rest` are
    the words after the verb. With `owe`, the reply is also owed in the incident's thread (`owe_reply`).
    Raises `VerbError` when it cannot be done as asked."""
    if verb not in VERBS:
        raise VerbError(f"`{verb}` is no incident verb; say one of {', '.join(VERBS)}.")
    if verb == "resolve":
        if actor is None:
            raise VerbError("Slack did not say who you are; try again.")
        return do_resolve(deps, incident, actor, rest, how, owe=owe)
    reply = _run(deps, incident, verb, args, rest, actor, how)
    if owe:
        owe_reply(deps, reply)
    return reply


def _run(
    deps: Deps, incident: Incident, verb: str, args: list[str], rest: str, actor: str | None, how: str
) -> VerbReply:
    if verb == "status":
        return VerbReply("status", incident, answer=incident_status_answer(deps, incident))
    if verb == "summary":
        return VerbReply("summary", incident, answer=incident_summary_answer(deps, incident))
    if verb == "note":
        return do_note(deps, incident, actor, rest, how)
    if verb == "assign":
        return do_assign(deps, incident, assignee(args, actor), actor, how)
    if verb == "snooze":
        return do_snooze(deps, incident, " ".join(args), actor, how)
    if verb == "unsnooze":
        return do_unsnooze(deps, incident, actor)
    if actor is None:
        raise VerbError("Slack did not say who you are; try again.")
    return do_ack(deps, incident, actor)


def _owed(deps: Deps, reply: VerbReply) -> Owed:
    inc = get_incident(deps.store, reply.incident.id) or reply.incident
    message = reply.message()
    message.severity = Severity.OK if reply.verb == "resolve" else Severity.INFO
    channel = inc.channel or deps.settings.alert_channel or ""
    return Owed(inc.id, "reply", inc.signal, inc.region, inc.level, inc.level, None, channel, message)


def owe_reply(deps: Deps, reply: VerbReply) -> None:
    """Owe the reply in the incident's thread (the outbox posts it once the bot delivers): the terminal's
    verbs reach Slack this way. `summary` owes the summary itself; `status` owes nothing (it only reads)."""
    if reply.verb == "status":
        return
    now = deps.now()
    with deps.store.transaction() as db:
        if reply.verb == "summary":
            inc = get_incident(deps.store, reply.incident.id) or reply.incident
            insert_owed(db.conn, summary_owed(inc, inc.level, inc.channel or deps.settings.alert_channel or ""), now)
        else:
            insert_owed(db.conn, _owed(deps, reply), now)
