"""Redaction of recipient addresses for messages that a whole channel reads (`SESBOT_REDACT=local`).

An address is any local part up to `@` -- a dot-atom of letters (any script), digits and RFC 5322's
specials, or a quoted string -- and a domain of labels in any script. All of its local part but the first
character is masked. It works on the finished message as well as on the engine's text: `&amp;` (Slack's
escape of `&`) counts as the one `&` it stands for, so escaping never decides what is masked.

>>> redact_addresses("bounced: jane.doe@example.com (550)")
'bounced: j***@example.com (550)'
>>> redact_addresses("<jöhn.o'brien@bücher.de>, \\"jane doe\\"@example.com, *jane&amp;doe@example.com*")
'<j***@bücher.de>, "j***"@example.com, *j***@example.com*'
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# RFC 5322 atext -- letters and digits (here of any script) and these specials -- and the `.` that joins atoms.
_ATEXT = r"\w!#$%&'*+/=?^`{|}~.-"
# Marks that wrap an address rather than start one (`*bold*`, `_italic_`, `` `code` ``, `'quoted'`, ...):
# they stay as they are, and the local part starts after them.
_WRAPPERS = "*_~`'|."
_ADDRESS = re.compile(
    rf"(?:(?<![{_ATEXT}])(?P<atom>(?:&amp;|[{_ATEXT}])++)"  # a whole run, scanned once (linear on any text)
    r'|(?P<quoted>"(?:[^"\\\r\n]|\\.)+"))'
    r"@(?P<domain>(?:[^\W_][\w-]*\.)+(?:[^\W\d_]{2,63}|(?i:xn--)[\w-]+))"
)


# Past the point a text is cut, how far to look for the end of an address the cut would fall inside.
_LONGEST = 1024


def _first(local: str) -> str:
    return "&amp;" if local.startswith("&amp;") else local[:1]


def _mask(m: re.Match[str]) -> str:
    domain = m.group("domain")
    if m.group("quoted"):
        return f'"{_first(m.group("quoted")[1:])}***"@{domain}'
    atom = m.group("atom")
    marks = len(atom) - len(atom.lstrip(_WRAPPERS))
    marks = marks if marks < len(atom) else 0  # a local part of marks only: mask it as it is
    return f"{atom[:marks]}{_first(atom[marks:])}***@{domain}"


def redact_address(address: str) -> str:
    """One address as `x***@domain` (unchanged if it is not one)."""
    return redact_addresses(address)


def _addresses(text: str) -> Iterator[tuple[int, re.Match[str]]]:
    """Each address in the text, with the offset its match is relative to. Each search starts just after the
    last address, so the next may follow it directly (`a@x.org|b@y.org`)."""
    at = 0
    while m := _ADDRESS.search(text[at:]):
        yield at, m
        at += m.end()


def redact_addresses(text: str) -> str:
    """Every address in the text as `x***@domain`: who it was stays guessable only to those who know."""
    out, done = [], 0
    for at, m in _addresses(text):
        out += [text[done : at + m.start()], _mask(m)]
        done = at + m.end()
    return "".join([*out, text[done:]])


def clip(text: str, limit: int) -> str:
    """At most `limit` characters of `text`, never part of an address: an address the cut would fall inside
    is left out whole, as a part of it (`jane.doe@exa`) would no longer read as one and escape redaction.
    Every cut of text a channel may read goes through here, before redaction and before Slack's escaping.

    >>> clip("550 rejected <jane.doe@example.com>", 24)
    '550 rejected <'
    """
    if len(text) <= limit:
        return text
    for at, m in _addresses(text[: limit + _LONGEST]):
        start, end = at + m.start(), at + m.end()
        if start >= limit:
            break
        if end > limit:
            return text[:start]
    return text[:limit]
