"""Sender identity: can SES send as the configured sender in this region, signed and with its MAIL FROM?

One check, `sender.identity`: the configured sender (`SESBOT_SENDER`, an address or a domain) must be a
verified identity in the region (an address is covered by its own identity or its domain's); its DKIM
must be `SUCCESS` and signing on; a custom MAIL FROM domain must be `SUCCESS`, or SES either rejects the
send (`REJECT_MESSAGE`) or falls back to amazonses.com (`USE_DEFAULT_VALUE`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.checks import CheckContext, check
from bot.checks.account import account_unavailable, identity_status
from bot.checks.authentication.domains import parent_domains
from bot.findings import Finding, Severity
from bot.timefmt import when

CHECK = "sender.identity"
VERIFY_DOC = "https://docs.aws.amazon.com/ses/latest/dg/verify-addresses-and-domains.html"
DKIM_DOC = "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-easy.html"
MAIL_FROM_DOC = "https://docs.aws.amazon.com/ses/latest/dg/mail-from.html"
TROUBLESHOOT_DOC = "https://docs.aws.amazon.com/ses/latest/dg/troubleshoot-verification.html"

VERIFICATION_STATUS = {
    "PENDING": "SES is still looking for the DNS records (it keeps looking for up to 72 hours)",
    "FAILED": "SES gave up after 72 hours without finding the DNS records; verification must be restarted",
    "TEMPORARY_FAILURE": "the identity was verified, but SES can no longer find its DNS records",
    "NOT_STARTED": "verification has not been started",
    "SUCCESS": "verified",
}

VERIFICATION_ERRORS = {
    "SERVICE_ERROR": "an internal SES error stopped the check; it retries on its own",
    "DNS_SERVER_ERROR": "the domain's DNS servers failed to answer SES (timeouts or SERVFAIL)",
    "HOST_NOT_FOUND": "the DKIM CNAME records (<token>._domainkey.<domain>) do not exist in DNS",
    "TYPE_NOT_FOUND": "the DKIM names exist but hold no CNAME record (another type, e.g. TXT)",
    "INVALID_VALUE": "the DKIM CNAME records exist but point somewhere other than <token>.dkim.amazonses.com",
    "REPLICATION_ACCESS_DENIED": "SES may not replicate DKIM from the primary region (Deterministic DKIM)",
    "REPLICATION_PRIMARY_NOT_FOUND": "the primary identity for DKIM replication does not exist",
    "REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED": "a BYODKIM primary identity cannot be replicated",
    "REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED": "a replica identity cannot serve as a primary",
    "REPLICATION_PRIMARY_INVALID_REGION": "the primary identity's region is not valid for replication",
}

DKIM_STATUS = {
    "PENDING": "SES has not yet found the DKIM CNAME records",
    "FAILED": "SES could not find the DKIM CNAME records and stopped looking (72 hours)",
    "TEMPORARY_FAILURE": "SES found the records before but cannot now; it keeps retrying",
    "NOT_STARTED": "DKIM is not set up for this identity",
}


# An address is verified by a link SES mails to it, not by DNS records.
ADDRESS_VERIFICATION_STATUS = {
    "PENDING": "waiting for someone to click the link SES mailed to the address (it expires after 24 hours)",
    "FAILED": "the link SES mailed to the address was not clicked in time",
}


def _describe_verification(identity: str, found: dict[str, Any], now: datetime) -> list[str]:
    status = found.get("VerificationStatus") or "unknown"
    meanings = {**VERIFICATION_STATUS, **ADDRESS_VERIFICATION_STATUS} if "@" in identity else VERIFICATION_STATUS
    lines = [f"VerificationStatus: {status} ({meanings.get(status, 'unknown value')})"]
    info = found.get("VerificationInfo") or {}
    if info.get("ErrorType"):
        err = info["ErrorType"]
        lines.append(f"VerificationInfo.ErrorType: {err} ({VERIFICATION_ERRORS.get(err, 'unknown value')})")
    if info.get("LastCheckedTimestamp"):
        lines.append(f"Last checked by SES: {when(info['LastCheckedTimestamp'], now)}")
    if info.get("LastSuccessTimestamp"):
        lines.append(f"Last verified: {when(info['LastSuccessTimestamp'], now)}")
    return lines


@check(CHECK, per_region=True)
def sender_identity(ctx: CheckContext) -> list[Finding]:
    region = ctx.region
    address = ctx.settings.sender_address
    domain = ctx.settings.sender_domain
    if not domain:
        return [
            Finding(
                CHECK,
                Severity.INFO,
                "No sender is configured, so the sender identity was not checked.",
                fix="Set SESBOT_SENDER to the From address or domain your team sends as (news@example.com).",
            )
        ]
    sender = address or domain

    # The address's own identity first: its settings win over the domain's when both exist. A verified
    # parent domain covers its subdomains (SES signs their mail with the parent's DKIM).
    domains = parent_domains(domain)
    candidates = ([address] if address else []) + domains
    looked: dict[str, dict[str, Any] | None] = {}
    for identity in candidates:
        try:
            looked[identity] = identity_status(ctx, identity)
        except Exception as exc:
            return [account_unavailable(CHECK, exc, region, "GetEmailIdentity")]
        if (looked[identity] or {}).get("VerifiedForSendingStatus"):
            break  # the nearest verified identity governs; the ones above it do not matter
    candidates = list(looked)

    verified = [i for i in candidates if (status := looked[i]) and status.get("VerifiedForSendingStatus")]
    if not verified:
        return [_not_verified(ctx, sender, candidates, looked)]

    governing = verified[0]
    found = looked[governing] or {}
    evidence = [f"{governing}: verified for sending in {region} ({found.get('IdentityType', 'identity')})"]
    findings: list[Finding] = []

    # DKIM: an address identity carries its domain's Easy DKIM state; judge the domain's when it exists.
    dkim_source = next((d for d in domains if looked.get(d)), governing)
    dkim = (looked.get(dkim_source) or {}).get("DkimAttributes") or {}
    dkim_status = dkim.get("Status")
    signing = dkim.get("SigningEnabled")
    evidence.append(
        f"DKIM ({dkim_source}): Status {dkim_status or 'not reported'}, "
        f"SigningEnabled {str(signing).lower() if signing is not None else 'not reported'}"
    )
    if dkim_status and dkim_status != "SUCCESS":
        findings.append(
            Finding(
                CHECK,
                Severity.ERROR,
                f"DKIM for {dkim_source} is {dkim_status} in {region}: "
                f"{DKIM_STATUS.get(dkim_status, 'not working')}. Mail is not signed with your domain, "
                "so DMARC cannot pass by DKIM and receivers are more likely to file it as spam.",
                evidence=[evidence[-1], *_dkim_tokens(dkim_source, dkim)],
                fix=(
                    f"Publish the three CNAME records <token>._domainkey.{dkim_source} -> "
                    "<token>.dkim.amazonses.com shown in the SES console, then wait for SES to see them: "
                    f"{DKIM_DOC}"
                ),
            )
        )
    elif signing is False:
        findings.append(
            Finding(
                CHECK,
                Severity.WARNING,
                f"DKIM signing is turned off for {dkim_source} in {region}: mail goes out without your "
                "domain's DKIM signature (DMARC can only pass through SPF alignment).",
                evidence=[evidence[-1]],
                fix=(
                    "Turn signing back on: `aws sesv2 put-email-identity-dkim-attributes "
                    f"--email-identity {dkim_source} --signing-enabled --region {region}` ({DKIM_DOC})"
                ),
            )
        )

    # MAIL FROM: the governing identity's own setting, else the domain's.
    mail_from = (found.get("MailFromAttributes") or {}) or (
        (looked.get(dkim_source) or {}).get("MailFromAttributes") or {}
    )
    mf_domain = mail_from.get("MailFromDomain")
    if mf_domain:
        mf_status = mail_from.get("MailFromDomainStatus") or "unknown"
        behavior = mail_from.get("BehaviorOnMxFailure") or "USE_DEFAULT_VALUE"
        mf_evidence = [
            f"MailFromDomain: {mf_domain}",
            f"MailFromDomainStatus: {mf_status}",
            f"BehaviorOnMxFailure: {behavior}",
        ]
        evidence.append(f"Custom MAIL FROM {mf_domain}: {mf_status}")
        mf_fix = (
            f"Publish `{mf_domain} MX 10 feedback-smtp.{region}.amazonses.com` and "
            f'`{mf_domain} TXT "v=spf1 include:amazonses.com ~all"`, then wait for SES to see them: '
            f"{MAIL_FROM_DOC}"
        )
        if mf_status != "SUCCESS" and behavior == "REJECT_MESSAGE":
            findings.append(
                Finding(
                    CHECK,
                    Severity.CRITICAL,
                    f"The custom MAIL FROM domain {mf_domain} is {mf_status} and set to REJECT_MESSAGE: "
                    f"SES refuses every send from {sender} in {region} (MailFromDomainNotVerified).",
                    evidence=mf_evidence,
                    fix=mf_fix + " Or, to send meanwhile, set the behaviour to USE_DEFAULT_VALUE "
                    "(`aws sesv2 put-email-identity-mail-from-attributes --behavior-on-mx-failure "
                    f"USE_DEFAULT_VALUE --mail-from-domain {mf_domain} --email-identity {governing}`).",
                )
            )
        elif mf_status != "SUCCESS":
            findings.append(
                Finding(
                    CHECK,
                    Severity.WARNING,
                    f"The custom MAIL FROM domain {mf_domain} is {mf_status}: mail goes out with the "
                    "default amazonses.com MAIL FROM, so SPF does not align with your domain for DMARC.",
                    evidence=mf_evidence,
                    fix=mf_fix,
                )
            )
    else:
        evidence.append("MAIL FROM: the default (a subdomain of amazonses.com)")

    if not findings:
        findings.append(
            Finding(
                CHECK,
                Severity.OK,
                f"The sender {sender} is verified in {region} (identity {governing}), DKIM signs, MAIL FROM is fine.",
                evidence=evidence,
            )
        )
    return findings


def _dkim_tokens(domain: str, dkim: dict[str, Any]) -> list[str]:
    tokens = dkim.get("Tokens") or []
    return [f"Expected: {t}._domainkey.{domain} CNAME {t}.dkim.amazonses.com" for t in tokens[:3]]


def _not_verified(
    ctx: CheckContext, sender: str, candidates: list[str], looked: dict[str, dict[str, Any] | None]
) -> Finding:
    region = ctx.region
    sender_domain = next(i for i in candidates if "@" not in i)  # the domain itself, not a parent
    evidence: list[str] = []
    for identity in candidates:
        found = looked[identity]
        if found is None:
            evidence.append(f"{identity}: not an identity in {region}")
            continue
        evidence.append(f"{identity}: exists, VerifiedForSendingStatus false")
        evidence.extend(f"  {line}" for line in _describe_verification(identity, found, ctx.deps.now()))
    existing = [i for i in candidates if looked[i] is not None]
    if not existing:
        why = (
            f"neither {' nor '.join(candidates)} is an identity in {region}"
            if len(candidates) > 1
            else (f"{sender} is not an identity in {region}")
        )
        fix = (
            f"Create and verify the domain in {region}: `aws sesv2 create-email-identity --email-identity "
            f"{sender_domain} --region {region}`, then publish the DKIM CNAME records it returns "
            f"({VERIFY_DOC})."
        )
    else:
        first = looked[existing[0]] or {}
        status = first.get("VerificationStatus") or "unknown"
        err = (first.get("VerificationInfo") or {}).get("ErrorType")
        why = f"{existing[0]} is {status}"
        if err:
            why += f" ({VERIFICATION_ERRORS.get(err, err)})"
        if "@" in existing[0] and len(existing) == 1:
            fix = (
                f"Click the link in the verification mail SES sent to {existing[0]} (resend it with "
                f"`aws sesv2 create-email-identity`), or verify the domain {sender_domain} instead "
                f"({VERIFY_DOC})."
            )
        else:
            fix = (
                f"Publish the DKIM CNAME records for {sender_domain} exactly as the SES console shows them; "
                f"for FAILED, restart verification. Troubleshooting: {TROUBLESHOOT_DOC}"
            )
    return Finding(
        CHECK,
        Severity.CRITICAL,
        f"The sender {sender} is not verified in {region}: {why}. SES refuses to send as it "
        "(MessageRejected: Email address is not verified).",
        evidence=evidence,
        fix=fix,
        data={"verified": False, "identities": {i: looked[i] is not None for i in candidates}},
    )
