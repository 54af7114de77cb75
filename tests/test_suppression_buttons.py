"""The "Remove from suppression list" buttons where an address is suppressed in several places: each removes
where its finding says (account and region), and each has its own action_id."""

from __future__ import annotations

import json

import pytest

from bot.settings import Account
from handlers.suppression import ACTION, CALLBACK
from peers.slack import block_action_body, post_signed, slash_command_body, view_submission_body
from tests.conftest import REGION, SIGNING_SECRET

PROD, STAGING = "111111111111", "222222222222"


def test_with_several_accounts_the_remove_button_removes_in_the_account_the_finding_names(
    bot_server_factory, slack_peer, aws_peer, settings
):
    for account_id in (PROD, STAGING):
        with aws_peer.in_account(account_id):
            aws_peer.set_account(REGION, production_access=True)
    with aws_peer.in_account(STAGING):
        aws_peer.suppress("jane@example.net", region=REGION)
    aws_peer.suppress("jane@example.net", region=REGION)  # the bot's own credentials' account: not watched
    settings.accounts = [
        Account("prod", f"arn:aws:iam::{PROD}:role/sesbot-read"),
        Account("staging", f"arn:aws:iam::{STAGING}:role/sesbot-read"),
    ]
    server = bot_server_factory(allow_writes=True, admins=frozenset({"U0ADMIN"}))
    body = slash_command_body("why jane@example.net", user_id="U0ADMIN", response_url=slack_peer.response_url("w"))
    post_signed(server.events_url, body, SIGNING_SECRET)
    answer = slack_peer.wait_for_response("w", timeout=30)
    (remove,) = [b for b in answer["blocks"][-1]["elements"] if b["action_id"].startswith("suppression_remove")]
    assert json.loads(remove["value"]) == {"email": "jane@example.net", "region": REGION, "account": "staging"}

    post_signed(
        server.events_url, block_action_body(remove["action_id"], remove["value"], user_id="U0ADMIN"), SIGNING_SECRET
    )
    view = slack_peer.wait_for("views.open").params["view"]
    assert f"*staging* · *{REGION}*" in view["blocks"][0]["text"]["text"]
    submit = view_submission_body(CALLBACK, view["private_metadata"], {}, user_id="U0ADMIN")
    post_signed(server.events_url, submit, SIGNING_SECRET)
    done = slack_peer.wait_for("chat.postEphemeral", timeout=10)
    assert done.params["text"] == (
        f":white_check_mark: Removed jane@example.net from the account suppression list in staging · {REGION}."
    )
    with aws_peer.in_account(STAGING):
        assert "jane@example.net" not in aws_peer.suppressed(REGION)
    assert "jane@example.net" in aws_peer.suppressed(REGION)  # the other account's entry is untouched


def test_an_address_suppressed_in_two_regions_gets_two_buttons_with_their_own_ids_and_labels(
    bot_server_factory, slack_peer, aws_peer, settings
):
    settings.regions = [REGION, "eu-west-1"]
    aws_peer.suppress("jane@example.net", region=REGION)
    aws_peer.suppress("jane@example.net", region="eu-west-1")
    server = bot_server_factory(allow_writes=True, admins=frozenset({"U0ADMIN"}))
    body = slash_command_body("why jane@example.net", user_id="U0ADMIN", response_url=slack_peer.response_url("w"))
    post_signed(server.events_url, body, SIGNING_SECRET)
    answer = slack_peer.wait_for_response("w", timeout=30)
    removes = [b for b in answer["blocks"][-1]["elements"] if b["action_id"].startswith("suppression_remove")]
    assert sorted(b["action_id"] for b in removes) == ["suppression_remove", "suppression_remove:1"]
    assert sorted(b["text"]["text"] for b in removes) == [
        "Remove from suppression list (eu-west-1)",
        f"Remove from suppression list ({REGION})",
    ]
    second = next(b for b in removes if b["action_id"] == "suppression_remove:1")
    post_signed(
        server.events_url, block_action_body(second["action_id"], second["value"], user_id="U0ADMIN"), SIGNING_SECRET
    )
    assert slack_peer.wait_for("views.open").params["view"]["callback_id"] == CALLBACK


