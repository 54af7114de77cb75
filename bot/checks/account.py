"""Account checks: is the SES account in a region able to deliver to this recipient at all?

Three questions, one `GetAccount` answer: the sandbox (`account.sandbox`), whether sending is paused
or under enforcement (`account.sending`), and the daily quota (`account.quota`). The three checks run
at the same moment in one diagnosis, so they share one `GetAccount` call per region and run
(`get_account`); `recipient.suppressed` reads the account's suppression reasons from the same answer.
"""

from __future__ import annotations

from typing import Any

from bot.aws import describe_error, error_code
from bot.checks import CheckContext, check
from bot.findings import Finding, Severity, could_not_check
from bot.numfmt import fmt_num

SANDBOX_DOC = "https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html"
ENFORCEMENT_DOC = "https://docs.aws.amazon.com/ses/latest/dg/faqs-enforcement.html"
QUOTA_DOC = "https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas.html"
VERIFY_DOC = "https://docs.aws.amazon.com/ses/latest/dg/verify-addresses-and-domains.html"

# The mailbox simulator accepts mail even from a sandboxed account.
SIMULATOR_DOMAIN = "simulator.amazonses.com"

_ACCESS_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


def get_account(ctx: CheckContext) -> dict[str, Any]:
    """The SESv2 `GetAccount` answer for the context's region: one call per region and run, shared by
    the account checks and the suppression check (errors reach each of them as the botocore exception)."""
    return ctx.memo.once(("sesv2.GetAccount", ctx.region), lambda: ctx.client("sesv2").get_account())


def account_unavailable(check_id: str, exc: BaseException, region: str | None, action: str) -> Finding:
    """The finding for an AWS call that failed: what failed, why, and what to grant or retry."""
    finding = could_not_check(check_id, describe_error(exc), region)
    if error_code(exc) in _ACCESS_DENIED:
        finding.fix = (
            f"Allow `ses:{action}` for the bot's IAM role or user (see the README's IAM policy), "
            "then run the command again."
        )
    finding.evidence = [f"{action} in {region or 'the default region'} failed: {describe_error(exc)}"]
    return finding


def identity_status(ctx: CheckContext, identity: str) -> dict[str, Any] | None:
    """`GetEmailIdentity` for one identity in the context's region; None when it is not an identity."""
    try:
        return ctx.client("sesv2").get_email_identity(EmailIdentity=identity)
    except Exception as exc:
        if error_code(exc) == "NotFoundException":
            return None
        raise


def _review(account: dict[str, Any]) -> str | None:
    review = (account.get("Details") or {}).get("ReviewDetails") or {}
    status = review.get("Status")
    if not status:
        return None
    meaning = {
        "PENDING": "AWS is reviewing it",
        "GRANTED": "granted (it can take a moment to apply)",
        "DENIED": "denied: read the case and reply with what AWS asked for",
        "FAILED": "failed: submit the request again",
    }.get(status, "")
    case = f", case {review['CaseId']}" if review.get("CaseId") else ""
    return f"Production-access request: {status}{case}" + (f" ({meaning})" if meaning else "")


# -- account.sandbox ---------------------------------------------------------------------------------


