"""Trust: who may ask (users, groups, channels, workspace, rate limit), writes, escaping, redaction."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk import WebClient

from bot.commands import parse
from bot.findings import Answer, Finding, Report, Severity
from bot.ingest import ingest_documents
from bot.notify import Button, Message
from bot.target import UsageError, parse_email
from handlers.alert_blocks import alert_message
from handlers.blocks import (
    MAX_BLOCKS,
    MAX_HEADER,
    MAX_SECTION,
    answer_message,
    error_message,
    redact_message,
    report_message,
)
from handlers.guard import COULD_NOT_CHECK, GROUP_CACHE_SECONDS, GroupWatch
from peers.slack import app_mention_body, block_action_body, post_signed, slash_command_body, view_submission_body
from tests.conftest import BOT_TOKEN, REGION, SIGNING_SECRET, bounce_doc

NASTY = [
    "<!channel> urgent",
    "<!here|here> <!everyone>",
    "ping <@U0BOSS> and <#C0SECRET>",
    "<http://evil.example/login|Your bank>",
    "& &amp; &lt; <script>",
    "x" * 40_000,
]


def slash(server, slack_peer, text, **kw):
    name = f"r{abs(hash((text, tuple(kw.items()))))}"
    body = slash_command_body(text, response_url=slack_peer.response_url(name), **kw)
    status, raw = post_signed(server.events_url, body, SIGNING_SECRET)
    return status, (json.loads(raw) if raw.strip().startswith("{") else {"text": raw}), name


def audit_rows(deps):
    assert deps.store.flush_audit(timeout=10)  # the guard's rows are written by the store's audit thread
    return deps.store.query("SELECT user_id, channel_id, action, allowed, detail FROM audit ORDER BY id")


# -- who may ask ---------------------------------------------------------------------------------------
def test_an_unlisted_user_is_refused_in_one_ephemeral_line_and_audited(bot_server_factory, slack_peer, deps):
    server = bot_server_factory(allowed_users=frozenset({"U0BOB"}))
    status, ack, _ = slash(server, slack_peer, "help", user_id="U0ALICE")
    assert (status, ack["response_type"]) == (200, "ephemeral")
    assert ack["text"] == ":no_entry: You are not on sesbot's list of allowed users; ask an admin to add you."
    assert audit_rows(deps)[-1] == {
        "user_id": "U0ALICE",
        "channel_id": "C0OPS",
        "action": "/ses help",
        "allowed": 0,
        "detail": ack["text"].removeprefix(":no_entry: "),
    }


def test_a_listed_user_is_answered_and_audited_as_allowed(bot_server_factory, slack_peer, deps):
    server = bot_server_factory(allowed_users=frozenset({"U0ALICE"}))
    _, ack, _ = slash(server, slack_peer, "help", user_id="U0ALICE")
    assert ack["text"].startswith("sesbot")
    assert audit_rows(deps)[-1]["allowed"] == 1


def test_a_request_is_acknowledged_while_another_connection_holds_the_write_lock_and_audited_after(
    bot_server_factory, slack_peer, deps
):
    server = bot_server_factory()
    other = sqlite3.connect(deps.store.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # what a sweep or an ingest batch holds
    held = threading.Lock()
    released = threading.Event()

    def release() -> None:
        with held:
            if not released.is_set():
                other.execute("COMMIT")
                released.set()

    bound = threading.Timer(8, release)  # a bot that waits on the lock gets it here: a failure, not a hang
    bound.start()
    try:
        status, raw = post_signed(
            server.events_url, slash_command_body("help", response_url=slack_peer.response_url("h")), SIGNING_SECRET
        )
        acked_while_held = not released.is_set()
    finally:
        bound.cancel()
        release()
        other.close()
    assert (status, acked_while_held) == (200, True)
    assert raw.startswith("sesbot") or json.loads(raw)["text"].startswith("sesbot")
    assert audit_rows(deps)[-1] == {
        "user_id": "U0ALICE",
        "channel_id": "C0OPS",
        "action": "/ses help",
        "allowed": 1,
        "detail": None,
    }


def test_a_rate_limited_first_read_of_the_user_groups_refuses_at_once_in_one_line_without_retrying(
    bot_server_factory, slack_peer, deps
):
    slack_peer.usergroup_members["S0OPS"] = ["U0ALICE"]
    server = bot_server_factory(allowed_groups=frozenset({"S0OPS"}))
    slack_peer.fail("usergroups.users.list", retry_after=5)  # waited out, this would pass Slack's 3 s
    _, ack, _ = slash(server, slack_peer, "help", user_id="U0ALICE")
    assert ack["text"] == f":no_entry: {COULD_NOT_CHECK}"
    assert len(slack_peer.calls_to("usergroups.users.list")) == 1
    assert audit_rows(deps)[-1]["detail"] == COULD_NOT_CHECK


def test_a_stale_user_group_list_is_read_again_in_the_background_while_requests_use_the_one_they_have(
    slack_peer,
):
    now = [0.0]
    watch = GroupWatch(frozenset({"S0OPS"}), clock=lambda: now[0])
    client = WebClient(token=BOT_TOKEN, base_url=slack_peer.base_url)
    slack_peer.usergroup_members["S0OPS"] = ["U0ALICE"]
    assert watch.check(client, "U0ALICE") is True  # no list yet: read there and then
    slack_peer.usergroup_members["S0OPS"] = ["U0BOB"]
    now[0] += GROUP_CACHE_SECONDS + 1
    slack_peer.hold("usergroups.users.list")
    try:
        assert (watch.check(client, "U0ALICE"), watch.check(client, "U0BOB")) == (True, False)  # Slack is held
        slack_peer.wait_for_held("usergroups.users.list")
    finally:
        slack_peer.release()
    assert watch.idle(timeout=10)
    assert len(slack_peer.calls_to("usergroups.users.list")) == 2  # one read in the background, not one each
    assert (watch.check(client, "U0ALICE"), watch.check(client, "U0BOB")) == (False, True)


def test_members_of_an_allowed_user_group_may_ask_and_others_may_not(bot_server_factory, slack_peer):
    slack_peer.usergroup_members["S0OPS"] = ["U0ALICE"]
    server = bot_server_factory(allowed_groups=frozenset({"S0OPS"}))
    assert slash(server, slack_peer, "help", user_id="U0ALICE")[1]["text"].startswith("sesbot")
    assert slash(server, slack_peer, "help", user_id="U0MALLORY")[1]["text"].startswith(":no_entry:")


def test_commands_outside_the_allowed_channels_are_refused(bot_server_factory, slack_peer):
    server = bot_server_factory(allowed_channels=frozenset({"C0OPS"}))
    assert slash(server, slack_peer, "help", channel_id="C0OPS")[1]["text"].startswith("sesbot")
    _, ack, _ = slash(server, slack_peer, "help", channel_id="C0RANDOM")
    assert ack["text"] == ":no_entry: sesbot does not answer in this channel; ask in one of its allowed channels."


def test_requests_from_another_workspace_are_refused(bot_server, slack_peer):
    _, ack, _ = slash(bot_server, slack_peer, "help", team_id="T0OTHER")
    assert ack["text"] == ":no_entry: This sesbot serves another Slack workspace."


def test_a_refused_mention_gets_an_ephemeral_line_and_no_answer(bot_server_factory, slack_peer):
    server = bot_server_factory(allowed_users=frozenset({"U0BOB"}))
    status, _ = post_signed(server.events_url, app_mention_body("help", user="U0ALICE"), SIGNING_SECRET)
    assert status == 200
    call = slack_peer.wait_for("chat.postEphemeral")
    assert (call.params["user"], call.params["text"][:10]) == ("U0ALICE", ":no_entry:")
    assert slack_peer.calls_to("chat.postMessage") == []


def test_an_allowed_mention_is_answered_in_its_thread(bot_server, slack_peer):
    body = app_mention_body("help", user="U0ALICE", ts="1700000000.000100", thread_ts="1699999999.000001")
    post_signed(bot_server.events_url, body, SIGNING_SECRET)
    call = slack_peer.wait_for("chat.postMessage")
    assert (call.params["channel"], call.params["thread_ts"]) == ("C0OPS", "1699999999.000001")


def test_a_refused_button_click_changes_nothing(bot_server_factory, slack_peer, deps):
    server = bot_server_factory(allowed_users=frozenset({"U0BOB"}))
    body = block_action_body("sesbot_rerun", "help", user_id="U0ALICE", response_url=slack_peer.response_url("b"))
    post_signed(server.events_url, body, SIGNING_SECRET)
    assert slack_peer.wait_for("chat.postEphemeral").params["text"].startswith(":no_entry:")
    assert slack_peer.responses("b") == []


def open_app_home(server, slack_peer, event_id: str) -> dict:
    """U0ALICE opens the bot's Home tab; the view the bot publishes for her."""
    home = {
        "type": "event_callback",
        "team_id": "T0TEST",
        "event": {"type": "app_home_opened", "user": "U0ALICE", "tab": "home", "channel": "D0DM"},
        "event_id": event_id,
        "event_time": 1,
    }
    post_signed(server.events_url, json.dumps(home).encode(), SIGNING_SECRET)
    return slack_peer.wait_for("views.publish").params["view"]


