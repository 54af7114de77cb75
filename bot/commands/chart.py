"""`chart [--region R] [--account NAME] [--days N] [--out rate.png]`: the bounce and complaint rate chart, written
to a file; `--account` names one of `SESBOT_ACCOUNTS` (its CloudWatch is read).

The same picture the incident threads get (`bot.charts.rate_chart`): CloudWatch's when it has the figures,
else drawn from the history. Terminal only: in Slack the chart arrives in the incident thread.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.charts import DEFAULT_DAYS, MAX_DAYS, rate_chart
from bot.commands import CommandContext, Invocation, command
from bot.commands.why import account_option
from bot.findings import Answer, Severity
from bot.settings import REGION_RE
from bot.target import UsageError, shown, whole_number

USAGE = "chart [--region R] [--account NAME] [--days N] [--out rate.png]"


@command(
    "chart",
    USAGE,
    "the bounce and complaint rate of the last days as a PNG, with the review and pause levels",
    "chart --days 7 --out rate.png",
    in_chat=False,
    flags=("--region", "--account", "--days", "--out"),
)
def run_chart(ctx: CommandContext, inv: Invocation) -> Answer:
    settings = ctx.deps.settings
    account, args = account_option(settings, inv)
    # Flags and arguments are parsed apart, so each value is told by its form: a word that is no region or no
    # number is said to be one of the wrong form, not missing.
    try:
        region, args = replace(inv, args=args).option("--region", lambda w: bool(REGION_RE.match(w)))
    except UsageError:
        raise UsageError("`--region` takes an AWS region, like eu-west-1") from None
    try:
        days_text, args = replace(inv, args=args).option("--days", str.isdigit)
    except UsageError:
        raise UsageError(f"`--days` takes a whole number from 1 to {MAX_DAYS}") from None
    out, args = replace(inv, args=args).option("--out", lambda w: True)
    if args:
        raise UsageError(f"unexpected {shown(args[0])}; usage: {USAGE}")
    region = region or (settings.regions[0] if settings.regions else None)
    if not region or not REGION_RE.match(region):
        raise UsageError("give a region with --region (like eu-west-1), or set AWS_REGION")
    days = whole_number(days_text) if days_text is not None else DEFAULT_DAYS
    if days is None or not 1 <= days <= MAX_DAYS:
        raise UsageError(f"`--days` takes a whole number from 1 to {MAX_DAYS}")
    if region not in settings.regions:  # the history's figures are the configured region's, never another's
        known = ", ".join(settings.regions) or "none (set AWS_REGION or SESBOT_REGIONS)"
        raise UsageError(f"{shown(region)} is not one of the configured regions: {known}")
    # One picture is of one account: `--account` names it when SESBOT_ACCOUNTS lists several.
    views = ctx.deps.narrowed(account).accounts()
    if len(views) > 1:
        names = ", ".join(a.name for a in settings.accounts)
        raise UsageError(f"which account? name one with `--account` ({names})")
    view = views[0]
    chart = rate_chart(view, region, days=days)
    path = Path(out or chart.image.filename)
    try:
        path.write_bytes(chart.image.data)
    except OSError as exc:
        raise UsageError(f"cannot write {shown(str(path))}: {exc.strerror or exc}") from None
    drawn = "CloudWatch's picture" if chart.drawn_by == "cloudwatch" else "drawn by sesbot"
    return Answer(
        title=f"Wrote {path} ({drawn}, {chart.seconds:.2f} s)",
        sections=[("", [chart.image.caption, chart.image.alt_text])],
        data={"path": str(path), **chart.as_dict()},
        kind="chart",
        severity=Severity.INFO,
    )
