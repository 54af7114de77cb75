"""Read the classifier's data files and check them: ``rules.toml``, ``wording.toml``, ``blocklists.toml``.

This module's one job: turn the TOML files beside it into typed, immutable tables -- the blocklists
(:class:`Blocklist`), the ordered rules (:class:`Rule`) and the wording (kind -> summary, fix) -- and
refuse a malformed file with a :class:`DataError` that names the file and the entry, e.g.::

    rules.toml, rule 12 (policy/ses_paused): pattern 2 does not compile: missing ), unterminated subpattern

so a slip in the data fails at import (and so the first test run), not on a bounce in production.
Checked: the structure and every field's type, unknown keys (a misspelt optional key would otherwise be
ignored), the closed vocabularies (categories, kinds with wording, extractors, blocklist kinds,
``match_on``), that every pattern compiles, and that the wording uses only the placeholders the engine
fills. The vocabularies are passed in by the engine; this module knows no category or extractor itself.
"""

from __future__ import annotations

import functools
import re
import string
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.classify.words import RULE_ID as WORDS_RULE

# (canonical list name, delisting URL): which blocklist a text names.
Found = tuple[str, str | None]
# Reads the normalised text (or the status codes) and says which list it names, if any.
Extractor = Callable[[str], Found | None]


class DataError(ValueError):
    """A data file of the classifier is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Blocklist:
    """A DNS blocklist (or provider block) a bounce text can name."""

    name: str  # canonical name, as Classification.blocklist reports it
    kind: str  # "ip" or "domain"
    pattern: str  # regex over the lower-cased text: the names, zones and URLs bounces use
    delist_url: str | None
    note: str = ""
    fix: str | None = None  # the list's own advice, instead of the kind's (a closed list, a list of networks)


@dataclass(frozen=True)
class Operator:
    """A DNSBL operator, by the DNS suffixes of its zones: the codes that refuse a query on any of them,
    and the zones (by suffix) that serve another zone's return-code table."""

    name: str
    zones: tuple[str, ...]  # a zone equal to or under one of these is the operator's
    refused: Mapping[str, str]  # return code -> what it means ("this list will not answer you")
    tables: Mapping[str, str] = field(default_factory=dict)  # zone suffix -> the zone whose table it serves

    def runs(self, zone: str) -> bool:
        return any(zone == z or zone.endswith("." + z) for z in self.zones)


# The tiers, in the order the engine tries them (a rule's tier follows from ``match_on`` and ``generic``):
# specific wording, then decisive status codes, then generic wording, then catch-all status codes.
TIERS: tuple[str, ...] = ("words", "codes", "generic words", "generic codes")


@dataclass(frozen=True)
class Rule:
    """One entry of rules.toml: if one of ``alts`` matches, the text is ``category``.

    ``id`` is the rule's stable name (stored with every event it classifies: never reuse or rename one).
    ``on`` says what the alternatives are matched against: the normalised lower-case text
    ("text"), or the enhanced status codes found ("codes": " 5.1.1 4.7.1 ").  ``generic`` marks weak
    wording (or a catch-all code) that only decides when nothing more specific matched.  ``extract``
    names the blocklist; ``source`` says where the wording the patterns match comes from.
    """

    category: str
    kind: str  # key into the wording
    alts: tuple[str, ...]
    on: str = "text"
    extract: Extractor | None = None
    source: str = ""
    id: str = ""
    generic: bool = False

    @property
    def tier(self) -> int:
        """Index into :data:`TIERS`: the engine tries every rule of a tier before the next tier's."""
        return (self.on == "codes") + 2 * self.generic


def read(name: str) -> dict[str, Any]:
    """The parsed TOML file ``name`` of this package (installed beside it as package data)."""
    text = (Path(__file__).parent / name).read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise DataError(f"{name}: not valid TOML: {e}") from e