def test_a_refused_user_sees_a_refusal_on_app_home(bot_server_factory, slack_peer):
    server = bot_server_factory(allowed_users=frozenset({"U0BOB"}))
    view = open_app_home(server, slack_peer, "Ev1")
    assert view["blocks"][0]["text"]["text"].startswith(":no_entry:")


def test_an_allowed_user_sees_the_commands_on_app_home(bot_server, slack_peer):
    view = open_app_home(bot_server, slack_peer, "Ev2")
    assert "/ses why" in json.dumps(view)


def test_diagnoses_are_rate_limited_per_user_with_the_wait_said(bot_server_factory, slack_peer, dns_peer):
    server = bot_server_factory(diagnoses_per_minute=2)
    for i in range(2):
        _, ack, _ = slash(server, slack_peer, f"why user{i}@example.com")
        assert ack["text"].startswith(":hourglass")
    _, ack, _ = slash(server, slack_peer, "why user9@example.com")
    assert re.fullmatch(
        r":no_entry: You have asked for 2 diagnoses in the last minute; try again in \d+ s\.", ack["text"]
    )
    # Another user is not held back, and non-diagnoses are not counted.
    assert slash(server, slack_peer, "why user9@example.com", user_id="U0BOB")[1]["text"].startswith(":hourglass")
    assert slash(server, slack_peer, "help")[1]["text"].startswith("sesbot")


