"""A guess from the words, for a reply no rule knows: naive Bayes over the labelled dev texts.

The rules decide whenever one matches. When none does, and no SES field decides either, the text would be
answered ``other``. Before that, its words are compared with those of the labelled dev texts
(``tests/data/bounces``: providers-dev and the dev half of sisimai's labels -- never a held-out text) by
multinomial naive Bayes over the words, the pairs of adjacent words and the enhanced status codes
(``5.7.1`` and its class ``5.7.x``), each counted once per text, with the words read as the rules read them
(rules.toml's ``[match]``: the articles left out, "messages" as "message"). Addresses, URLs, bracketed hosts and IPs
and what an MTA wraps around a reply (Postfix's "host ... said:", Exim's "SMTP error from remote mail server
after RCPT TO:", qmail's "Remote host said:", Exchange's "Remote Server returned") are left out. When one
category gets a posterior of at least ``threshold``, and it is not one the words never give (``other``, and
``suppressed``: only SES suppresses), the classifier gives it with confidence ``low`` and rule ``words``,
naming the words that weighed most for it. A category with a posterior of at least ``lead`` but below the
threshold is named in the ``other`` answer as a lead (``lead``), the category staying ``other``. The generic
SES fields (``RecipientServerError``, ``General``, ``Undetermined``) decide nothing, so a guess comes before
them.

The model is data: ``words.json`` holds the counts (per feature, per category, in how many training texts
it appears), the smoothing ``alpha``, the ``temperature``, the ``threshold`` and the ``lead``, chosen by
cross-validation on the dev texts grouped by provider, and a digest of the texts it was trained on.
``benchmarks/classify.py --train-words`` writes it; tests/test_classify_words.py checks it is exactly what the
dev texts give, so a change to the dev texts or to :func:`features` must retrain it.

Imports: the standard library and :mod:`bot.classify.data` (the normalised text comes from the engine).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

RULE_ID = "words"
MODEL_FILE = "words.json"
ALPHA = 0.1  # add-alpha smoothing of the per-category feature frequencies
# Naive Bayes counts a reply's evidence many times over (a word, and again in each pair it is in; words that
# always come together), so its raw posteriors are near 0 or 1 and a raw 0.9 is right far less often than 9
# times in 10. Dividing the log-scores by this temperature calibrates them: it was the one with the least
# log-loss on dev providers the model did not see (benchmarks/classify.py --cross-validate-words). Re-run with
# the eighth batch of dev texts, alpha 0.3 with temperature 4 is a hair lower (1.149 against 1.162), but there
# a posterior of 0.9 is right 0.89 of the time against 0.92 here: these values were kept.
TEMPERATURE = 6.0
THRESHOLD = 0.9  # the least calibrated posterior a category needs to be given instead of "other"
# Below the threshold, a category with a posterior of at least this is named as a lead in the "other" answer
# (the category stays "other"). On unseen dev providers 309 of 375 such leads (0.82) were right; but most of
# those texts a rule reads anyway, and of the dev texts no rule reads (nearly all labelled "other") the one
# that gets a lead gets a wrong one (benchmarks/classify.py --cross-validate-words, after the slash).
LEAD = 0.5
EVIDENCE = 3  # how many of the words that weighed most are named
# Words too common to be worth naming as evidence (they still count in the sums): a feature made of these
# alone is not named.
_PLAIN_WORDS = frozenset(
    "a an and are as at be by for from has have in is it no not of on or our that the this to was with your you".split()
)

# A word starts with a letter; letters and digits, joined by an apostrophe or a hyphen: "doesn't", "e-mail",
# "überschritten", "s3150". No underscore (Slack's italics) and no trailing punctuation.
_WORD_RE = re.compile(r"[^\W\d_][^\W_]*(?:['-][^\W_]+)*")
_CODE_RE = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?![\w]|\.\d)")
# What an MTA or a mail client wraps around the receiver's reply, and boilerplate any reply may end with: not
# the receiver's words about what went wrong, and in the training texts they come far more often with some
# categories than others (Postfix's wrapper with sisimai's unknown users), which would make them evidence.
# Applied after the words holding an address or a URL are dropped (so "RCPT TO:<a@b.example>:" is "rcpt").
_WRAPPER_RE = re.compile(
    "|".join(
        (
            r"\bhost \S+ said:",  # Postfix: "host mx.example.net[192.0.2.1] said: 550 ..."
            r"\(in reply to [\w ]{1,40}\)",  # Postfix: "(in reply to RCPT TO command)"
            # Exim: "SMTP error from remote mail server after RCPT TO:<a@b.example>: 550 ..."
            r"\bsmtp error from remote (?:mail server|mailer|server) after"
            r" (?:rcpt(?: to)?|mail(?: from)?|end of data|data|initial connection|ehlo|helo|pipelined \w+)\b:?",
            r"\bhost \S+ \[[^\]\s]{1,60}\]:",  # Exim: "host mx.example.net [192.0.2.1]: 550 ..."
            r"\bremote host said:",  # qmail: "Remote host said: 550 ..."
            r"\bremote (?:server|host) returned\b",  # Exchange: "Remote Server returned '550 ...'"
            r"\bdiagnostic-code: ?(?:smtp;)?|\bsmtp; ?",  # the DSN field and its type
            r"\bgsmtp\b",  # Google's signature at the end of every reply
            # A bracketed IP or host name: "[192.0.2.1]", "[IPv6:2001:db8::1]", "[AM0PR01MB1234.eurprd01.prod
            # .exchangelabs.com]" (a bracketed word such as "[TSS04]" or "[BL21]" is the receiver's code, and
            # "[5.7.1]" an enhanced code: kept).
            r"\[(?:ipv6:[\da-f:.]{2,60}|\d{1,3}(?:\.\d{1,3}){3})\]|\[[\w-]{1,63}(?:\.[\w-]{1,63}){0,7}\.[a-z][a-z\d-]{1,62}\]",
            r"\b(?:please )?try again later\b",
            r"\bfor more information,? (?:please )?(?:see|go to|visit|refer to)\b",
        )
    )
)
# Categories the words never give: only SES itself puts an address on its suppression list (a remote reply
# proves SES tried to deliver), and "other" is what is answered when the words do not decide.
NEVER_GUESSED = frozenset({"suppressed", "other"})


@functools.cache
def _words_as_rules_read_them() -> tuple[frozenset[str], dict[str, str]]:
    """rules.toml's ``[match]``: the words a text may leave out (the articles) and each word's equivalents, so
    that "unable to deliver messages to" and "unable to deliver the message to" are the same evidence, as
    they are the same to a rule."""
    from . import data  # here, not at the top: data imports this module for RULE_ID

    matching = data.load_matching(data.read("rules.toml"))
    optional = frozenset(word for word in matching.optional if word.isalpha())
    same = {alt: word for word, alts in matching.same.items() for alt in alts if alt.isalpha()}
    return optional, same


def features(norm: str) -> frozenset[str]:
    """The features of a normalised text (the engine's): words, adjacent word pairs, enhanced codes."""
    # A word holding an address or a URL names one mailbox or page: dropped whole (a split, not a regex, so a
    # long run of non-space characters costs no backtracking).
    norm = " ".join(word for word in norm.split() if "@" not in word and "://" not in word)
    norm = _WRAPPER_RE.sub(" ", norm)
    optional, same = _words_as_rules_read_them()
    words = [same.get(w, w) for w in _WORD_RE.findall(norm) if len(w) > 1 and w not in optional]
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
    sure: bool = False  # sure enough to be given as the category (else it is only a lead)


class Model:
    """Multinomial naive Bayes over :func:`features`, from the counts of ``words.json``."""

    def __init__(self, doc: dict[str, Any]) -> None:
        docs: dict[str, int] = doc["docs"]
        counts: dict[str, dict[str, int]] = doc["counts"]
        self.alpha: float = doc["alpha"]
        self.threshold: float = doc["threshold"]
        self.lead: float = doc["lead"]
        self.temperature: float = doc["temperature"]
        self.categories = tuple(sorted(docs))
        n_docs = sum(docs.values())
        size = len(counts)
        totals = dict.fromkeys(self.categories, 0)
        for per in counts.values():
            for category, n in per.items():
                totals[category] += n
        denominators = [totals[c] + self.alpha * size for c in self.categories]
        self._prior = [math.log(docs[c] / n_docs) for c in self.categories]
        self._log = {
            feature: [
                math.log((per.get(c, 0) + self.alpha) / d) for c, d in zip(self.categories, denominators, strict=True)
            ]
            for feature, per in counts.items()
        }

    def _known(self, norm: str) -> list[str]:
        return sorted(f for f in features(norm) if f in self._log)  # sorted: the same float sums every run

    def _posteriors(self, known: list[str]) -> list[float]:
        scores = list(self._prior)
        for feature in known:
            for i, value in enumerate(self._log[feature]):
                scores[i] += value
        peak = max(scores)
        exps = [math.exp((s - peak) / self.temperature) for s in scores]
        total = sum(exps)
        return [e / total for e in exps]

    def posteriors(self, norm: str) -> dict[str, float]:
        """Each category's calibrated posterior for a normalised text (from the priors alone, tempered, if no
        feature is known)."""
        return dict(zip(self.categories, self._posteriors(self._known(norm)), strict=True))

    def guess(self, norm: str) -> Guess | None:
        """The category a normalised text's words are most like, or None when it has no known feature."""
        known = self._known(norm)
        if not known:
            return None
        posteriors = self._posteriors(known)
        top = max(range(len(posteriors)), key=posteriors.__getitem__)
        # The words that weighed most for the category: how much likelier each is there than on average.
        weight = {
            f: self._log[f][top] - sum(self._log[f]) / len(self.categories)
            for f in known
            if not f[0].isdigit() and not _PLAIN_WORDS.issuperset(f.split(" "))
        }
        words = tuple(sorted((f for f in weight if weight[f] > 0), key=lambda f: (-weight[f], f))[:EVIDENCE])
        return Guess(self.categories[top], posteriors[top], words)

    def judge(self, norm: str) -> Guess | None:
        """The guess when it is at least a lead, of a category the words may give (``sure`` when it is
        at least the threshold); else None."""
        guess = self.guess(norm)
        if guess is None or guess.category in NEVER_GUESSED or guess.probability < self.lead:
            return None
        return replace(guess, sure=guess.probability >= self.threshold)


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
        "temperature": TEMPERATURE,
        "threshold": THRESHOLD,
        "lead": LEAD,
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