def load_blocklists(doc: Mapping[str, Any], file: str = "blocklists.toml") -> tuple[Blocklist, ...]:
    """The ``[[blocklist]]`` entries of ``doc``, in file order."""
    out: list[Blocklist] = []
    names: set[str] = set()
    for n, entry in enumerate(_entries(doc, "blocklist", file, also=("operator",)), 1):
        where = _where(file, f"blocklist {n}", entry.get("name"))
        _keys(entry, {"name", "kind", "pattern"}, {"delist_url", "note", "fix"}, where)
        name = _text(entry, "name", where)
        kind = _choice(entry, "kind", ("ip", "domain"), where)
        pattern = _pattern(_text(entry, "pattern", where), "pattern", where)
        url = _text(entry, "delist_url", where) if "delist_url" in entry else None
        note = _text(entry, "note", where) if "note" in entry else ""
        fix = _text(entry, "fix", where) if "fix" in entry else None
        if name.lower() in names:
            raise DataError(f"{where}: a second entry with this name")
        names.add(name.lower())
        out.append(Blocklist(name, kind, pattern, url, note, fix))
    return tuple(out)


def load_operators(doc: Mapping[str, Any], file: str = "blocklists.toml") -> tuple[Operator, ...]:
    """The ``[[operator]]`` entries of ``doc`` (the blocklists file), in file order."""
    out: list[Operator] = []
    for n, entry in enumerate(_entries(doc, "operator", file, also=("blocklist",)), 1):
        where = _where(file, f"operator {n}", entry.get("name"))
        _keys(entry, {"name", "zones", "refused"}, {"tables"}, where)
        zones = entry["zones"]
        if not isinstance(zones, list) or not zones or not all(isinstance(z, str) and z.strip() for z in zones):
            raise DataError(f"{where}: zones must be a list of non-empty strings")
        refused, tables = entry["refused"], entry.get("tables", {})
        for key, table in (("refused", refused), ("tables", tables)):
            if not isinstance(table, dict) or not all(isinstance(v, str) and v.strip() for v in table.values()):
                raise DataError(f"{where}: {key} must be a table of non-empty strings")
        out.append(
            Operator(
                _text(entry, "name", where),
                tuple(z.lower().rstrip(".") for z in zones),
                dict(refused),
                {k.lower().rstrip("."): v.lower().rstrip(".") for k, v in tables.items()},
            )
        )
    return tuple(out)


def load_wording(
    doc: Mapping[str, Any],
    *,
    required: Collection[str],
    placeholders: Mapping[str, Collection[str]],
    file: str = "wording.toml",
) -> dict[str, tuple[str, str]]:
    """kind -> (summary, fix) from the ``[kind.*]`` tables of ``doc``, ``[snippets]`` pasted in.

    ``required``: the kinds that must have wording.  ``placeholders``: the ``{fields}`` the engine
    fills for a kind; any other kind must have none.
    """
    unknown = set(doc) - {"snippets", "kind"}
    if unknown:
        raise DataError(f"{file}: unknown top-level key(s) {sorted(unknown)} (expected [snippets] and [kind.*])")
    snippets = doc.get("snippets", {})
    kinds = doc.get("kind")
    if not isinstance(snippets, dict) or not all(isinstance(v, str) for v in snippets.values()):
        raise DataError(f"{file}: [snippets] must be a table of strings")
    if not isinstance(kinds, dict) or not kinds:
        raise DataError(f"{file}: no [kind.*] tables")
    out: dict[str, tuple[str, str]] = {}
    for kind, entry in kinds.items():
        where = f"{file}, [kind.{kind}]"
        if not isinstance(entry, dict):
            raise DataError(f"{where}: must be a table with summary and fix")
        _keys(entry, {"summary", "fix"}, set(), where)
        allowed = set(placeholders.get(kind, ()))
        summary, fix = (
            _fill_snippets(_text(entry, key, where), snippets, allowed, f"{where} {key}") for key in ("summary", "fix")
        )
        out[kind] = (summary, fix)
    missing = [k for k in required if k not in out]
    if missing:
        raise DataError(f"{file}: no wording for kind(s) {missing}, which the classifier uses")
    return out


