"""The command grammar shared by Slack and the terminal."""

from __future__ import annotations

import re

import pytest

from bot.commands import CommandContext, UnknownCommand, execute, parse, parse_argv, resolve
from bot.target import UsageError, parse_domain, parse_email, parse_why_target


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


@pytest.mark.parametrize("bad", ["a\x01b@example.com", "a\x00b@example.com", "a\x7fb@example.com"])
def test_an_address_with_a_control_character_is_no_address(bad):
    with pytest.raises(UsageError, match="is not an email address"):
        parse_email(bad)
    with pytest.raises(UsageError, match="is not an email address"):
        parse_why_target(bad)


def test_a_domain_is_read_as_dns_reads_it_with_or_without_the_roots_dot_and_in_its_ascii_form():
    assert parse_email("user@Example.com.") == "user@example.com"
    assert parse_why_target("user@example.com.").value == "user@example.com"
    assert parse_domain("example.com.") == "example.com"
    assert parse_email("user@bücher.de") == "user@xn--bcher-kva.de"
    assert parse_why_target("@Bücher.de").value == "@xn--bcher-kva.de"
    assert parse_domain("bücher.de") == "xn--bcher-kva.de"


@pytest.mark.parametrize(
    ("typed", "ascii"),
    [
        ("jane@faß.de", "jane@xn--fa-hia.de"),  # IDNA 2003 made it fass.de, another domain
        ("jane@ςσ.gr", "jane@xn--3xac.gr"),
        ("jane@Faß.DE", "jane@xn--fa-hia.de"),
    ],
)
def test_an_idn_domain_is_read_by_idna_2008_so_eszett_and_final_sigma_keep_their_own_domain(typed, ascii):
    assert parse_email(typed) == ascii
    assert parse_domain(typed.partition("@")[2]) == ascii.partition("@")[2]


def test_invisible_characters_are_taken_out_of_an_address_and_the_target_names_them():
    assert parse_email("jane\u200b@exa\u00admple.net\ufeff") == "jane@example.net"
    target = parse_why_target("jane\u200b@exa\u00admple.net\u200b")
    assert (target.value, target.removed) == ("jane@example.net", ("U+200B", "U+00AD"))
    assert parse_why_target("@exa\u2060mple.net").value == "@example.net"


def test_an_empty_command_name_asks_for_a_command_rather_than_naming_an_empty_one():
    with pytest.raises(UnknownCommand, match="give a command"):
        resolve(parse_argv([""]), "cli")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("incident ²", "give the incident's number"),  # str.isdigit says yes, int() says no
        ("incident 99999999999999999999999", "there is no incident #99999999999999999999999"),
        ("chart --region eu-west-1 --days abc", "`--days` takes a whole number from 1 to 30"),
        ("chart --region eu-west-1 --days ²", "`--days` takes a whole number from 1 to 30"),
        ("chart --region <!x>", "`--region` takes an AWS region"),
        ("history user@example.com --limit ²", "`--limit` takes a whole number from 1 to 500"),
    ],
)
def test_a_number_or_region_of_the_wrong_form_gets_the_usage_line(text, message, deps):
    with pytest.raises(UsageError, match=re.escape(message)):
        execute(CommandContext(deps, via="cli"), parse(text))
