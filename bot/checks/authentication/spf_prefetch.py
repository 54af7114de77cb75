"""SPF includes fetched level by level, all of a level at once, before checkdmarc walks the record.

checkdmarc follows `include:` and `redirect=` one lookup after another, so a record with four includes that
each include two more costs seven round trips in a row. `prefetched` first asks for the TXT records of every
literal include/redirect target of one level at the same time, then of the next level they name, and hands
checkdmarc a resolver that answers those names from what was fetched (any other lookup, and any name a
macro builds, goes to the network as before). The answers and errors are the network's own, so the verdicts
do not change; only the waiting does: about one round trip per level of nesting.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

MAX_NAMES = 10  # RFC 7208 4.6.4: a record may cause at most 10 lookups; past that it is a permerror anyway
_TARGET = re.compile(r"^[+?~-]?(?:include:|redirect=)([^\s%/]+)$", re.I)


def targets(record: str) -> list[str]:
    """The literal domains a record's include: mechanisms and redirect= modifier name, in order."""
    out = []
    for term in record.split()[1:]:
        m = _TARGET.match(term)
        if m and m.group(1).strip(".").lower() not in out:
            out.append(m.group(1).strip(".").lower())
    return out


def _spf_of(answer: dns.resolver.Answer) -> str | None:
    for rdata in answer:
        text = b"".join(getattr(rdata, "strings", ())).decode("utf-8", "replace")
        if text.lower() == "v=spf1" or text.lower().startswith("v=spf1 "):
            return text
    return None


class PrefetchedResolver(dns.resolver.Resolver):
    """A resolver like `base` (same nameservers, timeouts) that answers prefetched TXT names from memory."""

    def __init__(self, base: dns.resolver.Resolver, answers: dict[str, Any]):
        super().__init__(configure=False)
        self.nameservers = base.nameservers
        self.timeout, self.lifetime = base.timeout, base.lifetime
        self.retry_servfail = base.retry_servfail
        self._answers = answers

    def resolve(self, qname: Any, rdtype: Any = dns.rdatatype.A, *args: Any, **kwargs: Any) -> dns.resolver.Answer:
        name = str(qname).strip(".").lower()
        if dns.rdatatype.RdataType.make(rdtype) == dns.rdatatype.TXT and name in self._answers:
            found = self._answers[name]
            if isinstance(found, BaseException):
                raise found
            return found
        return super().resolve(qname, rdtype, *args, **kwargs)


def prefetched(resolver: dns.resolver.Resolver, record: str) -> PrefetchedResolver:
    """A resolver holding the TXT answers of the includes `record` reaches, fetched a level at a time."""
    answers: dict[str, Any] = {}
    level = targets(record)

    def fetch(name: str) -> Any:
        try:
            return resolver.resolve(name, "TXT")
        except (dns.exception.DNSException, OSError) as exc:  # kept: checkdmarc sees the same error
            return exc

    with ThreadPoolExecutor(max_workers=MAX_NAMES, thread_name_prefix="spf") as pool:
        while level and len(answers) < MAX_NAMES:
            level = [n for n in level if n not in answers][: MAX_NAMES - len(answers)]
            found = dict(zip(level, pool.map(fetch, level), strict=True))
            answers.update(found)
            following: list[str] = []
            for value in found.values():
                spf = None if isinstance(value, BaseException) else _spf_of(value)
                following += [n for n in targets(spf or "") if n not in answers and n not in following]
            level = following
    return PrefetchedResolver(resolver, answers)
