"""The ``compliance`` suite, run by ``compliance [domain]``: one finding per sender requirement of the big
receivers (Gmail, Yahoo, Outlook.com), each naming who requires it, the threshold, what the bot saw and
the fix. What it reads: the SES identity and DNS (through the authentication package's shared lookups),
the header sample of the mail really sent, the event history, CloudWatch and the dedicated IPs."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import dns.reversename

from bot import history
from bot.alerts.levels import RATE_METRICS
from bot.alerts.signals import CW_PERIOD
from bot.aws import describe_error
from bot.checks import CheckContext, check
from bot.checks.authentication.alignment import aligned_via
from bot.checks.authentication.dkim import DOC_DKIM
from bot.checks.authentication.dmarc import DOC_DMARC, Dmarc, cached_dmarc, record_issues
from bot.checks.authentication.issues import Issue, to_finding
from bot.checks.authentication.lookup import cached_lookup, parallel
from bot.checks.authentication.mail_from import DOC_MAIL_FROM
from bot.checks.authentication.region import RegionAuth, every_region
from bot.checks.authentication.spf import spf_evidence
from bot.checks.blocklist import dedicated_ips
from bot.checks.compliance.requirements import RECEIVER_DOMAINS, Requirement, requirement
from bot.checks.compliance.unsubscribe import group_line, groups_for
from bot.deps import Deps
from bot.findings import Finding, Severity, could_not_check, where

SAMPLE_DAYS = 7  # the header sample and the complaint rate look at the last week
BULK_PER_DAY = 5000
COMPLAINT_CEILING = 0.003  # Gmail and Yahoo: never reach it
COMPLAINT_TARGET = 0.001  # Gmail: stay under it
MIN_SENDS = 100  # fewer sends than this in the window: no rate worth stating
KEY_BITS = {"RSA_1024_BIT": 1024, "RSA_2048_BIT": 2048}
DOC_EVENT_HEADERS = "https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html"
DOC_DKIM_KEY = "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-easy-managing.html"
DOC_DEDICATED_IPS = "https://docs.aws.amazon.com/ses/latest/dg/dedicated-ip.html"


def _domain(ctx: CheckContext) -> str:
    return ctx.target.rpartition("@")[2].lower().rstrip(".")


def _where(ra: RegionAuth) -> str:
    return f" in {ra.where}" if ra.where else ""


def _finding(
    ctx: CheckContext,
    req: Requirement,
    issues: list[Issue],
    evidence: list[str],
    data: dict[str, Any],
    ok_summary: str | None = None,
) -> Finding:
    """`to_finding`, with the requirement (who asks, the threshold, the documentation) in the evidence and data."""
    evidence = [*evidence, f"Required by {req.who}: {req.threshold}. {req.doc}"]
    data = {"requirement": req.title, "receivers": list(req.receivers), "threshold": req.threshold, **data}
    return to_finding(ctx, issues, evidence, data, ok_summary=ok_summary)


def _unread(ras: list[RegionAuth]) -> list[Issue]:
    return [
        Issue(Severity.WARNING, f"could not read the identity{_where(ra)}: {ra.identity.error}", unchecked=True)
        for ra in ras
        if ra.identity.error
    ]


@check("compliance.spf", suite="compliance")
def spf(ctx: CheckContext) -> Finding:
    """SPF passes for the MAIL FROM SES uses: the custom MAIL FROM's record, or SES's own amazonses.com."""
    req = requirement("spf")
    domain = _domain(ctx)
    ras = every_region(ctx, domain)
    issues = _unread(ras)
    evidence: list[str] = []
    for ra in ras:
        if ra.identity.error:
            continue
        mf = ra.mail_from
        if mf.in_use and ra.spf is not None:
            evidence += spf_evidence(ra.spf)
            if ra.spf.valid:
                issues.append(Issue(Severity.OK, f"SPF passes for {mf.domain} (custom MAIL FROM{_where(ra)})"))
            else:
                issues.append(
                    Issue(
                        Severity.ERROR,
                        f"SPF of the custom MAIL FROM {mf.domain}{_where(ra)} does not pass for SES",
                        f"Publish `v=spf1 include:amazonses.com ~all` at {mf.domain}. {DOC_MAIL_FROM}",
                    )
                )
        elif mf.domain and mf.status != "SUCCESS" and mf.behavior == "REJECT_MESSAGE":
            # No fallback to amazonses.com: SES refuses the send (MailFromDomainNotVerified).
            issues.append(
                Issue(
                    Severity.ERROR,
                    f"The custom MAIL FROM {mf.domain}{_where(ra)} is {mf.status or 'not verified'} and "
                    "BehaviorOnMxFailure is REJECT_MESSAGE: SES refuses every send (MailFromDomainNotVerified), "
                    "so no mail reaches a receiver to pass SPF",
                    f"Publish the MX `10 {mf.expected_mx}` and `v=spf1 include:amazonses.com ~all` at "
                    f"{mf.domain}, or set BehaviorOnMxFailure to USE_DEFAULT_VALUE. {DOC_MAIL_FROM}",
                )
            )
        else:
            issues.append(
                Issue(
                    Severity.OK,
                    f"SPF passes for amazonses.com (SES's default MAIL FROM{_where(ra)}); it cannot align "
                    f"with {domain}, so DMARC rests on DKIM",
                    f"A custom MAIL FROM subdomain of {domain} adds SPF alignment. {DOC_MAIL_FROM}",
                )
            )
    data = {"domain": domain, "mail_from": {ra.where or str(ra.region): ra.mail_from.domain for ra in ras}}
    return _finding(ctx, req, issues, evidence, data)


@check("compliance.dkim", suite="compliance")
def dkim(ctx: CheckContext) -> Finding:
    """SES signs with the From domain (Easy DKIM passing, d= aligned) and a key of at least 1,024 bits."""
    req = requirement("dkim")
    domain = _domain(ctx)
    ras = every_region(ctx, domain)
    issues = _unread(ras)
    evidence: list[str] = []
    keys: dict[str, int | None] = {}
    for ra in ras:
        if ra.identity.error:
            continue
        d = ra.dkim
        if not d.passes:
            why = (
                "no SES identity for it, so SES signs as amazonses.com"
                if not ra.identity.found
                else "signing is off"
                if not d.signing_enabled
                else f"DKIM status {d.status}"
                if d.status != "SUCCESS"
                else f"{len(d.broken_records)} DKIM record(s) missing or wrong"
            )
            issues.append(
                Issue(
                    Severity.ERROR,
                    f"mail from {domain}{_where(ra)} is not DKIM-signed with its own domain ({why})",
                    f"Verify {domain} in SES with Easy DKIM and publish its three CNAME records. {DOC_DKIM}",
                )
            )
            continue
        length = d.identity.dkim.get("CurrentSigningKeyLength")
        bits = KEY_BITS.get(str(length)) if length else None
        keys[ra.where or str(ra.region)] = bits
        evidence.append(f"DKIM{_where(ra)}: d={d.d_domain}, status {d.status}, key {length or 'length not reported'}")
        if bits is None:
            issues.append(
                Issue(
                    Severity.OK,
                    f"DKIM signs as d={d.d_domain}{_where(ra)}; SES does not report the key length "
                    f"({d.origin} keys): make sure it is at least 1,024 bits",
                )
            )
        elif bits < 1024:
            issues.append(
                Issue(
                    Severity.ERROR,
                    f"DKIM key{_where(ra)} is {bits} bits, under the 1,024 required",
                    f"Switch the identity to a 2,048-bit key. {DOC_DKIM_KEY}",
                )
            )
        elif bits < 2048:
            issues.append(
                Issue(
                    Severity.OK,
                    f"DKIM signs as d={d.d_domain}{_where(ra)} with a {bits}-bit key: meets the 1,024-bit minimum; "
                    "2,048 bits is recommended",
                    f"Recommended: set the identity's NextSigningKeyLength to RSA_2048_BIT (SES rotates to it). "
                    f"{DOC_DKIM_KEY}",
                )
            )
        else:
            issues.append(Issue(Severity.OK, f"DKIM signs as d={d.d_domain}{_where(ra)} with a {bits}-bit key"))
    data = {"domain": domain, "key_bits": keys}
    return _finding(ctx, req, issues, evidence, data)


@check("compliance.dmarc", suite="compliance")
def dmarc(ctx: CheckContext) -> Finding:
    """A DMARC record with at least p=none, and SES mail aligned through DKIM or SPF."""
    req = requirement("dmarc")
    domain = _domain(ctx)
    done = parallel(
        {"dmarc": lambda: cached_dmarc(ctx.deps, ctx.memo, domain), "regions": lambda: every_region(ctx, domain)}
    )
    rec: Dmarc = done["dmarc"]
    ras: list[RegionAuth] = done["regions"]
    issues = _unread(ras)
    evidence = [lk.describe() for lk in rec.lookups]
    if rec.dns_error:
        issues.append(Issue(Severity.WARNING, f"could not read DMARC: {rec.dns_error}", unchecked=True))
    elif not rec.usable:
        broken = record_issues(rec)
        reason = broken[0].summary if broken else f"no DMARC record at _dmarc.{domain}"
        issues.append(
            Issue(
                Severity.ERROR,
                f"DMARC requirement not met for {domain}: {reason}",
                f'Publish `_dmarc.{domain} TXT "v=DMARC1; p=none; rua=mailto:dmarc@{domain}"` (p=none is '
                f"enough for the requirement; move to quarantine or reject once reports look clean). {DOC_DMARC}",
            )
        )
    else:
        for ra in ras:
            if ra.identity.error:
                continue
            via = aligned_via(ra, rec)
            if via:
                issues.append(
                    Issue(
                        Severity.OK,
                        f"DMARC {rec.describe_policy()} at _dmarc.{rec.location}; SES mail{_where(ra)} aligns via "
                        + " and ".join(via),
                    )
                )
            else:
                issues.append(
                    Issue(
                        Severity.ERROR,
                        f"DMARC is published ({rec.describe_policy()}) but SES mail from {domain}{_where(ra)} "
                        "aligns through neither DKIM nor SPF",
                        f"Verify {domain} in SES with Easy DKIM (d={domain} aligns); `domain {domain}` says what "
                        f"breaks alignment. {DOC_DMARC}",
                    )
                )
    data = {"domain": domain, "record": rec.record, "policy": rec.policy if rec.usable else None}
    return _finding(ctx, req, issues, evidence, data)


@check("compliance.unsubscribe", suite="compliance")
def unsubscribe(ctx: CheckContext) -> Finding:
    """One-click unsubscribe (RFC 8058) on marketing mail, from the headers of the mail sent lately."""
    req = requirement("unsubscribe")
    domain = _domain(ctx)
    since = ctx.deps.now() - timedelta(days=SAMPLE_DAYS)
    groups = groups_for(history.header_sample(ctx.deps.store, since), domain, ctx.settings.transactional_sets)
    window = f"Header sample: Send events of the last {SAMPLE_DAYS} days with a From address in {domain}"
    data: dict[str, Any] = {"domain": domain, "days": SAMPLE_DAYS, "groups": [g.as_dict() for g in groups]}
    publish_fix = (
        "Publish Send events to the bot from a configuration set's event destination (`setup` shows how): "
        "their mail object carries the original headers. Identity feedback notifications carry them only "
        f"with 'Include original headers' on. {DOC_EVENT_HEADERS}"
    )
    if not groups:
        return _finding(
            ctx,
            req,
            [
                Issue(
                    Severity.INFO,
                    f"no Send events from {domain} in the last {SAMPLE_DAYS} days: one-click unsubscribe "
                    "cannot be judged from the mail sent",
                    publish_fix,
                )
            ],
            [window],
            data,
        )
    marketing = [g for g in groups if g.kind == "marketing"]
    unseen = [g for g in marketing if not g.headers_seen]
    failing = [g for g in marketing if g.headers_seen and not g.passes]
    issues: list[Issue] = []
    for g in failing:
        share = g.share or 0.0
        example = f"; example without: {g.example_without}" if g.example_without else ""
        issues.append(
            Issue(
                Severity.WARNING,
                f"marketing mail in {g.label} lacks one-click unsubscribe: {g.compliant} of {g.headers_seen} "
                f"sampled messages ({share:.0%}) had List-Unsubscribe-Post: List-Unsubscribe=One-Click with an "
                f"https List-Unsubscribe URI{example}",
                "Add both headers to every marketing message: `List-Unsubscribe: <https://...>` and "
                "`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058), and honour the POST within 2 days; "
                "or send through SES subscription management (contact lists), which adds them. "
                "If the set is transactional, declare it in SESBOT_TRANSACTIONAL_SETS.",
            )
        )
    for g in unseen:
        issues.append(
            Issue(
                Severity.INFO,
                f"{g.label} looks like marketing mail but its Send events carry no headers",
                publish_fix,
            )
        )
    ok = [g for g in marketing if g.passes]
    exempt = [g for g in groups if g.kind == "transactional"]
    if not failing and not unseen:
        parts = []
        if ok:
            parts.append(f"every sampled marketing message had one-click unsubscribe ({len(ok)} set/From)")
        if exempt:
            parts.append(f"{len(exempt)} transactional set/From exempt")
        issues.append(Issue(Severity.OK, "; ".join(parts)))
    evidence = [group_line(g) for g in groups] + [window]
    return _finding(ctx, req, issues, evidence, data)


def _complaint_rate_or_error(deps: Deps, region: str | None, now: datetime) -> tuple[float | None, Exception | None]:
    try:
        return _cloudwatch_complaint_rate(deps, region, now), None
    except Exception as exc:
        return None, exc


def _cloudwatch_complaint_rate(deps: Deps, region: str | None, now: datetime) -> float | None:
    """SES's own account-wide Reputation.ComplaintRate, the latest point of the last day, or None."""
    cw = deps.aws.get("cloudwatch", region)
    answer = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "complaints",
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/SES", "MetricName": RATE_METRICS["complaint_rate"]},
                    "Period": CW_PERIOD,
                    "Stat": "Average",
                },
            }
        ],
        StartTime=now - timedelta(days=1),
        EndTime=now + timedelta(seconds=CW_PERIOD),
        ScanBy="TimestampDescending",
    )
    for result in answer.get("MetricDataResults", []):
        values = result.get("Values") or []
        if values:
            return float(values[0])
    return None


