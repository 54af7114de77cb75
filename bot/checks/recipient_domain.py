"""The recipient's domain in DNS: can it receive mail at all, and where does its mail go?

One check, `recipient.domain`: a domain that does not exist, that has neither MX nor address records, or
that publishes a null MX (RFC 7505) accepts no mail (critical); a null MX next to other MX records (a
misconfigured null MX) and MX hosts that do not resolve are an error; otherwise the MX hosts by
preference. A resolver that times out or fails is reported as the resolver's failure (could not check),
never as a broken domain.
"""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import dns.exception
import dns.resolver

from bot.checks import CheckContext, check
from bot.findings import Finding, Severity, could_not_check

CHECK = "recipient.domain"
MAX_HOSTS = 10  # a domain with more MX hosts than this is checked on its first ten
NULL_MX_RFC = "https://www.rfc-editor.org/rfc/rfc7505"
IMPLICIT_MX_RFC = "https://www.rfc-editor.org/rfc/rfc5321#section-5.1"


@dataclass
class Answer:
    """One DNS lookup's outcome: ok (values), nxdomain, nodata, or failed (the resolver's fault)."""

    outcome: str
    values: list = field(default_factory=list)
    error: str = ""


def _lookup(resolver: dns.resolver.Resolver, name: str, rtype: str) -> Answer:
    try:
        answer = resolver.resolve(name, rtype, search=False)
    except dns.resolver.NXDOMAIN:
        return Answer("nxdomain")
    except dns.resolver.NoAnswer:
        return Answer("nodata")
    except dns.resolver.NoNameservers:
        return Answer("failed", error=f"the resolver answered {rtype} {name} with SERVFAIL or REFUSED")
    except dns.exception.Timeout:
        return Answer("failed", error=f"the resolver did not answer {rtype} {name} within {resolver.lifetime:g} s")
    except dns.exception.DNSException as exc:
        return Answer("failed", error=f"{rtype} {name}: {type(exc).__name__}: {str(exc)[:120]}")
    return Answer("ok", list(answer))


def _resolver_name(ctx: CheckContext) -> str:
    servers = ctx.settings.dns_servers
    return ", ".join(str(s) for s in servers) if servers else "the system resolver"


def _resolver_failed(ctx: CheckContext, why: str, evidence: list[str]) -> Finding:
    finding = could_not_check(CHECK, f"DNS lookup failed: {why}")
    finding.evidence = [
        *evidence,
        f"Resolver: {_resolver_name(ctx)}",
        "This is the resolver's failure; it says nothing about whether the domain is broken.",
    ]
    finding.fix = (
        "Run the command again; if it keeps failing, check SESBOT_DNS_SERVERS (the bot's resolver) and "
        "SESBOT_DNS_TIMEOUT."
    )
    return finding


