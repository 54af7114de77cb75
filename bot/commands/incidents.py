"""`incidents`: the open incidents and the ones resolved recently; `incident N`: one incident's summary (its
duration, worst level, owner and timeline) for a post-incident review."""

from __future__ import annotations

from bot.commands import CommandContext, Invocation, command
from bot.findings import Answer
from bot.incidents import get_incident, incident_summary_answer, incidents_answer
from bot.target import UsageError


@command("incidents", "incidents", "open and recently resolved incidents", "incidents", answer_in_ack=True)
def run_incidents(ctx: CommandContext, inv: Invocation) -> Answer:
    return incidents_answer(ctx.deps)


@command(
    "incident",
    "incident <number>",
    "one incident's summary: how long, how bad, who was on it, its timeline",
    "incident 3",
    answer_in_ack=True,
)
def run_incident(ctx: CommandContext, inv: Invocation) -> Answer:
    if len(inv.args) != 1 or not inv.args[0].lstrip("#").isdigit():
        raise UsageError("give the incident's number, like `incident 3` (`incidents` lists them)")
    incident = get_incident(ctx.deps.store, int(inv.args[0].lstrip("#")))
    if incident is None:
        raise UsageError(f"there is no incident #{inv.args[0].lstrip('#')}; `incidents` lists them")
    return incident_summary_answer(ctx.deps, incident)