@check("account.sandbox", per_region=True)
def sandbox(ctx: CheckContext) -> Finding:
    """In the sandbox, SES only delivers to verified identities (and the mailbox simulator)."""
    cid, region = ctx.check_id, ctx.region
    try:
        account = get_account(ctx)
    except Exception as exc:
        return account_unavailable(cid, exc, region, "GetAccount")
    if account.get("ProductionAccessEnabled"):
        return Finding(
            cid,
            Severity.OK,
            f"Production access in {region}: SES delivers to any recipient.",
            evidence=["ProductionAccessEnabled: true"],
        )

    review = _review(account)
    evidence = ["ProductionAccessEnabled: false (the account is in the sandbox in this region)"]
    if review:
        evidence.append(review)
    domain = ctx.recipient_domain
    if domain == SIMULATOR_DOMAIN:
        return Finding(
            cid,
            Severity.INFO,
            f"The account is in the sandbox in {region}; the mailbox simulator is allowed there.",
            evidence=evidence,
            fix=f"To send to anyone else, request production access: {SANDBOX_DOC}",
        )

    verified_by: str | None = None
    for identity in (ctx.target, domain):
        try:
            found = identity_status(ctx, identity)
        except Exception as exc:
            finding = account_unavailable(cid, exc, region, "GetEmailIdentity")
            finding.summary = (
                f"The account is in the sandbox in {region}, and whether {identity} is a verified "
                f"identity could not be checked: {describe_error(exc)}"
            )
            finding.evidence = evidence + finding.evidence
            return finding
        if found is None:
            evidence.append(f"{identity}: not an identity in {region}")
            continue
        ok = bool(found.get("VerifiedForSendingStatus"))
        evidence.append(
            f"{identity}: VerifiedForSendingStatus {str(ok).lower()}, "
            f"VerificationStatus {found.get('VerificationStatus', 'unknown')}"
        )
        if ok:
            verified_by = identity
            break

    if verified_by:
        return Finding(
            cid,
            Severity.INFO,
            f"The account is in the sandbox in {region}, but {verified_by} is a verified identity, "
            "so SES delivers to it.",
            evidence=evidence,
            fix=f"Other recipients are refused until production access is granted: {SANDBOX_DOC}",
            data={"sandbox": True, "verified_by": verified_by},
        )
    return Finding(
        cid,
        Severity.CRITICAL,
        f"The account is in the sandbox in {region} and {ctx.target} is not a verified identity: "
        "SES refuses to send to it (MessageRejected: Email address is not verified).",
        evidence=evidence,
        fix=(
            f"Request production access for {region} ({SANDBOX_DOC}). For a test meanwhile, verify the "
            f"recipient: `aws sesv2 create-email-identity --email-identity {ctx.target} --region {region}` "
            f"and have them click the link ({VERIFY_DOC})."
        ),
        data={"sandbox": True, "verified_by": None},
    )


# -- account.sending ---------------------------------------------------------------------------------


@check("account.sending", per_region=True)
def sending(ctx: CheckContext) -> Finding:
    """Sending paused, or the account under review or shut down by AWS enforcement."""
    cid, region = ctx.check_id, ctx.region
    try:
        account = get_account(ctx)
    except Exception as exc:
        return account_unavailable(cid, exc, region, "GetAccount")
    enabled = account.get("SendingEnabled")
    status = account.get("EnforcementStatus")
    evidence = [
        f"SendingEnabled: {str(enabled).lower() if enabled is not None else 'not reported'}",
        f"EnforcementStatus: {status or 'not reported'}",
    ]
    if status == "SHUTDOWN":
        return Finding(
            cid,
            Severity.CRITICAL,
            f"AWS has shut down sending for the account in {region} (EnforcementStatus SHUTDOWN): no mail goes out.",
            evidence=evidence,
            fix=(
                "Read the AWS notice (email to the account's root address and the SES console's "
                "reputation page), fix the cause, and reply through the AWS Support case to ask for "
                f"reinstatement: {ENFORCEMENT_DOC}"
            ),
        )
    if enabled is False:
        return Finding(
            cid,
            Severity.CRITICAL,
            f"Sending is paused for the account in {region} (SendingEnabled false): "
            "SES refuses every send (SendingPausedException).",
            evidence=evidence,
            fix=(
                "If your team paused it, resume with "
                f"`aws sesv2 put-account-sending-attributes --sending-enabled --region {region}`; "
                f"if AWS paused it, follow its notice and the support case: {ENFORCEMENT_DOC}"
            ),
        )
    if status == "PROBATION":
        return Finding(
            cid,
            Severity.ERROR,
            f"The account in {region} is under review (EnforcementStatus PROBATION): mail still goes "
            "out, but AWS pauses sending if the bounce or complaint rate does not come down.",
            evidence=evidence,
            fix=(
                "Bring the bounce rate well under the 5% review level (AWS advises below 2%) and the complaint "
                "rate under 0.1% (stop sending to addresses that bounce or complain, check list hygiene) and "
                "answer the AWS notice: "
                f"{ENFORCEMENT_DOC}"
            ),
        )
    if status in (None, "HEALTHY"):
        return Finding(cid, Severity.OK, f"Sending is enabled and healthy in {region}.", evidence=evidence)
    return Finding(
        cid,
        Severity.WARNING,
        f"The account in {region} reports an enforcement status this bot does not know: {status}.",
        evidence=evidence,
        fix=f"Look at the SES console's reputation page for {region} and the AWS notices: {ENFORCEMENT_DOC}",
        data={"enforcement_status": status},
    )