# -- writes --------------------------------------------------------------------------------------------
def click_remove(server, slack_peer, user="U0ADMIN"):
    value = json.dumps({"email": "jane@example.net", "region": REGION})
    body = block_action_body("suppression_remove", value, user_id=user, response_url=slack_peer.response_url("w"))
    post_signed(server.events_url, body, SIGNING_SECRET)


def confirm_remove(server, user="U0ADMIN"):
    meta = json.dumps({"email": "jane@example.net", "region": REGION, "channel": "C0OPS"})
    post_signed(
        server.events_url, view_submission_body("suppression_remove_confirm", meta, {}, user_id=user), SIGNING_SECRET
    )


def test_writes_are_refused_when_they_are_off(bot_server_factory, slack_peer, aws_peer, deps):
    aws_peer.suppress("jane@example.net", region=REGION)
    server = bot_server_factory(allow_writes=False, admins=frozenset({"U0ADMIN"}))
    click_remove(server, slack_peer)
    assert "SESBOT_ALLOW_WRITES" in slack_peer.wait_for("chat.postEphemeral").params["text"]
    confirm_remove(server)  # a forged dialog submission is refused too
    slack_peer.wait_for(
        "chat.postEphemeral",
        lambda c: (
            c.params["text"].count("SESBOT_ALLOW_WRITES") and c is not slack_peer.calls_to("chat.postEphemeral")[0]
        ),
    )
    assert "jane@example.net" in aws_peer.suppressed(REGION)


def test_writes_are_refused_to_non_admins(bot_server_factory, slack_peer, aws_peer):
    aws_peer.suppress("jane@example.net", region=REGION)
    server = bot_server_factory(allow_writes=True, admins=frozenset({"U0ADMIN"}))
    click_remove(server, slack_peer, user="U0ALICE")
    assert "Only sesbot admins" in slack_peer.wait_for("chat.postEphemeral").params["text"]
    assert slack_peer.calls_to("views.open") == []
    assert "jane@example.net" in aws_peer.suppressed(REGION)


def test_a_write_waits_for_the_confirmation_dialog(bot_server_factory, slack_peer, aws_peer):
    aws_peer.suppress("jane@example.net", region=REGION)
    server = bot_server_factory(allow_writes=True, admins=frozenset({"U0ADMIN"}))
    click_remove(server, slack_peer)
    view = slack_peer.wait_for("views.open").params["view"]
    assert view["callback_id"] == "suppression_remove_confirm"
    assert "jane@example.net" in aws_peer.suppressed(REGION)


