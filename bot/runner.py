"""Running checks: all at once, each with its own timeout, none able to hide the others.

The answer arrives in about the time of the slowest check. A check that raises or overruns its timeout
becomes a "could not check X: why" finding; a straggler thread is left to finish on its own (its
network calls have their own timeouts) rather than holding the answer back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from bot.aws import describe_error
from bot.checks import Check, CheckContext, RunMemo, checks_for
from bot.deps import Deps
from bot.findings import Finding, Report, Severity, could_not_check

log = logging.getLogger(__name__)


@dataclass
class Timing:
    check: str
    region: str | None
    ms: float
    account: str | None = None


def _call(check: Check, ctx: CheckContext) -> tuple[list[Finding], float]:
    start = time.perf_counter()
    out = check.fn(ctx)
    ms = (time.perf_counter() - start) * 1000
    if out is None:
        return [], ms
    findings = [out] if isinstance(out, Finding) else list(out)
    for f in findings:
        if f.region is None and ctx.region is not None:
            f.region = ctx.region
    return findings, ms


def run_checks(
    deps: Deps,
    target: str,
    suite: str = "why",
    *,
    checks: list[Check] | None = None,
    options: dict | None = None,
    account: str | None = None,
) -> tuple[Report, list[Timing]]:
    """Run a suite's checks on one target; return the ranked report and each check's time.

    A per-region check runs once per account (`SESBOT_ACCOUNTS`; `account` names just one) and region;
    the others (DNS, the history) once. With no region configured the per-region checks do not run, and one
    finding says so (rather than each failing, or answering "in None").
    """
    checks = checks if checks is not None else checks_for(suite)
    regions: Sequence[str] = deps.settings.regions
    skipped = [c for c in checks if c.per_region] if not regions else []
    checks = [c for c in checks if c not in skipped]
    views = deps.accounts(account)
    # One memo per account and run: the checks of this run share calls such as GetAccount, and one
    # account's answers are never read as another's.
    root = RunMemo()
    memos = {id(view): root.for_account(view.account_name) for view in views}
    jobs: list[tuple[Check, CheckContext]] = []
    for c in checks:
        scopes = [(view, region) for view in views for region in regions] if c.per_region else [(views[0], None)]
        for view, region in scopes:
            ctx = CheckContext(
                deps=view if c.per_region else deps,
                target=target,
                region=region,
                options=dict(options or {}),
                memo=memos[id(view)],
                check_id=c.id,
            )
            jobs.append((c, ctx))

    started = time.perf_counter()
    results: dict[int, list[Finding]] = {}
    timings: list[Timing] = []
    pool = ThreadPoolExecutor(max_workers=max(1, len(jobs)), thread_name_prefix="check")
    try:
        futures: dict[Future, int] = {pool.submit(_call, c, ctx): i for i, (c, ctx) in enumerate(jobs)}
        deadlines = {i: started + (c.timeout or deps.settings.check_timeout) for i, (c, _) in enumerate(jobs)}
        pending = set(futures)
        while pending:
            now = time.perf_counter()
            next_deadline = min(deadlines[futures[f]] for f in pending)
            done, pending = wait(pending, timeout=max(0.0, next_deadline - now), return_when=FIRST_COMPLETED)
            for fut in done:
                i = futures[fut]
                check, ctx = jobs[i]
                try:
                    findings, ms = fut.result()
                    results[i] = findings
                    timings.append(Timing(check.id, ctx.region, ms, ctx.deps.account_name))
                except Exception as exc:  # one broken check never hides the others
                    log.warning("check %s failed: %s", check.id, describe_error(exc))
                    results[i] = [could_not_check(check.id, describe_error(exc), ctx.region)]
                    timings.append(
                        Timing(check.id, ctx.region, (time.perf_counter() - started) * 1000, ctx.deps.account_name)
                    )
            now = time.perf_counter()
            for fut in [f for f in pending if deadlines[futures[f]] <= now]:
                pending.discard(fut)
                i = futures[fut]
                check, ctx = jobs[i]
                limit = check.timeout or deps.settings.check_timeout
                results[i] = [could_not_check(check.id, f"no answer within {limit:g} s", ctx.region)]
                timings.append(Timing(check.id, ctx.region, limit * 1000, ctx.deps.account_name))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)

    for i, (_, ctx) in enumerate(jobs):
        for f in results.get(i, []):  # could-not-check stand-ins included
            f.account = f.account or ctx.deps.account_name
    findings = [f for i in range(len(jobs)) for f in results.get(i, [])]
    if skipped:
        findings.append(no_region_finding(len(skipped)))
    if not findings:
        findings = [Finding("report.empty", Severity.OK, "Nothing to report.")]
    report = Report(
        target=target,
        findings=findings,
        kind=suite,
        region=",".join(deps.settings.regions) or None,
        elapsed_ms=int((time.perf_counter() - started) * 1000),
    )
    return report, timings


def no_region_finding(skipped: int) -> Finding:
    """What stands in for SES's own checks when no AWS region is configured."""
    return Finding(
        check="aws.region",
        severity=Severity.WARNING,
        summary=f"No AWS region is configured, so SES's own {skipped} checks did not run (account, sandbox, "
        "quotas, identities, suppression list, configuration sets, events).",
        fix="Set AWS_REGION (or SESBOT_REGIONS=eu-west-1,us-east-1 for several) to the region(s) you send from.",
        data={"could_not_check": True, "skipped_checks": skipped},
    )
