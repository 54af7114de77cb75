"""Tests for bot.classify.index (the gate index) and bot.classify.data (the rule files it indexes).

The index is an optimisation only: a gate is a set of words every match of a pattern contains, so
skipping the patterns whose gate words a text lacks can never change the first rule that matches.
These tests check that directly: on the gates themselves, and by classifying every corpus text
(tests/data/bounces) both through the index and by trying every rule in order.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.classify import data, engine, index
from bot.classify.blocklists import BLOCKLISTS, EXTRACTORS
from bot.classify.data import DataError, Found, Rule

DATA = Path(__file__).parent / "data" / "bounces"
# The sisimai corpus and the development part of the providers' texts; the providers' held-out part is only
# ever read by benchmarks/classify.py.
BOUNCES = [*sorted(DATA.glob("sisimai-*.jsonl")), DATA / "providers-dev.jsonl"]


def corpus() -> list[tuple[str, str]]:
    """(diagnostic text, status) of every record of the files in BOUNCES."""
    out = []
    for path in BOUNCES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            status = record.get("deliverystatus") or record.get("expected_status") or record.get("status") or ""
            out.append((record.get("diagnosticcode") or record.get("text") or "", status))
    return out


# ------------------------------------------------------------------------------------------
# Gates
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "gate"),
    [
        ("blocked using", {"blocked using"}),
        (r"(?:black|block)[ -]?list", {"list"}),  # one word outside the optional parts beats two
        (r"spam|junk", {"spam", "junk"}),  # one word per branch
        (r"spam (?:is )?detected", {"detected"}),  # the optional "is " is in no gate; the longer word wins
        (r"(?:helo|ehlo) (?:rejected|refused)", {"helo", "ehlo"}),  # two rare words beat " re(?:jected|fused)"
        (r"(?:invalid|illegal) recipient", {"nvalid", "llegal"}),  # "recipient" is in most bounces
        (r"(?:mailbox|inbox) full", {" full"}),
        (r"(?:over)+ quota", {" quota"}),
        (r"[a-z]+@[a-z]+", None),  # no literal run every match holds
        (r"\d{3}", None),
        (r"ab|cdef", None),  # a branch without a word of 3 characters: no gate
    ],
)
def test_a_gate_is_the_least_likely_set_of_words_one_of_which_every_match_contains(
    pattern: str, gate: set[str] | None
) -> None:
    assert index.gate_of(pattern) == (frozenset(gate) if gate is not None else None)


def test_every_match_of_a_gated_pattern_in_the_corpus_contains_one_of_its_gate_words() -> None:
    norms = {engine.normalise(text) for text, _ in corpus()}
    checked = 0
    for alt in index.build(engine._RULES).alts:
        if alt.gate is None:
            continue
        for norm in norms:
            for m in alt.regex.finditer(norm):
                assert any(word in m.group(0) for word in alt.gate), (alt.regex.pattern, m.group(0), alt.gate)
                checked += 1
    assert checked > 500  # the corpus exercises the table, not a handful of patterns


def test_only_the_status_code_rules_are_tried_on_every_text() -> None:
    built = index.build(engine._RULES)
    always = [alt for i, alt in enumerate(built.alts) if built.always >> i & 1]
    assert always == [alt for alt in built.alts if alt.gate is None]
    assert {alt.rule.on for alt in always} == {"codes"}


def test_the_scan_finds_every_gate_word_a_text_contains_even_overlapping_ones() -> None:
    built = index.build([Rule("other", "other", ("abc", "bcd", "abcde"))])
    assert sorted(built.scan.findall("xabcdex")) == ["abcde", "bcd"]
    mask = 0
    for gate in built.scan.findall("xabcdex"):
        mask |= built.masks[gate]
    assert mask == 0b111  # "abcde" stands for its prefix "abc" too


def test_a_table_without_gates_still_builds_and_tries_everything() -> None:
    built = index.build([Rule("other", "other", (r" [45]\.1\.1 ",), on="codes")])
    assert built.always == 1
    assert built.scan.findall("anything") == []


def test_trie_regex_matches_exactly_its_words() -> None:
    words = ["spam", "spamhaus", "spf", "dkim", "a.b"]
    regex = re.compile(f"(?:{index.trie_regex(words)})$")
    for word in words:
        assert regex.match(word)
    for other in ["spa", "spamh", "sp", "dki", "axb", ""]:
        assert not regex.match(other)


# ------------------------------------------------------------------------------------------
# The indexed classifier == trying every rule in order
# ------------------------------------------------------------------------------------------


def brute_force_match(norm: str, codes: str) -> tuple[Rule, Found | None] | None:
    """engine._match_text without the index: every pattern of every rule, in table order."""
    for rule in engine._RULES:
        hay = codes if rule.on == "codes" else norm
        # data.compiled: each pattern compiled once (re's own cache holds 512, fewer than the table has)
        if hay and any(data.compiled(alt).search(hay) for alt in rule.alts):
            found = None
            if rule.extract is not None:
                found = rule.extract(norm) or (rule.extract(codes) if rule.on == "codes" else None)
            return rule, found
    return None


def test_the_indexed_classifier_and_trying_every_rule_in_order_agree_on_every_corpus_text() -> None:
    records = corpus()
    assert len(records) > 800
    differ = []
    for i, (text, status) in enumerate(records):
        # What engine._classify hands the matcher for classify(text, status=status).
        norm = engine.normalise(engine._cut(text))
        codes = engine._codes(norm, status[:64])
        indexed, brute = engine._match_text(norm, codes), brute_force_match(norm, codes)
        if indexed != brute:
            differ.append((i, indexed and indexed[0].id, brute and brute[0].id))
    assert differ == []  # (record number, rule id through the index, rule id trying every rule)


# ------------------------------------------------------------------------------------------
# The data files: a malformed entry is refused, named
# ------------------------------------------------------------------------------------------


def load_rules(*entries: dict[str, object]) -> tuple[Rule, ...]:
    return data.load_rules(
        {"rule": list(entries)},
        categories=engine.CATEGORIES,
        kinds=engine._MESSAGES,
        extractors=EXTRACTORS,
        blocklists=BLOCKLISTS,
    )


GOOD = {"id": "dns", "category": "dns", "kind": "dns", "source": "observed", "patterns": ["nxdomain"]}


def test_the_shipped_rules_load_in_file_order_with_their_sources() -> None:
    rules = data.load_rules(
        data.read("rules.toml"),
        categories=engine.CATEGORIES,
        kinds=engine._MESSAGES,
        extractors=EXTRACTORS,
        blocklists=BLOCKLISTS,
    )
    assert rules == engine._RULES
    assert rules[0].category == "suppressed"
    assert all(rule.source.strip() for rule in rules)
    assert rules[-1].on == "codes"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"category": "spam"}, "rule 2 (spam/dns): unknown category 'spam'"),
        ({"kind": "nxdomain"}, "rule 2 (dns/nxdomain): kind 'nxdomain' has no wording"),
        ({"kind": 3}, "rule 2: kind must be a non-empty string, not 3"),
        ({"extract": "first_url"}, "rule 2 (dns/dns): unknown extract 'first_url'"),
        ({"patterns": ["ok", "(unclosed"]}, "rule 2 (dns/dns): pattern 2 does not compile"),
        ({"patterns": []}, "rule 2 (dns/dns): patterns must be a non-empty list"),
        ({"match_on": "headers"}, "rule 2 (dns/dns): unknown match_on 'headers'"),
        ({"source": ""}, "rule 2 (dns/dns): source must be a non-empty string"),
        ({"blocklist_patterns": "ip"}, "rule 2 (dns/dns): give either patterns or blocklist_patterns"),
        ({"pattern": ["x"]}, "rule 2 (dns/dns): unknown key(s) pattern"),
    ],
)
def test_a_malformed_rule_is_refused_with_an_error_naming_it(change: dict[str, object], message: str) -> None:
    with pytest.raises(DataError) as raised:
        load_rules(GOOD, {**GOOD, "id": "dns-2", **change})
    assert str(raised.value).startswith("rules.toml, " + message), str(raised.value)


def test_a_rule_id_must_be_unique_and_well_formed() -> None:
    with pytest.raises(DataError, match=r"^rules.toml, rule 2 \(dns/dns\): a second rule with id 'dns'"):
        load_rules(GOOD, GOOD)
    for bad in ("Dns", "hint.dns", "dns rule", "-dns", "words"):
        with pytest.raises(DataError, match=r"^rules.toml, rule 1 \(dns/dns\): id .* must be lower-case"):
            load_rules({**GOOD, "id": bad})


def load_with_match(match: object, *entries: dict[str, object]) -> tuple[Rule, ...]:
    return data.load_rules(
        {"match": match, "rule": list(entries)},
        categories=engine.CATEGORIES,
        kinds=engine._MESSAGES,
        extractors=EXTRACTORS,
        blocklists=BLOCKLISTS,
    )


def test_the_match_table_makes_articles_optional_and_a_word_match_its_equivalents() -> None:
    rule = {
        **GOOD,
        "patterns": [
            "does not have an? account",
            "recipient (?:address )?rejected",
            "[a ]rejected",
            "not have (?:an? )(?:[^;]{1,40}? )?account",  # an article in a group stays required
            "(?<!rejected )x|[^]rejected ]|(?P<rejected>a)(?(rejected)b)|(?#rejected)",  # no words in these
            "(?=(?#a comment's ( is not a group)x) rejected",
        ],
    }
    (loaded,) = load_with_match({"optional": ["an?", "the"], "same": {"rejected": ["refused"]}}, rule)
    assert loaded.alts == (
        "does not have (?:an? )?account",
        "recipient (?:address )?(?:rejected|refused)",
        "[a ](?:rejected|refused)",
        "not have (?:an? )(?:[^;]{1,40}? )?account",
        "(?<!rejected )x|[^]rejected ]|(?P<rejected>a)(?(rejected)b)|(?#rejected)",
        "(?=(?#a comment's ( is not a group)x) (?:rejected|refused)",
    )
    (plain,) = load_rules(rule)  # no [match]: every pattern as written
    assert plain.alts == tuple(rule["patterns"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("match", "message"),
    [
        ("the", "expected a table"),
        ({"optional": "the"}, "optional must be a list of words"),
        ({"optional": [" the"]}, "optional must be a list of words"),
        ({"same": {"rejected": "refused"}}, "same.rejected must be a word = a list of words"),
        ({"same": {"re[jl]ected": ["refused"]}}, "same.re[jl]ected must be a word"),
        ({"also": {}}, "unknown key(s) also"),
    ],
)
def test_a_malformed_match_table_is_refused_with_an_error_naming_it(match: object, message: str) -> None:
    with pytest.raises(DataError) as raised:
        load_with_match(match, GOOD)
    assert str(raised.value).startswith("rules.toml, [match]: " + message), str(raised.value)


def test_the_file_must_list_the_tiers_in_the_order_they_are_tried() -> None:
    code = {**GOOD, "id": "code.dns", "match_on": "codes", "patterns": [" 5\\.1\\.2 "]}
    weak = {**GOOD, "id": "dns-words", "generic": True}
    assert [r.tier for r in load_rules(GOOD, code, weak)] == [0, 1, 2]
    with pytest.raises(DataError, match=r"rule 2 \(dns/dns\): a 'words' rule after a 'codes' rule"):
        load_rules(code, GOOD)
    with pytest.raises(DataError, match=r"rule 2 \(dns/dns\): a 'codes' rule after a 'generic words' rule"):
        load_rules(weak, code)
    with pytest.raises(DataError, match=r"generic must be true or false"):
        load_rules({**GOOD, "generic": "yes"})


def test_the_shipped_rules_are_in_tier_order_with_unique_ids() -> None:
    tiers = [rule.tier for rule in engine._RULES]
    assert tiers == sorted(tiers)
    assert set(tiers) == {0, 1, 2, 3}
    ids = [rule.id for rule in engine._RULES]
    assert len(set(ids)) == len(ids)


def test_a_rule_without_its_required_fields_is_refused() -> None:
    with pytest.raises(DataError, match=r"^rules.toml, rule 1: missing category, id, source$"):
        load_rules({"kind": "dns", "patterns": ["x"]})


def test_wording_with_a_placeholder_the_engine_does_not_fill_is_refused() -> None:
    doc = {"kind": {"dns": {"summary": "No {domain}.", "fix": "Fix it."}}}
    with pytest.raises(DataError, match=r"wording.toml, \[kind.dns\] summary: placeholder\(s\) \['domain'\]"):
        data.load_wording(doc, required=["dns"], placeholders={})


def test_wording_snippets_are_pasted_in_and_a_missing_kind_is_refused() -> None:
    doc = {"snippets": {"tail": "Then retry."}, "kind": {"dns": {"summary": "On {bl}.", "fix": "Fix it. {tail}"}}}
    assert data.load_wording(doc, required=["dns"], placeholders={"dns": ["bl"]}) == {
        "dns": ("On {bl}.", "Fix it. Then retry.")
    }
    with pytest.raises(DataError, match=r"no wording for kind\(s\) \['other'\]"):
        data.load_wording(doc, required=["dns", "other"], placeholders={"dns": ["bl"]})


def test_a_blocklist_with_an_unknown_kind_is_refused_by_name() -> None:
    doc = {"blocklist": [{"name": "Example", "kind": "url", "pattern": "example"}]}
    with pytest.raises(DataError, match=r"^blocklists.toml, blocklist 1 \(Example\): unknown kind 'url'"):
        data.load_blocklists(doc)


def test_a_dnsbl_operator_whose_refusal_codes_are_not_a_table_of_texts_is_refused_by_name() -> None:
    doc = {"operator": [{"name": "Example", "zones": ["example.org"], "refused": {"127.0.0.1": 1}}]}
    with pytest.raises(DataError, match=r"^blocklists.toml, operator 1 \(Example\): refused must be a table"):
        data.load_operators(doc)