def test_a_confirmed_write_by_an_admin_removes_the_suppression_and_is_audited(
    bot_server_factory, slack_peer, aws_peer, deps
):
    aws_peer.suppress("jane@example.net", region=REGION)
    server = bot_server_factory(allow_writes=True, admins=frozenset({"U0ADMIN"}))
    click_remove(server, slack_peer)
    slack_peer.wait_for("views.open")
    confirm_remove(server)
    done = slack_peer.wait_for("chat.postEphemeral")
    assert done.params["text"] == (
        f":white_check_mark: Removed jane@example.net from the account suppression list in {REGION}."
    )
    assert "jane@example.net" not in aws_peer.suppressed(REGION)
    rows = deps.store.query("SELECT action, allowed FROM audit WHERE action LIKE 'suppression.remove%'")
    assert rows == [{"action": f"suppression.remove jane@example.net ({REGION})", "allowed": 1}]


# -- what is shown -------------------------------------------------------------------------------------
def visible_texts(msg):
    """Every string Slack renders from a message."""
    out = [msg.get("text", "")]

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "plain_text":  # Slack shows plain_text as typed, never parsed
                return
            for k, v in node.items():
                if k == "text" and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(msg.get("blocks", []))
    return out


def assert_harmless_and_within_limits(msg):
    assert msg["text"]
    assert len(msg["blocks"]) <= MAX_BLOCKS
    for b in msg["blocks"]:
        if b["type"] == "section":
            assert len((b.get("text") or {}).get("text", "")) <= MAX_SECTION
            assert len(b.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in b.get("fields", []))
        if b["type"] == "context":
            assert len(b["elements"]) <= 10
        if b["type"] == "actions":
            assert all(len(e["text"]["text"]) <= 75 and len(e.get("value", "")) <= 2000 for e in b["elements"])
        if b["type"] == "header":
            assert len(b["text"]["text"]) <= MAX_HEADER
    for text in visible_texts(msg):
        assert not re.search(r"<[!@#]|<https?:", text), text


@pytest.mark.parametrize("nasty", NASTY)
def test_untrusted_text_is_harmless_in_every_message_builder(nasty):
    finding = Finding("recipient.bounces", Severity.CRITICAL, nasty, evidence=[nasty] * 12, fix=nasty)
    many = [Finding(f"c.{i}", Severity.ERROR, nasty, [nasty]) for i in range(80)]
    infos = [Finding(f"i.{i}", Severity.INFO, nasty, [nasty] * 8) for i in range(5)]
    assert_harmless_and_within_limits(report_message(Report(nasty[:300], [finding, *many, *infos]), command=nasty))
    assert_harmless_and_within_limits(answer_message(Answer(nasty, [(nasty, [nasty] * 30)])))
    assert_harmless_and_within_limits(error_message(nasty))
    alert = Message(
        title=nasty,
        severity=Severity.ERROR,
        fields=[(nasty, nasty)] * 12,
        lines=[nasty] * 5,
        sections=[(nasty, [nasty] * 20)] * 30,
        chart=[nasty],
        buttons=[Button(nasty, "a", nasty)],
        footer=nasty,
    )
    assert_harmless_and_within_limits(alert_message(alert))


def test_remote_text_reaches_slack_escaped_end_to_end(bot_server, slack_peer):
    _, ack, _ = slash(bot_server, slack_peer, "explain 554 <!channel> blocked using zen.spamhaus.org <@U0BOSS>")
    for text in visible_texts(ack):
        assert "<!channel>" not in text and "<@U0BOSS>" not in text


def test_a_stored_diagnostic_shows_its_bidi_controls_and_zero_width_characters_as_text_in_slack(
    bot_server, slack_peer, deps
):
    diagnostic = "smtp; 550 5.7.1 see https://\u202emoc.nozama.swa\u202c/unblock \u200bamazon\u2066.com\ufeff"
    texts = mentioned_history(bot_server, slack_peer, deps, "rtl@example.com", diagnostic, "example.com")
    assert "https://\\u202emoc.nozama.swa\\u202c/unblock \\u200bamazon\\u2066.com\\ufeff" in texts
    assert not re.search("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060\ufeff]", texts)