def load_rules(
    doc: Mapping[str, Any],
    *,
    categories: Collection[str],
    kinds: Collection[str],
    extractors: Mapping[str, Extractor],
    blocklists: tuple[Blocklist, ...],
    file: str = "rules.toml",
) -> tuple[Rule, ...]:
    """The ``[[rule]]`` entries of ``doc``, in file order (the order is the meaning).

    ``kinds``: those with wording; ``extractors``: the names ``extract`` may use; ``blocklists``:
    where ``blocklist_patterns`` takes its patterns.  The file must list the rules tier by tier
    (:data:`TIERS`), so that reading it top to bottom is the order the engine tries them in; ids are
    unique, and the prefix ``hint.`` and the id ``words`` are the engine's (a decision made by a structured
    field, a guess from the words). The patterns are loosened as the ``[match]`` table says
    (:class:`Matching`).
    """
    out: list[Rule] = []
    ids: set[str] = set()
    matching = load_matching(doc, file)
    rules_doc = {key: value for key, value in doc.items() if key != "match"}
    for n, entry in enumerate(_entries(rules_doc, "rule", file), 1):
        where = _where(file, f"rule {n}", entry.get("category"), entry.get("kind"))
        _keys(
            entry,
            {"id", "category", "kind", "source"},
            {"patterns", "blocklist_patterns", "match_on", "extract", "generic"},
            where,
        )
        rule_id = _text(entry, "id", where)
        if not _ID_RE.fullmatch(rule_id) or rule_id.startswith("hint.") or rule_id == WORDS_RULE:
            raise DataError(
                f"{where}: id {rule_id!r} must be lower-case letters, digits, '.', '-' or '_',"
                f" not start with 'hint.' and not be {WORDS_RULE!r} (the guess from the words)"
            )
        if rule_id in ids:
            raise DataError(f"{where}: a second rule with id {rule_id!r}")
        ids.add(rule_id)
        generic = entry.get("generic", False)
        if not isinstance(generic, bool):
            raise DataError(f"{where}: generic must be true or false, not {generic!r}")
        category = _choice(entry, "category", tuple(categories), where)
        kind = _text(entry, "kind", where)
        if kind not in kinds:
            raise DataError(f"{where}: kind {kind!r} has no wording (no [kind.{kind}] in wording.toml)")
        source = _text(entry, "source", where)
        on = _choice(entry, "match_on", ("text", "codes"), where) if "match_on" in entry else "text"
        extract = None
        if "extract" in entry:
            extract = extractors[_choice(entry, "extract", tuple(extractors), where)]
        if ("patterns" in entry) == ("blocklist_patterns" in entry):
            raise DataError(f"{where}: give either patterns or blocklist_patterns")
        if "patterns" in entry:
            raw = entry["patterns"]
            if not isinstance(raw, list) or not raw:
                raise DataError(f"{where}: patterns must be a non-empty list of strings")
            alts = tuple(_pattern(p, f"pattern {i}", where, matching) for i, p in enumerate(raw, 1))
        else:
            list_kind = _choice(entry, "blocklist_patterns", ("ip", "domain"), where)
            alts = tuple(bl.pattern for bl in blocklists if bl.kind == list_kind)
        rule = Rule(category, kind, alts, on, extract, source, rule_id, generic)
        if out and rule.tier < out[-1].tier:
            raise DataError(
                f"{where}: a {TIERS[rule.tier]!r} rule after a {TIERS[out[-1].tier]!r} rule"
                f" (the file lists the tiers in the order they are tried: {', '.join(TIERS)})"
            )
        out.append(rule)
    return tuple(out)


_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")


# --------------------------------------------------------------------------------------------
# Field checks
# --------------------------------------------------------------------------------------------


