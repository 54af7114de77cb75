"""Virtual Deliverability Manager's Advisor: what SES itself recommends fixing for the sender identity.

One check, `sender.advisor` (per region). With VDM on, `ListRecommendations` filtered to `STATUS=OPEN`
(a few pages at most: the operation allows one call a second), keeping the recommendations on the
sender's identity (the address, its domain, or a parent domain that covers it; the identity name ends the
ARN, `.../identity/<name>`) and the account-wide ones, highest impact first, then oldest first. Each is
listed with its type, impact, age, SES's description (quoted as-is) and the guide page that fixes it.

Severity: any HIGH recommendation open is a WARNING, whatever its type, DKIM, SPF and DMARC included.
The authentication checks (`sender.identity`, `sender.authentication`) read the identity and the same DNS
records live and give the ERROR for broken authentication, naming the record; the Advisor refreshes on its
own schedule, so a recommendation can outlive the fix. An ERROR here would repeat theirs or contradict
a fix made since. Only LOW recommendations open is INFO; none is OK. VDM off, access denied or the
operation not offered is one `not_available` line.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.checks import CheckContext, check
from bot.checks.account import account_unavailable
from bot.checks.authentication.domains import parent_domains
from bot.checks.availability import VDM_ENABLE, absent, not_available, vdm_enabled
from bot.findings import Finding, Severity
from bot.timefmt import parse_ts, span, when

WHAT = "Virtual Deliverability Manager's Advisor"
ADVISOR_DOC = "https://docs.aws.amazon.com/ses/latest/dg/vdm-advisor.html"
MAX_PAGES = 3
PAGE_SIZE = 100  # the most ListRecommendations returns at once

# Where each recommendation type is fixed, in the SES Developer Guide.
FIX_LINKS = {
    "DKIM": "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim.html",
    "DMARC": "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dmarc.html",
    "SPF": "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-spf.html",
    "BIMI": "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-bimi.html",
    "COMPLAINT": "https://docs.aws.amazon.com/ses/latest/dg/monitor-sender-reputation.html",
    "BOUNCE": "https://docs.aws.amazon.com/ses/latest/dg/monitor-sender-reputation.html",
    "FEEDBACK_3P": ADVISOR_DOC,
    "IP_LISTING": "https://docs.aws.amazon.com/ses/latest/dg/faqs-dnsbls.html",
}
IMPACT_RANK = {"HIGH": 0, "LOW": 1}


def _open_recommendations(ctx: CheckContext) -> tuple[list[dict[str, Any]], bool]:
    """The open recommendations of the region (at most MAX_PAGES pages), and whether more were left."""

    def fetch() -> tuple[list[dict[str, Any]], bool]:
        client = ctx.client("sesv2")
        found: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            kwargs: dict[str, Any] = {"Filter": {"STATUS": "OPEN"}, "PageSize": PAGE_SIZE}
            if token:
                kwargs["NextToken"] = token
            page = client.list_recommendations(**kwargs)
            found.extend(page.get("Recommendations") or [])
            token = page.get("NextToken")
            if not token:
                return found, False
        return found, True

    return ctx.memo.once(("sesv2.ListRecommendations", ctx.region, "OPEN"), fetch)


def _resource(arn: str | None) -> tuple[str, str] | None:
    """('identity', 'example.com') from `arn:aws:ses:<region>:<account>:identity/example.com`; None when
    the ARN names no resource (an account-wide recommendation)."""
    if not arn:
        return None
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else ""
    kind, sep, name = resource.partition("/")
    return (kind, name) if sep and name else None


def _identities(ctx: CheckContext) -> list[str]:
    """The identity names that govern the sender's mail: its address, its domain, the parents above it."""
    domain = ctx.settings.sender_domain
    if not domain:
        return []
    address = ctx.settings.sender_address
    return ([address.lower()] if address else []) + parent_domains(domain)


