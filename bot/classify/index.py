"""The rule index: which of the ~390 rule patterns a text can possibly match, found in one regex pass.

This module's one job: build the :class:`Index` the engine matches with.  Trying every pattern of
rules.toml in order on every bounce works but is slow on the ingest hot path, and most patterns
cannot match a given text at all.  So each *alternative* (one pattern of one rule) gets a **gate**:
a set of literal substrings, one of which every match of the pattern must contain -- read off the
parsed regex: a run of literal characters outside any optional part is in every match, and a
required group of alternatives is covered by one substring per branch; of the candidates, the set
least likely to occur in a text wins (each word of n characters counts 4**-n: longer words are
rarer), none shorter than 3 characters.  One pass of a trie-shaped regex finds the gates a
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

from bot.classify.data import Rule, compiled

if TYPE_CHECKING:  # typeshed has stubs for these modules under their pre-3.11 names only
    import sre_constants as _constants
    import sre_parse as _parser
else:
    from re import _constants, _parser

# The repeat operators; a repeat with a minimum of 1 or more keeps its body's gate.
_REPEATS = (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT)
_MIN_GATE = 3  # a gate word shorter than this selects too many alternatives to be worth scanning for


# Words most bounce texts contain (each is in at least a tenth of the sisimai corpus texts): as a gate they
# select their alternative for nearly every text, so they count as if they were one character long.
_COMMON = frozenset(
    {"mail", "user", "host", "unknown", "recipient", "message", "address", "error", "rejected", "jected"}
    | {"server", "command", "mailbox", "domain"}
)


def _cost(gate: frozenset[str]) -> tuple[float, int]:
    """How often a gate is expected to select its alternative: each word of n characters counts 4**-n
    (a longer word is rarer; a word of :data:`_COMMON` counts 1/4; one that starts with a digit or
    punctuation 16 times more), so two 6-letter words beat one 3-letter word; then the fewer words."""
    return sum(_word_cost(word) for word in gate), len(gate)


def _word_cost(word: str) -> float:
    if word.strip() in _COMMON:
        return 0.25
    # A gate starting with a digit or punctuation makes the scan try every such position (codes, IPs).
    return 4.0 ** -len(word) * (1 if word[0].isalpha() or word[0] == " " else 16)


@dataclass(frozen=True)
class Alt:
    """One pattern of one rule, compiled, with its gate."""

    rule: Rule
    regex: re.Pattern[str]
    gate: frozenset[str] | None  # None: always tried


class Index(NamedTuple):
    """The alternatives in table order, and how to find the ones a text may match.

    ``scan.findall(text)`` gives the gates present in the text that start with an ASCII character,
    and ``scan_other.findall(text)`` the others (only a text that is not all ASCII can hold them):
    :meth:`gates`.  OR-ing ``masks[gate]`` for each, and ``always``, gives a bit mask over ``alts``
    (bit i = ``alts[i]``) of the alternatives to try.  (Two scans because a character class with
    characters beyond Latin-1 makes the regex engine test every position the slow way.)
    """

    alts: tuple[Alt, ...]
    scan: re.Pattern[str]
    masks: dict[str, int]
    always: int
    scan_other: re.Pattern[str] | None = None

    def gates(self, text: str) -> set[str]:
        """The gates ``text`` contains (see the class docstring)."""
        found = set(self.scan.findall(text))
        if self.scan_other is not None and not text.isascii():
            found.update(self.scan_other.findall(text))
        return found


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
        if best is None or _cost(candidate) < _cost(best):
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


# Characters by how often they occur in bounce texts (English letters and the punctuation of codes).
_FREQUENT = " etaoinsrhdlcumpfgywb.vk-x:jqz0123456789"


def _by_frequency(item: tuple[str, _Trie]) -> tuple[int, str]:
    ch = item[0]
    return (_FREQUENT.find(ch) % (len(_FREQUENT) + 1), ch)  # find's -1 (not listed) sorts last


def trie_regex(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, factored as a trie so each position tries few branches."""
    root: _Trie = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: _Trie) -> str:
        # Siblings start with different characters, so their order never changes what matches; the most
        # frequent characters first make the usual position fail or match after fewer comparisons.
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items(), key=_by_frequency) if ch]
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
            alts.append(Alt(rule, compiled(alt), gate))
            if gate is None:
                always |= bit
            else:
                for g in {g.strip() or g for g in gate}:
                    by_gate[g] = by_gate.get(g, 0) | bit
    gates = sorted(by_gate)
    # A gate's prefixes start with the same character, so each scan's closure stays within its own words.
    closure = {g: functools.reduce(int.__or__, (by_gate.get(g[:n], 0) for n in range(1, len(g) + 1))) for g in gates}
    ascii_gates = [g for g in gates if g[0].isascii()]
    other = [g for g in gates if not g[0].isascii()]
    return Index(tuple(alts), _scan(ascii_gates), closure, always, _scan(other) if other else None)


def _scan(gates: list[str]) -> re.Pattern[str]:
    """One pass over a text finding every gate in it, overlapping ones included."""
    if not gates:
        return re.compile("(?!)")
    first = "".join(sorted({re.escape(g[0]) for g in gates}))
    return re.compile(f"(?=[{first}])(?=({trie_regex(gates)}))")