def _where(file: str, entry: str, *names: object) -> str:
    """How an error names an entry: "rules.toml, rule 12 (policy/ses_paused)"."""
    if names and all(isinstance(name, str) and name for name in names):
        return f"{file}, {entry} ({'/'.join(str(name) for name in names)})"
    return f"{file}, {entry}"


def _entries(doc: Mapping[str, Any], key: str, file: str, also: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The ``[[key]]`` tables of ``doc``; `also`: the other top-level keys the file may hold."""
    unknown = set(doc) - {key, *also}
    if unknown:
        raise DataError(f"{file}: unknown top-level key(s) {sorted(unknown)} (expected [[{key}]] entries)")
    entries = doc.get(key)
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise DataError(f"{file}: expected a list of [[{key}]] tables")
    return entries


def _keys(entry: Mapping[str, Any], required: set[str], optional: set[str], where: str) -> None:
    missing = sorted(required - set(entry))
    if missing:
        raise DataError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(entry) - required - optional)
    if unknown:
        raise DataError(
            f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(required | optional))})"
        )


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"{where}: {key} must be a non-empty string, not {value!r}")
    return value


def _choice(entry: Mapping[str, Any], key: str, allowed: tuple[str, ...], where: str) -> str:
    value = _text(entry, key, where)
    if value not in allowed:
        raise DataError(f"{where}: unknown {key} {value!r} (one of: {', '.join(allowed)})")
    return value


@functools.cache
def compiled(pattern: str) -> re.Pattern[str]:
    """A rule or blocklist pattern, compiled once per process: checking the files compiles each, and the
    engine's index needs them again (``re``'s own cache holds 512, fewer than the tables have)."""
    return re.compile(pattern)


@dataclass(frozen=True)
class Matching:
    """How the words of every rule pattern are matched (rules.toml's ``[match]`` table).

    ``optional``: words a pattern may write that the text may leave out -- the articles, since receivers drop
    them ("not valid RFC 5321 address"); written as a word of its own (after a space, so a word precedes it,
    and before a word or a group). One written inside a group, ``(?:an? )``, stays required.
    ``same``: a word of a pattern that also matches its equivalents ("message" also "messages"), wherever
    the pattern has it as a whole word. Neither touches a character class, a lookaround (a lookbehind must
    keep its width), a group name or a comment.

    >>> m = Matching(optional=("the", "an?", "an", "a"), same={"rejected": ("refused",)})
    >>> m.loosen("does not have an? account")
    'does not have (?:an? )?account'
    >>> m.loosen("(?:is|was) not a valid [a-z ]+ address")
    '(?:is|was) not (?:a )?valid [a-z ]+ address'
    >>> m.loosen("recipient (?:address )?rejected")
    'recipient (?:address )?(?:rejected|refused)'
    >>> m.loosen("(?<!rejected )x [^]rejected] (?P<rejected>a) does not have (?:an? )account")
    '(?<!rejected )x [^]rejected] (?P<rejected>a) does not have (?:an? )account'
    """

    optional: tuple[str, ...] = ()
    same: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def loosen(self, pattern: str) -> str:
        spans = _protected_spans(pattern)
        outside = functools.partial(_outside, spans)
        if self.optional:
            pattern = self._optional_re.sub(lambda m: f"(?:{m.group(1)} )?" if outside(m) else m.group(0), pattern)
            spans = _protected_spans(pattern)
            outside = functools.partial(_outside, spans)
        if self.same:
            pattern = self._same_re.sub(
                lambda m: "(?:" + "|".join((m.group(1), *self.same[m.group(1)])) + ")" if outside(m) else m.group(0),
                pattern,
            )
        return pattern

    @functools.cached_property
    def _optional_re(self) -> re.Pattern[str]:
        words = "|".join(re.escape(w) for w in sorted(self.optional, key=len, reverse=True))
        return re.compile(rf"(?<= )({words}) (?=[\w(])")

    @functools.cached_property
    def _same_re(self) -> re.Pattern[str]:
        words = "|".join(re.escape(w) for w in sorted(self.same, key=len, reverse=True))
        # a whole word: not after a letter or an escape (but after "\b"), not before a letter or a quantifier
        return re.compile(rf"(?:(?<=\\b)|(?<![\w\\]))({words})(?![\w?*+{{])")


def _protected_spans(pattern: str) -> list[tuple[int, int]]:
    """Where ``pattern`` holds no words to loosen: its character classes (characters, not words), its
    lookarounds (a lookbehind must keep a fixed width), group names, conditionals and comments."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
        elif ch == "[":
            end = _class_end(pattern, i)
            spans.append((i, end))
            i = end + 1
        elif pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            end = _group_end(pattern, i)
            spans.append((i, end))
            i = end + 1
        elif pattern.startswith(("(?P<", "(?P=", "(?#", "(?("), i):
            end = pattern.find(">" if pattern.startswith("(?P<", i) else ")", i)
            spans.append((i, n if end < 0 else end))
            i = n if end < 0 else end + 1
        else:
            i += 1
    return spans


def _class_end(pattern: str, start: int) -> int:
    """The index of the ``]`` closing the character class opened at ``start`` ("[]..." and "[^]..." hold a
    literal ``]`` first)."""
    i = start + 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i


def _group_end(pattern: str, start: int) -> int:
    """The index of the ``)`` closing the group opened at ``start``."""
    depth, i = 0, start
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _class_end(pattern, i) + 1
            continue
        if pattern.startswith("(?#", i):  # a comment's parentheses are not groups
            end = pattern.find(")", i)
            i = len(pattern) if end < 0 else end + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(pattern)


def _outside(spans: list[tuple[int, int]], m: re.Match[str]) -> bool:
    return not any(a < m.start() < b for a, b in spans)


def load_matching(doc: Mapping[str, Any], file: str = "rules.toml") -> Matching:
    """The ``[match]`` table of ``doc`` (no table: every pattern is matched as written)."""
    table = doc.get("match", {})
    where = f"{file}, [match]"
    if not isinstance(table, dict):
        raise DataError(f"{where}: expected a table")
    _keys(table, set(), {"optional", "same"}, where)
    optional = table.get("optional", [])
    if not isinstance(optional, list) or not all(isinstance(w, str) and w.strip() == w and w for w in optional):
        raise DataError(f"{where}: optional must be a list of words, not {optional!r}")
    same = table.get("same", {})
    if not isinstance(same, dict):
        raise DataError(f"{where}: same must be a table of word = [equivalents]")
    for word, also in same.items():
        if (
            not re.fullmatch(r"\w+", word)
            or not isinstance(also, list)
            or not all(isinstance(a, str) and re.fullmatch(r"\w+(?: \w+)*", a) for a in also)
        ):
            raise DataError(f"{where}: same.{word} must be a word = a list of words, not {also!r}")
    return Matching(tuple(optional), {word: tuple(also) for word, also in same.items()})


def _pattern(value: object, what: str, where: str, matching: Matching | None = None) -> str:
    if not isinstance(value, str) or not value:
        raise DataError(f"{where}: {what} must be a non-empty string, not {value!r}")
    pattern = matching.loosen(value) if matching else value
    try:
        compiled(pattern)
    except re.error as e:
        raise DataError(f"{where}: {what} does not compile: {e} ({value!r})") from e
    return pattern


def _fill_snippets(text: str, snippets: Mapping[str, str], allowed: set[str], where: str) -> str:
    """``text`` with each ``{snippet}`` pasted in; refuses a placeholder the engine does not fill."""
    for name, snippet in snippets.items():
        text = text.replace("{" + name + "}", snippet)
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as e:
        raise DataError(f"{where}: bad braces ({e}); a literal brace is written {{{{ or }}}}") from e
    stray = sorted(fields - allowed)
    if stray:
        raise DataError(
            f"{where}: placeholder(s) {stray} are neither snippets nor filled for this kind"
            f" (filled here: {sorted(allowed) or 'none'})"
        )
    return text
