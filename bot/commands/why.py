"""`why <email|@domain|message-id> ...`: the full diagnosis of why mail did not arrive.

Three kinds of target (`bot.target.parse_why_target`):

* an address gives a `Report` (stored as a diagnosis by the command layer);
* `@domain` gives a `Report` for the domain (`bot.checks.domain_history.domain_checks`: its history by
  category and ISP, its blocklist bounces, its MX, the account);
* an SES message id gives an `Answer` (`bot.message.diagnose_message`): a "Message" section, then one
  section per recipient, `data = {"message": ..., "reports": [...]}`.

`--account NAME` (with `SESBOT_ACCOUNTS`) limits the AWS checks to that account; by default every
account is asked.

Up to `MAX_TARGETS` targets are diagnosed at the same time; several give an `Answer` with one section per
target and every report in `data["reports"]` (each stored as a diagnosis by the command layer, from
`Answer.reports`), and a message's facts in `data["messages"]`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from bot import history
from bot.checks.domain_history import domain_checks
from bot.checks.recipient_address import REMOVED
from bot.commands import CommandContext, Invocation, command
from bot.event_accounts import sending_account
from bot.findings import Answer, Report, Severity, in_the_regions_used
from bot.message import diagnose_message, report_section
from bot.runner import run_checks
from bot.settings import Settings
from bot.target import WHY_FORMS, UsageError, WhyTarget, parse_why_target, shown

MAX_TARGETS = 3


def _judged(ctx: CommandContext, report: Report, events: list[dict[str, Any]]) -> Report:
    """The report judged where the target's mail went (`in_the_regions_used`): its regions and, with several
    accounts, the accounts that sent it."""
    settings = ctx.deps.settings
    account_of = sending_account(settings) if len(settings.accounts) > 1 else None
    return in_the_regions_used(report, events, settings.regions, account_of=account_of)


def diagnose(ctx: CommandContext, address: str, removed: tuple[str, ...] = ()) -> Report:
    """One full diagnosis; the run id lets its checks share one answer per AWS call (see account.py).
    `removed`: the invisible characters taken out of the address as typed, which `recipient.address` names."""
    report, _ = run_checks(ctx.deps, address, options={REMOVED: list(removed)} if removed else None)
    return _judged(ctx, report, history.recipient_events(ctx.deps.store, address))


def diagnose_domain(ctx: CommandContext, domain: str) -> Report:
    """`why @domain`: the domain suite, reported as a diagnosis of the target "@domain"; with several regions,
    judged in the regions (and accounts) the domain's mail went through (`in_the_regions_used`), as an address
    is."""
    report, _ = run_checks(ctx.deps, domain, "why_domain", checks=domain_checks())
    report.kind = "why"  # a diagnosis like any other, for every front end
    events = history.domain_events(ctx.deps.store, domain.lstrip("@"))
    return _judged(ctx, report, events)


def parse_targets(args: list[str]) -> list[WhyTarget]:
    """The targets to diagnose: parsed, de-duplicated, at most `MAX_TARGETS`; else `UsageError`."""
    tokens = [t for arg in args for t in arg.split(",") if t.strip()] if args else []
    if not tokens:
        raise UsageError(f"give an email address, @domain or SES message id, like {WHY_FORMS}")
    targets: list[WhyTarget] = []
    for token in tokens:
        target = parse_why_target(token)
        if all((t.kind, t.value) != (target.kind, target.value) for t in targets):
            targets.append(target)
    if len(targets) > MAX_TARGETS:
        what = "addresses" if all(t.kind == "email" for t in targets) else "targets"
        raise UsageError(f"that is {len(targets)} {what}; `why` diagnoses up to {MAX_TARGETS} at a time")
    return targets


def account_option(settings: Settings, inv: Invocation) -> tuple[str | None, list[str]]:
    """`--account NAME`: one of `SESBOT_ACCOUNTS` (its name as configured), and the arguments left."""
    names = {a.name.lower(): a.name for a in settings.accounts}
    known = ", ".join(names.values()) or "none (SESBOT_ACCOUNTS is not set)"
    try:
        value, args = inv.option("--account", lambda word: word.lower() in names)
    except UsageError:
        raise UsageError(f"`--account` needs one of the accounts: {known}") from None
    if value is None:
        return None, args
    if value.lower() not in names:
        raise UsageError(f"there is no account named {shown(value)}; the accounts are: {known}")
    return names[value.lower()], args


def _one(ctx: CommandContext, target: WhyTarget) -> Report | Answer:
    if target.kind == "message":
        return diagnose_message(ctx.deps, target)
    if target.kind == "domain":
        return diagnose_domain(ctx, target.value)
    return diagnose(ctx, target.value, target.removed)


@command(
    "why",
    "why <email | @domain | message-id> ... [--account NAME]",
    "diagnose why mail did not arrive: to an address, to a whole domain, or one SES message (up to 3)",
    "why user@example.com",
    record=True,
    flags=("--account",),
)
def run_why(ctx: CommandContext, inv: Invocation) -> Report | Answer:
    account, args = account_option(ctx.deps.settings, inv)
    targets = parse_targets(args)
    if account:
        ctx = replace(ctx, deps=ctx.deps.narrowed(account))
    if len(targets) == 1:
        return _one(ctx, targets[0])

    with ThreadPoolExecutor(max_workers=len(targets), thread_name_prefix="why") as pool:
        results = list(pool.map(lambda t: _one(ctx, t), targets))
    reports: list[Report] = []
    sections: list[tuple[str, list[str]]] = []
    messages = []
    for result in results:
        if isinstance(result, Report):
            reports.append(result)
            sections.append(report_section(result))
        else:  # a message: its own sections, its recipients' reports
            reports += result.reports
            first, *rest = result.sections
            sections += [(result.title, first[1]), *rest]
            messages.append(result.data["message"])
    worst = max((r.worst for r in reports), default=Severity.INFO)
    data: dict[str, Any] = {"reports": [r.as_dict() for r in reports]}
    if messages:
        data["messages"] = messages
    return Answer(
        title=f"Why mail did not arrive: {', '.join(t.value for t in targets)}",
        sections=sections,
        data=data,
        kind="why",
        severity=worst,
        reports=reports,
    )
