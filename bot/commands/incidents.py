"""`incidents`: the open incidents and the ones resolved recently; `incident N`: one incident's summary (its
duration, worst level, owner and timeline) for a post-incident review (`--markdown` for a review document);
`incident N <verb>`: the incident-thread verbs from the terminal (`bot.incident_verbs`), done as the
terminal's user and owed as a reply in the incident's thread, so Slack sees them when the bot delivers."""

from __future__ import annotations

import getpass

from bot.commands import CommandContext, Invocation, command
from bot.findings import Answer, Severity
from bot.incident_verbs import VERBS, run_verb
from bot.incidents import get_incident, incident_summary_answer, incidents_answer
from bot.target import UsageError, shown, whole_number

USAGE = (
    "incident <number> [--markdown] "
    "[assign <user>|note <text>|snooze <2h>|unsnooze|ack|resolve <reason>|summary|status]"
)


@command("incidents", "incidents", "open and recently resolved incidents", "incidents", answer_in_ack=True)
def run_incidents(ctx: CommandContext, inv: Invocation) -> Answer:
    return incidents_answer(ctx.deps)


def terminal_user() -> str:
    """Who typed the command, as the timeline names them: the login name and "(terminal)"."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment (a bare container)
        return "terminal"
    return f"{shown(name, 40)} (terminal)"


@command(
    "incident",
    USAGE,
    "one incident's summary (how long, how bad, who was on it, its timeline), or a thread verb on it",
    "incident 3 note paused the newsletter send",
    answer_in_ack=True,
    flags=("--markdown",),
)
def run_incident(ctx: CommandContext, inv: Invocation) -> Answer:
    number = whole_number(inv.args[0].lstrip("#")) if inv.args else None
    if number is None:
        raise UsageError("give the incident's number, like `incident 3` (`incidents` lists them)")
    incident = get_incident(ctx.deps.store, number)
    if incident is None:
        raise UsageError(f"there is no incident #{number}; `incidents` lists them")
    if len(inv.args) == 1:
        return incident_summary_answer(ctx.deps, incident, markdown="--markdown" in inv.flags)
    verb, args = inv.args[1].lower(), inv.args[2:]
    if verb not in VERBS:
        raise UsageError(f"`{shown(verb, 40)}` is no incident verb; say one of {', '.join(VERBS)}")
    rest = inv.rest.split(None, 2)[2] if len(inv.rest.split(None, 2)) > 2 else ""
    actor = ctx.user_id if ctx.via == "slack" else terminal_user()
    how = ("/ses " if ctx.via == "slack" else "sesbot ") + f"incident {number} "
    # Owed in the thread when there is one to be (an incident tracked without an alert channel has none).
    owe = bool(incident.channel or ctx.deps.settings.alert_channel)
    reply = run_verb(ctx.deps, incident, verb, args, rest, actor, how=how, owe=owe)
    if reply.answer is not None:
        if verb == "summary" and "--markdown" in inv.flags:
            return incident_summary_answer(ctx.deps, incident, markdown=True)
        return reply.answer
    said = "Also said in the incident's thread: the bot posts it there at its next delivery."
    return Answer(
        title=reply.text(),
        sections=[("", [said])] if owe else [],
        data={"verb": verb, "incident": reply.incident.as_dict(), "reply": reply.text(), "owed": owe},
        kind=f"incident_{verb}",
        severity=Severity.OK if verb == "resolve" else Severity.INFO,
    )
