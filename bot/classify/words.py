"""A guess from the words, for a reply no rule knows: naive Bayes over the labelled dev texts.

The rules decide whenever one matches. When none does, and no SES field decides either, the text would be
answered ``other``. Before that, its words are compared with those of the labelled dev texts
(``tests/data/bounces``: providers-dev and the dev half of sisimai's labels -- never a held-out text) by
multinomial naive Bayes over the words, the pairs of adjacent words and the enhanced status codes
(``5.7.1`` and its class ``5.7.x``), each counted once per text. Addresses, URLs, bracketed hosts and what
an MTA wraps around a reply (Postfix's "host ... said:", Exchange's "Remote Server returned") are left out.
When one category other than ``other`` gets a posterior of at least ``threshold``, the classifier gives it
with confidence ``low`` and rule ``words``, naming the words that weighed most for it; otherwise the text
stays ``other``.

The model is data: ``words.json`` holds the counts (per feature, per category, in how many training texts
it appears), the smoothing ``alpha`` and the ``threshold``, both chosen by cross-validation on the dev
texts grouped by provider, and a digest of the texts it was trained on. ``benchmarks/classify.py
--train-words`` writes it; tests/test_classify_words.py checks it is exactly what the dev texts give, so a
change to the dev texts or to :func:`features` must retrain it.

Imports: the standard library only (the normalised text comes from the engine).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

RULE_ID = "words"
MODEL_FILE = "words.json"
ALPHA = 0.1  # add-alpha smoothing of the per-category feature frequencies
THRESHOLD = 0.9  # the least posterior a category needs to be given instead of "other"
EVIDENCE = 3  # how many of the words that weighed most are named
# Words too common to be worth naming as evidence (they still count in the sums): a feature made of these
# alone is not named.
_PLAIN_WORDS = frozenset(
    "a an and are as at be by for from has have in is it no not of on or our that the this to was with your you".split()
)

_WORD_RE = re.compile(r"[^\W\d_][\w'-]+")  # starts with a letter; "doesn't", "e-mail", "überschritten"
_CODE_RE = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?![\w]|\.\d)")
_ADDRESS_RE = re.compile(r"\S+@\S+|https?://\S+")  # an address or a URL names one mailbox or page
# What an MTA or a mail client wraps around the receiver's reply, and boilerplate any reply may end with: not
# the receiver's words about what went wrong, and in the training texts they come far more often with some
# categories than others (Postfix's wrapper with sisimai's unknown users), which would make them evidence.
_WRAPPER_RE = re.compile(
    "|".join(
        (
            r"\bhost \S+ said:",  # Postfix: "host mx.example.net[192.0.2.1] said: 550 ..."
            r"\(in reply to [\w ]{1,40}\)",  # Postfix: "(in reply to RCPT TO command)"
            r"\bremote (?:server|host) returned\b",  # Exchange: "Remote Server returned '550 ...'"
            r"\bdiagnostic-code: ?(?:smtp;)?|\bsmtp; ?",  # the DSN field and its type
            r"\bgsmtp\b",  # Google's signature at the end of every reply
            r"\[[^\]\s]{1,80}\]",  # a bracketed host or IP: "[192.0.2.1]", "[AM0PR01MB1234.eurprd01...]"
            r"\b(?:please )?try again later\b",
            r"\bfor more information,? (?:please )?(?:see|go to|visit|refer to)\b",
        )
    )
)


def features(norm: str) -> frozenset[str]:
    """The features of a normalised text (the engine's): words, adjacent word pairs, enhanced codes."""
    norm = _WRAPPER_RE.sub(" ", _ADDRESS_RE.sub(" ", norm))
    words = _WORD_RE.findall(norm)
    out = set(words)
    out.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    for klass, subject, detail in _CODE_RE.findall(norm):
        out.add(f"{klass}.{subject}.{detail}")
        out.add(f"{klass}.{subject}.x")
    return frozenset(out)


@dataclass(frozen=True)
class Guess:
    """The category the words are most like, its posterior, and the words that weighed most for it."""

    category: str
    probability: float
    words: tuple[str, ...]


class Model:
    """Multinomial naive Bayes over :func:`features`, from the counts of ``words.json``."""

    def __init__(self, doc: dict[str, Any]) -> None:
        docs: dict[str, int] = doc["docs"]
        counts: dict[str, dict[str, int]] = doc["counts"]
        self.alpha: float = doc["alpha"]
        self.threshold: float = doc["threshold"]
        self.categories = tuple(sorted(docs))
        n_docs = sum(docs.values())
        size = len(counts)
        totals = dict.fromkeys(self.categories, 0)
        for per in counts.values():
            for category, n in per.items():
                totals[category] += n
        denominators = [totals[c] + self.alpha * size for c in self.categories]
        self._prior = [math.log(docs[c] / n_docs) for c in self.categories]
        self._unseen = [math.log(self.alpha / d) for d in denominators]
        self._log = {
            feature: [
                math.log((per.get(c, 0) + self.alpha) / d) for c, d in zip(self.categories, denominators, strict=True)
            ]
            for feature, per in counts.items()
        }

    def guess(self, norm: str) -> Guess | None:
        """The category a normalised text's words are most like, or None when it has no known feature."""
        known = sorted(f for f in features(norm) if f in self._log)
        if not known:
            return None
        scores = list(self._prior)
        for feature in known:
            for i, value in enumerate(self._log[feature]):
                scores[i] += value
        top = max(range(len(scores)), key=scores.__getitem__)
        peak = scores[top]
        probability = 1.0 / sum(math.exp(s - peak) for s in scores)
        # The words that weighed most for the category: how much likelier each is there than on average.
        weight = {
            f: self._log[f][top] - sum(self._log[f]) / len(self.categories)
            for f in known
            if not f[0].isdigit() and not _PLAIN_WORDS.issuperset(f.split(" "))
        }
        words = tuple(sorted((f for f in weight if weight[f] > 0), key=lambda f: (-weight[f], f))[:EVIDENCE])
        return Guess(self.categories[top], probability, words)

    def decides(self, norm: str) -> Guess | None:
        """The guess when it is sure enough to give, and not ``other``; else None."""
        guess = self.guess(norm)
        if guess is None or guess.category == "other" or guess.probability < self.threshold:
            return None
        return guess


@functools.cache
def model() -> Model:
    """The shipped model (read on first use, so importing the classifier stays fast)."""
    return Model(json.loads(resources.files("bot.classify").joinpath(MODEL_FILE).read_text(encoding="utf-8")))


def digest(examples: Iterable[tuple[str, str]]) -> str:
    """sha256 over the (text, category) pairs in order: which texts a model was trained on."""
    h = hashlib.sha256()
    for text, category in examples:
        h.update(json.dumps([text, category], ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def train(examples: Iterable[tuple[str, str, str]], *, about: str) -> dict[str, Any]:
    """The model document for (text, normalised text, category) triples, in the order given."""
    rows = list(examples)
    docs: dict[str, int] = {}
    counts: dict[str, dict[str, int]] = {}
    for _, norm, category in rows:
        docs[category] = docs.get(category, 0) + 1
        for feature in features(norm):
            per = counts.setdefault(feature, {})
            per[category] = per.get(category, 0) + 1
    return {
        "about": about,
        "alpha": ALPHA,
        "threshold": THRESHOLD,
        "trained_on": {"texts": len(rows), "sha256": digest((text, category) for text, _, category in rows)},
        "docs": dict(sorted(docs.items())),
        "counts": {f: dict(sorted(counts[f].items())) for f in sorted(counts)},
    }


def dumps(doc: dict[str, Any]) -> str:
    """``words.json`` as written: one feature per line, so a retraining's diff reads feature by feature."""
    head = {k: v for k, v in doc.items() if k != "counts"}
    lines = [json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "counts": {']
    items = list(doc["counts"].items())
    for i, (feature, per) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"  {json.dumps(feature, ensure_ascii=False)}: {json.dumps(per, separators=(',', ':'))}{comma}")
    lines.append(" }\n}\n")
    return "\n".join(lines)