def test_the_remove_button_on_a_direct_message_answer_is_confirmed_whatever_the_channel_allow_list_says(
    bot_server_factory, slack_peer, aws_peer, deps
):
    aws_peer.suppress("jane@example.net", region=REGION)
    server = bot_server_factory(allow_writes=True, admins=frozenset({"U0ADMIN"}), allowed_channels=frozenset({"C0OPS"}))
    value = json.dumps({"email": "jane@example.net", "region": REGION})
    click = block_action_body(ACTION, value, user_id="U0ADMIN", channel_id="D0ADMIN")
    post_signed(server.events_url, click, SIGNING_SECRET)
    view = slack_peer.wait_for("views.open").params["view"]
    submit = view_submission_body(CALLBACK, view["private_metadata"], {}, user_id="U0ADMIN")
    post_signed(server.events_url, submit, SIGNING_SECRET)
    done = slack_peer.wait_for("chat.postEphemeral", timeout=10).params
    assert (done["channel"], done["text"]) == (
        "D0ADMIN",
        f":white_check_mark: Removed jane@example.net from the account suppression list in {REGION}.",
    )
    assert "jane@example.net" not in aws_peer.suppressed(REGION)
    # A dialog from a channel the allow-list leaves out is still refused.
    slack_peer.clear()
    aws_peer.suppress("jane@example.net", region=REGION)
    meta = json.dumps({"email": "jane@example.net", "region": REGION, "account": None, "channel": "C0RANDOM"})
    post_signed(server.events_url, view_submission_body(CALLBACK, meta, {}, user_id="U0ADMIN"), SIGNING_SECRET)
    refused = slack_peer.wait_for("chat.postEphemeral", timeout=10).params["text"]
    assert refused.startswith(":no_entry: sesbot does not answer in this channel")
    assert "jane@example.net" in aws_peer.suppressed(REGION)


@pytest.mark.parametrize(
    "value",
    [
        {"email": "jane@example.net", "region": REGION},  # posted before SESBOT_ACCOUNTS was set
        {"email": "jane@example.net", "region": REGION, "account": "qa"},  # an account no longer watched
        {"email": "jane@example.net", "region": "eu-west-1", "account": "staging"},  # a region no longer watched
    ],
    ids=["no account", "unconfigured account", "unconfigured region"],
)
def test_a_remove_button_from_an_older_setup_is_refused_and_audited_and_removes_nothing(
    bot_server_factory, slack_peer, aws_peer, settings, deps, value
):
    for account_id in (PROD, STAGING):
        with aws_peer.in_account(account_id):
            aws_peer.set_account(REGION, production_access=True)
    with aws_peer.in_account(STAGING):
        aws_peer.suppress("jane@example.net", region=REGION)
        aws_peer.suppress("jane@example.net", region="eu-west-1")
    aws_peer.suppress("jane@example.net", region=REGION)  # the bot's own credentials' account: not watched
    settings.accounts = [
        Account("prod", f"arn:aws:iam::{PROD}:role/sesbot-read"),
        Account("staging", f"arn:aws:iam::{STAGING}:role/sesbot-read"),
    ]
    server = bot_server_factory(allow_writes=True, admins=frozenset({"U0ADMIN"}))
    refused = ":no_entry: This button is from an older setup: run /ses why jane@example.net again."

    post_signed(server.events_url, block_action_body(ACTION, json.dumps(value), user_id="U0ADMIN"), SIGNING_SECRET)
    assert slack_peer.wait_for("chat.postEphemeral", timeout=10).params["text"] == refused
    assert slack_peer.calls_to("views.open") == []
    # A dialog opened before the setup changed: the engine refuses the write itself.
    slack_peer.clear()
    meta = json.dumps({**value, "channel": "C0OPS"})
    post_signed(server.events_url, view_submission_body(CALLBACK, meta, {}, user_id="U0ADMIN"), SIGNING_SECRET)
    assert slack_peer.wait_for("chat.postEphemeral", timeout=10).params["text"] == refused

    audit = deps.store.query("SELECT action, allowed, detail FROM audit WHERE action LIKE 'suppression%'")
    assert [(a["action"].split(" ")[0], a["allowed"], a["detail"]) for a in audit] == [
        ("suppression_remove", 0, refused.removeprefix(":no_entry: ")),
        ("suppression.remove", 0, refused.removeprefix(":no_entry: ")),
    ]
    assert "jane@example.net" in aws_peer.suppressed(REGION)
    with aws_peer.in_account(STAGING):
        assert "jane@example.net" in aws_peer.suppressed(REGION)
        assert "jane@example.net" in aws_peer.suppressed("eu-west-1")
