"""DMARC for mail From a domain: finding the record that applies (the TXT lookups at ``_dmarc.<domain>``,
then at ``_dmarc.<organizational domain>``, a DNS failure told apart from no record), having checkdmarc
parse it (tag grammar, report-URI checks through a short-lived copy of our resolver, so a slow
third-party domain cannot eat the check's time), reading the policy that applies (p, or sp at the
organizational domain), and the verdicts on the record itself: missing, several, invalid, p=none, pct,
no rua. Whether SES mail passes it is `alignment`'s."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import checkdmarc.dmarc

from bot.checks import RunMemo
from bot.checks.authentication.checkdmarc_dns import dns_options
from bot.checks.authentication.domains import org_domain
from bot.checks.authentication.issues import Issue
from bot.checks.authentication.lookup import Lookup, lookup
from bot.deps import Deps
from bot.dnsq import make_resolver
from bot.findings import Severity

DOC_DMARC = "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dmarc.html"

DMARC_REPORT_LIFETIME = 1.5  # seconds per rua/ruf destination lookup: advisory, never worth a slow check

_DMARC_RECORD_RE = re.compile(r"^v\s*=\s*dmarc1\s*(;|$)", re.IGNORECASE)
_DMARC_PCT_RE = re.compile(r"(?:^|;)\s*pct\s*=\s*([^;]*)", re.IGNORECASE)


@dataclass
class Dmarc:
    """The DMARC policy that applies to mail From `domain`, parsed by checkdmarc."""

    domain: str
    org: str
    lookups: list[Lookup] = field(default_factory=list)
    location: str | None = None  # the domain whose _dmarc record applies
    record: str | None = None
    multiple: list[str] = field(default_factory=list)
    invalid: str | None = None  # syntax error: receivers ignore the record
    dns_error: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    pct: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return bool(self.record) and not self.invalid and not self.multiple and not self.dns_error

    def tag(self, name: str, default: Any = None) -> Any:
        value = (self.tags.get(name) or {}).get("value")
        return default if value is None else value

    @property
    def policy(self) -> str:
        """p for the domain itself; sp when the record was found at the organizational domain."""
        if self.location and self.location != self.domain:
            return self.tag("sp") or self.tag("p", "none")
        return self.tag("p", "none")

    @property
    def adkim(self) -> str:
        return self.tag("adkim", "r")

    @property
    def aspf(self) -> str:
        return self.tag("aspf", "r")

    @property
    def rua(self) -> list[str]:
        value = self.tag("rua") or []
        return [u.get("address", "") if isinstance(u, dict) else str(u) for u in value]

    def describe_policy(self) -> str:
        bits = [f"p={self.tag('p', 'none')}"]
        if (self.tags.get("sp") or {}).get("explicit"):
            bits.append(f"sp={self.tag('sp')}")
        if self.pct is not None:
            bits.append(f"pct={self.pct}")
        bits.append(f"adkim={self.adkim}")
        bits.append(f"aspf={self.aspf}")
        return " ".join(bits)


def _dmarc_records(found: Lookup) -> list[str]:
    return [r for r in found.records if _DMARC_RECORD_RE.match(r.strip())]


def inspect_dmarc(deps: Deps, domain: str) -> Dmarc:
    """Find the DMARC record for mail From `domain` (the domain, then its organizational domain)."""
    out = Dmarc(domain, org_domain(domain))
    names = [domain] if out.org == domain else [domain, out.org]
    for name in names:
        found = lookup(deps.resolver, f"_dmarc.{name}", "TXT")
        out.lookups.append(found)
        if found.failed:
            out.dns_error = f"_dmarc.{name}: {found.error}"
            return out
        records = _dmarc_records(found)
        if len(records) > 1:
            out.location, out.multiple = name, records
            return out
        if records:
            out.location, out.record = name, records[0].strip()
            break
    if not out.record:
        return out
    pct = _DMARC_PCT_RE.search(out.record)
    out.pct = pct.group(1).strip() if pct else None  # RFC 9989 dropped pct, so checkdmarc does not keep it
    report_resolver = make_resolver(deps.settings)
    report_resolver.lifetime = min(deps.settings.dns_timeout, DMARC_REPORT_LIFETIME)
    report_resolver.timeout = report_resolver.lifetime
    try:
        parsed = checkdmarc.dmarc.parse_dmarc_record(
            out.record,
            out.location,
            ignore_unrelated_records=True,
            **dns_options(report_resolver, report_resolver.lifetime),
        )
    except checkdmarc.dmarc.DMARCError as exc:
        out.invalid = str(exc)
        return out
    out.tags = parsed.get("tags") or {}
    out.warnings = list(parsed.get("warnings") or [])
    return out


def cached_dmarc(deps: Deps, memo: RunMemo, domain: str) -> Dmarc:
    """`inspect_dmarc`, once per run for `domain`."""
    return memo.once(("dmarc", domain), lambda: inspect_dmarc(deps, domain))


def record_issues(dmarc: Dmarc) -> list[Issue]:
    """Why no DMARC record applies (lookup failed, several, none, invalid); empty when one is usable."""
    d = dmarc.domain
    fix_add = (
        f'Publish a TXT record at _dmarc.{dmarc.org}, e.g. "v=DMARC1; p=none; rua=mailto:dmarc@{dmarc.org}", '
        f"then tighten the policy once reports show SES mail aligned. {DOC_DMARC}"
    )
    if dmarc.dns_error:
        return [Issue(Severity.WARNING, f"could not look up DMARC: {dmarc.dns_error}", unchecked=True)]
    if dmarc.multiple:
        return [
            Issue(
                Severity.WARNING,
                f"_dmarc.{dmarc.location} has {len(dmarc.multiple)} DMARC records: receivers ignore them all",
                f"Keep exactly one DMARC record. {DOC_DMARC}",
            )
        ]
    if not dmarc.record:
        where = f"_dmarc.{d}" + (f" nor _dmarc.{dmarc.org}" if dmarc.org != d else "")
        return [
            Issue(
                Severity.WARNING,
                f"no DMARC record at {where}: Gmail and Yahoo require one from bulk senders, and mail "
                "without it is more likely to be filtered",
                fix_add,
            )
        ]
    if dmarc.invalid:
        return [
            Issue(
                Severity.WARNING,
                f"the DMARC record at _dmarc.{dmarc.location} is invalid, so receivers ignore it: {dmarc.invalid}",
                f"Fix the record's syntax. {DOC_DMARC}",
            )
        ]
    return []


def policy_notes(dmarc: Dmarc, mail_fails: bool) -> list[Issue]:
    """Advice on a usable record's tags: p=none (unless SES mail fails it: that is said louder), a pct
    below 100, no rua."""
    issues: list[Issue] = []
    if dmarc.policy == "none" and not mail_fails:
        issues.append(
            Issue(
                Severity.INFO,
                f"DMARC policy for {dmarc.domain} is p=none: monitoring only, receivers do not act on failures",
                f"Move to p=quarantine, then p=reject, once reports show all your mail aligned. {DOC_DMARC}",
            )
        )
    if dmarc.pct not in (None, "100"):
        issues.append(Issue(Severity.INFO, f"DMARC pct={dmarc.pct}: the policy applies to part of the mail only"))
    if not dmarc.rua:
        issues.append(
            Issue(
                Severity.INFO,
                "the DMARC record has no rua=: nobody receives aggregate reports about failures",
                f"Add rua=mailto:dmarc@{dmarc.org}. {DOC_DMARC}",
            )
        )
    return issues


def dmarc_evidence(dmarc: Dmarc) -> list[str]:
    """The _dmarc lookups, the record that applies and its policy, and checkdmarc's first notes."""
    lines = [f.describe() for f in dmarc.lookups if not (dmarc.record and f.outcome == "answer")]
    if dmarc.record:
        lines.append(f"DMARC _dmarc.{dmarc.location}: {dmarc.record}")
        if not dmarc.invalid:
            lines.append(f"DMARC policy for {dmarc.domain}: {dmarc.describe_policy()} (applies: p={dmarc.policy})")
    lines += [f"DMARC note: {w}" for w in dmarc.warnings[:5]]
    return lines


def dmarc_data(dmarc: Dmarc) -> dict[str, Any]:
    """The DMARC part of a finding's JSON data."""
    return {
        "domain": dmarc.domain,
        "org_domain": dmarc.org,
        "location": dmarc.location,
        "record": dmarc.record,
        "policy": dmarc.policy if dmarc.usable else None,
        "p": dmarc.tag("p") if dmarc.usable else None,
        "sp": dmarc.tag("sp") if dmarc.usable else None,
        "pct": dmarc.pct,
        "adkim": dmarc.adkim if dmarc.usable else None,
        "aspf": dmarc.aspf if dmarc.usable else None,
        "rua": dmarc.rua if dmarc.usable else [],
        "invalid": dmarc.invalid,
        "multiple": len(dmarc.multiple) or None,
        "dns_error": dmarc.dns_error,
    }