def _rate_issue(rate: float, source: str) -> Issue:
    if rate >= COMPLAINT_CEILING:
        return Issue(
            Severity.ERROR,
            f"spam-complaint rate {rate:.2%} ({source}): at or over the 0.3 % that Gmail and Yahoo enforce",
            "Stop sending to the segments that complain (recent sign-ups, old lists), make unsubscribing easy, "
            "and watch Google Postmaster Tools' spam rate daily.",
        )
    if rate >= COMPLAINT_TARGET:
        return Issue(
            Severity.WARNING,
            f"spam-complaint rate {rate:.2%} ({source}): over the 0.1 % Gmail asks senders to stay under",
            "Find the mail that draws complaints (`history` shows them by domain) and send less of it.",
        )
    # Gmail sends SES no complaints: a low SES figure says nothing of Gmail's own spam rate (Postmaster Tools).
    return Issue(
        Severity.INFO,
        f"spam-complaint rate {rate:.2%} ({source}): under 0.1 % where receivers report complaints to SES "
        "(Yahoo, Outlook.com and others); Gmail's spam rate is not among them",
        "Read Gmail's spam rate in Google Postmaster Tools (https://postmaster.google.com): Gmail's 0.1 % and 0.3 % "
        "apply to that figure.",
    )


@check("compliance.complaints", suite="compliance")
def complaints(ctx: CheckContext) -> Finding:
    """The spam-complaint rate, from CloudWatch (SES's figure) or the history, with its denominator."""
    req = requirement("complaints")
    now = ctx.deps.now()
    est = history.rate_estimate(ctx.deps.store, now - timedelta(days=SAMPLE_DAYS), now + timedelta(minutes=1))
    sends, n = int(est["sends"]), int(est["complaints"])
    basis = "sends estimated as deliveries + bounces" if est["sends_estimated"] else "Send events"
    history_source = f"{n} complaints of {sends:,} sends in the last {SAMPLE_DAYS} days, account-wide, from the history"
    evidence = [f"History: {history_source} ({basis})"]
    issues: list[Issue] = []
    cw: dict[str, float] = {}
    scopes = [s for s in ctx.scopes() if s.region]
    rates = parallel({str(i): partial(_complaint_rate_or_error, s.deps, s.region, now) for i, s in enumerate(scopes)})
    for i, scope in enumerate(scopes):
        region = where(scope.account, scope.region)
        value, error = rates[str(i)]
        if error is not None:  # CloudWatch unreadable: the history still answers
            evidence.append(f"CloudWatch in {region}: could not read ({describe_error(error)})")
            continue
        if value is not None:
            cw[region] = value
            evidence.append(
                f"CloudWatch in {region}: Reputation.ComplaintRate {value:.3%} (SES computes it over its own "
                "representative volume; it does not publish the denominator)"
            )
    evidence.append(
        "Gmail does not report individual complaints to SES: its spam rate is only in Google Postmaster Tools"
    )
    if cw:
        region, value = max(cw.items(), key=lambda kv: kv[1])
        issues.append(_rate_issue(value, f"SES's Reputation.ComplaintRate in {region}; history: {history_source}"))
    elif sends >= MIN_SENDS:
        issues.append(_rate_issue(n / sends, history_source))
    else:
        issues.append(
            Issue(
                Severity.INFO,
                f"too little mail to state a complaint rate ({history_source}; at least {MIN_SENDS} needed)",
                "Publish Send and Complaint events to the bot (`setup` shows how), or read Google Postmaster Tools.",
            )
        )
    data = {
        "sends": sends,
        "complaints": n,
        "days": SAMPLE_DAYS,
        "cloudwatch": cw,
        "history_rate": est["complaint_rate"],
    }
    return _finding(ctx, req, issues, evidence, data)


