"""DNS blocklists: is one of our sending IPs, or our domain, listed, and what does the listing mean?

One job: query DNSBLs (``<reversed IP>.<zone>`` / ``<domain>.<zone>``, type A, then TXT for the reason)
for a set of targets, all at once through the configured resolver (`deps.async_resolver()` and
`asyncio.gather`, each query with its own timeout), and turn the answers into findings:

* NXDOMAIN (or NODATA) = not listed;
* ``127.0.0.x`` = listed: the list, what the return code means (a table for each default list), the TXT
  reason, the delisting link (taken from the classifier's table, `bot.classify.BLOCKLISTS`);
* ``127.255.255.252/.254/.255`` (and the operators' own codes, blocklists.toml ``[[operator]]``: URIBL's and
  SURBL's ``127.0.0.1`` on any of their zones, Spamhaus's ``127.0.1.255``) = **this resolver cannot query that
  list** (typo in the zone, public resolver refused, rate limited): never "listed"; the fix is a resolver
  of our own in ``SESBOT_DNS_SERVERS``;
* a timeout or SERVFAIL = that list could not be queried;
* IPv6 addresses are queried nibble-reversed on the lists that carry IPv6 (Spamhaus ZEN), and the
  others are named as not covering IPv6 (an address none of the configured lists covers is "not checked",
  never counted as clean).

With no targets given, `default_targets` gathers the account's dedicated IPs (SESv2 ``GetDedicatedIps``,
every page, every configured account and region; shared-IP accounts have none and are told so), the sending IPs seen
in the event history, and the configured sender domain. `blocklist_report` does the whole command.

Nothing is registered in the `why` suite here: the recipient's blocklist bounces are history-based
(`recipient.blocklist`, in another module).
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from collections.abc import Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.resolver

from bot.aws import describe_error
from bot.checks.authentication.domains import org_domain
from bot.classify import OPERATORS, blocklist_named, delist_url_for, operator_of, wording
from bot.deps import Deps
from bot.findings import Finding, Report, Severity
from bot.findings import where as located
from bot.history import sending_ips

MAX_TARGETS = 20
HISTORY_DAYS = 30  # sending IPs seen in this many days of history are checked by default
SES_DEDICATED_IPS_DOC = "https://docs.aws.amazon.com/ses/latest/dg/dedicated-ip.html"
RESOLVER_FIX = (
    "Set SESBOT_DNS_SERVERS to a resolver of your own (a local unbound/bind, not 8.8.8.8, 1.1.1.1, "
    "9.9.9.9 or a cloud provider's shared resolver): blocklists refuse public resolvers. For Spamhaus, a "
    "free Data Query Service key also works."
)

# Answers that mean "this list will not answer you", not "listed" (Spamhaus's convention, used by others).
RESOLVER_ERRORS = {
    "127.255.255.252": "the list's zone name is wrong (typo): the query did not reach a real list",
    "127.255.255.254": "the list refuses queries that come through a public or open resolver",
    "127.255.255.255": "the list rate-limited this resolver (too many queries)",
}


@dataclass(frozen=True)
class Blocklist:
    """What we know about one list: its return codes, whether it carries IPv6, where to delist."""

    zone: str
    title: str
    kind: str  # "ip" or "domain"
    ipv6: bool | None = False  # None: unknown (a zone we have no table for: queried anyway)
    codes: Mapping[str, tuple[str, Severity]] = field(default_factory=dict)
    bits: Mapping[int, tuple[str, Severity]] = field(default_factory=dict)  # bitmask lists: last-octet bits
    refused: Mapping[str, str] = field(default_factory=dict)  # the operator's "you are refused" codes
    delist: str | None = None
    default_severity: Severity = Severity.ERROR  # for a 127.0.0.x code not in the table

    def meaning(self, code: str) -> tuple[str, Severity]:
        if code in self.codes:
            return self.codes[code]
        if self.bits:
            last = int(code.rsplit(".", 1)[1])
            hits = [(m, s) for bit, (m, s) in sorted(self.bits.items()) if last & bit]
            if hits:
                return "; ".join(m for m, _ in hits), max(s for _, s in hits)
        return f"listed (return code {code})", self.default_severity


E, W = Severity.ERROR, Severity.WARNING


def _known(zone: str, kind: str, title: str | None = None, **table: Any) -> Blocklist:
    """A list of our table, its delisting URL (and its label, unless `title` is given) taken from the
    classifier's entry for the zone (`bot.classify.BLOCKLISTS`), the one place those are written, so
    `blocklist` and a bounce naming the same list give the same link.

    `title` only where the classifier's canonical name is the bare zone (it has no label to share);
    a zone the classifier does not know, or knows as another kind, is a mistake caught at import.
    """
    entry = blocklist_named(zone)
    if entry is None or entry.kind != kind:
        raise LookupError(f"{zone}: add it to bot.classify.BLOCKLISTS as a {kind} list first")
    if title is not None and entry.name != zone:
        raise ValueError(f"{zone}: the classifier labels it {entry.name!r}; drop the title here")
    return Blocklist(zone, title or entry.name, kind, delist=entry.delist_url, refused=_refused(zone), **table)


def _refused(zone: str) -> dict[str, str]:
    """The operator's refusal codes for any of its zones (blocklists.toml [[operator]]), else none."""
    op = operator_of(zone)
    return dict(op.refused) if op else {}


