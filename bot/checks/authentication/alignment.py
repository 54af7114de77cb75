"""Judging DMARC for mail that SES sends: identifier alignment (strict or relaxed, by organizational
domain), what makes one region's SES mail pass DMARC (a passing DKIM signature whose d= aligns with the
From domain under adkim, or SPF of a custom MAIL FROM in use that aligns under aspf), and, when none
does, why each fails, what the policy does to the mail and what to fix."""

from __future__ import annotations

from bot.checks.authentication.dkim import DOC_DKIM
from bot.checks.authentication.dmarc import DOC_DMARC, Dmarc, policy_notes, record_issues
from bot.checks.authentication.domains import org_domain
from bot.checks.authentication.issues import Issue
from bot.checks.authentication.region import RegionAuth
from bot.findings import Severity


def aligned(domain: str, from_domain: str, mode: str = "r") -> bool:
    """DMARC identifier alignment: strict (``s``) needs equal names, relaxed the same org domain."""
    a, b = domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    return a == b if mode == "s" else org_domain(a) == org_domain(b)


def aligned_via(ra: RegionAuth, dmarc: Dmarc) -> list[str]:
    """What makes SES mail from this region pass DMARC: DKIM and/or SPF that both pass and align."""
    via = []
    if ra.dkim.passes and aligned(ra.dkim.d_domain, dmarc.domain, dmarc.adkim):
        via.append(f"DKIM d={ra.dkim.d_domain}")
    if ra.spf_ok() and aligned(ra.mail_from.domain or "", dmarc.domain, dmarc.aspf):
        via.append(f"SPF {ra.mail_from.domain}")
    return via


def dmarc_issues(dmarc: Dmarc, regions: list[RegionAuth]) -> list[Issue]:
    """The DMARC record, and whether SES mail from each region passes it with alignment."""
    broken = record_issues(dmarc)
    if broken:
        return broken
    d = dmarc.domain
    policy = dmarc.policy
    issues: list[Issue] = []
    for ra in regions:
        if ra.identity.error:
            issues.append(
                Issue(Severity.WARNING, f"could not tell DMARC alignment: {ra.identity.error}", unchecked=True)
            )
            continue
        where = f" in {ra.where}" if ra.where else ""
        via = aligned_via(ra, dmarc)
        if via:
            issues.append(Issue(Severity.OK, f"SES mail{where} passes DMARC aligned via {' and '.join(via)}"))
            continue
        reasons = [_why_dkim_fails(ra, d, dmarc.adkim), _why_spf_fails(ra, d, dmarc.aspf)]
        sev, effect = _failing_effect(policy, int(dmarc.pct) if dmarc.pct is not None else 100)
        issues.append(
            Issue(
                sev,
                f"DMARC p={policy} for {d} and no SES mail{where} passes with alignment "
                f"({'; '.join(reasons)}): "
                f"{effect}",
                _alignment_fix(ra, d, dmarc),
            )
        )
    return issues + policy_notes(dmarc, mail_fails=any(i.is_problem for i in issues))


# What receivers do with mail that fails DMARC, by policy (RFC 7489 section 6.3).
_EFFECT = {
    "reject": (Severity.CRITICAL, "receivers reject it"),
    "quarantine": (Severity.ERROR, "receivers put it in the spam folder"),
    "none": (Severity.WARNING, "it fails DMARC (p=none: delivered, but filters count it against you)"),
}
_LESS_STRICT = {"reject": "quarantine", "quarantine": "none", "none": "none"}


def _failing_effect(policy: str, pct: int) -> tuple[Severity, str]:
    """The severity and the words for failing mail under `policy` applied to `pct` % of it: the mail `pct`
    leaves out gets the next less strict policy (RFC 7489 section 6.6.4)."""
    policy = policy if policy in _EFFECT else "none"
    if pct >= 100 or policy == "none":
        return _EFFECT[policy]
    lesser = _LESS_STRICT[policy]
    if pct <= 0:
        severity, words = _EFFECT[lesser]
        return severity, f"{words} (pct=0: no mail gets p={policy}, all of it the next less strict p={lesser})"
    severity, words = _EFFECT[policy]
    return severity, f"{words} for {pct}% of it (pct={pct}); the rest gets p={lesser}"


def _why_dkim_fails(ra: RegionAuth, from_domain: str, adkim: str) -> str:
    dkim = ra.dkim
    if not ra.identity.found:
        return "DKIM: signed as amazonses.com (no domain identity)"
    if not dkim.signing_enabled:
        return "DKIM: signing is off, signed as amazonses.com"
    if dkim.status != "SUCCESS":
        return f"DKIM: status {dkim.status}"
    if dkim.broken_records:
        return f"DKIM: {len(dkim.broken_records)} CNAME record(s) missing or wrong"
    if not aligned(dkim.d_domain, from_domain, adkim):
        mode = "strict (adkim=s)" if adkim == "s" else "relaxed"
        return f"DKIM: d={dkim.d_domain} does not align with {from_domain} under {mode} alignment"
    return "DKIM: not verified"


def _why_spf_fails(ra: RegionAuth, from_domain: str, aspf: str) -> str:
    mf = ra.mail_from
    if not mf.domain:
        return "SPF: default MAIL FROM amazonses.com cannot align"
    if mf.status != "SUCCESS":
        return f"SPF: custom MAIL FROM {mf.domain} is {mf.status}, SES uses amazonses.com"
    if ra.spf is None or not ra.spf.valid:
        return f"SPF: the SPF record of {mf.domain} does not pass for SES"
    if not aligned(mf.domain, from_domain, aspf):
        mode = "strict (aspf=s)" if aspf == "s" else "relaxed"
        return f"SPF: {mf.domain} does not align with {from_domain} under {mode} alignment"
    return "SPF: not verified"


def _alignment_fix(ra: RegionAuth, from_domain: str, dmarc: Dmarc) -> str:
    if not ra.identity.found:
        return f"Verify {from_domain} (or {org_domain(from_domain)}) in SES with Easy DKIM. {DOC_DKIM}"
    if ra.dkim.passes and not aligned(ra.dkim.d_domain, from_domain, dmarc.adkim):
        return (
            f"Verify {from_domain} itself in SES with Easy DKIM (strict alignment needs d={from_domain}), or "
            f"relax the DMARC record to adkim=r. {DOC_DMARC}"
        )
    return (
        f"Make DKIM pass: publish the identity's DKIM CNAMEs and wait for status SUCCESS; a custom MAIL FROM "
        f"in the same organizational domain adds SPF alignment. {DOC_DKIM}"
    )
