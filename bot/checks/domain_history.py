"""`why @domain`: "nobody at outlook.com gets our mail", from the domain's own history.

Two checks of the `why_domain` suite read the events and counters of one recipient domain over the same
lookback as the recipient checks:

* `recipient_domain.blocklist`: bounces and IPFailure delays to the domain whose text names a blocklist
  (the named list, the sending IP, the delisting link): the most specific cause there is;
* `recipient_domain.events`: the domain's problem events by type, by category and by receiving ISP, and its
  counted deliveries against its bounces (a delivery rate when there are counts).

The ISP an event went to is read from the hosts it names (remote MTA, bounce text), else the domain's MX
hosts, else the domain itself, through the small tables below (data, not code). `domain_checks()` is the
whole suite: these two plus the checks of `why` that answer for a domain as well (`account.sending`,
`account.sandbox` asked about the bare domain, `recipient.domain` for its MX).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.checks import Check, CheckContext, check, checks_for
from bot.checks.recipient_history import (
    DEDICATED_IP_DOC,
    DELAY_TYPES,
    LOOKBACK,
    _category,
    _classification,
    _delist_url,
    _plural,
    _quote,
)
from bot.findings import Finding, Severity
from bot.history import (
    BLOCKLIST_CATEGORIES,
    NOT_COUNTED_SUBTYPES,
    counted,
    domain_blocklist_events,
    domain_blocklist_refusals,
    domain_breakdown,
    domain_events,
    domain_last_delivery_hour,
)
from bot.timefmt import when

SUITE = "why_domain"
MAX_ROWS = 1000  # events read one by one (ISP, blocklist detail); the counts by category cover every event
PROBLEM_TYPES = ("Bounce", "Complaint", "DeliveryDelay", "Reject", "RenderingFailure", "Rendering Failure")
COVERAGE_FIX = (
    "The bot only knows what SES publishes to it: `sesbot setup` checks the event destinations "
    "(events.coverage says what it cannot see)."
)

# Receiving ISPs by the host-name suffix of an MX host or of a host a bounce names (first match wins;
# a suffix matches at a label boundary).
ISP_HOSTS: tuple[tuple[str, str], ...] = (
    ("google.com", "Google"),
    ("googlemail.com", "Google"),
    ("outlook.com", "Microsoft"),
    ("hotmail.com", "Microsoft"),
    ("office365.us", "Microsoft"),
    ("yahoodns.net", "Yahoo"),
    ("yahoo.com", "Yahoo"),
    ("aol.com", "Yahoo"),
    ("icloud.com", "Apple"),
    ("me.com", "Apple"),
    ("apple.com", "Apple"),
    ("gmx.net", "GMX / WEB.DE"),
    ("web.de", "GMX / WEB.DE"),
    ("mail.ru", "Mail.ru"),
    ("yandex.net", "Yandex"),
    ("yandex.ru", "Yandex"),
    ("protonmail.ch", "Proton"),
    ("zoho.com", "Zoho"),
    ("zoho.eu", "Zoho"),
    ("pphosted.com", "Proofpoint"),
    ("ppe-hosted.com", "Proofpoint"),
    ("mimecast.com", "Mimecast"),
    ("messagelabs.com", "Broadcom (MessageLabs)"),
    ("iphmx.com", "Cisco Secure Email"),
    ("barracudanetworks.com", "Barracuda"),
    ("comcast.net", "Comcast"),
    ("fastmail.com", "Fastmail"),
    ("messagingengine.com", "Fastmail"),
)
# Mailbox domains whose ISP is known without looking at any host.
ISP_DOMAINS: dict[str, str] = {
    "gmail.com": "Google",
    "googlemail.com": "Google",
    "outlook.com": "Microsoft",
    "hotmail.com": "Microsoft",
    "live.com": "Microsoft",
    "msn.com": "Microsoft",
    "yahoo.com": "Yahoo",
    "ymail.com": "Yahoo",
    "aol.com": "Yahoo",
    "icloud.com": "Apple",
    "me.com": "Apple",
    "mac.com": "Apple",
    "gmx.de": "GMX / WEB.DE",
    "gmx.net": "GMX / WEB.DE",
    "web.de": "GMX / WEB.DE",
    "mail.ru": "Mail.ru",
    "yandex.ru": "Yandex",
    "proton.me": "Proton",
    "protonmail.com": "Proton",
    "zoho.com": "Zoho",
    "fastmail.com": "Fastmail",
}
UNKNOWN_ISP = "not identified"

# Categories that say something about the addresses, not the domain: many of them is a list problem.
PER_ADDRESS = ("unknown_user", "mailbox_full", "suppressed")
# A DeliveryDelay of this type is SES holding the mail itself, not the domain refusing it.
SES_DEFERRAL = "SendingDeferral"
# Delivery rate below which the domain's refusals are the likely cause (error), and below which they may be.
RATE_ERROR = 0.5
RATE_WARNING = 0.9

_HOST = re.compile(r"(?<![a-z0-9.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})(?![a-z0-9-])")


def isp_of_host(host: str | None) -> str | None:
    """The ISP a host name belongs to, by `ISP_HOSTS`; None when unknown (or not a host name)."""
    if not host:
        return None
    host = host.strip().lower().rstrip(".")
    for suffix, isp in ISP_HOSTS:
        if host == suffix or host.endswith("." + suffix):
            return isp
    return None


def _mx_hosts(ctx: CheckContext) -> list[str]:
    """The domain's MX hosts (empty when it has none or the lookup failed: recipient.domain reports that)."""

    def fetch() -> list[str]:
        try:
            answer = ctx.deps.resolver.resolve(ctx.recipient_domain, "MX", search=False)
        except Exception:
            return []
        return [str(r.exchange).rstrip(".").lower() for r in sorted(answer, key=lambda r: r.preference)]

    hosts: list[str] = ctx.memo.once(("dns.MX", ctx.recipient_domain), fetch)
    return hosts


