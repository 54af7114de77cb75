"""The big receivers' sender requirements and the rejection texts that name them, read from
``requirements.toml`` beside this module (the rules and wording are data; this module only loads and
matches them).

    >>> m = rejection_for("550-5.7.26 Unauthenticated email from example.com is not accepted due to "
    ...                   "domain's DMARC policy", remote_mta="gmail-smtp-in.l.google.com")
    >>> (m.receiver, [r.check for r in m.requirements])
    ('Gmail', ['compliance.dmarc'])
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).with_name("requirements.toml")


@dataclass(frozen=True)
class Requirement:
    key: str  # "dmarc"; its check is compliance.<key>
    title: str
    receivers: tuple[str, ...]
    threshold: str
    doc: str

    @property
    def check(self) -> str:
        return f"compliance.{self.key}"

    @property
    def who(self) -> str:
        """The receivers that require it, in words: "Gmail, Yahoo and Outlook.com"."""
        names = list(self.receivers)
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class Rejection:
    pattern: re.Pattern[str]
    requirements: tuple[str, ...]
    meaning: str


@dataclass(frozen=True)
class RejectionMatch:
    """A bounce text read as a receiver's sender-requirement rejection."""

    receiver: str  # "Gmail", or "the receiver" when neither the text nor the host says whose it is
    meaning: str
    requirements: tuple[Requirement, ...]

    @property
    def titles(self) -> str:
        return "; ".join(f"{r.title} ({r.check})" for r in self.requirements)


_DATA = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))


def _load() -> tuple[dict[str, Requirement], list[Rejection], dict[str, re.Pattern[str]]]:
    data = _DATA
    reqs = {
        key: Requirement(key, r["title"], tuple(r["receivers"]), r["threshold"], r["doc"])
        for key, r in data["requirement"].items()
    }
    rejections = []
    for i, r in enumerate(data["rejection"], 1):
        unknown = [k for k in r["requirements"] if k not in reqs]
        if unknown:
            raise ValueError(f"{DATA_FILE.name}, rejection {i}: unknown requirement {unknown[0]!r}")
        rejections.append(Rejection(re.compile(r["pattern"], re.I | re.S), tuple(r["requirements"]), r["meaning"]))
    receivers = {name: re.compile(p, re.I) for name, p in data["receivers"].items()}
    return reqs, rejections, receivers


REQUIREMENTS, REJECTIONS, RECEIVERS = _load()
MARKETING_WORDS: frozenset[str] = frozenset(_DATA["mail_kind"]["marketing"])
TRANSACTIONAL_WORDS: frozenset[str] = frozenset(_DATA["mail_kind"]["transactional"])
RECEIVER_DOMAINS: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _DATA["receiver_domains"].items()}


def requirement(key: str) -> Requirement:
    return REQUIREMENTS[key]


def receiver_for(*texts: str | None) -> str | None:
    """Which big receiver the texts (diagnostic, remote MTA, recipient domain) point at, first match wins."""
    for text in texts:
        if not text:
            continue
        for name, pattern in RECEIVERS.items():
            if pattern.search(text):
                return name
    return None


def rejection_for(
    diagnostic: str | None, *, remote_mta: str | None = None, domain: str | None = None
) -> RejectionMatch | None:
    """The sender requirement a bounce's words say failed (5.7.26, 5.7.515, Yahoo's 5.7.9 ...), or None."""
    if not diagnostic:
        return None
    for rule in REJECTIONS:
        if rule.pattern.search(diagnostic):
            receiver = receiver_for(diagnostic, remote_mta, domain) or "the receiver"
            meaning = rule.meaning.replace("the receiver", receiver, 1)
            return RejectionMatch(receiver, meaning, tuple(REQUIREMENTS[k] for k in rule.requirements))
    return None
