"""The identity's custom MAIL FROM domain in one region: its status, its behaviour on MX failure, and
its MX ``10 feedback-smtp.<region>.amazonses.com`` in DNS, with the verdicts on them (what SES does when
it fails: fall back to amazonses.com, or reject the send). Its SPF record is `spf`'s."""

from __future__ import annotations

from dataclasses import dataclass

from bot.checks import RunMemo
from bot.checks.authentication.issues import Issue
from bot.checks.authentication.lookup import Lookup, cached_lookup
from bot.checks.authentication.mx import mx_hosts
from bot.checks.authentication.ses_identity import Identity
from bot.deps import Deps
from bot.findings import Severity

DOC_MAIL_FROM = "https://docs.aws.amazon.com/ses/latest/dg/mail-from.html"


@dataclass
class MailFrom:
    """The identity's custom MAIL FROM domain (if any) and its MX."""

    identity: Identity
    mx: Lookup | None = None

    @property
    def domain(self) -> str | None:
        return self.identity.mail_from_domain

    @property
    def status(self) -> str | None:
        return self.identity.mail_from.get("MailFromDomainStatus")

    @property
    def behavior(self) -> str:
        return self.identity.mail_from.get("BehaviorOnMxFailure") or "USE_DEFAULT_VALUE"

    @property
    def expected_mx(self) -> str:
        return f"feedback-smtp.{self.identity.region}.amazonses.com"

    @property
    def mx_ok(self) -> bool | None:
        if self.mx is None or self.mx.failed:
            return None
        return any(host == self.expected_mx for _, host in mx_hosts(self.mx)) if self.mx.records else False

    @property
    def in_use(self) -> bool:
        """Does SES use the custom domain? (A failing one falls back to amazonses.com or rejects.)"""
        return bool(self.domain) and self.status == "SUCCESS"


def inspect_mail_from(deps: Deps, memo: RunMemo, ident: Identity) -> MailFrom:
    """The identity's MAIL FROM settings, and the MX of its custom MAIL FROM domain if it has one."""
    out = MailFrom(ident)
    if out.domain:
        out.mx = cached_lookup(deps, memo, out.domain, "MX")
    return out


def mail_from_issues(mf: MailFrom) -> list[Issue]:
    """Is the custom MAIL FROM (if any) in use, with the MX SES expects?"""
    ident = mf.identity
    region = ident.region or "the configured region"
    if ident.error or not ident.found:
        return []  # said by the identity/DKIM verdicts
    if not mf.domain:
        # SES's default: nothing to publish, nothing broken; what it costs (no SPF alignment) is said by
        # domain.spf and by the DMARC verdict when it matters.
        return [
            Issue(
                Severity.OK,
                f"default MAIL FROM (a subdomain of amazonses.com) in {region}: nothing to publish; SPF "
                f"cannot align with {ident.domain}",
            )
        ]
    issues: list[Issue] = []
    mx_fix = (
        f'Publish `{mf.domain} MX 10 {mf.expected_mx}` and `{mf.domain} TXT "v=spf1 include:amazonses.com '
        f'~all"`. {DOC_MAIL_FROM}'
    )
    rejecting = mf.behavior == "REJECT_MESSAGE"
    consequence = (
        "SES rejects sends (MailFromDomainNotVerified) because the identity is set to REJECT_MESSAGE"
        if rejecting
        else "SES falls back to amazonses.com, so SPF cannot align"
    )
    if mf.mx is not None and mf.mx.failed:
        issues.append(Issue(Severity.WARNING, f"could not look up MX of {mf.domain}: {mf.mx.error}", unchecked=True))
    elif mf.mx_ok is False and mf.mx is not None:
        found = ", ".join(mf.mx.records) if mf.mx.records else mf.mx.outcome.upper()
        sev = Severity.ERROR if rejecting else Severity.WARNING
        issues.append(
            Issue(
                sev,
                f"MAIL FROM domain {mf.domain} has no MX {mf.expected_mx} (found: {found}); when SES "
                f"notices, {consequence}",
                mx_fix,
            )
        )
    if mf.status != "SUCCESS":
        if mf.status == "PENDING":
            sev = Severity.WARNING
        else:
            sev = Severity.CRITICAL if rejecting else Severity.WARNING
        issues.append(Issue(sev, f"custom MAIL FROM {mf.domain} in {region} is {mf.status}: {consequence}", mx_fix))
    if not issues:
        issues.append(Issue(Severity.OK, f"custom MAIL FROM {mf.domain} in {region} is SUCCESS, MX {mf.expected_mx}"))
    return issues


def mail_from_evidence(mf: MailFrom) -> list[str]:
    """The MAIL FROM settings and the MX answer of the custom domain."""
    if not mf.identity.found:
        return []
    if not mf.domain:
        return ["MAIL FROM: default (amazonses.com)"]
    lines = [f"MAIL FROM: {mf.domain}, status {mf.status}, BehaviorOnMxFailure={mf.behavior}"]
    if mf.mx is not None:
        lines.append(mf.mx.describe())
    return lines
