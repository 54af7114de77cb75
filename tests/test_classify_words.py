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
from tests.test_classify import corpus_records, dev_texts, is_dev

DATA = Path(__file__).parent / "data" / "bounces"
MODEL = Path(__file__).parent.parent / "bot" / "classify" / words.MODEL_FILE

# Replies whose words are plainly one category's, in an order no rule reads (word lists: a natural reply with
# these words would match a rule, which comes first).
GUESSED = [
    ("full quota mailbox disk over", "mailbox_full"),
    ("unavailable client list block zen using is in listed removal", "ip_blocklist"),
]
# A reply no rule reads whose words point to the right category, not surely enough to give it.
LEAD = ("the remote server dropped the connection before the message was sent", "connection")


def test_the_shipped_counts_are_exactly_what_the_dev_texts_give() -> None:
    rows = dev_texts()
    shipped = json.loads(MODEL.read_text("utf-8"))
    retrained = words.train(((t, normalise(t), c) for t, c in rows), about=shipped["about"])

    assert shipped["trained_on"] == {"texts": len(rows), "sha256": words.digest(rows)}
    assert shipped == retrained, "retrain: .venv/bin/python benchmarks/classify.py --train-words"


def test_no_held_out_text_is_among_the_texts_the_counts_come_from() -> None:
    trained = {t for t, _ in dev_texts()}
    held_out = [json.loads(line)["text"] for line in (DATA / "providers-holdout.jsonl").read_text("utf-8").splitlines()]
    held_out += [r["diagnosticcode"] for r in corpus_records() if not is_dev(r["diagnosticcode"])]
    shared = len(trained.intersection(held_out))  # a count, so a failure prints no held-out text

    assert len(held_out) > 500
    assert shared == 0


@pytest.mark.parametrize(("text", "category"), GUESSED)
def test_a_reply_no_rule_knows_gets_the_category_its_words_are_like_said_to_be_a_guess(
    text: str, category: str
) -> None:
    result = classify(text)

    assert (result.category, result.rule, result.confidence) == (category, "words", "low")
    assert result.summary.startswith("No rule knows this wording. Its words ('")
    assert "so this is a guess from the words:" in result.summary
    assert result.fix.endswith("any URL in it are the best leads.")
    guess = words.model().guess(normalise(text))
    assert guess is not None and guess.words
    assert all(repr(w) in result.summary for w in guess.words)


def test_a_reply_whose_words_point_to_a_category_not_surely_enough_stays_other_and_names_it_as_a_lead() -> None:
    text, category = LEAD
    guess = words.model().guess(normalise(text))
    result = classify(text)

    assert guess is not None and guess.category == category
    assert words.LEAD <= guess.probability < words.THRESHOLD
    assert (result.category, result.rule, result.confidence, result.lead) == ("other", None, "low", category)
    assert result.summary.startswith("The reply does not match a known failure pattern. Its words ('")
    assert f"most like those of {category} replies ({guess.probability:.0%} by the words alone)" in result.summary
    assert result.as_dict()["lead"] == category


@pytest.mark.parametrize(
    "text",
    [
        "554 Service unavailable",  # generic: its words are as often a blocklist as a server fault
        "host mx1.example.net[192.0.2.10] said: 451 Server error (in reply to RCPT TO command)",
        "Remote Server returned '554 Service currently unavailable'",
    ],
)
def test_a_reply_whose_words_are_like_no_category_in_particular_stays_other_without_a_lead(text: str) -> None:
    guess = words.model().guess(normalise(text))
    result = classify(text)

    assert guess is not None and guess.probability < words.LEAD  # the words were weighed, and found wanting
    assert (result.category, result.rule, result.confidence, result.lead) == ("other", None, "low", None)
    assert "lead" not in result.as_dict()


def test_a_reply_with_no_word_the_labelled_texts_have_has_no_guess_at_all() -> None:
    assert words.model().guess(normalise("xyzzy plugh")) is None
    assert classify("xyzzy plugh").lead is None