def _fcrdns(ctx: CheckContext, ip: str) -> tuple[Issue, list[str]]:
    """Does `ip` have a PTR whose name resolves back to it?"""
    ptr = cached_lookup(ctx.deps, ctx.memo, dns.reversename.from_address(ip).to_text(), "PTR")
    lines = [ptr.describe()]
    if ptr.failed:
        return Issue(Severity.WARNING, f"could not look up the PTR of {ip}: {ptr.error}", unchecked=True), lines
    if ptr.outcome != "answer":
        return (
            Issue(
                Severity.ERROR,
                f"dedicated IP {ip} has no PTR record",
                f"Dedicated IPs from SES come with amazonses.com reverse DNS; for BYOIP publish a PTR whose name "
                f"resolves back to {ip}. {DOC_DEDICATED_IPS}",
            ),
            lines,
        )
    rtype = "AAAA" if ipaddress.ip_address(ip).version == 6 else "A"
    for name in ptr.records:
        forward = cached_lookup(ctx.deps, ctx.memo, name.rstrip("."), rtype)
        lines.append(forward.describe())
        if ip in forward.records:
            return Issue(Severity.OK, f"{ip} -> {name.rstrip('.')} -> {ip}"), lines
    return (
        Issue(
            Severity.ERROR,
            f"dedicated IP {ip}'s PTR name {ptr.records[0].rstrip('.')} does not resolve back to it",
            f"Point the PTR name's {rtype} record at {ip} (forward-confirmed reverse DNS). {DOC_DEDICATED_IPS}",
        ),
        lines,
    )


