"""DKIM as SES does it for one identity in one region: its signing settings (on, status, Easy DKIM or
BYODKIM, the d= it signs with), the DNS record behind each token (Easy DKIM: the CNAME
``<token>._domainkey.<domain>`` pointing at ``<token>.dkim.amazonses.com``; BYODKIM: a TXT public key at
the selector), looked up all at once, and the verdicts on them (a missing or wrong record named)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial

from bot.checks import RunMemo
from bot.checks.authentication.domains import SES_DOMAIN
from bot.checks.authentication.issues import Issue
from bot.checks.authentication.lookup import Lookup, cached_lookup, parallel
from bot.checks.authentication.ses_identity import Identity
from bot.deps import Deps
from bot.findings import Severity

DOC_DKIM = "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-easy.html"

_DKIM_KEY_RE = re.compile(r"(^|;)\s*p\s*=\s*[A-Za-z0-9+/]")  # a TXT record holding a (non-revoked) public key


@dataclass
class DkimRecord:
    name: str
    expected: str  # the CNAME target (Easy DKIM), or "a DKIM public key (TXT p=...)" for BYODKIM
    state: str  # "ok", "missing", "wrong", "not_cname", "no_key", "error"
    found: Lookup

    def describe(self) -> str:
        if self.state == "ok":
            return f"{self.name} -> {self.found.records[0] if self.found.records else 'key'} (correct)"
        if self.state == "missing":
            return f"{self.name}: missing ({self.found.outcome.upper()}); expected CNAME {self.expected}"
        if self.state == "wrong":
            return f"{self.name} -> {', '.join(self.found.records)} (wrong target; expected {self.expected})"
        if self.state == "not_cname":
            return f"{self.name}: exists but is not a CNAME; expected CNAME {self.expected}"
        if self.state == "no_key":
            return f"{self.name}: no DKIM public key (TXT with p=) found"
        return f"{self.name}: lookup failed ({self.found.error})"


@dataclass
class Dkim:
    """DKIM as SES does it for one identity in one region, and what DNS says about its records."""

    identity: Identity
    records: list[DkimRecord] = field(default_factory=list)

    @property
    def signing_enabled(self) -> bool:
        return bool(self.identity.dkim.get("SigningEnabled"))

    @property
    def status(self) -> str:
        return self.identity.dkim.get("Status") or "NOT_STARTED"

    @property
    def origin(self) -> str:
        return self.identity.dkim.get("SigningAttributesOrigin") or "AWS_SES"

    @property
    def d_domain(self) -> str:
        """The d= of SES's signature: the identity's domain when it signs, else amazonses.com."""
        name = self.identity.name  # None when no identity was found
        return name if name is not None and self.signing_enabled else SES_DOMAIN

    @property
    def broken_records(self) -> list[DkimRecord]:
        return [r for r in self.records if r.state not in ("ok", "error")]

    @property
    def unchecked_records(self) -> list[DkimRecord]:
        return [r for r in self.records if r.state == "error"]

    @property
    def passes(self) -> bool:
        """Would receivers see a valid signature from the identity's domain?"""
        return (
            self.identity.found
            and self.signing_enabled
            and self.status == "SUCCESS"
            and bool(self.records)
            and not self.broken_records
        )


def inspect_dkim(deps: Deps, memo: RunMemo, ident: Identity) -> Dkim:
    """Check each DKIM token's DNS record (all at once)."""
    out = Dkim(ident)
    if not ident.found:
        return out
    tokens = [t for t in ident.dkim.get("Tokens") or [] if t]
    external = out.origin == "EXTERNAL"  # BYODKIM: the "token" is the selector of a TXT public key

    def one(token: str) -> DkimRecord:
        name = f"{token}._domainkey.{ident.name}"
        if external:
            found = cached_lookup(deps, memo, name, "TXT")
            if found.failed:
                return DkimRecord(name, "TXT p=<public key>", "error", found)
            has_key = any(_DKIM_KEY_RE.search(r) for r in found.records)
            return DkimRecord(name, "TXT p=<public key>", "ok" if has_key else "no_key", found)
        expected = f"{token}.dkim.amazonses.com".lower()
        found = cached_lookup(deps, memo, name, "CNAME")
        if found.failed:
            state = "error"
        elif found.outcome == "nxdomain":
            state = "missing"
        elif found.outcome == "nodata":
            state = "not_cname"
        else:
            state = "ok" if expected in found.records else "wrong"
        return DkimRecord(name, expected, state, found)

    results = parallel({t: partial(one, t) for t in tokens})
    out.records = [results[t] for t in tokens]
    return out


