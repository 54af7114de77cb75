"""`status`: per region, the account's state, quota use and current rates, and the open incidents."""

from __future__ import annotations

from bot.commands import CommandContext, Invocation, command
from bot.findings import Answer
from bot.incidents import status_answer


@command(
    "status",
    "status",
    "account state, quota, bounce and complaint rates with their alert level, open incidents",
    "status",
)
def run_status(ctx: CommandContext, inv: Invocation) -> Answer:
    return status_answer(ctx.deps)
