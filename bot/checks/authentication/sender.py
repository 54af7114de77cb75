"""The `why` suite's ``sender.authentication`` check (per region): what SES mail from the configured
sender's domain looks like to a receiver's SPF, DKIM and DMARC checks, condensed into one finding, worst
cause first (e.g. DMARC ``p=reject`` with no aligned DKIM is critical; no DMARC record is a warning; a
missing DKIM CNAME is an error). The identity's own verification is ``sender.identity``'s."""

from __future__ import annotations

from bot.checks import CheckContext, check
from bot.checks.authentication.alignment import aligned_via, dmarc_issues
from bot.checks.authentication.dkim import dkim_evidence, dkim_issues
from bot.checks.authentication.dmarc import Dmarc, cached_dmarc, dmarc_data, dmarc_evidence
from bot.checks.authentication.issues import Issue, to_finding
from bot.checks.authentication.lookup import parallel
from bot.checks.authentication.mail_from import mail_from_evidence, mail_from_issues
from bot.checks.authentication.region import RegionAuth, inspect_region, region_data
from bot.checks.authentication.ses_identity import identity_evidence
from bot.checks.authentication.spf import spf_data, spf_evidence, spf_issues
from bot.findings import Finding, Severity


@check("sender.authentication", per_region=True)
def sender_authentication(ctx: CheckContext) -> Finding:
    """What SES mail from the configured sender looks like to a receiver's SPF/DKIM/DMARC checks."""
    domain = ctx.settings.sender_domain
    if not domain:
        return ctx.finding(
            Severity.INFO,
            "Sender authentication not checked: no sender is configured",
            fix="Set SESBOT_SENDER to the From address (or domain) your mail uses.",
        )
    memo = ctx.memo
    # DMARC does not depend on the identity: look it up while the identity and its records are read.
    done = parallel(
        {
            "dmarc": lambda: cached_dmarc(ctx.deps, memo, domain),
            "region": lambda: inspect_region(ctx.deps, memo, ctx.region, domain),
        }
    )
    dmarc: Dmarc = done["dmarc"]
    ra: RegionAuth = done["region"]
    if ra.identity.error:
        # Without the identity, alignment is unknown; the DMARC record itself can still be judged.
        issues = [Issue(Severity.WARNING, f"could not read the SES identity: {ra.identity.error}", unchecked=True)]
        issues += dmarc_issues(dmarc, [])
    else:
        issues = dkim_issues(ra.dkim) + mail_from_issues(ra.mail_from)
        if ra.spf is not None and ra.mail_from.status == "SUCCESS":
            issues += spf_issues(ra.spf)
        issues += dmarc_issues(dmarc, [ra])
    # The identity's own verification belongs to sender.identity; here only what receivers see.
    evidence = (
        identity_evidence(ra.identity)
        + dkim_evidence(ra.dkim)
        + mail_from_evidence(ra.mail_from)
        + (spf_evidence(ra.spf) if ra.spf else [])
        + dmarc_evidence(dmarc)
    )
    via = aligned_via(ra, dmarc) if dmarc.usable else []
    ok_summary = (
        f"Mail from {domain} passes DMARC ({dmarc.describe_policy()}) aligned via {' and '.join(via)}" if via else None
    )
    data = {"domain": domain, **region_data(ra), "spf": spf_data(ra.spf), "dmarc": dmarc_data(dmarc)}
    return to_finding(ctx, issues, evidence, data, ok_summary=ok_summary)
