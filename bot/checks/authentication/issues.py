"""Verdicts and how they become findings: an `Issue` is one verdict about one part (a DKIM record, the
SPF record, the DMARC policy...), and `to_finding` condenses a check's issues into its one finding, the
worst naming the summary, every problem's fix kept, and "could not check" when a part could not be looked
at and nothing else is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.checks import CheckContext
from bot.findings import Finding, Severity, could_not_check


@dataclass
class Issue:
    """One verdict about one part; several become one finding (`to_finding`)."""

    severity: Severity
    summary: str
    fix: str = ""
    unchecked: bool = False  # "could not check" rather than a real problem

    @property
    def is_problem(self) -> bool:
        return self.severity >= Severity.WARNING and not self.unchecked


def _sentence(text: str) -> str:
    """Capitalize a summary unless it starts with a name (a domain or an address keeps its case)."""
    first = text.split(" ", 1)[0]
    return text if "." in first or "@" in first else text[:1].upper() + text[1:]


def to_finding(
    ctx: CheckContext,
    issues: list[Issue],
    evidence: list[str],
    data: dict[str, Any],
    ok_summary: str | None = None,
) -> Finding:
    """Many issues, one finding of the running check: the worst names the summary (or `ok_summary` when
    nothing is wrong); every problem's fix is kept, worst first; the rest goes to the evidence."""
    real = [i for i in issues if not i.unchecked]
    unchecked = [i for i in issues if i.unchecked]
    if unchecked and not any(i.is_problem for i in real):
        # A part could not be looked at and nothing else is wrong: an "all fine" would be a guess.
        finding = could_not_check(ctx.check_id, "; ".join(i.summary for i in unchecked), ctx.region)
        finding.evidence = [f"{i.severity.label}: {i.summary}" for i in real if i.severity > Severity.OK]
        finding.evidence += evidence
        finding.data = {**data, "could_not_check": True}
        return finding
    ranked = sorted(real or [Issue(Severity.OK, "nothing to report")], key=lambda i: -int(i.severity))
    worst = ranked[0]
    problems = [i for i in ranked if i.is_problem]
    if ok_summary and not problems:
        ranked = [Issue(worst.severity, ok_summary), *ranked]
        worst = ranked[0]
    summary = _sentence(worst.summary)
    if len(problems) > 1:
        summary += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    fixes: list[str] = []
    for i in problems or ranked:
        if i.fix and i.fix not in fixes:
            fixes.append(i.fix)
    unchecked_lines = [f"could not check: {i.summary}" for i in unchecked]
    # The other verdicts, minus the OK ones: those only restate the evidence below.
    others = [f"{i.severity.label}: {i.summary}" for i in ranked[1:] if i.severity > Severity.OK]
    return ctx.finding(
        worst.severity,
        summary,
        evidence=others + unchecked_lines + evidence,
        fix=" ".join(fixes),
        data=data,
    )
