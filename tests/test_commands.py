"""The command grammar shared by Slack and the terminal."""

from __future__ import annotations

import pytest

from bot.commands import UnknownCommand, parse, parse_argv, resolve
from bot.target import UsageError, parse_domain, parse_email


def test_an_empty_command_is_help():
    assert parse("   ").name == "help"


def test_json_flag_is_understood_anywhere():
    inv = parse("why a@example.com --json")
    assert (inv.name, inv.args, inv.json, inv.rest) == ("why", ["a@example.com"], True, "a@example.com")


def test_terminal_arguments_keep_their_shell_quoting():
    inv = parse_argv(["explain", "554 5.7.1 blocked using zen.spamhaus.org", "--json"])
    assert (inv.args, inv.rest, inv.json) == (
        ["554 5.7.1 blocked using zen.spamhaus.org"],
        "554 5.7.1 blocked using zen.spamhaus.org",
        True,
    )


def test_smart_quotes_from_slack_do_not_break_parsing():
    assert parse("template welcome \u201c{}\u201d").args == ["welcome", "{}"]


def test_unknown_commands_are_refused_with_their_name():
    with pytest.raises(UnknownCommand, match="unknown command `frobnicate`"):
        resolve(parse("frobnicate"), "slack")


def test_an_oversized_command_is_refused_in_one_line():
    with pytest.raises(UsageError, match="limit is 4000"):
        parse("why " + "a" * 5000)


def test_slack_mailto_links_are_understood():
    assert parse_email("<mailto:Jo@Example.COM|Jo@Example.COM>") == "Jo@example.com"


@pytest.mark.parametrize("bad", ["", "   ", "not-an-address", "a@b", "x" * 5000, "a@@b.com", "<@U123>"])
def test_bad_addresses_get_a_one_line_answer(bad):
    with pytest.raises(UsageError) as err:
        parse_email(bad)
    assert "\n" not in str(err.value)
    assert len(str(err.value)) < 200


def test_domains_accept_slack_links_and_addresses():
    assert parse_domain("<http://Example.com|Example.com>") == "example.com"
    assert parse_domain("someone@mail.example.com") == "mail.example.com"
