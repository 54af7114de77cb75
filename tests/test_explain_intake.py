"""`explain` takes any pasted text: a leading `--`, a `--` separator, quotes, several lines — in the terminal
(a real `sesbot` process) and from Slack (`parse(text)`, and a signed slash command over real HTTP).

The transcript lines are sendmail's DSN format (savemail.c: "   ----- Transcript of session follows -----",
"... while talking to <host>.:"); the sample is sisimai's (github.com/sisimai/rb-sisimai,
test/public/message-test.rb, `RFC822B`), cut to the lines that name the failed recipient.
"""

from __future__ import annotations

import base64
import json
import os
import quopri
import subprocess
import sys
from email.header import Header

import pytest

from bot.commands import CommandContext, execute, parse, parse_argv, resolve
from bot.deps import Deps
from bot.findings import Answer
from bot.pasted import question_in
from bot.store import Store
from bot.target import UsageError
from peers.slack import post_signed, slash_command_body
from tests.conftest import SIGNING_SECRET, make_settings

SESBOT = [sys.executable, "-m", "sesbot"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TRANSCRIPT = "----- Transcript of session follows -----\n... 550 5.1.1 <x@example.com>... User unknown"
SENDMAIL = (
    "   ----- Transcript of session follows -----\n"
    "... while talking to mx-1.neko.example.jp.:\n"
    ">>> DATA\n"
    "550 5.1.1 <kijitora@example.net>... User unknown\n"
    "<<< 503 need RCPT command [data]"
)
SPAMHAUS = "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"


def sesbot(*args: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SESBOT_", "SLACK_", "AWS_REGION", "PORT"))}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, base.get("PYTHONPATH")]))
    return subprocess.run([*SESBOT, *args], env=base, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def chat(tmp_path, store: Store):
    """Run a `/ses ...` line the way the Slack front end does: `parse`, then the engine."""
    deps = Deps.build(make_settings(tmp_path), store=store)

    def run(text: str) -> Answer:
        answer = execute(CommandContext(deps=deps, via="slack"), parse(text))
        assert isinstance(answer, Answer)
        return answer

    return run


# --- the terminal ----------------------------------------------------------------------------------


def test_a_transcript_after_a_double_dash_separator_is_explained_in_the_terminal_as_json() -> None:
    out = sesbot("explain", "--", TRANSCRIPT, "--json")

    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["category"] == "unknown_user"


def test_a_transcript_that_starts_with_dashes_needs_no_separator_quoted_or_not() -> None:
    quoted = sesbot("explain", SENDMAIL)
    unquoted = sesbot("explain", *TRANSCRIPT.split())

    for out in (quoted, unquoted):
        assert (out.returncode, out.stderr) == (0, "")
        assert "Category: unknown_user" in out.stdout


def test_json_is_still_a_flag_at_either_end_of_the_pasted_text() -> None:
    for args in (("explain", SPAMHAUS, "--json"), ("explain", "--json", SPAMHAUS)):
        out = sesbot(*args)

        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["category"] == "ip_blocklist"


def test_the_terminal_keeps_the_lines_of_a_pasted_text_and_drops_only_the_flags_around_it() -> None:
    inv = parse_argv(["explain", "--json", "--", SENDMAIL, "--json"])

    assert (inv.rest, inv.json, inv.flags) == (SENDMAIL.strip(), True, set())


# --- Slack -----------------------------------------------------------------------------------------


def test_a_slack_line_with_a_double_dash_separator_is_explained(chat) -> None:
    answer = chat("explain -- 550 5.1.1 <x@example.com>... User unknown")

    assert answer.data["category"] == "unknown_user"


def test_a_multi_line_slack_paste_keeps_its_lines_and_is_explained(chat) -> None:
    inv = parse(f"explain\n{SENDMAIL}\r\n\r\n\r\n")

    assert inv.rest == SENDMAIL.strip()
    assert chat(f"explain\n{SENDMAIL}").data["category"] == "unknown_user"
    assert chat(f"explain -- {TRANSCRIPT}").data["category"] == "unknown_user"


def test_typographic_quotes_and_slack_escaping_are_undone_before_the_text_is_read(chat) -> None:
    slack_escaped = "&lt;<mailto:x@example.com|x@example.com>&gt;... User unknown"
    inv = parse(f"explain \u201c550 5.1.1 {slack_escaped}\u201d")

    assert inv.rest == "550 5.1.1 <x@example.com>... User unknown"
    assert parse("explain \u2018550 5.1.1 the user doesn\u2019t exist\u2019").rest == "550 5.1.1 the user doesn't exist"
    assert chat(f"explain \u201c{TRANSCRIPT}\u201d --json").data["category"] == "unknown_user"


def test_a_text_pasted_in_a_code_block_is_read_without_the_fence(chat) -> None:
    assert parse(f"explain ```{SENDMAIL}```").rest == SENDMAIL.strip()
    assert chat(f"explain ```\n{SENDMAIL}\n```").data["category"] == "unknown_user"


# --- a pasted MIME bounce: base64, quoted-printable, RFC 2047 -------------------------------------------
BLOCKED = "<ops@blocked.example>: host mx.blocked.example said: 554 5.7.1 Client host [54.240.8.1] blocked using"
BLOCKED += " zen.spamhaus.org\n"
UNKNOWN = "<jane@example.net>: host mx.example.net said: 550 5.1.1 <jane@example.net>: user unknown\n"
COPY = (
    "DKIM-Signature: v=1; a=rsa-sha256; d=amazonses.com; s=224i4yxa5dv7c2xz3womw6peuasteono\n"
    "From: Shop <shop@example.com>\nSubject: Deals\n\n"
    "Our IP was blocked using zen.spamhaus.org last year; not any more. Mailbox full? Not ours.\n"
)


# BLOCKED, quoted-printable with soft line breaks, one inside the list's name.
QP_BLOCKED = (
    "<ops@blocked.example>: host mx.blocked.example said: 554 5.7.1 Client host [54.240.8.1]=\n"
    " blocked using zen.spam=\nhaus.org\n"
)


def b64(text: str) -> str:
    return base64.encodebytes(text.encode()).decode()


def report(encoded: str, *, encoding: str = "base64", returned: str = "", headers: bool = True) -> str:
    """A Postfix-style RFC 3464 bounce: the reason as a text part, `encoded` in `encoding`, the delivery
    status, and the returned message (`returned`, a whole part) if any; with `headers`, the bounce's own."""
    text = (
        "--B0UND.1700000000/mail.example.org\n"
        f"Content-Description: Notification\nContent-Type: text/plain; charset=utf-8\n"
        f"Content-Transfer-Encoding: {encoding}\n\n{encoded}\n"
        "--B0UND.1700000000/mail.example.org\n"
        "Content-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mail.example.org\n\nFinal-Recipient: rfc822; x@example.net\nAction: failed\n\n"
        + returned
        + "--B0UND.1700000000/mail.example.org--\n"
    )
    if not headers:
        return "This is the mail system at host mail.example.org.\n\n" + text
    return (
        "From: MAILER-DAEMON@mail.example.org (Mail Delivery System)\n"
        "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B0UND.1700000000/mail.example.org"\n'
        "\nThis is a MIME-encapsulated message.\n\n" + text
    )


def returned_part() -> str:
    """The returned copy as a message/rfc822 part, its body in base64."""
    head, body = COPY.split("\n\n", 1)
    return (
        "--B0UND.1700000000/mail.example.org\n"
        "Content-Description: Undelivered Message\nContent-Type: message/rfc822\n\n"
        f"{head}\nContent-Transfer-Encoding: base64\n\n{b64(body)}\n"
    )


@pytest.mark.parametrize(
    ("encoding", "encoded"), [("base64", b64(BLOCKED)), ("quoted-printable", QP_BLOCKED)], ids=["base64", "qp"]
)
@pytest.mark.parametrize("headers", [True, False], ids=["whole message", "pasted from below its headers"])
def test_a_bounce_whose_reason_is_a_base64_or_quoted_printable_part_is_explained_by_it(
    chat, encoding, encoded, headers
) -> None:
    assert quopri.decodestring(QP_BLOCKED).decode() == BLOCKED
    answer = chat("explain " + report(encoded, encoding=encoding, headers=headers))

    assert (answer.data["category"], answer.data["blocklist"]) == ("ip_blocklist", "zen.spamhaus.org")


def test_a_bounce_whose_returned_message_is_base64_is_explained_by_its_reason_not_the_decoded_copy(chat) -> None:
    assert chat("explain " + report(b64(UNKNOWN), returned=returned_part())).data["category"] == "unknown_user"


def test_a_copy_of_the_mail_inside_a_base64_reason_part_is_cut_once_decoded(chat) -> None:
    gmail = "** Address not found **\n\n" + UNKNOWN + "\n----- Original message -----\n\n" + COPY

    assert chat("explain " + report(b64(gmail))).data["category"] == "unknown_user"


@pytest.mark.parametrize(
    "encoded",
    [
        "=?UTF-8?B?" + base64.b64encode(b"Mailbox full, quota exceeded").decode() + "?=",
        Header("Mailbox full, quota exceeded", "utf-8").encode(),  # =?utf-8?q?Mailbox_full=2C_quota_exceeded?=
    ],
    ids=["B", "Q"],
)
def test_an_rfc_2047_encoded_word_in_a_reply_is_decoded_before_it_is_read(chat, encoded) -> None:
    assert chat(f"explain 552 {encoded}").data["category"] == "mailbox_full"


def test_the_message_shortcut_explains_a_bounce_whose_reason_is_base64() -> None:
    question = question_in(report(b64(BLOCKED)))

    assert question is not None and question.command.startswith("explain ")


def test_json_alone_is_not_a_text_to_explain(chat) -> None:
    with pytest.raises(UsageError, match="paste the bounce or error text after `explain`"):
        chat("explain --json")


def test_a_signed_slash_command_with_a_multi_line_transcript_is_answered_in_the_acknowledgement(
    bot_server, slack_peer
) -> None:
    body = slash_command_body(f"explain --\n{SENDMAIL}", response_url=slack_peer.response_url("explain"))

    status, raw = post_signed(bot_server.events_url, body, SIGNING_SECRET)

    assert status == 200
    assert "unknown_user" in raw


# --- other commands keep their flags -------------------------------------------------------------


def test_other_commands_still_refuse_flags_they_do_not_take() -> None:
    with pytest.raises(UsageError, match="`why` does not take --bogus"):
        resolve(parse("why --bogus a@example.com"), "slack")
    with pytest.raises(UsageError, match="`why` does not take --bogus"):
        resolve(parse_argv(["why", "--bogus", "a@example.com"]), "cli")


def test_a_double_dash_ends_the_flags_of_any_command() -> None:
    for inv in (parse("why -- --json"), parse_argv(["why", "--", "--json"])):
        assert (inv.args, inv.json, inv.flags, inv.rest) == (["--json"], False, set(), "--json")
    assert parse("why a@example.com --json").json
