"""The ``domain`` suite, run by the ``domain <domain>`` command: one check per question about the target
domain, in report order — its SES identity, DKIM and MAIL FROM (per region), then SPF of each MAIL FROM
domain, DMARC and its alignment across the regions, and the domain's own MX. Each check reads the
shared per-run lookups of the record modules and condenses their verdicts into one finding."""

from __future__ import annotations

from bot.checks import CheckContext, check
from bot.checks.authentication.alignment import aligned_via, dmarc_issues
from bot.checks.authentication.dkim import cached_dkim, dkim_evidence, dkim_issues
from bot.checks.authentication.dmarc import Dmarc, cached_dmarc, dmarc_data, dmarc_evidence
from bot.checks.authentication.issues import Issue, to_finding
from bot.checks.authentication.lookup import parallel
from bot.checks.authentication.mail_from import DOC_MAIL_FROM, inspect_mail_from, mail_from_evidence, mail_from_issues
from bot.checks.authentication.mx import inspect_mx, mx_data, mx_evidence, mx_issues
from bot.checks.authentication.region import RegionAuth, every_region, region_data
from bot.checks.authentication.ses_identity import Identity, cached_identity, identity_evidence, identity_issues
from bot.checks.authentication.spf import cached_spf, spf_data, spf_evidence, spf_issues
from bot.findings import Finding, Severity, could_not_check


def _target_domain(ctx: CheckContext) -> str:
    return ctx.target.rpartition("@")[2].lower().rstrip(".")


def _region_identity(ctx: CheckContext) -> tuple[str, Identity, Finding | None]:
    """The target domain, its SES identity in this check's region, and the finding to give instead when
    GetEmailIdentity failed (None when it answered)."""
    domain = _target_domain(ctx)
    ident = cached_identity(ctx.deps, ctx.memo, ctx.region, domain)
    unread = (
        could_not_check(ctx.check_id, f"GetEmailIdentity failed: {ident.error}", ctx.region) if ident.error else None
    )
    return domain, ident, unread


@check("domain.identity", per_region=True, suite="domain")
def domain_identity(ctx: CheckContext) -> Finding:
    """Is the domain (or a parent domain) a verified SES identity in this region?"""
    domain, ident, unread = _region_identity(ctx)
    if unread:
        return unread
    data = {
        "domain": domain,
        "identity": ident.name,
        "verification_status": ident.status if ident.found else None,
        "verified_for_sending": ident.verified if ident.found else None,
        "error_type": ident.error_type,
    }
    return to_finding(ctx, identity_issues(ident), identity_evidence(ident), data)


@check("domain.dkim", per_region=True, suite="domain")
def domain_dkim(ctx: CheckContext) -> Finding:
    """Easy DKIM: signing on, status SUCCESS, and each token's CNAME pointing at SES."""
    domain, ident, unread = _region_identity(ctx)
    if unread:
        return unread
    dkim = cached_dkim(ctx.deps, ctx.memo, ident)
    data = {
        "domain": domain,
        "identity": ident.name,
        "status": dkim.status if ident.found else None,
        "signing_enabled": dkim.signing_enabled if ident.found else None,
        "origin": dkim.origin if ident.found else None,
        "d": dkim.d_domain,
        "records": [
            {"name": r.name, "expected": r.expected, "state": r.state, "found": r.found.records} for r in dkim.records
        ],
    }
    return to_finding(ctx, dkim_issues(dkim), dkim_evidence(dkim), data)


@check("domain.mail_from", per_region=True, suite="domain")
def domain_mail_from(ctx: CheckContext) -> Finding | None:
    """Custom MAIL FROM: status, behaviour on MX failure, and MX feedback-smtp.<region>.amazonses.com."""
    _, ident, unread = _region_identity(ctx)
    if unread:
        return unread
    if not ident.found:
        return None  # domain.identity says it; there is no MAIL FROM without an identity
    mf = inspect_mail_from(ctx.deps, ctx.memo, ident)
    data = {
        "domain": mf.domain,
        "status": mf.status,
        "behavior_on_mx_failure": mf.behavior if mf.domain else None,
        "expected_mx": mf.expected_mx if mf.domain else None,
        "mx": mf.mx.records if mf.mx else None,
        "mx_ok": mf.mx_ok,
    }
    return to_finding(ctx, mail_from_issues(mf), mail_from_evidence(mf), data)


