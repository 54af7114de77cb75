"""The DNS questions the authentication checks ask themselves, through the bot's resolver: one `lookup`
that never raises and tells an answer, NXDOMAIN, NODATA and a failure apart (a DNS timeout is not a
missing record), `cached_lookup` so the checks of one run ask each question once, and `parallel` to ask
independent questions at once."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.resolver

from bot.checks import RunMemo
from bot.deps import Deps


@dataclass
class Lookup:
    """One DNS question and what came back: records, NXDOMAIN, NODATA, or an error that says why."""

    name: str
    rtype: str
    outcome: str  # "answer", "nxdomain", "nodata", "error"
    records: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.outcome == "error"

    def describe(self) -> str:
        if self.outcome == "answer":
            return f"{self.name} {self.rtype}: " + "; ".join(self.records)
        if self.outcome == "nxdomain":
            return f"{self.name} {self.rtype}: NXDOMAIN (the name does not exist)"
        if self.outcome == "nodata":
            return f"{self.name} {self.rtype}: no {self.rtype} record (the name exists)"
        return f"{self.name} {self.rtype}: lookup failed ({self.error})"


def dns_error_text(exc: BaseException, lifetime: float | None = None) -> str:
    """One line for a failed lookup: a timeout, SERVFAIL/REFUSED, or whatever dnspython said."""
    if isinstance(exc, dns.resolver.LifetimeTimeout | dns.exception.Timeout):
        return f"no answer within {lifetime:g} s" if lifetime else "no answer in time"
    if isinstance(exc, dns.resolver.NoNameservers):
        return "the DNS server answered SERVFAIL or REFUSED"
    return f"{type(exc).__name__}: {str(exc)[:160]}"


def lookup(resolver: dns.resolver.Resolver, name: str, rtype: str) -> Lookup:
    """Ask `resolver` one question; never raises for DNS trouble."""
    try:
        answer = resolver.resolve(name, rtype, search=False)
    except dns.resolver.NXDOMAIN:
        return Lookup(name, rtype, "nxdomain")
    except dns.resolver.NoAnswer:
        return Lookup(name, rtype, "nodata")
    except dns.exception.DNSException as exc:
        return Lookup(name, rtype, "error", error=dns_error_text(exc, resolver.lifetime))
    records: list[str] = []
    for rdata in answer:
        if rtype == "TXT":
            # RFC 7208 3.3: the character-strings of one TXT record are joined without spaces.
            records.append(b"".join(rdata.strings).decode("utf-8", "replace"))
        elif rtype == "MX":
            records.append(f"{rdata.preference} {rdata.exchange.to_text().rstrip('.').lower() or '.'}")
        elif rtype == "CNAME":
            records.append(rdata.target.to_text().rstrip(".").lower())
        else:
            records.append(rdata.to_text())
    return Lookup(name, rtype, "answer", records)


def cached_lookup(deps: Deps, memo: RunMemo, name: str, rtype: str) -> Lookup:
    """`lookup` through the bot's resolver, asked once per run (the run's memo shares the answer)."""
    return memo.once(("dns", name.lower(), rtype), lambda: lookup(deps.resolver, name, rtype))


def parallel(jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run independent lookups at once: a check's time is its slowest lookup, not their sum."""
    if len(jobs) <= 1:
        return {k: fn() for k, fn in jobs.items()}
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="auth") as pool:
        futures = {k: pool.submit(fn) for k, fn in jobs.items()}
        return {k: f.result() for k, f in futures.items()}
