"""One-click unsubscribe, judged from the header sample (`bot.history.header_sample`): which configuration
set and From address send marketing mail (and so need RFC 8058 one-click unsubscribe), which look
transactional (exempt) and why, and what share of the sampled mail of each had the headers.

A group is (configuration set, From address). Its kind, in order: declared transactional
(``SESBOT_TRANSACTIONAL_SETS``); a marketing word in the set's name or the From local part; a
transactional word there; mail that carries ``List-Unsubscribe`` on at least half of it is subscribed mail;
otherwise it looks transactional (nothing says marketing and it offers no unsubscribe at all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.checks.compliance.requirements import MARKETING_WORDS, TRANSACTIONAL_WORDS

_WORD = re.compile(r"[a-z0-9]+")


@dataclass
class Group:
    """One configuration set and From address of the sample, with its verdict."""

    config_set: str
    from_address: str
    sent: int
    headers_seen: int
    list_unsubscribe: int
    one_click: int
    https: int
    example_without: str | None
    kind: str = ""  # "marketing" or "transactional"
    why: str = ""  # why it is judged so, in words

    @property
    def label(self) -> str:
        cs = f"set `{self.config_set}`" if self.config_set else "mail without a configuration set"
        return f"{cs} from {self.from_address or 'an unknown From'}"

    @property
    def compliant(self) -> int:
        """Sampled messages with both one-click and an https URI (the counts are per header, so at most)."""
        return min(self.one_click, self.https)

    @property
    def share(self) -> float | None:
        return self.compliant / self.headers_seen if self.headers_seen else None

    @property
    def passes(self) -> bool:
        return self.headers_seen > 0 and self.compliant >= self.headers_seen

    def as_dict(self) -> dict[str, Any]:
        return {
            "config_set": self.config_set,
            "from_address": self.from_address,
            "kind": self.kind,
            "why": self.why,
            "sent": self.sent,
            "headers_seen": self.headers_seen,
            "list_unsubscribe": self.list_unsubscribe,
            "one_click": self.one_click,
            "https": self.https,
            "share": None if self.share is None else round(self.share, 4),
            "example_without": self.example_without,
        }


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def judge_kind(group: Group, declared_transactional: frozenset[str]) -> None:
    """Set `group.kind` and `group.why` (see the module docstring for the order)."""
    local = group.from_address.partition("@")[0]
    if group.config_set and group.config_set in declared_transactional:
        group.kind, group.why = "transactional", "declared in SESBOT_TRANSACTIONAL_SETS"
        return
    for where, name in (("set name", group.config_set), ("From address", local)):
        hit = sorted(_words(name) & MARKETING_WORDS)
        if hit:
            group.kind, group.why = "marketing", f"its {where} says {hit[0]!r}"
            return
    for where, name in (("set name", group.config_set), ("From address", local)):
        hit = sorted(_words(name) & TRANSACTIONAL_WORDS)
        if hit:
            group.kind, group.why = "transactional", f"its {where} says {hit[0]!r}"
            return
    if group.headers_seen and group.list_unsubscribe * 2 >= group.headers_seen:
        group.kind, group.why = "marketing", "it carries List-Unsubscribe, so receivers treat it as subscribed mail"
        return
    group.kind = "transactional"
    group.why = "nothing in its name says marketing and it offers no unsubscribe"


def groups_for(rows: list[dict[str, Any]], domain: str, declared_transactional: frozenset[str]) -> list[Group]:
    """The sample's groups whose From address is in `domain` (or a subdomain), each judged."""
    out = []
    for r in rows:
        from_domain = r["from_address"].rpartition("@")[2]
        if from_domain != domain and not from_domain.endswith("." + domain):
            continue
        g = Group(
            r["config_set"],
            r["from_address"],
            int(r["sent"]),
            int(r["headers_seen"]),
            int(r["list_unsubscribe"]),
            int(r["one_click"]),
            int(r["https"]),
            r.get("example_without"),
        )
        judge_kind(g, declared_transactional)
        out.append(g)
    return out


def group_line(g: Group) -> str:
    """One evidence line: the group, its kind and why, and its counts."""
    if g.kind == "transactional":
        return f"{g.label}: transactional, exempt ({g.why}); {g.sent} sent"
    if not g.headers_seen:
        counts = f"{g.sent} sent, none with its headers in the event"
    else:
        counts = (
            f"{g.compliant} of {g.headers_seen} sampled with one-click + https ({g.compliant / g.headers_seen:.0%}); "
            f"List-Unsubscribe on {g.list_unsubscribe}"
        )
        if g.example_without and not g.passes:
            counts += f"; example without: {g.example_without}"
    return f"{g.label}: {g.kind} ({g.why}); {counts}"
