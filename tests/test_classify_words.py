"""The words guess (bot/classify/words.py): what the classifier says when no rule knows a reply's wording.

Naive Bayes over the labelled dev texts' words decides only where the answer would otherwise be ``other``,
says it is a guess (rule ``words``, confidence ``low``, the words that weighed most), and leaves a reply
whose words are not clearly like one category's as ``other``. Its counts are data trained on the dev texts
alone; the first test checks the shipped file is exactly what they give.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.classify import classify, words
from bot.classify.engine import normalise
from bot.commands import CommandContext, execute, parse_argv
from bot.deps import Deps
from bot.findings import Answer
from bot.store import Store
from tests.conftest import make_settings
from tests.test_classify import SISIMAI_TO_CATEGORIES, corpus_records, is_dev

DATA = Path(__file__).parent / "data" / "bounces"
MODEL = Path(__file__).parent.parent / "bot" / "classify" / words.MODEL_FILE

# Replies no rule matches, whose words are plainly those of one category's replies.
GUESSED = [
    ("Sender address has no valid MX", "policy"),
    ("your sending server appears in the cbl", "ip_blocklist"),  # the CBL, not named as a known list
]


def _training_rows() -> list[tuple[str, str]]:
    """(text, category) in the order benchmarks/classify.py --train-words reads them: providers dev, then the
    dev half of sisimai's labels under the first category each reason maps to."""
    rows = [json.loads(line) for line in (DATA / "providers-dev.jsonl").read_text("utf-8").splitlines() if line]
    out = [(r["text"], r["category"]) for r in rows]
    for r in corpus_records():
        accepted = SISIMAI_TO_CATEGORIES.get(r["reason"])
        if accepted and is_dev(r["diagnosticcode"]):
            out.append((r["diagnosticcode"], accepted[0]))
    return out


def test_the_shipped_counts_are_exactly_what_the_dev_texts_give() -> None:
    rows = _training_rows()
    shipped = json.loads(MODEL.read_text("utf-8"))
    retrained = words.train(((t, normalise(t), c) for t, c in rows), about=shipped["about"])

    assert shipped["trained_on"] == {"texts": len(rows), "sha256": words.digest(rows)}
    assert shipped == retrained, "retrain: .venv/bin/python benchmarks/classify.py --train-words"


def test_no_held_out_text_is_among_the_texts_the_counts_come_from() -> None:
    trained = {t for t, _ in _training_rows()}
    held_out = [json.loads(line)["text"] for line in (DATA / "providers-holdout.jsonl").read_text("utf-8").splitlines()]
    held_out += [r["diagnosticcode"] for r in corpus_records() if not is_dev(r["diagnosticcode"])]

    assert held_out
    assert not trained.intersection(held_out)


@pytest.mark.parametrize(("text", "category"), GUESSED)
def test_a_reply_no_rule_knows_gets_the_category_its_words_are_like_said_to_be_a_guess(
    text: str, category: str
) -> None:
    result = classify(text)

    assert (result.category, result.rule, result.confidence) == (category, "words", "low")
    assert result.summary.startswith("No rule knows this wording. Its words ('")
    assert "so this is a guess (" in result.summary
    assert result.fix.endswith("any URL in it are the best leads.")
    guess = words.model().guess(normalise(text))
    assert guess is not None and guess.words
    assert all(repr(w) in result.summary for w in guess.words)


@pytest.mark.parametrize(
    "text",
    [
        "554 Service unavailable",  # generic: its words are as often a blocklist as a server fault
        "xyzzy plugh",  # no word the labelled texts have
        "host mx1.example.net[192.0.2.10] said: 451 Server error (in reply to RCPT TO command)",
        "Remote Server returned '554 Service currently unavailable'",
    ],
)
def test_a_reply_whose_words_are_not_clearly_one_categorys_stays_other(text: str) -> None:
    result = classify(text)

    assert (result.category, result.rule, result.confidence) == ("other", None, "low")


def test_an_mta_wrapper_around_a_reply_is_not_evidence() -> None:
    model = words.model()
    bare = model.guess(normalise("Sender address has no valid MX"))
    wrapped = model.guess(
        normalise("host mx.example.org[192.0.2.7] said: Sender address has no valid MX (in reply to MAIL FROM command)")
    )

    assert bare == wrapped


def test_a_rule_or_a_decisive_ses_field_always_comes_before_the_guess() -> None:
    text, _ = GUESSED[0]

    assert classify(text, bounce_subtype="MailboxFull").rule == "hint.subtype.mailboxfull"
    assert classify(text, delay_type="IPFailure").rule == "hint.delay.ipfailure"
    assert classify(f"{text}: 550 5.1.1 user unknown").rule != "words"


def test_a_guessed_blocklist_is_worded_without_a_list_name() -> None:
    result = classify(GUESSED[1][0])

    assert (result.category, result.rule, result.blocklist) == ("ip_blocklist", "words", None)
    assert "the reply does not name the list" in result.summary
    assert "{" not in result.summary + result.fix


def test_the_evidence_is_only_letters_so_nothing_a_remote_server_wrote_can_become_slack_markup() -> None:
    for text, _ in GUESSED:
        guess = words.model().guess(normalise(f"<!channel> *{text}* `{text}` <https://evil.example|x>"))
        assert guess is not None
        assert all(not set(w) & set("<>*`|&!~_") for w in guess.words)


def test_explain_json_names_the_words_guess_as_the_rule(tmp_path: Path, store: Store) -> None:
    deps = Deps.build(make_settings(tmp_path), store=store)
    text, category = GUESSED[0]
    answer = execute(CommandContext(deps=deps, via="cli"), parse_argv(["explain", text, "--json"]))

    assert isinstance(answer, Answer)
    assert (answer.data["category"], answer.data["rule"], answer.data["confidence"]) == (category, "words", "low")
    assert "Rule: words (confidence low)" in answer.sections[0][1]