def test_redaction_hides_addresses_in_channel_messages(bot_server_factory, slack_peer):
    server = bot_server_factory(redact="local")
    _, _, name = slash(server, slack_peer, "why jane.doe@example.net")
    msg = slack_peer.wait_for_response(name, timeout=20)
    texts = "\n".join(visible_texts(msg))
    assert "jane.doe@example.net" not in texts
    assert "j***@example.net" in texts


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("jöhn.smith@example.net", "j***@example.net"),
        ("o'brien@example.net", "o***@example.net"),
        ("jane&doe@example.net", "j***@example.net"),  # reaches Slack as jane&amp;doe
        ("JANE.DOE+ops@EXAMPLE.NET", "J***@example.net"),  # the bot reads the domain in lower case
    ],
)
def test_redaction_masks_all_of_a_local_part_but_its_first_character(bot_server_factory, slack_peer, address, shown):
    server = bot_server_factory(redact="local")
    _, _, name = slash(server, slack_peer, f"why {address}")
    msg = slack_peer.wait_for_response(name, timeout=20)
    texts = "\n".join(visible_texts(msg))
    local = address.split("@")[0]
    assert local[1:] not in texts.replace("&amp;", "&")
    assert shown in texts


def test_redaction_keeps_the_marks_around_an_address_and_masks_addresses_side_by_side():
    text = "*jane&amp;doe@example.net* `o'brien@example.net` <mailto:ann@example.org|ann@example.org>"
    assert redact_message({"text": text}) == {
        "text": "*j***@example.net* `o***@example.net` <mailto:a***@example.org|a***@example.org>"
    }


def mentioned_history(server, slack_peer, deps, recipient: str, diagnostic: str, domain: str) -> str:
    """What a channel reads of `@sesbot history @domain` after one stored bounce: the reply's visible text."""
    at = datetime.now(UTC)
    ingest_documents(deps.store, [bounce_doc(1, recipient, diagnostic, at)], origin="test", now=at)
    body = app_mention_body(f"history @{domain}", thread_ts="1700000000.000001")
    post_signed(server.events_url, body, SIGNING_SECRET)
    return "\n".join(visible_texts(slack_peer.wait_for("chat.postMessage", timeout=30).params))


@pytest.mark.parametrize(
    ("recipient", "quoted", "domain", "shown"),
    [
        ('"jane doe"@example.com', '"jane doe"@example.com', "example.com", '"j***"@example.com'),
        ("jöhn.smith@example.com", "jöhn.smith@example.com", "example.com", "j***@example.com"),
        ("jane.doe@xn--bcher-kva.de", "jane.doe@bücher.de", "xn--bcher-kva.de", "j***@bücher.de"),
    ],
)
def test_redaction_masks_quoted_local_parts_letters_of_any_script_and_international_domains(
    bot_server_factory, slack_peer, deps, recipient, quoted, domain, shown
):
    server = bot_server_factory(redact="local")
    texts = mentioned_history(server, slack_peer, deps, recipient, f"smtp; 550 5.1.1 <{quoted}>: user unknown", domain)
    assert recipient.split("@")[0].strip('"')[1:] not in texts
    assert f"&lt;{shown}&gt;" in texts


@pytest.mark.parametrize("into", [6, 12], ids=["in the local part", "in the domain"])
def test_a_redacted_history_line_shows_no_part_of_an_address_its_quote_is_cut_inside(
    bot_server_factory, slack_peer, deps, into
):
    head = "smtp; 550 5.1.1 "
    diagnostic = head + "z" * (300 - into - len(head) - 6) + " rcpt <jane.doe@example.net> unknown"
    server = bot_server_factory(redact="local")
    texts = mentioned_history(server, slack_peer, deps, "jane.doe@example.net", diagnostic, "example.net")
    assert "zzz rcpt &lt;" in texts
    assert "jane" not in texts.replace("j***@example.net", "")


def test_a_redacted_diagnosis_shows_no_part_of_an_address_its_summary_quote_is_cut_inside(
    bot_server_factory, slack_peer, deps
):
    at = datetime.now(UTC)
    diagnostic = "smtp;550_5.1.1_" + "z" * 131 + "<jane.doe@example.net>:user_unknown"  # no space to cut at
    ingest_documents(deps.store, [bounce_doc(1, "jane.doe@example.net", diagnostic, at)], origin="test", now=at)
    server = bot_server_factory(redact="local")
    _, _, name = slash(server, slack_peer, "why jane.doe@example.net")
    texts = "\n".join(visible_texts(slack_peer.wait_for_response(name, timeout=20)))
    assert "zzz&lt;…" in texts
    assert "jane" not in texts.replace("j***@example.net", "")