@check("compliance.reverse_dns", per_region=True, suite="compliance")
def reverse_dns(ctx: CheckContext) -> Finding:
    """Forward-confirmed reverse DNS for each dedicated IP; SES's shared pool has it."""
    req = requirement("reverse_dns")
    try:
        ips = [ip["Ip"] for ip in dedicated_ips(ctx.deps, ctx.region) if ip.get("Ip")]
    except Exception as exc:
        return could_not_check(ctx.check_id, f"GetDedicatedIps failed: {describe_error(exc)}", ctx.region)
    if not ips:
        issue = Issue(Severity.OK, "no dedicated IPs: SES's shared IPs have forward-confirmed reverse DNS")
        return _finding(ctx, req, [issue], [], {"ips": []})
    done = parallel({ip: partial(_fcrdns, ctx, ip) for ip in ips})
    issues = [done[ip][0] for ip in ips]
    evidence = [line for ip in ips for line in done[ip][1]]
    ok = sum(1 for i in issues if i.severity == Severity.OK and not i.unchecked)
    summary = f"all {len(ips)} dedicated IPs have forward-confirmed reverse DNS" if ok == len(ips) else None
    return _finding(ctx, req, issues, evidence, {"ips": ips}, ok_summary=summary)


@check("compliance.tls", suite="compliance")
def tls(ctx: CheckContext) -> Finding:
    """SES always offers TLS: it uses STARTTLS whenever the receiving server supports it."""
    req = requirement("tls")
    issue = Issue(
        Severity.OK,
        "SES delivers over TLS whenever the receiving server offers STARTTLS (Gmail, Yahoo and Outlook.com do); "
        "a configuration set with TlsPolicy REQUIRE never sends without it",
    )
    return _finding(ctx, req, [issue], [], {})


