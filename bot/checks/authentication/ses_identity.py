"""The SES identity that sends for a domain in one region: found through the SESv2 API
(``GetEmailIdentity`` for the domain, then each parent domain, since a verified domain covers its
subdomains), read once per run, and judged: is it there, and is it verified for sending (with what
its verification error means)? DKIM and MAIL FROM settings are read from it by their own modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.aws import describe_error, error_code
from bot.checks import RunMemo
from bot.checks.authentication.domains import parent_domains
from bot.checks.authentication.issues import Issue
from bot.deps import Deps
from bot.findings import Severity

DOC_IDENTITY = "https://docs.aws.amazon.com/ses/latest/dg/creating-identities.html"
DOC_VERIFY_TROUBLE = "https://docs.aws.amazon.com/ses/latest/dg/troubleshoot-verification.html"

VERIFICATION_ERRORS = {
    "DNS_SERVER_ERROR": "SES could not get an answer from the domain's DNS servers (timeout or SERVFAIL)",
    "HOST_NOT_FOUND": "the DKIM CNAME names do not exist in DNS",
    "TYPE_NOT_FOUND": "the DKIM names exist but hold no CNAME record (a TXT record instead?)",
    "INVALID_VALUE": "the DKIM CNAME records point at the wrong targets",
    "SERVICE_ERROR": "an error inside SES; it retries on its own",
    "REPLICATION_ACCESS_DENIED": "the parent identity used for replication does not allow it",
    "REPLICATION_PRIMARY_NOT_FOUND": "the primary identity to replicate from does not exist",
    "REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED": "the primary identity uses BYODKIM: not replicable",
    "REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED": "a replica cannot be the primary of another replica",
    "REPLICATION_PRIMARY_INVALID_REGION": "the primary identity's region cannot be replicated from",
}


@dataclass
class Identity:
    """The SES identity that covers `domain` in `region`: the domain itself, or a parent domain."""

    region: str | None
    domain: str
    name: str | None = None  # the identity found (domain or a parent), None when there is none
    response: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # AWS trouble: could not tell

    @property
    def found(self) -> bool:
        return self.name is not None

    @property
    def inherited(self) -> bool:
        return self.found and self.name != self.domain

    @property
    def verified(self) -> bool:
        return bool(self.response.get("VerifiedForSendingStatus"))

    @property
    def status(self) -> str:
        return self.response.get("VerificationStatus") or "UNKNOWN"

    @property
    def error_type(self) -> str | None:
        return (self.response.get("VerificationInfo") or {}).get("ErrorType")

    @property
    def dkim(self) -> dict[str, Any]:
        return self.response.get("DkimAttributes") or {}

    @property
    def mail_from(self) -> dict[str, Any]:
        return self.response.get("MailFromAttributes") or {}

    @property
    def mail_from_domain(self) -> str | None:
        value = self.mail_from.get("MailFromDomain")
        return value.lower().rstrip(".") if value else None


def find_identity(client: Any, region: str | None, domain: str) -> Identity:
    """The identity for `domain` or, failing that, the nearest parent domain identity (SES lets a verified
    domain send from its subdomains, and signs their mail with the parent's DKIM)."""
    for candidate in parent_domains(domain):
        try:
            response = client.get_email_identity(EmailIdentity=candidate)
        except Exception as exc:
            if error_code(exc) == "NotFoundException":
                continue
            return Identity(region, domain, error=describe_error(exc))
        response.pop("ResponseMetadata", None)
        return Identity(region, domain, candidate, response)
    return Identity(region, domain)


def cached_identity(deps: Deps, memo: RunMemo, region: str | None, domain: str) -> Identity:
    """`find_identity` in `region`, asked once per run: every check of the run reads the same identity."""

    def compute() -> Identity:
        try:
            client = deps.aws.get("sesv2", region)
        except Exception as exc:
            return Identity(region, domain, error=describe_error(exc))
        return find_identity(client, region, domain)

    return memo.once(("identity", region, domain), compute)


def identity_issues(ident: Identity) -> list[Issue]:
    """Is there an identity for the domain, and is it verified for sending?"""
    region = ident.region or "the configured region"
    if ident.error:
        return [Issue(Severity.WARNING, f"could not read the SES identity: {ident.error}", unchecked=True)]
    if not ident.found:
        return [
            Issue(
                Severity.ERROR,
                f"{ident.domain} is not an SES identity in {region} (nor is a parent domain): SES refuses to "
                "send from it unless each address is verified, and cannot DKIM-sign as the domain",
                f"Create and verify the domain identity in {region} (SES console > Verified identities). "
                + DOC_IDENTITY,
            )
        ]
    cover = f" (through the parent identity {ident.name})" if ident.inherited else ""
    if ident.verified and ident.status == "SUCCESS":
        return [Issue(Severity.OK, f"{ident.domain} is verified for sending in {region}{cover}")]
    err = ident.error_type
    why = f": {err} — {VERIFICATION_ERRORS.get(err, 'see the SES console')}" if err else ""
    sev = Severity.WARNING if ident.status in ("PENDING", "TEMPORARY_FAILURE") else Severity.ERROR
    if ident.status == "PENDING":
        what = "is waiting for verification (SES has not found the DNS records yet)"
    elif ident.status == "NOT_STARTED":
        what = "has not started verification"
    else:
        what = f"failed verification ({ident.status})"
    return [
        Issue(
            sev,
            f"identity {ident.name} in {region} {what}{why}{cover}; mail from {ident.domain} is not sent",
            "Publish the identity's DKIM CNAME records exactly as SES lists them, then wait for SES to "
            f"re-check (up to 72 hours). {DOC_VERIFY_TROUBLE}",
        )
    ]


def identity_evidence(ident: Identity) -> list[str]:
    """What GetEmailIdentity said: the identity found and its verification state, or why there is none."""
    if ident.error:
        return [f"GetEmailIdentity: {ident.error}"]
    if not ident.found:
        return [f"GetEmailIdentity {', '.join(parent_domains(ident.domain))}: NotFoundException"]
    line = f"identity {ident.name}: VerificationStatus={ident.status}, VerifiedForSendingStatus={ident.verified}"
    if ident.error_type:
        line += f", ErrorType={ident.error_type}"
    return [line]