def cached_dkim(deps: Deps, memo: RunMemo, ident: Identity) -> Dkim:
    """`inspect_dkim`, once per run for the identity's region and domain."""
    return memo.once(("dkim", ident.region, ident.domain), lambda: inspect_dkim(deps, memo, ident))


def dkim_issues(dkim: Dkim) -> list[Issue]:
    """Does SES sign as the domain, and is every DKIM record in DNS as SES lists it?"""
    ident = dkim.identity
    region = ident.region or "the configured region"
    if ident.error:
        return [Issue(Severity.WARNING, f"could not read DKIM settings: {ident.error}", unchecked=True)]
    if not ident.found:
        return [
            Issue(
                Severity.WARNING,
                f"no domain identity for {ident.domain} in {region}: SES signs its mail with "
                "d=amazonses.com only, which cannot align with the From domain",
                f"Verify the domain in SES with Easy DKIM. {DOC_DKIM}",
            )
        ]
    issues: list[Issue] = []
    fix_records = (
        f"Publish each CNAME exactly as the SES console lists it for {ident.name} in {region}; SES "
        f"re-checks within 72 hours. {DOC_DKIM}"
    )
    broken = dkim.broken_records
    if broken:
        names = "; ".join(r.describe() for r in broken)
        issues.append(
            Issue(
                Severity.ERROR,
                f"{len(broken)} of {len(dkim.records)} DKIM record(s) of {ident.name} are wrong: {names}",
                fix_records,
            )
        )
    unchecked = dkim.unchecked_records
    if unchecked:
        errors = "; ".join(sorted({r.found.error or "lookup failed" for r in unchecked}))
        names = unchecked[0].name if len(unchecked) == 1 else f"{len(unchecked)} DKIM records of {ident.name}"
        issues.append(Issue(Severity.WARNING, f"could not look up {names}: {errors}", unchecked=True))
    if not dkim.signing_enabled:
        issues.append(
            Issue(
                Severity.WARNING,
                f"DKIM signing is turned off for {ident.name} in {region}: mail is signed as amazonses.com",
                f"Enable DKIM signing on the identity (SES console > identity > Authentication). {DOC_DKIM}",
            )
        )
    elif dkim.status != "SUCCESS":
        sev = Severity.ERROR if dkim.status == "FAILED" else Severity.WARNING
        issues.append(
            Issue(
                sev,
                f"DKIM status of {ident.name} in {region} is {dkim.status}: SES does not sign with it yet",
                fix_records,
            )
        )
    elif not dkim.records:
        issues.append(Issue(Severity.WARNING, f"SES lists no DKIM tokens for {ident.name} in {region}"))
    if not issues:
        inherited = f" (parent identity of {ident.domain})" if ident.inherited else ""
        issues.append(
            Issue(
                Severity.OK,
                f"DKIM signs as d={ident.name}{inherited} in {region}; all {len(dkim.records)} record(s) correct",
            )
        )
    return issues


def dkim_evidence(dkim: Dkim) -> list[str]:
    """The identity's DKIM settings and what DNS holds for each token."""
    if not dkim.identity.found:
        return []
    lines = [
        f"DKIM: SigningEnabled={dkim.signing_enabled}, Status={dkim.status}, origin={dkim.origin}, d={dkim.d_domain}"
    ]
    lines += [f"DKIM record {r.describe()}" for r in dkim.records]
    return lines
