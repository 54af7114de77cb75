"""SPF includes fetched level by level, all of a level at once, before checkdmarc walks the record.

checkdmarc follows `include:` and `redirect=` one lookup after another, so a record with four includes that
each include two more costs seven round trips in a row. `prefetched` first asks for the TXT records of every
literal include/redirect target of one level at the same time, then of the next level they name, and hands
checkdmarc a resolver that answers those names from what was fetched (any other lookup, and any name a
macro builds, goes to the network as before). The answers and errors are the network's own, so the verdicts
do not change; only the waiting does: about one round trip per level of nesting. One thing is changed in
every TXT answer it gives checkdmarc: an SPF record's version tag is lower-cased (``v=SPF1`` read as
``v=spf1``), since RFC 7208 matches it case-insensitively (4.5, 12) and checkdmarc's grammar does not.
"""

from __future__ import annotations

import copy
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
import dns.rrset

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


def _version_lowered(strings: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """A TXT record's strings with an SPF version tag in any case (``v=SPF1``) lower-cased, wherever the
    strings split it; any other record as it is."""
    joined = b"".join(strings)
    if joined[:6] == b"v=spf1" or joined[:6].lower() != b"v=spf1" or joined[6:7] not in (b"", b" "):
        return strings
    out, at = [], 0
    for chunk in strings:
        head = max(0, min(len(chunk), 6 - at))
        out.append(chunk[:head].lower() + chunk[head:])
        at += len(chunk)
    return tuple(out)


def spf_version_lowered(answer: dns.resolver.Answer) -> dns.resolver.Answer:
    """`answer` (TXT) with every SPF record's version tag lower-cased: RFC 7208 4.5 and 12 read the version
    case-insensitively, checkdmarc's grammar only as ``v=spf1``. The answer itself when nothing changes."""
    rrset = answer.rrset
    if rrset is None or all(_version_lowered(rdata.strings) == rdata.strings for rdata in rrset):
        return answer
    rdatas = [rdata.replace(strings=_version_lowered(rdata.strings)) for rdata in rrset]
    changed = copy.copy(answer)
    changed.rrset = dns.rrset.from_rdata_list(rrset.name, rrset.ttl, rdatas)
    return changed


class PrefetchedResolver(dns.resolver.Resolver):
    """A resolver like `base` (same nameservers, timeouts) that answers prefetched TXT names from memory, and
    gives every TXT answer with its SPF version tags lower-cased (`spf_version_lowered`)."""

    def __init__(self, base: dns.resolver.Resolver, answers: dict[str, Any]):
        super().__init__(configure=False)
        self.nameservers = base.nameservers
        self.timeout, self.lifetime = base.timeout, base.lifetime
        self.retry_servfail = base.retry_servfail
        self._answers = answers

    def resolve(self, qname: Any, rdtype: Any = dns.rdatatype.A, *args: Any, **kwargs: Any) -> dns.resolver.Answer:
        name = str(qname).strip(".").lower()
        if dns.rdatatype.RdataType.make(rdtype) != dns.rdatatype.TXT:
            return super().resolve(qname, rdtype, *args, **kwargs)
        found = self._answers.get(name)
        if found is None:
            found = super().resolve(qname, rdtype, *args, **kwargs)
        if isinstance(found, BaseException):
            raise found
        return spf_version_lowered(found)


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
