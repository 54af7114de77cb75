"""What a pasted message asks: explain the bounce or SES error text in it, or diagnose the email addresses and
SES message ids it contains (at most `why`'s three). Used by the "Explain with sesbot" message shortcut.

A text the classifier recognises (any category but "other") is explained, even when it names addresses: a
pasted bounce names its recipient, and what the bounce says is the answer asked for. Otherwise the
addresses and message ids in it, in the order written, are diagnosed; with neither there is nothing to ask.

    >>> question_in("554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org").command[:8]
    'explain '
    >>> question_in("jane@example.net and joe@example.org never got the invoice").command
    'why jane@example.net joe@example.org'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.classify import classify
from bot.classify.mime import bounce_words
from bot.commands import tidy_text
from bot.commands.explain import MAX_TEXT
from bot.commands.why import MAX_TARGETS
from bot.target import UsageError, WhyTarget, parse_message_id, parse_why_target

# The words of a text that may be a target: cut at white space, at the brackets and quotes written around
# an address, and at `:` (`To:jane@example.net`), as prose ends an address. Each word
# is then judged by the parsers `why` uses, so an address is what `why` takes -- a local part and a domain in
# any script (`jöhn@bücher.de`) -- and nothing this module would have to define again.
_WORDS = re.compile(r"[^\s<>|,;:()\[\]\"`]+")
_AROUND = "*_~'"  # Slack's bold, italic and strike marks, and a quote left on one side
_AFTER = ".!?"  # the end of the sentence the word closes


@dataclass(frozen=True)
class Question:
    """The command line to run (`explain <text>` or `why <targets>`) and how many targets the text named."""

    command: str
    found: int = 0  # targets in the text; more than `MAX_TARGETS` means only the first ones are diagnosed


def targets_in(text: str) -> list[WhyTarget]:
    """The email addresses and SES message ids in `text`, in the order written, each once."""
    targets: list[WhyTarget] = []
    for m in _WORDS.finditer(text):
        word = m.group().strip(_AROUND).rstrip(_AFTER).removesuffix("'s").strip(_AROUND)
        target = parse_message_id(word) if "-" in word else None
        if target is None:
            if "@" not in word[1:]:
                continue
            try:
                target = parse_why_target(word)
            except UsageError:
                continue
        if target not in targets:
            targets.append(target)
    return targets


def question_in(text: str) -> Question | None:
    """What to ask about a message's text; None when it holds no bounce text, address or message id."""
    tidy = tidy_text(text or "")[:MAX_TEXT].strip()
    if not tidy:
        return None
    if classify(bounce_words(tidy)[:MAX_TEXT]).category != "other":
        return Question(f"explain {tidy}")
    targets = targets_in(tidy)
    if not targets:
        return None
    return Question("why " + " ".join(t.value for t in targets[:MAX_TARGETS]), found=len(targets))
