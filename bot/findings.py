"""Findings and reports: the shape every check answers in.

A check answers one question with one or more findings; a report collects the findings of a run,
ranks them and names the most likely cause first (the verdict).

    >>> f = Finding("recipient.suppressed", Severity.CRITICAL, "On the suppression list")
    >>> Report(target="a@example.com", findings=[f]).verdict is f
    True
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any


class Severity(enum.IntEnum):
    """Ordered severities; a higher value is worse."""

    OK = 0
    INFO = 1
    WARNING = 2
    ERROR = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def tag(self) -> str:
        """How the terminal shows it: problems shout, the rest does not."""
        return self.name if self >= Severity.WARNING else self.name.lower()

    @classmethod
    def parse(cls, value: str | int | Severity) -> Severity:
        if isinstance(value, Severity):
            return value
        if isinstance(value, int):
            return cls(value)
        return cls[value.upper()]


def where(account: str | None, region: str | None) -> str:
    """Where something was seen, for a person: "prod · eu-west-1", "eu-west-1", "prod" or ""."""
    return " · ".join(part for part in (account, region) if part)


@dataclass
class Finding:
    """One answer to one question.

    `check` is a stable id (`recipient.suppressed`), part of the JSON output and the docs.
    `evidence` is what was seen (API fields, DNS records, bounce text, with times) as short lines.
    `fix` says what to do next, with a documentation link where one exists.
    """

    check: str
    severity: Severity
    summary: str
    evidence: list[str] = field(default_factory=list)
    fix: str = ""
    region: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    account: str | None = None  # the SESBOT_ACCOUNTS name, when several accounts are watched

    @property
    def where(self) -> str:
        """Where it was seen, for a person (`where`)."""
        return where(self.account, self.region)

    @property
    def is_problem(self) -> bool:
        return self.severity >= Severity.WARNING

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            "severity": self.severity.label,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "fix": self.fix,
        }
        if self.account:
            out["account"] = self.account
        if self.region:
            out["region"] = self.region
        if self.data:
            out["data"] = self.data
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        return cls(
            check=d["check"],
            severity=Severity.parse(d["severity"]),
            summary=d["summary"],
            evidence=list(d.get("evidence") or []),
            fix=d.get("fix") or "",
            region=d.get("region"),
            data=dict(d.get("data") or {}),
            account=d.get("account"),
        )


def could_not_check(check: str, why: str, region: str | None = None) -> Finding:
    """The finding that stands in for a check that failed or timed out: never a hidden result."""
    return Finding(
        check=check,
        severity=Severity.WARNING,
        summary=f"Could not check {check}: {why}",
        fix="Run the command again; if it keeps failing, check the bot's AWS credentials, network and DNS settings.",
        region=region,
        data={"could_not_check": True},
    )


def rank(findings: list[Finding]) -> list[Finding]:
    """Worst first; among equals, real problems before 'could not check', then registry order."""
    indexed = list(enumerate(findings))
    indexed.sort(key=lambda p: (-int(p[1].severity), bool(p[1].data.get("could_not_check")), p[0]))
    return [f for _, f in indexed]


REPORT_HEADINGS = {
    "why": "Diagnosis",
    "domain": "Domain check",
    "compliance": "Sender requirements",
    "blocklist": "Blocklist check",
    "smtp": "SMTP check",
    "template": "Template test",
    "setup": "Event setup",
}


@dataclass
class Report:
    """The findings of one run for one target, ranked."""

    target: str
    findings: list[Finding]
    kind: str = "why"
    region: str | None = None
    elapsed_ms: int = 0

    def __post_init__(self) -> None:
        self.findings = rank(self.findings)

    @property
    def heading(self) -> str:
        """What kind of answer this is, for a person: "Diagnosis", "Domain check"..."""
        return REPORT_HEADINGS.get(self.kind, self.kind.replace("_", " ").capitalize())

    @property
    def verdict(self) -> Finding | None:
        """The most likely cause: the worst problem that was actually checked, else the worst problem."""
        problems = self.problems
        for f in problems:
            if not f.data.get("could_not_check"):
                return f
        return problems[0] if problems else None

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.is_problem]

    @property
    def passed(self) -> list[Finding]:
        return [f for f in self.findings if not f.is_problem]

    @property
    def worst(self) -> Severity:
        return max((f.severity for f in self.findings), default=Severity.OK)

    def as_dict(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            "target": self.target,
            "kind": self.kind,
            "region": self.region,
            "verdict": verdict.as_dict() if verdict else None,
            "findings": [f.as_dict() for f in self.findings],
            "elapsed_ms": self.elapsed_ms,
        }


def in_the_regions_used(
    report: Report,
    events: Iterable[Mapping[str, Any]],
    regions: Sequence[str],
    mail: str | None = None,
    account_of: Callable[[str | None], str] | None = None,
) -> Report:
    """With several regions configured (`regions`), what is wrong in a region none of `events` went through
    is told for information, not as the cause: the regions are the events' own (`region`, from `sourceArn`).
    No event with a region: every region stays in the running. With several accounts, `account_of` names
    the account an event was sent from (from its `account_id`, `bot.event_accounts.sending_account`), and
    what is wrong in an account none of `events` came from is told the same way; an event from an account
    it cannot name keeps every account in the running. `mail` names the mail in the note (by default
    "the mail to <target> the bot has seen")."""
    events = list(events)
    used = {e["region"] for e in events if e.get("region")} if len(regions) >= 2 else set()
    senders = {account_of(e["account_id"]) for e in events if e.get("account_id")} if account_of else set()
    if "" in senders:
        senders = set()
    if not used and not senders:
        return report
    mail = mail or f"the mail to {report.target} the bot has seen"
    findings = []
    for f in report.findings:
        if f.severity >= Severity.WARNING and not f.data.get("could_not_check"):
            notes = []
            if used and f.region and f.region not in used:
                notes.append(f"(In {f.region}: {mail} went through {', '.join(sorted(used))}.)")
            if senders and f.account and f.account not in senders:
                notes.append(f"(In account {f.account}: {mail} was sent from {', '.join(sorted(senders))}.)")
            if notes:
                f = replace(f, severity=Severity.INFO, summary=" ".join([f.summary, *notes]))
        findings.append(f)
    return replace(report, findings=findings)


@dataclass
class Answer:
    """The answer of a command that is not a diagnosis (history, status, help...).

    `sections` are (heading, lines) pairs; lines may hold untrusted text, which every front end escapes.
    `data` is exactly what `--json` prints.
    """

    title: str
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    kind: str = "answer"
    severity: Severity = Severity.INFO
    reports: list[Report] = field(default_factory=list)  # the diagnoses behind it, when it gathers several
    text: str = ""  # a document the terminal prints as it is, instead of the sections (`incident N --markdown`)
    people: list[str] = field(default_factory=list)  # user ids the sections name, which Slack shows as people

    def as_dict(self) -> dict[str, Any]:
        return self.data