@check("domain.spf", suite="domain")
def domain_spf(ctx: CheckContext) -> Finding:
    """SPF of each region's MAIL FROM domain, or why SPF cannot align with the default MAIL FROM."""
    domain = _target_domain(ctx)
    regions = every_region(ctx, domain)
    unread = [ra for ra in regions if ra.identity.error]
    custom = sorted({ra.mail_from.domain for ra in regions if ra.mail_from.domain})
    issues: list[Issue] = []
    evidence: list[str] = []
    for ra in unread:
        issues.append(
            Issue(
                Severity.WARNING,
                f"could not read the identity in {ra.where}: {ra.identity.error}",
                unchecked=True,
            )
        )
    spfs = [cached_spf(ctx.deps, ctx.memo, d) for d in custom]
    for spf in spfs:
        issues += spf_issues(spf)
        evidence += spf_evidence(spf)
    default_regions = [ra.where for ra in regions if not ra.identity.error and not ra.mail_from.domain]
    if default_regions:
        issues.append(
            Issue(
                Severity.INFO,
                f"default MAIL FROM in {', '.join(default_regions)}: SES's own amazonses.com SPF applies and "
                f"passes, but cannot align with {domain}",
                f"For SPF alignment, set a custom MAIL FROM subdomain of {domain}. {DOC_MAIL_FROM}",
            )
        )
    data = {"domain": domain, "mail_from_domains": custom, "spf": [spf_data(s) for s in spfs]}
    return to_finding(ctx, issues, evidence, data)


@check("domain.dmarc", suite="domain")
def domain_dmarc(ctx: CheckContext) -> Finding:
    """DMARC record and policy, and whether SES mail from each region aligns."""
    domain = _target_domain(ctx)
    done = parallel(
        {"dmarc": lambda: cached_dmarc(ctx.deps, ctx.memo, domain), "regions": lambda: every_region(ctx, domain)}
    )
    dmarc: Dmarc = done["dmarc"]
    regions: list[RegionAuth] = done["regions"]
    issues = dmarc_issues(dmarc, regions)
    vias = [aligned_via(ra, dmarc) for ra in regions] if dmarc.usable else []
    ok_summary = None
    if vias and all(vias):
        ways = sorted({" and ".join(v) for v in vias})
        ok_summary = (
            f"DMARC {dmarc.describe_policy()} at _dmarc.{dmarc.location}; SES mail passes aligned via "
            + "; ".join(ways)
        )
    evidence = dmarc_evidence(dmarc)
    for ra in regions:
        where = f"{ra.where}: " if ra.where else ""
        if not ra.identity.error:
            evidence.append(
                f"{where}DKIM d={ra.dkim.d_domain} ({'passes' if ra.dkim.passes else 'does not pass'}); "
                f"MAIL FROM {ra.mail_from.domain or 'amazonses.com (default)'}"
            )
    data = {"domain": domain, "dmarc": dmarc_data(dmarc), "regions": [region_data(ra) for ra in regions]}
    return to_finding(ctx, issues, evidence, data, ok_summary=ok_summary)


@check("domain.mx", suite="domain")
def domain_mx(ctx: CheckContext) -> Finding:
    """Can the domain itself receive mail (replies, bounces to it)? MX, null MX, or implicit MX."""
    mx = inspect_mx(ctx.deps, ctx.memo, _target_domain(ctx))
    if mx.unchecked:
        return could_not_check(ctx.check_id, mx.unchecked, ctx.region)
    return to_finding(ctx, mx_issues(mx), mx_evidence(mx), mx_data(mx))
