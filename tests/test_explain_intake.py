"""`explain` takes any pasted text: a leading `--`, a `--` separator, quotes, several lines — in the terminal
(a real `sesbot` process) and from Slack (`parse(text)`, and a signed slash command over real HTTP).

The transcript lines are sendmail's DSN format (savemail.c: "   ----- Transcript of session follows -----",
"... while talking to <host>.:"); the sample is sisimai's (github.com/sisimai/rb-sisimai,
test/public/message-test.rb, `RFC822B`), cut to the lines that name the failed recipient.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.commands import CommandContext, execute, parse, parse_argv, resolve
from bot.deps import Deps
from bot.findings import Answer
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
