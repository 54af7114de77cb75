"""`why <email> [email ...]`: the full diagnosis of why mail to an address did not arrive.

One address gives a `Report` (stored as a diagnosis by the command layer). Up to `MAX_ADDRESSES`
addresses are diagnosed at the same time; the answer is then an `Answer` with one section per address
(its verdict, its other problems, what passed) and every report in `data["reports"]`, each stored as a
diagnosis here, since the command layer only stores single reports.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bot.commands import CommandContext, Invocation, command
from bot.findings import Answer, Report, Severity
from bot.runner import run_checks
from bot.target import UsageError, parse_email

MAX_ADDRESSES = 3


def diagnose(ctx: CommandContext, address: str) -> Report:
    """One full diagnosis; the run id lets its checks share one answer per AWS call (see account.py)."""
    report, _ = run_checks(ctx.deps, address)
    return report


def parse_addresses(args: list[str]) -> list[str]:
    """The addresses to diagnose: parsed, de-duplicated, at most `MAX_ADDRESSES`; else `UsageError`."""
    tokens = [t for arg in args for t in arg.split(",") if t.strip()] if args else []
    if not tokens:
        raise UsageError("give an email address, like `why user@example.com`")
    addresses: list[str] = []
    for token in tokens:
        address = parse_email(token)
        if address not in addresses:
            addresses.append(address)
    if len(addresses) > MAX_ADDRESSES:
        raise UsageError(f"that is {len(addresses)} addresses; `why` diagnoses up to {MAX_ADDRESSES} at a time")
    return addresses


def _section(report: Report) -> tuple[str, list[str]]:
    verdict = report.verdict
    heading = f"{report.target}: " + (
        f"{verdict.severity.label} — {verdict.summary}" if verdict else "nothing wrong found"
    )
    lines = []
    if verdict and verdict.fix:
        lines.append(f"Fix: {verdict.fix}")
    for f in report.problems:
        if f is not verdict:
            lines.append(f"{f.severity.label}: {f.summary}")
    passed = [f.check for f in report.passed]
    if passed:
        lines.append("Passed: " + ", ".join(dict.fromkeys(passed)))
    return heading, lines


@command(
    "why",
    "why <email> [email ...]",
    "diagnose why mail to an address did not arrive (up to 3 addresses)",
    "why user@example.com",
    record=True,
)
def run_why(ctx: CommandContext, inv: Invocation) -> Report | Answer:
    addresses = parse_addresses(inv.args)
    if len(addresses) == 1:
        return diagnose(ctx, addresses[0])

    with ThreadPoolExecutor(max_workers=len(addresses), thread_name_prefix="why") as pool:
        reports = list(pool.map(lambda a: diagnose(ctx, a), addresses))
    worst = max((r.worst for r in reports), default=Severity.OK)
    return Answer(
        title=f"Why mail did not arrive: {', '.join(addresses)}",
        sections=[_section(r) for r in reports],
        data={"reports": [r.as_dict() for r in reports]},
        kind="why",
        severity=worst,
        reports=reports,
    )
