"""`digest`: the daily digest (`bot.digest`) now, in the terminal or Slack: the last 24 hours' volume and
rates against the day before and a week before, top bounce domains and categories, the account-wide rates, open
incidents. The scheduler posts the same in the alert channel at `SESBOT_DIGEST_AT`."""

from __future__ import annotations

from bot.commands import CommandContext, Invocation, command
from bot.digest import digest_answer
from bot.findings import Answer
from bot.target import UsageError


@command(
    "digest",
    "digest",
    "the last 24 hours against the day before and a week before: volume, rates, top bounces, open incidents",
    "digest",
    answer_in_ack=True,
)
def run_digest(ctx: CommandContext, inv: Invocation) -> Answer:
    if inv.args:
        raise UsageError("`digest` takes no arguments (`digest --json` for the figures)")
    return digest_answer(ctx.deps)