KNOWN_LISTS: dict[str, Blocklist] = {
    b.zone: b
    for b in (
        _known(
            "zen.spamhaus.org",
            "ip",
            title="Spamhaus ZEN",
            ipv6=True,
            codes={
                "127.0.0.2": ("SBL: a known spam source or spam operation", E),
                "127.0.0.3": ("CSS: low-reputation mail, e.g. snowshoe spam or bad sending practices", E),
                "127.0.0.4": ("XBL: exploited or infected host (botnet, open proxy)", E),
                "127.0.0.5": ("XBL: exploited or infected host", E),
                "127.0.0.6": ("XBL: exploited or infected host", E),
                "127.0.0.7": ("XBL: exploited or infected host", E),
                "127.0.0.9": ("DROP: hijacked or criminal netblock", E),
                "127.0.0.10": ("PBL (ISP): end-user range that should not send mail directly", W),
                "127.0.0.11": ("PBL (Spamhaus): end-user range that should not send mail directly", W),
            },
        ),
        _known(
            "b.barracudacentral.org",
            "ip",
            title="Barracuda Reputation Block List",
            codes={"127.0.0.2": ("listed for poor sending reputation (Barracuda BRBL)", E)},
        ),
        _known(
            "bl.spamcop.net",
            "ip",
            title="SpamCop",
            codes={
                "127.0.0.2": (
                    "reported by SpamCop users as a spam source (expires 24 h after reports stop)",
                    E,
                )
            },
        ),
        _known(
            "psbl.surriel.com",
            "ip",
            title="Passive Spam Block List",
            codes={"127.0.0.2": ("sent mail to PSBL spam traps", W)},
            default_severity=W,
        ),
        _known(
            "bl.mailspike.net",
            "ip",
            title="Mailspike",
            codes={
                "127.0.0.2": ("part of a distributed spam wave (Mailspike Z)", W),
                "127.0.0.10": ("worst reputation (Mailspike L5)", E),
                "127.0.0.11": ("very bad reputation (Mailspike L4)", W),
                "127.0.0.12": ("bad reputation (Mailspike L3)", W),
            },
            default_severity=W,
        ),
        _known(
            "spam.spamrats.com",
            "ip",
            codes={"127.0.0.38": ("confirmed spam source (RATS-Spam)", W)},
            default_severity=W,
        ),
        _known(
            "ubl.lashback.com",
            "ip",
            title="LashBack UBL",
            codes={"127.0.0.2": ("sends to addresses taken from unsubscribe requests (LashBack)", W)},
            default_severity=W,
        ),
        _known(
            "dbl.spamhaus.org",
            "domain",
            codes={
                "127.0.1.2": ("spam domain", E),
                "127.0.1.4": ("phishing domain", E),
                "127.0.1.5": ("malware domain", E),
                "127.0.1.6": ("botnet command-and-control domain", E),
                "127.0.1.102": ("abused legitimate domain: spam", E),
                "127.0.1.103": ("abused legitimate domain: spammed redirector or URL shortener", E),
                "127.0.1.104": ("abused legitimate domain: phishing", E),
                "127.0.1.105": ("abused legitimate domain: malware", E),
                "127.0.1.106": ("abused legitimate domain: botnet command-and-control", E),
            },
        ),
        _known(
            "multi.surbl.org",
            "domain",
            bits={
                8: ("phishing (PH)", E),
                16: ("malware (MW)", E),
                64: ("spam or abuse (ABUSE)", E),
                128: ("cracked site (CR)", E),
            },
        ),
        _known(
            "multi.uribl.com",
            "domain",
            bits={
                2: ("black: spam domain", E),
                4: ("grey: bulk sender's domain", W),
                8: ("red: seen in new spam", W),
            },
        ),
    )
}