def _addresses(resolver: dns.resolver.Resolver, pool: ThreadPoolExecutor, hosts: list[str]) -> dict[str, Answer]:
    """A and AAAA of every host at once: one round trip however many hosts there are."""
    futures = {(h, t): pool.submit(_lookup, resolver, h, t) for h in hosts for t in ("A", "AAAA")}
    out: dict[str, Answer] = {}
    for host in hosts:
        a, aaaa = futures[(host, "A")].result(), futures[(host, "AAAA")].result()
        values = [str(v) for v in a.values + aaaa.values]
        if values:
            out[host] = Answer("ok", values)
        elif "failed" in (a.outcome, aaaa.outcome):
            out[host] = Answer("failed", error=a.error or aaaa.error)
        else:
            out[host] = Answer("nxdomain" if a.outcome == "nxdomain" else "nodata")
    return out


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@check(CHECK)
def recipient_domain(ctx: CheckContext) -> Finding:
    domain = ctx.recipient_domain
    resolver = ctx.deps.resolver
    with ThreadPoolExecutor(max_workers=2 * MAX_HOSTS, thread_name_prefix="mx") as pool:
        mx = _lookup(resolver, domain, "MX")
        if mx.outcome == "failed":
            return _resolver_failed(ctx, mx.error, [f"MX {domain}: no answer"])
        if mx.outcome == "nxdomain":
            return Finding(
                CHECK,
                Severity.CRITICAL,
                f"The domain {domain} does not exist (NXDOMAIN): no mail can be delivered to it.",
                evidence=[f"MX {domain}: NXDOMAIN", f"Resolver: {_resolver_name(ctx)}"],
                fix=f"Check the address for a typo in the domain (gmial.com for gmail.com?): {ctx.target}.",
                data={"exists": False},
            )
        if mx.outcome == "nodata":
            return _no_mx(ctx, domain, _addresses(resolver, pool, [domain])[domain])

        records = sorted(mx.values, key=lambda r: (r.preference, str(r.exchange)))
        if any(str(r.exchange) == "." for r in records):
            # RFC 7505: "0 ." as the single MX record says the domain accepts no mail.
            others = [str(r.exchange).rstrip(".").lower() for r in records if str(r.exchange) != "."]
            evidence = [f"MX {domain}: {r.preference} {str(r.exchange).rstrip('.').lower() or '.'}" for r in records]
            if others:
                # Mixed with other MX records it is a misconfiguration: other MTAs may still deliver to them.
                return Finding(
                    CHECK,
                    Severity.ERROR,
                    f"{domain} has a misconfigured null MX: `0 .` next to other MX records ({', '.join(others)}). "
                    "RFC 7505 allows a null MX only as the single record; some senders take it as accepting no "
                    "mail, others deliver to the other hosts.",
                    evidence=[*evidence, "Null MX mixed with other MX records: RFC 7505 forbids that."],
                    fix="The domain's owner should remove the null MX if the domain receives mail, or the other MX "
                    f"records if it does not. {NULL_MX_RFC}",
                    data={"null_mx": True, "misconfigured": True, "other_mx": others},
                )
            return Finding(
                CHECK,
                Severity.CRITICAL,
                f"{domain} publishes a null MX (`0 .`, RFC 7505): it declares that it accepts no mail.",
                evidence=evidence,
                fix=f"The address cannot receive mail; ask the person for another address. {NULL_MX_RFC}",
                data={"null_mx": True},
            )

        hosts = [str(r.exchange).rstrip(".").lower() for r in records][:MAX_HOSTS]
        literal = [h for h in hosts if _is_ip(h)]
        resolved = _addresses(resolver, pool, [h for h in hosts if h not in literal])

    lines, broken, unknown = [], [], []
    for r in records[:MAX_HOSTS]:
        host = str(r.exchange).rstrip(".").lower()
        if host in literal:
            lines.append(f"MX {r.preference} {host}: an IP address, not a host name")
            broken.append(host)
            continue
        ans = resolved[host]
        if ans.outcome == "ok":
            lines.append(f"MX {r.preference} {host} -> {', '.join(ans.values[:4])}")
        elif ans.outcome == "failed":
            lines.append(f"MX {r.preference} {host}: could not resolve ({ans.error})")
            unknown.append(host)
        else:
            what = "does not exist (NXDOMAIN)" if ans.outcome == "nxdomain" else "has no A or AAAA record"
            lines.append(f"MX {r.preference} {host}: {what}")
            broken.append(host)
    if len(records) > MAX_HOSTS:
        lines.append(f"... {len(records) - MAX_HOSTS} more MX records not checked")
    data = {"mx": [{"preference": r.preference, "host": str(r.exchange).rstrip(".").lower()} for r in records]}
    good = [h for h in hosts if h not in broken and h not in unknown]

    if broken and not good and not unknown:
        return Finding(
            CHECK,
            Severity.CRITICAL,
            f"None of {domain}'s MX hosts resolves to an address: SES has nowhere to deliver mail for it.",
            evidence=lines,
            fix="Only the domain's owner can fix its MX records; ask the person for another address "
            f"meanwhile. Each MX host must be a host name with an A or AAAA record ({IMPLICIT_MX_RFC}).",
            data=data,
        )
    if broken:
        return Finding(
            CHECK,
            Severity.ERROR,
            f"{len(broken)} of {domain}'s {len(hosts)} MX hosts do not resolve ({', '.join(broken)}): "
            "delivery depends on the others and may be delayed.",
            evidence=lines,
            fix="The domain's owner should fix or remove the broken MX records.",
            data=data,
        )
    if not good:
        return _resolver_failed(ctx, resolved[unknown[0]].error, lines)
    summary = f"{domain} receives mail: MX " + ", ".join(
        f"{str(r.exchange).rstrip('.').lower()} ({r.preference})" for r in records[:MAX_HOSTS]
    )
    if unknown:
        lines.append(f"Resolver: {_resolver_name(ctx)} (some lookups failed; the resolver's fault, not the domain's)")
    return Finding(CHECK, Severity.OK, summary + ".", evidence=lines, data=data)


def _no_mx(ctx: CheckContext, domain: str, addr: Answer) -> Finding:
    evidence = [f"MX {domain}: no records"]
    if addr.outcome == "failed":
        return _resolver_failed(ctx, addr.error, evidence)
    if addr.outcome == "ok":
        evidence.append(f"A/AAAA {domain}: {', '.join(addr.values[:4])}")
        return Finding(
            CHECK,
            Severity.WARNING,
            f"{domain} has no MX record; mail goes to its address record instead (implicit MX), which "
            "often means the domain is not set up to receive mail.",
            evidence=evidence,
            fix=f"Ask the person whether the address is right; the domain's owner should publish MX records. "
            f"{IMPLICIT_MX_RFC}",
            data={"mx": [], "implicit_mx": addr.values},
        )
    evidence.append(f"A/AAAA {domain}: no records")
    return Finding(
        CHECK,
        Severity.CRITICAL,
        f"{domain} has no MX record and no A or AAAA record: it cannot receive mail.",
        evidence=evidence,
        fix=f"Check the address for a typo in the domain: {ctx.target}; only its owner can add MX records.",
        data={"mx": [], "implicit_mx": []},
    )