# -- account.quota -----------------------------------------------------------------------------------

QUOTA_WARNING_FRACTION = 0.8


@check("account.quota", per_region=True)
def quota(ctx: CheckContext) -> list[Finding]:
    """The daily sending quota used up (or nearly), and the maximum send rate."""
    cid, region = ctx.check_id, ctx.region
    try:
        account = get_account(ctx)
    except Exception as exc:
        return [account_unavailable(cid, exc, region, "GetAccount")]
    q = account.get("SendQuota") or {}
    max24, rate, sent = q.get("Max24HourSend"), q.get("MaxSendRate"), q.get("SentLast24Hours")
    data = {"max_24h": max24, "max_rate": rate, "sent_last_24h": sent}
    evidence = [
        f"SentLast24Hours: {fmt_num(sent)}",
        f"Max24HourSend: {'unlimited (-1)' if max24 == -1 else fmt_num(max24)}",
    ]
    findings: list[Finding] = []
    if max24 is None or sent is None:
        findings.append(
            Finding(cid, Severity.WARNING, f"{region} reports no sending quota.", evidence=evidence, data=data)
        )
    elif max24 == -1 or max24 < 0:
        findings.append(Finding(cid, Severity.OK, f"No daily sending limit in {region}.", evidence=evidence, data=data))
    elif sent >= max24:
        findings.append(
            Finding(
                cid,
                Severity.CRITICAL,
                f"The daily sending quota in {region} is used up: {fmt_num(sent)} of {fmt_num(max24)} in the "
                "last 24 hours; SES refuses sends (Daily message quota exceeded) until it frees up.",
                evidence=evidence,
                fix=f"Wait for the 24-hour window to roll on, or request a higher quota: {QUOTA_DOC}",
                data=data,
            )
        )
    elif sent >= QUOTA_WARNING_FRACTION * max24:
        findings.append(
            Finding(
                cid,
                Severity.WARNING,
                f"Near the daily sending quota in {region}: {fmt_num(sent)} of {fmt_num(max24)} "
                f"({sent / max24:.0%}) in the last 24 hours.",
                evidence=evidence,
                fix=f"Request a higher quota before it runs out: {QUOTA_DOC}",
                data=data,
            )
        )
    else:
        share = f" ({sent / max24:.0%})" if max24 else ""
        findings.append(
            Finding(
                cid,
                Severity.OK,
                f"Daily quota in {region}: {fmt_num(sent)} of {fmt_num(max24)} used{share}.",
                evidence=evidence,
                data=data,
            )
        )
    if rate is not None:
        findings.append(
            Finding(
                cid,
                Severity.INFO,
                f"Maximum send rate in {region}: {fmt_num(rate)} message{'s' if rate != 1 else ''} a second; "
                "faster sends get `Throttling: Maximum sending rate exceeded`.",
                evidence=[f"MaxSendRate: {fmt_num(rate)}"],
                data={"max_rate": rate},
            )
        )
    return findings
