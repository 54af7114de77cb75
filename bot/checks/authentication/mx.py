"""MX records: the parse of an MX answer into (preference, host) pairs, and whether a domain can receive
mail itself (replies, bounces to it): real MX hosts, a null MX (RFC 7505), or no MX and mail going to its
A/AAAA address (the implicit MX), with the verdict on each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.checks import RunMemo
from bot.checks.authentication.issues import Issue
from bot.checks.authentication.lookup import Lookup, cached_lookup, parallel
from bot.deps import Deps
from bot.findings import Severity


def mx_hosts(found: Lookup) -> list[tuple[int, str]]:
    """The (preference, host) pairs of an MX answer, most preferred first."""
    hosts = []
    for rec in found.records:
        pref, _, host = rec.partition(" ")
        hosts.append((int(pref), host))
    return sorted(hosts)


@dataclass
class Mx:
    """A domain's MX answer and, when it names no host, its A and AAAA answers (the implicit MX)."""

    domain: str
    mx: Lookup
    addresses: list[Lookup] = field(default_factory=list)  # A then AAAA; looked up only without an MX host

    @property
    def hosts(self) -> list[tuple[int, str]]:
        return mx_hosts(self.mx) if self.mx.outcome == "answer" else []

    @property
    def null(self) -> bool:
        hosts = self.hosts
        return bool(hosts) and all(host in ("", ".") for _, host in hosts)

    @property
    def unchecked(self) -> str | None:
        """Why nothing can be said (the MX lookup failed, or both address lookups did), else None."""
        if self.mx.failed:
            return f"MX lookup for {self.domain}: {self.mx.error}"
        if self.addresses and all(a.failed for a in self.addresses):
            return f"address lookup for {self.domain}: {self.addresses[0].error}"
        return None


def inspect_mx(deps: Deps, memo: RunMemo, domain: str) -> Mx:
    """The MX of `domain`; its A and AAAA (at once) only when the MX names no host."""
    out = Mx(domain, cached_lookup(deps, memo, domain, "MX"))
    if out.mx.failed or out.mx.outcome == "nxdomain" or out.hosts:
        return out
    a = parallel(
        {"A": lambda: cached_lookup(deps, memo, domain, "A"), "AAAA": lambda: cached_lookup(deps, memo, domain, "AAAA")}
    )
    out.addresses = [a["A"], a["AAAA"]]
    return out


def mx_issues(mx: Mx) -> list[Issue]:
    """Can the domain receive mail? (Not called when `mx.unchecked`.)"""
    domain = mx.domain
    if mx.mx.outcome == "nxdomain":
        return [
            Issue(
                Severity.ERROR,
                f"{domain} does not exist in DNS: receivers reject mail from domains that do not exist",
                "Check the spelling, or register and publish the domain.",
            )
        ]
    if mx.null:
        return [
            Issue(
                Severity.WARNING,
                f"{domain} publishes a null MX (RFC 7505): it accepts no mail, so replies bounce, and "
                "receivers "
                "may reject or distrust mail from a domain that cannot receive any",
                f"Publish real MX records for {domain} if people reply to this mail; otherwise send from a "
                "domain that can receive mail.",
            )
        ]
    if mx.hosts:
        listed = ", ".join(f"{h} ({p})" for p, h in mx.hosts)
        return [Issue(Severity.OK, f"{domain} receives mail at {listed}")]
    addresses = [r for a in mx.addresses for r in a.records]
    if addresses:
        return [
            Issue(
                Severity.INFO,
                f"{domain} has no MX; mail to it goes to its address record ({', '.join(addresses[:3])})",
                f"Publish an MX record for {domain} if it should receive replies.",
            )
        ]
    return [
        Issue(
            Severity.WARNING,
            f"{domain} has no MX and no address record: it cannot receive mail, so replies bounce and "
            "some "
            "receivers distrust mail from it",
            f"Publish MX records for {domain}.",
        )
    ]


def mx_evidence(mx: Mx) -> list[str]:
    """The MX answer, then the address answers when they were asked."""
    return [mx.mx.describe()] + [a.describe() for a in mx.addresses]


def mx_data(mx: Mx) -> dict[str, Any]:
    data: dict[str, Any] = {"domain": mx.domain, "mx": mx.mx.records, "outcome": mx.mx.outcome}
    if mx.null:
        data["null_mx"] = True
    elif mx.addresses:
        data["addresses"] = [r for a in mx.addresses for r in a.records]
    return data
