"""`setup [--account NAME] [--apply]`: can the bot see what SES reports (bounces, complaints, delays...), and
if not, fix it.

Without `--apply` (and always in Slack) it inspects and shows the plan; `sesbot setup --apply` in a terminal
makes the changes (SNS topic, SQS queue, subscription with a queue policy, configuration set event
destination, reputation metrics, the EventBridge rule), reports what it did and inspects again. A second run
changes nothing. With several accounts (`SESBOT_ACCOUNTS`) each account is inspected on its own, with its own
queue (the `SESBOT_SQS_QUEUE_URL` entry holding its id); `--apply` changes one account at a time, named with
`--account`.
"""

from __future__ import annotations

from bot.commands import CommandContext, Invocation, command, require_regions
from bot.commands.why import account_option
from bot.findings import Report
from bot.setup import setup_report
from bot.target import UsageError


@command(
    "setup",
    "setup [--account NAME] [--apply]",
    "can the bot see SES's bounces, complaints and delays; --apply (terminal only) creates what is missing",
    "setup",
    flags=("--apply", "--account"),
)
def run_setup(ctx: CommandContext, inv: Invocation) -> Report:
    account, args = account_option(ctx.deps.settings, inv)
    if args:
        raise UsageError("`setup` takes no arguments; `sesbot setup --apply` (in a terminal) makes the changes")
    require_regions(ctx.deps.settings)
    # Slack only ever shows the plan: changing AWS resources is for a person at a terminal with credentials.
    apply = "--apply" in inv.flags and ctx.via == "cli"
    views = ctx.deps.narrowed(account).accounts()
    if apply and len(views) > 1:
        names = ", ".join(v.account_name or "" for v in views)
        raise UsageError(f"`setup --apply` changes one account at a time: add `--account NAME` ({names})")
    reports = [setup_report(view, apply=apply, via=ctx.via) for view in views]
    if ctx.deps.settings.accounts:  # every finding says which account it is about
        for view, report in zip(views, reports, strict=True):
            for finding in report.findings:
                finding.account = view.account_name
    if len(reports) == 1:
        return reports[0]
    return Report(
        target=reports[0].target,
        findings=[f for r in reports for f in r.findings],
        kind="setup",
        region=reports[0].region,
        elapsed_ms=max(r.elapsed_ms for r in reports),
    )