@check("compliance.bulk_volume", suite="compliance")
def bulk_volume(ctx: CheckContext) -> Finding:
    """Does the volume to Gmail/Yahoo/Outlook.com users make this a bulk sender (5,000 a day)?"""
    req = requirement("bulk_volume")
    since = ctx.deps.now() - timedelta(days=SAMPLE_DAYS)
    peaks: dict[str, tuple[str | None, int]] = {}
    for receiver, domains in RECEIVER_DOMAINS.items():
        days = history.daily_sends_to(ctx.deps.store, list(domains), since)
        day, n = max(days.items(), key=lambda kv: kv[1]) if days else (None, 0)
        peaks[receiver] = (day, n)
    bulk = {r: p for r, p in peaks.items() if p[1] >= BULK_PER_DAY}
    evidence = [f"{r}: busiest day {day or '-'}, {n:,} sends" for r, (day, n) in peaks.items()] + [
        f"Send events to the receivers' consumer domains in the last {SAMPLE_DAYS} days, account-wide, from the history"
    ]
    if bulk:
        names = ", ".join(f"{r} ({n:,} on {day})" for r, (day, n) in bulk.items())
        issue = Issue(
            Severity.INFO,
            f"a bulk sender to {names}: the bulk-sender requirements (SPF and DKIM, DMARC, one-click unsubscribe, "
            "under 0.3 % spam) apply, and keep applying once the volume drops",
        )
    elif not any(n for _, n in peaks.values()):
        issue = Issue(
            Severity.OK,
            f"no sends to {', '.join(peaks)} users in the history's last {SAMPLE_DAYS} days: not a bulk sender by "
            "the history; the all-senders requirements (SPF or DKIM, reverse DNS, TLS, spam rate) still apply",
        )
    else:
        top = max(peaks.items(), key=lambda kv: kv[1][1])
        issue = Issue(
            Severity.OK,
            f"under {BULK_PER_DAY:,} a day to each big receiver (busiest: {top[0]}, {top[1][1]:,}): not a bulk sender "
            "by the history; the all-senders requirements (SPF or DKIM, reverse DNS, TLS, spam rate) still apply",
        )
    data = {"per_day": BULK_PER_DAY, "peaks": {r: {"day": d, "sends": n} for r, (d, n) in peaks.items()}}
    return _finding(ctx, req, [issue], evidence, data)
