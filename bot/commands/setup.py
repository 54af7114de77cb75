"""`setup [--apply]`: can the bot see what SES reports (bounces, complaints, delays...), and if not, fix it.

Without `--apply` (and always in Slack) it inspects and shows the plan; `sesbot setup --apply` in a terminal
makes the changes (SNS topic, SQS queue, subscription with a queue policy, configuration set event
destination, reputation metrics), reports what it did and inspects again. A second run changes nothing.
"""

from __future__ import annotations

from bot.commands import CommandContext, Invocation, command
from bot.findings import Report
from bot.setup import setup_report
from bot.target import UsageError


@command(
    "setup",
    "setup [--apply]",
    "can the bot see SES's bounces, complaints and delays; --apply (terminal only) creates what is missing",
    "setup",
    flags=("--apply",),
)
def run_setup(ctx: CommandContext, inv: Invocation) -> Report:
    if inv.args:
        raise UsageError("`setup` takes no arguments; `sesbot setup --apply` (in a terminal) makes the changes")
    if not ctx.deps.settings.regions:
        raise UsageError("no AWS region is configured: set AWS_REGION (or SESBOT_REGIONS)")
    # Slack only ever shows the plan: changing AWS resources is for a person at a terminal with credentials.
    apply = "--apply" in inv.flags and ctx.via == "cli"
    return setup_report(ctx.deps, apply=apply, via=ctx.via)