def domain_isp(ctx: CheckContext) -> tuple[str, str]:
    """The domain's ISP and how it was judged: by its MX hosts, else by the domain itself."""
    for host in _mx_hosts(ctx):
        isp = isp_of_host(host)
        if isp:
            return isp, f"from MX {host}"
    isp = ISP_DOMAINS.get(ctx.recipient_domain) or isp_of_host(ctx.recipient_domain)
    if isp:
        return isp, f"from the domain {ctx.recipient_domain}"
    return UNKNOWN_ISP, "no known ISP's name in its MX hosts or the domain"


def event_isp(row: dict[str, Any], fallback: str) -> str:
    """The ISP one event went to: a host its remote MTA or text names, else the domain's."""
    for text in (row.get("remote_mta"), row.get("diagnostic")):
        for host in _HOST.findall(str(text or "").lower()):
            isp = isp_of_host(host)
            if isp:
                return isp
    return fallback


def _window(ctx: CheckContext) -> tuple[datetime, datetime, str]:
    """The lookback on the counters' hour grid: its start floored to the hour, so the counters and the events
    are read over the same window (history would round a counter window's start up, past mail still in it)."""
    now = ctx.deps.now()
    since = (now - LOOKBACK).replace(minute=0, second=0, microsecond=0)
    return since, now, f"Looked at the last {LOOKBACK.days} days of the bot's event history."


