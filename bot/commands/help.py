"""`help`: the commands, one line each, with an example."""

from __future__ import annotations

from bot.commands import CommandContext, Invocation, command, help_answer
from bot.findings import Answer


@command("help", "help", "list the commands", "help", answer_in_ack=True)
def run_help(ctx: CommandContext, inv: Invocation) -> Answer:
    return help_answer(ctx.via, "/ses " if ctx.via == "slack" else "sesbot ")
