"""The known DNS blocklists: the table, the list a text names, and where to ask for delisting.

This module's one job: :data:`BLOCKLISTS` and :data:`OPERATORS` (read from ``blocklists.toml``),
:func:`blocklist_named` / :func:`delist_url_for` for a list's name or zone, :func:`operator_of` for a
zone, and :data:`EXTRACTORS`, the functions the rules of ``rules.toml`` name in ``extract`` to say which
list a bounce text names:

- ``named_domain_list`` / ``named_ip_list``: the first list of that kind whose pattern the text matches;
- ``zone``: the zone written after the usual DNSBL wording ("blocked using <zone>", "listed in <zone>"),
  canonical when it is a list we know, else the zone itself with no delisting URL;
- ``named_or_zone``: any list the text names (domain lists first), else ``zone`` -- for a domain
  listing reported with an IP list's name ("MailFrom domain is listed in Spamhaus").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.classify import data
from bot.classify.data import Blocklist, Extractor, Found, Operator

_DOC = data.read("blocklists.toml")
BLOCKLISTS: tuple[Blocklist, ...] = data.load_blocklists(_DOC)
# The DNSBL operators, for the `blocklist` command's lookups: refusal codes and shared tables by zone suffix.
OPERATORS: tuple[Operator, ...] = data.load_operators(_DOC)

_BL_BY_GROUP: dict[str, Blocklist] = {f"b{i}": bl for i, bl in enumerate(BLOCKLISTS)}


def _bl_union(kinds: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?P<b{i}>{bl.pattern})" for i, bl in enumerate(BLOCKLISTS) if bl.kind in kinds))


_DOMAIN_LISTS_RE = _bl_union(("domain",))
_IP_LISTS_RE = _bl_union(("ip",))
_ANY_LIST_RE = _bl_union(("domain", "ip"))

# A zone written after the usual DNSBL wording, for lists we do not know by name.
_ZONE_RE = re.compile(
    r"(?:blocked using|listed (?:on|in|at|by)|(?:black|block)listed (?:on|in|at|by)|refused by|"
    r"\b(?:dns)?rbl\b[:=]?|\bdnsbl\b[:=]?)\s+(?:the\s+)?"
    r"((?=[a-z0-9-]*[a-z])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+)"
)


def _found_from_match(m: re.Match[str]) -> Found:
    bl = _BL_BY_GROUP[m.lastgroup or ""]
    return bl.name, bl.delist_url


def _named_list(regex: re.Pattern[str]) -> Callable[[str], Found | None]:
    def extract(text: str) -> Found | None:
        m = regex.search(text)
        return _found_from_match(m) if m else None

    return extract


def _zone(text: str) -> Found | None:
    """Generic list wording: the zone the text names, canonical if it is a list we know."""
    z = _ZONE_RE.search(text)
    if z is None:
        return None
    zone = z.group(1).rstrip(".-")
    m = _ANY_LIST_RE.search(zone)
    return _found_from_match(m) if m else (zone, None)


def _named_or_zone(text: str) -> Found | None:
    """Any list we know by name (domain lists first), else the zone the text names."""
    m = _DOMAIN_LISTS_RE.search(text) or _IP_LISTS_RE.search(text)
    return _found_from_match(m) if m else _zone(text)


EXTRACTORS: dict[str, Extractor] = {
    "named_domain_list": _named_list(_DOMAIN_LISTS_RE),
    "named_ip_list": _named_list(_IP_LISTS_RE),
    "named_or_zone": _named_or_zone,
    "zone": _zone,
}

_BL_BY_NAME: dict[str, Blocklist] = {bl.name.lower(): bl for bl in BLOCKLISTS}


def blocklist_named(zone_or_name: str) -> Blocklist | None:
    """The entry for a canonical name ("SURBL") or a DNSBL zone ("multi.surbl.org"), else None.

    A zone resolves to the entry a bounce saying "blocked using <zone>" would get (the same
    patterns the ``zone`` extractor uses), so the checks' table and the classifier mean the same
    list by a zone.
    """
    key = zone_or_name.strip().lower().rstrip(".")
    if not key:
        return None
    if key in _BL_BY_NAME:
        return _BL_BY_NAME[key]
    m = _ANY_LIST_RE.search(key)
    return _BL_BY_GROUP[m.lastgroup or ""] if m else None


def operator_of(zone: str) -> Operator | None:
    """The DNSBL operator whose zones `zone` is one of (equal to or under one of its suffixes), else None."""
    zone = zone.strip().lower().rstrip(".")
    return next((op for op in OPERATORS if op.runs(zone)), None)


def delist_url_for(zone_or_name: str) -> str | None:
    """The delisting URL of a list named or zoned as `blocklist_named` reads it, else None."""
    bl = blocklist_named(zone_or_name)
    return bl.delist_url if bl else None