def _n(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _refusals(bounces: int, delays: int) -> str:
    """'2 bounces', '1 IPFailure delay', '3 bounces or delays'."""
    if not delays:
        return _n(bounces, "bounce")
    if not bounces:
        return _n(delays, "IPFailure delay")
    return _n(bounces + delays, "bounce or delay", "bounces or delays")


def _by(counts: Counter[str]) -> str:
    return ", ".join(f"{k} ×{n}" for k, n in counts.most_common())


# -- recipient_domain.blocklist ----------------------------------------------------------------------


@check("recipient_domain.blocklist", suite=SUITE)
def domain_blocklist(ctx: CheckContext) -> Finding:
    """Bounces or IPFailure delays to the domain that name a blocklist: which list, which IP, how to delist."""
    since, now, window = _window(ctx)
    domain = ctx.recipient_domain
    groups = domain_blocklist_refusals(ctx.deps.store, domain, since, now)
    if not groups:
        return ctx.finding(
            Severity.OK, f"No bounce or delay to @{domain} names a blocklist.", evidence=[window], data={"lists": []}
        )

    [latest] = domain_blocklist_events(ctx.deps.store, domain, since=since)
    cls = _classification(latest)
    name = latest.get("blocklist") or cls.blocklist
    category = _category(latest)
    ip = latest.get("sending_ip")

    evidence, listed = [], []
    for g in groups:
        evidence.append(
            f"{g['blocklist'] or 'list not named'} ({g['category']}), "
            f"sending IP {g['sending_ip'] or 'not given in the bounce'}: "
            f"{_refusals(g['bounces'], g['delays'])} to {_n(g['recipients'], 'address', 'addresses')}, "
            f"latest {when(g['latest'], now)}"
        )
        listed.append(
            {
                "category": g["category"],
                "blocklist": g["blocklist"],
                "sending_ip": g["sending_ip"],
                "count": g["n"],
                "latest": g["latest"],
            }
        )
    if latest.get("diagnostic"):
        evidence.append(f'Latest text: "{_quote(latest["diagnostic"])}"')
    if latest.get("delay_type") == "IPFailure":
        evidence.append(f"IPFailure: {DELAY_TYPES['IPFailure']}.")
    delivered = domain_last_delivery_hour(ctx.deps.store, domain, since)
    delivered_after = bool(delivered and delivered > latest["timestamp"][:13])
    if delivered_after:
        evidence.append(f"Delivered to @{domain} since: the hour of {delivered}:00 UTC")
    evidence.append(window)

    refusals = _refusals(sum(g["bounces"] for g in groups), sum(g["delays"] for g in groups))
    what_listed = "a domain in the mail" if category == "domain_blocklist" else "the sending IP"
    if ip and category != "domain_blocklist":
        what_listed += f" {ip}"
    on = f"on {name}" if name else "on a blocklist the receiver uses"
    if latest.get("delay_type") == "IPFailure" and category not in BLOCKLIST_CATEGORIES:
        on = "blocked or throttled by the receiver (IPFailure)"
    summary = (
        f"Mail to @{domain} was refused {when(latest['timestamp'], now)} because {what_listed} is {on} "
        f"({refusals} in {LOOKBACK.days} days)."
    )
    severity = Severity.ERROR
    if delivered_after:
        severity = Severity.WARNING
        summary = summary[:-1] + "; mail to it has been delivered since."
    fix = cls.fix
    url = cls.delist_url or _delist_url(name)
    if url and url not in fix:
        fix += f" Delisting / lookup: {url}"
    if category != "domain_blocklist":
        fix += f" Dedicated IPs keep other senders' listings off your mail: {DEDICATED_IP_DOC}"
    return ctx.finding(severity, summary, evidence=evidence, fix=fix, data={"lists": listed})


# -- recipient_domain.events -------------------------------------------------------------------------


@check("recipient_domain.events", suite=SUITE)
def domain_events_check(ctx: CheckContext) -> Finding:
    """The domain's problem events by type, category and receiving ISP; its deliveries against its bounces."""
    since, now, window = _window(ctx)
    domain = ctx.recipient_domain
    store = ctx.deps.store
    groups = domain_breakdown(store, domain, since, now)
    counts = counted(store, since, now, domain=domain, types=("Send", "Delivery"))
    sends, deliveries = counts["Send"], counts["Delivery"]

    by_type: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    suppressed = bounces = deferred = 0
    for g in groups:
        etype = "RenderingFailure" if g["type"] == "Rendering Failure" else g["type"]
        by_type[etype] += g["n"]
        if g["type"] == "DeliveryDelay" and g.get("delay_type") == SES_DEFERRAL:
            deferred += g["n"]  # SES deferred sending: no refusal of the domain's
            continue
        if g["type"] == "Bounce" and (g.get("bounce_subtype") or "") in NOT_COUNTED_SUBTYPES:
            suppressed += g["n"]
            by_category["suppressed"] += g["n"]
            continue
        if g["type"] == "Bounce":
            bounces += g["n"]
        if g["type"] in ("Bounce", "DeliveryDelay"):
            by_category[g.get("category") or "other"] += g["n"]

    isp, judged = domain_isp(ctx)
    rows = domain_events(store, domain, since=since, types=PROBLEM_TYPES, limit=MAX_ROWS)
    by_isp = Counter(event_isp(r, isp) for r in rows)
    attempted = sends or (deliveries + bounces)
    rate = deliveries / attempted if attempted else None
    total = sum(by_type.values())

    evidence = []
    if total:
        evidence.append(f"By type: {_by(by_type)}")
    if by_category:
        evidence.append(f"By category: {_by(by_category)}")
    if by_isp:
        capped = f" (of the latest {MAX_ROWS})" if len(rows) >= MAX_ROWS else ""
        evidence.append(f"By receiving ISP{capped}: {_by(by_isp)}; the domain's ISP is {isp} ({judged})")
    else:
        evidence.append(f"Receiving ISP: {isp} ({judged})")
    if sends or deliveries:
        line = f"Counted: {_n(sends, 'send')}, {_n(deliveries, 'delivery', 'deliveries')}"
        if rate is not None:
            basis = "sends" if sends else "deliveries + bounces (no Send events published)"
            line += f"; delivery rate {rate:.0%} of {basis}"
        evidence.append(line)
    else:
        evidence.append("No Send or Delivery events counted for the domain (only problem events are published?).")
    data: dict[str, Any] = {
        "by_type": dict(by_type),
        "by_category": dict(by_category),
        "by_isp": dict(by_isp),
        "isp": isp,
        "sends": sends,
        "deliveries": deliveries,
        "bounces": bounces,
        "suppressed": suppressed,
        "ses_deferred": deferred,
        "delivery_rate": rate,
    }

    if not total:
        if deliveries:
            return ctx.finding(
                Severity.OK,
                f"{_n(deliveries, 'delivery', 'deliveries')} to @{domain} and no bounce, complaint or delay in "
                f"{LOOKBACK.days} days.",
                evidence=[*evidence, window],
                data=data,
            )
        return ctx.finding(
            Severity.INFO,
            f"The bot has no events for @{domain} in the last {LOOKBACK.days} days.",
            evidence=[*evidence, window],
            fix=COVERAGE_FIX,
            data=data,
        )

    refusals = [r for r in rows if r["type"] in ("Bounce", "DeliveryDelay") and r.get("delay_type") != SES_DEFERRAL]
    latest = next((r for r in refusals if r.get("diagnostic")), None)
    if latest is not None:
        evidence.append(f'Latest refusal {when(latest["timestamp"], now)}: "{_quote(latest["diagnostic"])}"')
    deferral = next((r for r in rows if r.get("delay_type") == SES_DEFERRAL), None)
    if deferred:
        evidence.append(
            f"SES deferred sending: {_n(deferred, f'{SES_DEFERRAL} delay')}, the latest "
            f"{when(deferral['timestamp'], now) if deferral else 'not read'} — SES itself is holding the mail, "
            f"not @{domain} refusing it"
        )
    evidence.append(window)

    refused = Counter({c: n for c, n in by_category.items() if c != "suppressed"})
    top = refused.most_common(1)[0][0] if refused else None
    sample = next((r for r in refusals if top and _category(r) == top), None)
    if sample is None and not top and deferral is not None:
        sample = deferral  # nothing refused: the fix is the deferral's
    cls = _classification(sample) if sample is not None else None
    if top and cls is not None and cls.category == top:
        evidence.insert(-1, f"Main refusal: {top} — {cls.summary}")
    notes = [f"{suppressed} dropped by the suppression list"] if suppressed else []
    if deferred:
        notes.append(f"{deferred} deferred by SES itself, not refused")
    what = f"{_plural(total, 'problem event')} ({'; '.join([_by(by_type), *notes])})"
    if top:
        what += f", mostly {top}"
    days = f"{LOOKBACK.days} days"

    if bounces and not deliveries:
        severity = Severity.ERROR
        summary = f"Nothing was delivered to @{domain} in {days}: {what}"
    elif rate is not None and rate < RATE_ERROR:
        severity = Severity.ERROR
        summary = f"Only {rate:.0%} of mail to @{domain} was delivered in {days}: {what}"
    elif (rate is not None and rate < RATE_WARNING) or (bounces and rate is None):
        severity = Severity.WARNING
        shown = f"{rate:.0%} of mail" if rate is not None else "Mail"
        summary = f"{shown} to @{domain} was delivered in {days}, with {what}"
    else:
        severity = Severity.INFO
        delivered = f"{rate:.0%} of mail delivered" if rate is not None else "no bounce"
        summary = f"{what} at @{domain} in {days}, {delivered}"
    fix = cls.fix if cls is not None else COVERAGE_FIX
    if top in BLOCKLIST_CATEGORIES:
        # The blocklist check names the list, the IP and the delisting link: it is the more specific cause.
        severity = min(severity, Severity.WARNING)
        fix = "See recipient_domain.blocklist: the named list, the sending IP and how to delist."
    elif top in PER_ADDRESS:
        # Unknown users and full mailboxes are the addresses' problem, not the domain's.
        severity = min(severity, Severity.WARNING)
        summary += " — a problem of the addresses, not of the domain"
        fix = (cls.fix + " " if cls else "") + "Clean the list: `why <address>` diagnoses one address."
    return ctx.finding(severity, summary.rstrip(".") + ".", evidence=evidence, fix=fix, data=data)


# -- the suite ---------------------------------------------------------------------------------------

# Checks of `why` that answer for a domain as well, in report order (account state first, then the MX).
BORROWED = ("account.sending", "account.sandbox", "recipient.domain")
# Those that look the target up as an SES identity, asked about the bare domain.
ASKED_BARE = ("account.sandbox",)


def _for_bare_domain(check: Check) -> Check:
    """The same check asked about the bare domain (`outlook.com`), for checks that look the target up as an
    identity: `@outlook.com` is not a name SES knows."""
    fn = check.fn
    return replace(check, fn=lambda ctx: fn(replace(ctx, target=ctx.recipient_domain)))


def domain_checks() -> list[Check]:
    """The `why @domain` suite: the account checks, the domain's history, its MX."""
    why = {c.id: c for c in checks_for("why")}
    borrowed = [why[i] for i in BORROWED if i in why]
    account = [_for_bare_domain(c) if c.id in ASKED_BARE else c for c in borrowed if c.id.startswith("account.")]
    rest = [c for c in borrowed if not c.id.startswith("account.")]
    return [*account, *checks_for(SUITE), *rest]