@pytest.mark.parametrize("into", [6, 12], ids=["in the local part", "in the domain"])
def test_a_redacted_message_shows_no_part_of_an_address_a_slack_limit_cuts_inside(into):
    line = "y" * (600 - into - 4) + " <jane.doe@example.net> rejected"  # a finding's evidence line: 600
    msg = redact_message(report_message(Report("jo@example.org", [Finding("c.x", Severity.ERROR, "s", [line])])))
    texts = "\n".join(visible_texts(msg))
    assert "yyy &lt;…" in texts
    assert "jane" not in texts


def test_without_redaction_the_address_is_shown(bot_server, slack_peer):
    _, _, name = slash(bot_server, slack_peer, "why jane.doe@example.net")
    msg = slack_peer.wait_for_response(name, timeout=20)
    assert "jane.doe@example.net" in "\n".join(visible_texts(msg))


# -- bad input, fuzzed -----------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=5000))
def test_the_command_parser_answers_any_text_with_a_command_or_a_usage_error(text):
    try:
        inv = parse(text)
    except UsageError as exc:
        assert "\n" not in str(exc)
    else:
        assert inv.name == inv.name.strip()


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=400), st.emails().map(lambda e: f"<mailto:{e}|{e}>")))
def test_the_address_parser_answers_any_text_with_an_address_or_a_usage_error(text):
    try:
        email = parse_email(text)
    except UsageError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 200
    else:
        assert "@" in email and len(email) <= 254


# -- every entry point, every refusal ----------------------------------------------------------------------
ENTRY_POINTS = ("command", "mention", "button", "dialog")
REFUSALS = {
    "user": ({"allowed_users": frozenset({"U0BOB"})}, {}),
    "channel": ({"allowed_channels": frozenset({"C0OPS"})}, {"channel": "C0RANDOM"}),
    "team": ({}, {"team": "T0OTHER"}),
}


def send(server, slack_peer, entry: str, *, user="U0ALICE", channel="C0OPS", team="T0TEST"):
    """The same harmless request (`help`) through one entry point, as Slack would send it."""
    if entry == "command":
        body = slash_command_body(
            "help", user_id=user, channel_id=channel, team_id=team, response_url=slack_peer.response_url("e")
        )
    elif entry == "mention":
        body = app_mention_body("help", user=user, channel=channel, team_id=team)
    elif entry == "button":
        body = block_action_body(
            "sesbot_rerun",
            "help",
            user_id=user,
            channel_id=channel,
            team_id=team,
            response_url=slack_peer.response_url("e"),
        )
    else:
        meta = json.dumps({"email": "jane@example.net", "region": REGION, "channel": channel})
        body = view_submission_body("suppression_remove_confirm", meta, {}, user_id=user, team_id=team)
    status, raw = post_signed(server.events_url, body, SIGNING_SECRET)
    assert status == 200
    return raw


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_refuses_and_audits_each_kind_of_outsider(
    bot_server_factory, slack_peer, deps, aws_peer, entry, refusal
):
    aws_peer.suppress("jane@example.net", region=REGION)
    overrides, where = REFUSALS[refusal]
    server = bot_server_factory(allow_writes=True, admins=frozenset({"U0ALICE"}), **overrides)
    raw = send(server, slack_peer, entry, **where)
    if entry == "command":
        assert json.loads(raw)["text"].startswith(":no_entry:")
    # Nothing ran: no answer, no dialog, no change to the account; one audit row says who was refused.
    assert slack_peer.responses("e") == []
    assert [c for c in slack_peer.calls if c.method in ("chat.postMessage", "views.open")] == []
    assert "jane@example.net" in aws_peer.suppressed(REGION)
    row = audit_rows(deps)[-1]
    assert (row["user_id"], row["allowed"]) == ("U0ALICE", 0)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_lets_an_allowed_user_through(bot_server_factory, slack_peer, deps, aws_peer, entry):
    aws_peer.suppress("jane@example.net", region=REGION)
    server = bot_server_factory(
        allow_writes=True,
        admins=frozenset({"U0ALICE"}),
        allowed_users=frozenset({"U0ALICE"}),
        allowed_channels=frozenset({"C0OPS"}),
    )
    send(server, slack_peer, entry)
    if entry == "mention":
        slack_peer.wait_for("chat.postMessage")
    elif entry == "button":
        slack_peer.wait_for_response("e")
    elif entry == "dialog":
        slack_peer.wait_for("chat.postEphemeral")
        assert "jane@example.net" not in aws_peer.suppressed(REGION)
    assert audit_rows(deps)[0]["allowed"] == 1