# A zone that serves a known list's table under another name (blocklists.toml [[operator]] tables): a
# target not in the table is a mistake in the data, caught at import.
for _op in OPERATORS:
    for _suffix, _base in _op.tables.items():
        if _base not in KNOWN_LISTS:
            raise LookupError(f"blocklists.toml, operator {_op.name}: {_suffix} serves {_base}, not in KNOWN_LISTS")


def blocklist_for(zone: str, kind: str) -> Blocklist:
    """The known table for `zone` (or for the list it serves under another name, e.g. a Spamhaus Data
    Query Service zone `<key>.zen.dq.spamhaus.net`), or a plain one for a zone configured by hand."""
    zone = zone.lower().strip().rstrip(".")
    if zone in KNOWN_LISTS:
        return KNOWN_LISTS[zone]
    op = operator_of(zone)
    for suffix, base in op.tables.items() if op else ():
        if zone == suffix or zone.endswith("." + suffix):
            return replace(KNOWN_LISTS[base], zone=zone)
    return Blocklist(zone, zone, kind, ipv6=None, refused=_refused(zone), delist=delist_url_for(zone))


# --- one query per (target, list) ---------------------------------------------------------------------


@dataclass
class Listing:
    """The answer of one list about one target."""

    target: str
    zone: str
    query: str | None  # None when the list does not cover this kind of address
    status: str = "pending"  # listed, clean, refused, error, unsupported
    codes: list[str] = field(default_factory=list)
    meanings: list[str] = field(default_factory=list)
    severity: Severity = Severity.OK
    reason: str | None = None  # the list's TXT record
    error: str | None = None
    ms: float = 0.0

    @property
    def blocklist(self) -> Blocklist:
        return blocklist_for(self.zone, "domain" if _is_domain(self.target) else "ip")

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "zone": self.zone,
            "query": self.query,
            "status": self.status,
            "codes": self.codes,
            "meanings": self.meanings,
            "reason": self.reason,
            "error": self.error,
            "delist": self.blocklist.delist if self.status == "listed" else None,
        }


def _is_domain(target: str) -> bool:
    try:
        ipaddress.ip_address(target)
    except ValueError:
        return True
    return False


def query_name(target: str, zone: str) -> str | None:
    """``4.3.2.1.zone`` for IPv4, 32 reversed nibbles for IPv6, ``domain.zone`` for a domain."""
    zone = zone.lower().rstrip(".")
    try:
        addr = ipaddress.ip_address(target)
    except ValueError:
        return f"{target.lower().rstrip('.')}.{zone}"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if isinstance(addr, ipaddress.IPv6Address) and blocklist_for(zone, "ip").ipv6 is False:
        return None
    # reverse_pointer is "4.3.2.1.in-addr.arpa" / "<nibbles>.ip6.arpa"; keep the reversed part
    return f"{addr.reverse_pointer.rsplit('.', 2)[0]}.{zone}"


def _classify(listing: Listing, codes: list[str]) -> None:
    bl = listing.blocklist
    listing.codes = codes
    refused = [c for c in codes if c in RESOLVER_ERRORS or c in bl.refused]
    if refused:
        listing.status = "refused"
        listing.meanings = [RESOLVER_ERRORS.get(c) or bl.refused[c] for c in refused]
        return
    if codes and all(c.startswith("127.") for c in codes):
        listing.status = "listed"
        found = [bl.meaning(c) for c in codes]
        listing.meanings = [m for m, _ in found]
        listing.severity = max(s for _, s in found)
        return
    listing.status = "error"
    listing.error = f"unexpected answer {', '.join(codes)}: not a blocklist code (does the resolver rewrite NXDOMAIN?)"