def test_the_words_never_say_suppressed_since_only_ses_suppresses() -> None:
    model = words.model()
    suppressed = [
        t for t, c in dev_texts() if c == "suppressed" and (g := model.guess(normalise(t))) and g.probability > 0.5
    ]

    assert suppressed  # SES's own suppression texts: the words alone would say suppressed
    for text in suppressed:
        assert model.judge(normalise(text)) is None
    assert "suppressed" in words.NEVER_GUESSED


@pytest.mark.parametrize(
    "wrapped",
    [
        "host mx.example.org[192.0.2.7] said: {} (in reply to RCPT TO command)",  # Postfix
        "SMTP error from remote mail server after RCPT TO:<someone@example.org>: {}",  # Exim
        "host mx.example.org [192.0.2.7]: {}",  # Exim
        "Remote host said: {}",  # qmail
        "Remote Server returned '{}'",  # Exchange
        "Diagnostic-Code: smtp; {} - gsmtp",  # a DSN field, Google's signature
        "{} [AM0PR01MB1234.eurprd01.prod.exchangelabs.com]",  # Microsoft's host in brackets
        "{} Please try again later. For more information see https://help.example.com/smtp",
    ],
)
def test_what_an_mta_wraps_around_a_reply_is_not_evidence(wrapped: str) -> None:
    model = words.model()
    for text, _ in [*GUESSED, LEAD]:
        assert model.guess(normalise(wrapped.format(text))) == model.guess(normalise(text))


def test_a_bracketed_word_is_the_receivers_code_and_is_kept() -> None:
    assert "tss04" in words.features(normalise("421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred"))
    assert "5.7.1" in words.features(normalise("550 [5.7.1] blocked"))
    assert "192.0.2.1" not in " ".join(words.features(normalise("blocked [192.0.2.1] [IPv6:2001:db8::1]")))


def test_a_rule_or_a_decisive_ses_field_always_comes_before_the_guess() -> None:
    text, _ = GUESSED[0]

    assert classify(text, bounce_subtype="MessageTooLarge").rule == "hint.subtype.messagetoolarge"
    assert classify(text, delay_type="IPFailure").rule == "hint.delay.ipfailure"
    assert classify(f"{text}: 550 5.1.1 user unknown").rule == "unknown-user"
    # a rule whose category is "other" (a receiver's own failure) wins too
    assert classify(f"{text}. Internal server error").rule == "receiver-error"


def test_a_generic_ses_field_decides_nothing_so_the_guess_comes_before_it() -> None:
    text, category = GUESSED[0]

    assert classify(text, delay_type="RecipientServerError").category == category
    lead = classify(LEAD[0], delay_type="RecipientServerError")
    assert (lead.rule, lead.lead) == ("hint.delay.recipientservererror", LEAD[1])


def test_a_guessed_blocklist_is_worded_without_a_list_name() -> None:
    result = classify(GUESSED[1][0])

    assert (result.category, result.rule, result.blocklist) == ("ip_blocklist", "words", None)
    assert "the reply does not name the list" in result.summary
    assert "{" not in result.summary + result.fix


def test_the_evidence_is_words_of_the_labelled_texts_so_no_slack_markup_a_remote_server_wrote_gets_through() -> None:
    model = words.model()
    vocabulary = set(json.loads(MODEL.read_text("utf-8"))["counts"])
    assert not [f for f in vocabulary if set(f) & set("<>&*_~`|")]
    for text, _ in [*GUESSED, LEAD]:
        guess = model.guess(normalise(f"<!channel> *{text}* `{text}` <https://evil.example|x> _x_"))
        assert guess is not None and set(guess.words) <= vocabulary


def test_explain_json_names_the_words_guess_as_the_rule(tmp_path: Path, store: Store) -> None:
    deps = Deps.build(make_settings(tmp_path), store=store)
    text, category = GUESSED[0]
    answer = execute(CommandContext(deps=deps, via="cli"), parse_argv(["explain", text, "--json"]))

    assert isinstance(answer, Answer)
    assert (answer.data["category"], answer.data["rule"], answer.data["confidence"]) == (category, "words", "low")
    assert "Rule: words (confidence low)" in answer.sections[0][1]
