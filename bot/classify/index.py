"""The rule index: which of the ~390 rule patterns a text can possibly match, found in one regex pass.

This module's one job: build the :class:`Index` the engine matches with.  Trying every pattern of
rules.toml in order on every bounce works but is slow on the ingest hot path, and most patterns
cannot match a given text at all.  So each *alternative* (one pattern of one rule) gets a **gate**:
a set of literal substrings, one of which every match of the pattern must contain -- read off the
parsed regex: a run of literal characters outside any optional part is in every match, and a
required group of alternatives is covered by one substring per branch; the fewest, longest
candidates win (none shorter than 3 characters).  One pass of a trie-shaped regex finds the gates a
text contains; only the alternatives they select (plus the few without a gate: the status-code
rules) are tried, still in table order.  The first match -- the answer -- is therefore the one
trying every rule in order gives; tests/test_classify_index.py checks that on the corpus.

The regex is parsed with CPython's own parser, ``re._parser``: private, but present with this
interface on every CPython the project supports (3.11+; typeshed describes it under its old public
name ``sre_parse``).  It runs once, at import.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from bot.classify.data import Rule

if TYPE_CHECKING:  # typeshed has stubs for these modules under their pre-3.11 names only
    import sre_constants as _constants
    import sre_parse as _parser
else:
    from re import _constants, _parser

# The repeat operators; a repeat with a minimum of 1 or more keeps its body's gate.
_REPEATS = (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT)
_MIN_GATE = 3  # a gate word shorter than this selects too many alternatives to be worth scanning for


@dataclass(frozen=True)
class Alt:
    """One pattern of one rule, compiled, with its gate."""

    rule: Rule
    regex: re.Pattern[str]
    gate: frozenset[str] | None  # None: always tried


class Index(NamedTuple):
    """The alternatives in table order, and how to find the ones a text may match.

    ``scan.findall(text)`` gives the gates present in the text; OR-ing ``masks[gate]`` for each,
    and ``always``, gives a bit mask over ``alts`` (bit i = ``alts[i]``) of the alternatives to try.
    """

    alts: tuple[Alt, ...]
    scan: re.Pattern[str]
    masks: dict[str, int]
    always: int


def gate_of(pattern: str) -> frozenset[str] | None:
    """Substrings one of which every match of ``pattern`` contains (None: no such set found).

    >>> sorted(gate_of(r"(?:black|block)[ -]?list"))
    ['list']
    >>> sorted(gate_of(r"spam|junk"))
    ['junk', 'spam']
    >>> gate_of(r"[a-z]+@[a-z]+") is None  # no literal run of 3 characters that every match holds
    True
    """
    return _gate_of_items(_parser.parse(pattern).data)


def _gate_of_items(items: Iterable[tuple[Any, Any]]) -> frozenset[str] | None:
    # (op, av) pairs of the parse tree. av's shape depends on op: a code point for LITERAL,
    # (group, add_flags, del_flags, body) for SUBPATTERN, (None, [branch, ...]) for BRANCH,
    # (min, max, body) for the repeats.
    best: frozenset[str] | None = None

    def consider(candidate: frozenset[str] | None) -> None:
        nonlocal best
        if not candidate or min(len(c) for c in candidate) < _MIN_GATE:
            return
        key = (len(candidate), -min(len(c) for c in candidate))
        if best is None or key < (len(best), -min(len(c) for c in best)):
            best = candidate

    run: list[str] = []
    for op, av in items:
        if op is _constants.LITERAL:
            run.append(chr(av))
            continue
        consider(frozenset(["".join(run)]) if run else None)
        run = []
        if op is _constants.SUBPATTERN:
            consider(_gate_of_items(av[-1]))
        elif op is _constants.BRANCH:
            branches = [_gate_of_items(b) for b in av[1]]
            if all(branches):
                consider(frozenset[str]().union(*(b for b in branches if b)))
        elif op in _REPEATS and av[0] >= 1:
            consider(_gate_of_items(av[2]))
    consider(frozenset(["".join(run)]) if run else None)
    return best


_Trie = dict[str, "_Trie"]


def trie_regex(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, factored as a trie so each position tries few branches."""
    root: _Trie = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: _Trie) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(root)


def build(rules: Iterable[Rule]) -> Index:
    """Flatten the rules into alternatives (in priority order) and index them by gate.

    The scan is a trie regex inside a lookahead, so overlapping hits are all seen.  The longest
    gate starting at a position stands for every gate that is a prefix of it, so each gate's mask
    also holds the alternatives of its prefixes.
    """
    alts: list[Alt] = []
    by_gate: dict[str, int] = {}
    always = 0
    for rule in rules:
        for alt in rule.alts:
            gate = gate_of(alt) if rule.on == "text" else None
            bit = 1 << len(alts)
            alts.append(Alt(rule, re.compile(alt), gate))
            if gate is None:
                always |= bit
            else:
                for g in {g.strip() or g for g in gate}:
                    by_gate[g] = by_gate.get(g, 0) | bit
    if not by_gate:
        return Index(tuple(alts), re.compile("(?!)"), {}, always)
    gates = sorted(by_gate)
    closure = {g: functools.reduce(int.__or__, (by_gate[p] for p in gates if g.startswith(p)), 0) for g in gates}
    first = "".join(sorted({re.escape(g[0]) for g in gates}))
    scan = re.compile(f"(?=[{first}])(?=({trie_regex(gates)}))")
    return Index(tuple(alts), scan, closure, always)