async def _ask(resolver: dns.asyncresolver.Resolver, listing: Listing, timeout: float) -> None:
    started = time.perf_counter()
    if not listing.query:
        return  # nothing to ask (the fan-out only hands over listings with a query)
    try:
        # The lifetime bounds each query on its own (no wait_for task on top: 75 extra tasks cost CPU).
        answer = await resolver.resolve(listing.query, "A", lifetime=timeout, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        listing.status = "clean"
    except (dns.resolver.LifetimeTimeout, dns.exception.Timeout):
        listing.status, listing.error = "error", f"no answer within {timeout:g} s"
    except dns.resolver.NoNameservers:
        listing.status, listing.error = "error", "the resolver answered SERVFAIL or REFUSED"
    except dns.exception.DNSException as exc:
        listing.status, listing.error = "error", f"{type(exc).__name__}: {str(exc)[:120]}"
    else:
        _classify(listing, sorted({r.address for r in answer}))
    listing.ms = (time.perf_counter() - started) * 1000


async def _ask_reason(resolver: dns.asyncresolver.Resolver, listing: Listing, timeout: float) -> None:
    if not listing.query:
        return
    try:
        answer = await resolver.resolve(listing.query, "TXT", lifetime=timeout, search=False)
    except dns.exception.DNSException:
        return  # the reason is a courtesy; the listing stands without it
    texts = [b"".join(r.strings).decode("utf-8", "replace") for r in answer]
    listing.reason = " | ".join(t for t in texts if t)[:500] or None


async def _check(resolver: dns.asyncresolver.Resolver, listing: Listing, timeout: float) -> None:
    await _ask(resolver, listing, timeout)
    # TXT only for what is listed (not doubling every query), asked at once rather than after the
    # slowest A answer, so the reason costs one round trip on top of its own listing only.
    if listing.status == "listed":
        await _ask_reason(resolver, listing, timeout)


async def _run(deps: Deps, listings: list[Listing]) -> None:
    resolver = deps.async_resolver()
    timeout = deps.settings.dns_timeout
    await asyncio.gather(*(_check(resolver, li, timeout) for li in listings if li.query))


def _run_sync(deps: Deps, listings: list[Listing]) -> None:
    """`asyncio.run` in this thread, or in a helper thread when this one already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_run(deps, listings))
        return
    worker = threading.Thread(target=lambda: asyncio.run(_run(deps, listings)), name="blocklist")
    worker.start()
    worker.join()


def lookup_targets(
    deps: Deps,
    targets: Iterable[str],
    ip_zones: Iterable[str] | None = None,
    domain_zones: Iterable[str] | None = None,
) -> list[Listing]:
    """Every target (IP or domain) on every list of its kind, all queries at once.

    Zones default to `settings.ip_blocklists` / `settings.domain_blocklists`. A domain is also queried
    as its organizational domain when that differs (domain lists list registered domains).
    """
    ip_zones = list(deps.settings.ip_blocklists if ip_zones is None else ip_zones)
    domain_zones = list(deps.settings.domain_blocklists if domain_zones is None else domain_zones)
    listings: list[Listing] = []
    for target in targets:
        if _is_domain(target):
            names = [target.lower().rstrip(".")]
            if org_domain(names[0]) != names[0]:
                names.append(org_domain(names[0]))
            for name in names:
                for zone in domain_zones:
                    listings.append(Listing(name, zone.lower(), query_name(name, zone)))
        else:
            for zone in ip_zones:
                q = query_name(target, zone)
                listings.append(Listing(target, zone.lower(), q, status="pending" if q else "unsupported"))
    _run_sync(deps, listings)
    return listings


def lookup_ip(deps: Deps, ip: str, zones: Iterable[str] | None = None) -> list[Listing]:
    """One IP on every IP list (default: `settings.ip_blocklists`)."""
    return lookup_targets(deps, [ip], ip_zones=zones)


def lookup_domain(deps: Deps, domain: str, zones: Iterable[str] | None = None) -> list[Listing]:
    """One domain (and its organizational domain) on every domain list (default: the settings')."""
    return lookup_targets(deps, [domain], domain_zones=zones)


# --- what to check when nobody says ------------------------------------------------------------------


@dataclass
class Target:
    value: str
    sources: list[str] = field(default_factory=list)  # why it is checked: dedicated IP, history, sender
    dedicated: bool = False  # one of the account's dedicated IPs (GetDedicatedIps)


def dedicated_ips(deps: Deps, region: str | None) -> list[dict[str, Any]]:
    """Every dedicated IP of the account in `region` (all pages). Raises for AWS errors."""
    client = deps.aws.get("sesv2", region)
    ips: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"PageSize": 100}
        if token:
            kwargs["NextToken"] = token
        page = client.get_dedicated_ips(**kwargs)
        ips.extend(page.get("DedicatedIps") or [])
        token = page.get("NextToken")
        if not token:
            return ips


def _dedicated_ips_of(
    scopes: list[tuple[Deps, str | None]],
) -> list[tuple[list[dict[str, Any]], Exception | None]]:
    """`dedicated_ips` of each (account view, region) at once: the IPs, or the error instead."""

    def one(scope: tuple[Deps, str | None]) -> tuple[list[dict[str, Any]], Exception | None]:
        try:
            return dedicated_ips(*scope), None
        except Exception as exc:
            return [], exc

    if len(scopes) <= 1:
        return [one(s) for s in scopes]
    with ThreadPoolExecutor(max_workers=min(16, len(scopes)), thread_name_prefix="dedicated-ips") as pool:
        return list(pool.map(one, scopes))


def history_ips(deps: Deps, limit: int = MAX_TARGETS) -> list[dict[str, Any]]:
    """Sending IPs named in the last `HISTORY_DAYS` of problem events, most events first
    (`bot.history.sending_ips`: ip, events, last_seen, blocklists, ...)."""
    since = deps.now() - timedelta(days=HISTORY_DAYS)
    return [r for r in sending_ips(deps.store, since) if r.get("ip")][:limit]


def default_targets(deps: Deps) -> tuple[list[Target], list[Finding]]:
    """Dedicated IPs (every account and region), sending IPs from the history, and the sender domain."""
    targets: dict[str, Target] = {}
    notes: list[Finding] = []

    def add(value: str, source: str) -> None:
        targets.setdefault(value, Target(value)).sources.append(source)

    regions: list[str | None] = [*deps.settings.regions] or [None]
    scopes = [(view, region) for view in deps.accounts() for region in regions]
    for (view, region), (ips, error) in zip(scopes, _dedicated_ips_of(scopes), strict=True):
        account = view.account_name
        where = located(account, region) or "the default region"
        if error is not None:
            notes.append(
                Finding(
                    "blocklist.dedicated_ips",
                    Severity.WARNING,
                    f"Could not list the dedicated IPs in {where}: {describe_error(error)}",
                    fix="Grant the bot ses:GetDedicatedIps, or name the IPs: `blocklist 192.0.2.1`.",
                    region=region,
                    account=account,
                    data={"could_not_check": True},
                )
            )
            continue
        if not ips:
            notes.append(
                Finding(
                    "blocklist.dedicated_ips",
                    Severity.INFO,
                    f"No dedicated IPs in {where}: SES sends from shared IPs, whose listings AWS handles",
                    evidence=["GetDedicatedIps: empty"],
                    fix="If bounces name a shared SES IP on a blocklist, open an AWS Support case with the "
                    f"bounce text; for full control, lease dedicated IPs. {SES_DEDICATED_IPS_DOC}",
                    region=region,
                    account=account,
                )
            )
        for ip in ips:
            pool = ip.get("PoolName") or "no pool"
            add(ip["Ip"], f"dedicated IP in {where} (pool {pool}, warm-up {ip.get('WarmupStatus', '?')})")
            targets[ip["Ip"]].dedicated = True
    for row in history_ips(deps):
        if _is_domain(str(row["ip"])):
            continue  # not an IP address: nothing a DNSBL could list
        lists = f"; bounces named {', '.join(row['blocklists'])}" if row.get("blocklists") else ""
        seen = f", last {row['last_seen']}" if row.get("last_seen") else ""
        count = f"{row['events']} event(s)" if row.get("events") else "events"
        add(str(row["ip"]), f"sending IP in {count} of the last {HISTORY_DAYS} days{seen}{lists}")
    if deps.settings.sender_domain:
        add(deps.settings.sender_domain, "the configured sender domain (SESBOT_SENDER)")
    ordered = list(targets.values())
    if len(ordered) > MAX_TARGETS:
        notes.append(
            Finding(
                "blocklist.targets",
                Severity.INFO,
                f"Checked the first {MAX_TARGETS} of {len(ordered)} targets",
                evidence=[f"not checked: {t.value}" for t in ordered[MAX_TARGETS:]],
                fix="Name the others: `blocklist <ip> <ip> ...`.",
            )
        )
        ordered = ordered[:MAX_TARGETS]
    return ordered, notes


# --- findings -----------------------------------------------------------------------------------------


def listing_findings(
    targets: list[Target], listings: list[Listing], dedicated: Collection[str] | None = None
) -> list[Finding]:
    """One finding per listing, one per list that could not be queried, IPv6 gaps, and what is clean.

    `dedicated`: the account's dedicated IPs, when they were read; a listed IP not among them is a shared
    SES IP, whose listings AWS manages (the classifier's advice, no removal request). None: not known.
    """
    sources = {t.value: list(t.sources) for t in targets}
    for t in targets:  # a domain is also checked as its organizational domain: say why that one is there
        if _is_domain(t.value) and org_domain(t.value) != t.value:
            sources.setdefault(org_domain(t.value), []).append(f"organizational domain of {t.value}")
    findings: list[Finding] = []
    for li in [li for li in listings if li.status == "listed"]:
        bl = li.blocklist
        what = "; ".join(li.meanings)
        evidence = [f"{li.query} A {', '.join(li.codes)}"]
        if li.reason:
            evidence.append(f"{li.query} TXT {li.reason}")
        shared = not _is_domain(li.target) and dedicated is not None and li.target not in dedicated
        if shared:
            evidence.append(f"{li.target}: not among the account's dedicated IPs (GetDedicatedIps): a shared SES IP")
        evidence += [f"{li.target}: {s}" for s in sources.get(li.target, [])]
        data = li.as_dict()
        if shared:
            fix = f"{wording('shared_ip_listing')[1]} {SES_DEDICATED_IPS_DOC}"
            data["delist"] = None  # no removal request: AWS manages the shared IPs' listings
        elif _is_domain(li.target):
            fix = (
                f"Find why {li.target} is listed (spam links, a compromised site, a hijacked subdomain), fix "
                "that, then request removal"
            )
        else:
            fix = (
                f"Find the mail that got {li.target} listed (a compromised account, a bad list, a spam "
                "trap hit), stop it, then request removal"
            )
        if "request removal" in fix:
            fix += f" at {bl.delist}." if bl.delist else " from the list's operator."
        findings.append(
            Finding(
                "blocklist.listed",
                li.severity,
                f"{li.target} is listed on {bl.zone} ({bl.title}): {what}",
                evidence=evidence,
                fix=fix,
                data=data,
            )
        )
    for kind in ("refused", "error"):
        by_zone: dict[str, list[Listing]] = {}
        for li in listings:
            if li.status == kind:
                by_zone.setdefault(li.zone, []).append(li)
        for zone, group in by_zone.items():
            names = ", ".join(li.target for li in group)
            if kind == "refused":
                why = "; ".join(sorted(set(group[0].meanings)))
                summary = (
                    f"{zone} would not answer this resolver ({group[0].codes[0]}: {why}); whether {names} "
                    "is listed there is unknown"
                )
                fix = RESOLVER_FIX
            else:
                summary = f"Could not query {zone} for {names}: {group[0].error}"
                fix = (
                    "Run it again; if the list keeps failing, check SESBOT_DNS_SERVERS, or drop a dead list "
                    "from SESBOT_BLOCKLISTS / SESBOT_DOMAIN_BLOCKLISTS."
                )
            findings.append(
                Finding(
                    "blocklist.query",
                    Severity.WARNING,
                    summary,
                    evidence=[f"{li.query} A: {', '.join(li.codes) if li.codes else li.error}" for li in group],
                    fix=fix,
                    data={
                        "could_not_check": True,
                        "zone": zone,
                        "status": kind,
                        "listings": [li.as_dict() for li in group],
                    },
                )
            )
    unsupported: dict[str, list[str]] = {}
    for li in listings:
        if li.status == "unsupported":
            unsupported.setdefault(li.target, []).append(li.zone)
    for target, zones in unsupported.items():
        covered = [li.zone for li in listings if li.target == target and li.status != "unsupported"]
        if covered:
            summary = f"{target} is IPv6: {', '.join(zones)} do not list IPv6 addresses"
            summary += f"; checked on {', '.join(covered)}"
        else:  # asked nowhere: not a clean answer
            summary = f"{target} not checked: none of the lists covers IPv6 ({', '.join(zones)})"
        findings.append(
            Finding(
                "blocklist.ipv6",
                Severity.INFO,
                summary,
                fix="" if covered else "Add an IP list that carries IPv6 (zen.spamhaus.org) to SESBOT_BLOCKLISTS.",
                data={"target": target, "not_covered": zones, "checked": covered, "could_not_check": not covered},
            )
        )
    if any(li.status != "unsupported" for li in listings) or not listings:
        findings.append(_clean_summary(targets, listings))
    return findings


def _clean_summary(targets: list[Target], listings: list[Listing]) -> Finding:
    by_target: dict[str, list[Listing]] = {}
    for li in listings:
        by_target.setdefault(li.target, []).append(li)
    evidence = []
    clean_targets = []
    for target, group in by_target.items():
        clean = [li.zone for li in group if li.status == "clean"]
        if clean:
            evidence.append(f"{target}: not listed on {', '.join(clean)}")
        if clean and all(li.status in ("clean", "unsupported") for li in group):
            clean_targets.append(target)
    for t in targets:
        for s in t.sources:
            evidence.append(f"{t.value}: {s}")
    zones = sorted({li.zone for li in listings if li.status == "clean"})
    clean_answers = sum(li.status == "clean" for li in listings)
    asked = sum(li.status != "unsupported" for li in listings)
    if clean_targets and len(clean_targets) == len(by_target):
        summary = f"Not listed: {', '.join(clean_targets)} on {len(zones)} list(s)"
    elif clean_targets:
        summary = f"Not listed anywhere checked: {', '.join(clean_targets)}"
    elif clean_answers:
        summary = f"{clean_answers} of {asked} list answers were clean (see evidence)"
    else:
        summary = "No list answered clean"
    return Finding(
        "blocklist.clean",
        Severity.OK,
        summary,
        evidence=evidence,
        data={"clean_targets": clean_targets, "lists": zones},
    )


def blocklist_report(deps: Deps, values: list[str] | None = None) -> Report:
    """The `blocklist` command: the given IPs/domains, or the defaults, on every configured list."""
    started = time.perf_counter()
    notes: list[Finding] = []
    dedicated: set[str] | None = None  # not known for named targets: their listings keep the removal advice
    if values:
        targets = [Target(v, ["named in the command"]) for v in values]
    else:
        targets, notes = default_targets(deps)
        if not any(n.check == "blocklist.dedicated_ips" and n.data.get("could_not_check") for n in notes):
            dedicated = {t.value for t in targets if t.dedicated}
    findings = list(notes)
    if targets:
        listings = lookup_targets(deps, [t.value for t in targets])
        findings += listing_findings(targets, listings, dedicated)
    else:
        findings.append(
            Finding(
                "blocklist.targets",
                Severity.INFO,
                "Nothing to check: no dedicated IPs, no sending IPs in the history, and no sender configured",
                fix="Name an IP or domain (`blocklist 192.0.2.1 example.com`), or set SESBOT_SENDER.",
            )
        )
    label = " ".join(t.value for t in targets) or "(none)"
    return Report(
        target=label if len(label) <= 200 else label[:197] + "...",
        findings=findings,
        kind="blocklist",
        region=",".join(deps.settings.regions) or None,
        elapsed_ms=int((time.perf_counter() - started) * 1000),
    )
