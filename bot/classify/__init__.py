"""The bounce classifier: a bounce, delivery-delay or SES error text -> a cause a person can act on.

``classify(text, status=..., bounce_type=..., bounce_subtype=..., delay_type=...)`` gives a
:class:`Classification`: a category from :data:`CATEGORIES`, the blocklist the text names (with its
delisting URL), a one-sentence summary and the fix, and which rule decided and how sure it is.
Pure and memoised; it runs on the ingest hot path.

What lives here
---------------
- ``rules.toml``: the rule table -- id, category, wording kind, patterns, blocklist extractor, and
  where each rule's wording comes from; words first, codes only to break ties or when there are no
  words (four tiers, in file order).  The order is the meaning; its comments say why.
- ``wording.toml``: what a person reads for each kind (summary, fix).
- ``blocklists.toml``: the known DNS blocklists, their patterns and delisting URLs.
- ``data.py``: reads those three files and checks them (a malformed entry fails the import, named).
- ``blocklists.py``: :data:`BLOCKLISTS`, :func:`blocklist_named`, :func:`delist_url_for`, and the
  extractors that say which list a text names.
- ``index.py``: the gate index that lets a text skip the rules it cannot match (speed only).
- ``words.py`` and ``words.json``: the guess from the words for a text no rule matched (naive Bayes
  over the labelled dev texts; ``words.json`` holds its counts, written by ``benchmarks/classify.py
  --train-words``).
- ``engine.py``: applies the rules and the structured hints, words the result, memoises.
- ``returned.py`` and ``mime.py``: a pasted bounce as `explain` reads it -- the copy of the mail it returns cut,
  its base64, quoted-printable and RFC 2047 encoded words decoded.

Imports: the standard library and ``bot.*`` only -- never ``handlers`` (the engine knows no Slack).
Everything public is re-exported here; import from ``bot.classify``, not from its modules.
"""

from __future__ import annotations

from bot.classify.blocklists import BLOCKLISTS, OPERATORS, blocklist_named, delist_url_for, operator_of
from bot.classify.data import Blocklist, Operator
from bot.classify.engine import CATEGORIES, Classification, cache_clear, cache_info, classify, wording

__all__ = [
    "BLOCKLISTS",
    "CATEGORIES",
    "OPERATORS",
    "Blocklist",
    "Classification",
    "Operator",
    "blocklist_named",
    "cache_clear",
    "cache_info",
    "classify",
    "delist_url_for",
    "operator_of",
    "wording",
]