def _sort_key(rec: dict[str, Any]) -> tuple[int, float]:
    created = parse_ts(rec.get("CreatedTimestamp"))
    impact = IMPACT_RANK.get(rec.get("Impact") or "", len(IMPACT_RANK))
    return impact, created.timestamp() if created else float("inf")


def _line(rec: dict[str, Any], now: datetime) -> str:
    resource = _resource(rec.get("ResourceArn"))
    on = resource[1] if resource else "the account"
    rtype = rec.get("Type") or "unknown type"
    impact = rec.get("Impact") or "unknown impact"
    line = f"{impact} {rtype} on {on}, open since {when(rec.get('CreatedTimestamp'), now)}"
    if rec.get("Description"):
        line += f': "{rec["Description"]}"'
    return line + f"; fix: {FIX_LINKS.get(rtype, ADVISOR_DOC)}"


def _age(rec: dict[str, Any], now: datetime) -> str:
    """'open for 3 days' from a recommendation's CreatedTimestamp."""
    created = parse_ts(rec.get("CreatedTimestamp"))
    if created is None:
        return "open since an unknown time"
    return f"open for {span(max(now - created, timedelta(0)))}"


def _iso(value: Any) -> str | None:
    dt = parse_ts(value)
    return dt.isoformat() if dt else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@check("sender.advisor", per_region=True)
def advisor(ctx: CheckContext) -> Finding:
    region = ctx.region
    if vdm_enabled(ctx) is False:
        return not_available(ctx, WHAT, VDM_ENABLE)
    try:
        recommendations, truncated = _open_recommendations(ctx)
    except Exception as exc:
        if absent(exc):
            return not_available(ctx, WHAT, VDM_ENABLE, exc)
        return account_unavailable(ctx.check_id, exc, region, "ListRecommendations")

    names = _identities(ctx)
    sender = ctx.settings.sender_address or ctx.settings.sender_domain
    kept: list[dict[str, Any]] = []
    others = 0
    for rec in recommendations:
        if (rec.get("Status") or "OPEN") != "OPEN":
            continue
        resource = _resource(rec.get("ResourceArn"))
        if resource is None or (resource[0] == "identity" and resource[1].lower() in names):
            kept.append(rec)
        else:
            others += 1
    kept.sort(key=_sort_key)

    now = ctx.deps.now()
    evidence = [_line(rec, now) for rec in kept]
    scope = f"for {sender}" if sender else "account-wide"
    if not sender:
        evidence.append("No sender is configured (SESBOT_SENDER), so only account-wide recommendations are listed.")
    if others:
        evidence.append(f"{_plural(others, 'open recommendation')} on other resources, not listed.")
    if truncated:
        evidence.append(f"Only the first {MAX_PAGES * PAGE_SIZE} open recommendations were read.")
    data: dict[str, Any] = {
        "recommendations": [
            {
                "type": rec.get("Type"),
                "impact": rec.get("Impact"),
                "resource_arn": rec.get("ResourceArn"),
                "created": _iso(rec.get("CreatedTimestamp")),
                "description": rec.get("Description"),
            }
            for rec in kept
        ]
    }
    if not kept:
        return ctx.finding(
            Severity.OK,
            f"No open Advisor recommendations {scope} in {region}.",
            evidence=evidence,
            data=data,
        )
    top = kept[0]
    high = sum(1 for rec in kept if rec.get("Impact") == "HIGH")
    links = list(dict.fromkeys(FIX_LINKS.get(rec.get("Type") or "", ADVISOR_DOC) for rec in kept))
    fix = f"Start with the {top.get('Type')} one: {links[0]}" + (
        f"; then {', '.join(links[1:])}" if len(links) > 1 else ""
    )
    first = f"{top.get('Impact')} {top.get('Type')}, {_age(top, now)}"
    summary = (
        f"{_plural(len(kept), 'open Advisor recommendation')} {scope} in {region}"
        + (f", {high} of high impact" if high else ", all of low impact")
        + f"; first: {first}."
    )
    return ctx.finding(Severity.WARNING if high else Severity.INFO, summary, evidence=evidence, fix=fix, data=data)
