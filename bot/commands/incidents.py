"""`incidents`: the open incidents and the ones resolved recently."""

from __future__ import annotations

from bot.commands import CommandContext, Invocation, command
from bot.findings import Answer
from bot.incidents import incidents_answer


@command("incidents", "incidents", "open and recently resolved incidents", "incidents", answer_in_ack=True)
def run_incidents(ctx: CommandContext, inv: Invocation) -> Answer:
    return incidents_answer(ctx.deps)
