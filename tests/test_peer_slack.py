"""The local Slack peer answers slack_sdk over loopback, and the helpers sign requests exactly like Slack."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.error
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient
from werkzeug.serving import make_server

from peers.slack import (
    BOT_USER_ID,
    SlackPeer,
    app_home_opened_body,
    app_mention_body,
    block_action_body,
    message_action_body,
    post_signed,
    shortcut_body,
    signed_headers,
    slash_command_body,
    view_submission_body,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def slack_peer() -> Iterator[SlackPeer]:
    with SlackPeer() as peer:
        yield peer


@pytest.fixture
def web(slack_peer: SlackPeer) -> WebClient:
    return WebClient(base_url=slack_peer.base_url, token="xoxb-test-token")


@pytest.fixture
def bolt_url(slack_peer: SlackPeer) -> Iterator[str]:
    """A Bolt app served over loopback HTTP that talks to the peer; yields its /slack/events URL."""
    client = WebClient(base_url=slack_peer.base_url, token="xoxb-test-token")
    app = App(signing_secret=SECRET, client=client)

    @app.command("/ses")
    def ses_command(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        ack(f"checking {command['text']}")
        respond(f"done: {command['text']}")

    @app.event("app_mention")
    def mention(event: dict[str, Any], say: Any) -> None:
        say(text=f"heard: {event['text']}", thread_ts=event["ts"])

    @app.action("retry")
    def retry(ack: Any, body: dict[str, Any], respond: Any) -> None:
        ack()
        respond(f"retrying {body['actions'][0]['value']}")

    @app.view("settings")
    def settings(ack: Any, view: dict[str, Any], client: WebClient) -> None:
        ack()
        value = view["state"]["values"]["region"]["pick"]["value"]
        client.chat_postMessage(channel=view["private_metadata"], text=f"region set to {value}")

    server = make_server("127.0.0.1", 0, SlackRequestHandler(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/slack/events"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ------------------------------------------------------------------------------------------ Web API


def test_auth_test_names_the_bot_in_the_test_team(web: WebClient, slack_peer: SlackPeer) -> None:
    identity = web.auth_test()

    assert identity["ok"] is True
    assert identity["team_id"] == "T0TEST"
    assert identity["user"] == "sesbot"
    assert identity["user_id"] == BOT_USER_ID
    assert identity["bot_id"]
    assert identity["url"].startswith("https://")
    assert slack_peer.calls_to("auth.test")[0].token == "xoxb-test-token"


def test_posted_messages_get_unique_increasing_timestamps_and_are_recorded_with_their_blocks(
    web: WebClient, slack_peer: SlackPeer
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*bounce* rate 3%"}}]

    first = web.chat_postMessage(channel="C0OPS", text="bounce rate 3%", blocks=blocks)
    second = web.chat_postMessage(channel="C0OPS", text="again")

    assert first["channel"] == "C0OPS"
    assert first["ts"] == "1700000000.000100"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"] == blocks
    call = slack_peer.calls_to("chat.postMessage")[0]
    assert call.params["blocks"] == blocks
    assert call.headers["Authorization"] == "Bearer xoxb-test-token"


def test_blocks_sent_as_a_form_encoded_json_string_are_recorded_decoded(web: WebClient, slack_peer: SlackPeer) -> None:
    blocks = [{"type": "divider"}]
    attachments = [{"color": "#ff0000", "text": "hard bounce"}]

    web.api_call(
        "chat.postMessage",
        params={
            "channel": "C0OPS",
            "text": "x",
            "blocks": json.dumps(blocks),
            "attachments": json.dumps(attachments),
        },
    )

    call = slack_peer.wait_for("chat.postMessage")
    assert call.params["blocks"] == blocks
    assert call.params["attachments"] == attachments


def test_update_ephemeral_permalink_and_view_calls_get_plausible_answers(web: WebClient) -> None:
    posted = web.chat_postMessage(channel="C0OPS", text="checking...")

    updated = web.chat_update(channel="C0OPS", ts=posted["ts"], text="done")
    ephemeral = web.chat_postEphemeral(channel="C0OPS", user="U0ALICE", text="only you")
    link = web.chat_getPermalink(channel="C0OPS", message_ts=posted["ts"])
    block = {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}
    home = web.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": [block]})
    modal = web.views_open(
        trigger_id="1.2.3",
        view={
            "type": "modal",
            "callback_id": "settings",
            "title": {"type": "plain_text", "text": "t"},
            "blocks": [block],
        },
    )

    assert updated["ts"] == posted["ts"]
    assert updated["message"]["text"] == "done"
    assert ephemeral["message_ts"]
    assert link["permalink"].endswith("/archives/C0OPS/p" + posted["ts"].replace(".", ""))
    assert home["view"]["type"] == "home"
    assert home["view"]["id"].startswith("V")
    assert modal["view"]["callback_id"] == "settings"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_posting_without_channel_or_text_fails_like_slack(web: WebClient) -> None:
    with pytest.raises(SlackApiError) as no_channel:
        web.chat_postMessage(channel="", text="x")
    with pytest.raises(SlackApiError) as no_text:
        web.chat_postMessage(channel="C0OPS", text="")

    assert no_channel.value.response["error"] == "channel_not_found"
    assert no_text.value.response["error"] == "no_text"


def test_usergroup_members_come_from_the_peer_state(web: WebClient, slack_peer: SlackPeer) -> None:
    slack_peer.usergroup_members["S0ONCALL"] = ["U0ALICE", "U0BOB"]

    members = web.usergroups_users_list(usergroup="S0ONCALL")

    assert members["users"] == ["U0ALICE", "U0BOB"]
    with pytest.raises(SlackApiError) as unknown:
        web.usergroups_users_list(usergroup="S0NOPE")
    assert unknown.value.response["error"] == "no_such_subteam"


def test_users_and_conversations_info_describe_plausible_entities(web: WebClient, slack_peer: SlackPeer) -> None:
    slack_peer.users["U0BOB"] = {"tz": "Europe/Oslo"}

    alice = web.users_info(user="U0ALICE")["user"]
    bob = web.users_info(user="U0BOB")["user"]
    ops = web.conversations_info(channel="C0OPS")["channel"]

    assert alice["id"] == "U0ALICE"
    assert alice["name"] == "alice"
    assert bob["tz"] == "Europe/Oslo"
    assert ops["id"] == "C0OPS"
    assert ops["name"] == "ops"
    assert ops["is_member"] is True


def test_unknown_methods_answer_ok_and_socket_mode_gets_a_loopback_url(web: WebClient, slack_peer: SlackPeer) -> None:
    assert web.api_call("reactions.add", params={"channel": "C0OPS", "name": "eyes", "timestamp": "1.2"})["ok"]
    slack_peer.socket_mode_url = "ws://127.0.0.1:9/"

    assert web.apps_connections_open(app_token="xapp-test")["url"] == "ws://127.0.0.1:9/"


# ------------------------------------------------------------------------------------ error injection


def test_a_rate_limit_surfaces_as_a_slack_api_error_with_retry_after(web: WebClient, slack_peer: SlackPeer) -> None:
    slack_peer.fail("chat.postMessage", error="ratelimited", status=429, retry_after=7)

    with pytest.raises(SlackApiError) as limited:
        web.chat_postMessage(channel="C0OPS", text="x")

    assert limited.value.response.status_code == 429
    assert limited.value.response["error"] == "ratelimited"
    assert limited.value.response.headers["Retry-After"] == "7"
    assert web.chat_postMessage(channel="C0OPS", text="x")["ok"] is True


def test_a_client_with_a_rate_limit_retry_handler_gets_through_after_retry_after(
    slack_peer: SlackPeer,
) -> None:
    web = WebClient(
        base_url=slack_peer.base_url,
        token="xoxb-test-token",
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    slack_peer.fail("chat.postMessage", retry_after=0, count=1)

    posted = web.chat_postMessage(channel="C0OPS", text="x")

    assert posted["ok"] is True
    assert len(slack_peer.calls_to("chat.postMessage")) == 2


def test_an_error_can_be_injected_for_every_call_until_cleared_by_reset(web: WebClient, slack_peer: SlackPeer) -> None:
    slack_peer.fail("chat.update", error="message_not_found", status=200, count=None)

    for _ in range(3):
        with pytest.raises(SlackApiError) as failed:
            web.chat_update(channel="C0OPS", ts="1.2", text="x")
        assert failed.value.response["error"] == "message_not_found"
    slack_peer.reset()
    assert web.chat_update(channel="C0OPS", ts="1.2", text="x")["ok"] is True


def test_an_invalid_token_makes_every_call_answer_invalid_auth(web: WebClient, slack_peer: SlackPeer) -> None:
    slack_peer.set_token_valid(False)

    for call in (web.auth_test, lambda: web.chat_postMessage(channel="C0OPS", text="x")):
        with pytest.raises(SlackApiError) as denied:
            call()
        assert denied.value.response["error"] == "invalid_auth"


def test_a_call_without_a_token_answers_not_authed(slack_peer: SlackPeer) -> None:
    with pytest.raises(SlackApiError) as denied:
        WebClient(base_url=slack_peer.base_url).auth_test()

    assert denied.value.response["error"] == "not_authed"


def test_a_down_api_drops_connections_or_answers_503(slack_peer: SlackPeer) -> None:
    web = WebClient(base_url=slack_peer.base_url, token="xoxb-test-token", retry_handlers=[])
    slack_peer.set_down(True)
    with pytest.raises((http.client.HTTPException, urllib.error.URLError, ConnectionError)):
        web.auth_test()

    slack_peer.set_down(True, mode="503")
    with pytest.raises(SlackApiError) as unavailable:
        web.auth_test()
    assert unavailable.value.response.status_code == 503

    slack_peer.set_down(False)
    assert web.auth_test()["ok"] is True


# --------------------------------------------------------------------------------------- waiting


def test_wait_for_returns_a_call_made_later_from_another_thread(web: WebClient, slack_peer: SlackPeer) -> None:
    timer = threading.Timer(0.2, lambda: web.chat_postMessage(channel="C0OPS", text="late result"))
    timer.start()
    try:
        call = slack_peer.wait_for("chat.postMessage", lambda c: "late" in c.params["text"], timeout=5)
    finally:
        timer.join()

    assert call.params["channel"] == "C0OPS"


def test_wait_for_times_out_after_the_timeout_it_is_given_with_what_it_saw(
    web: WebClient, slack_peer: SlackPeer
) -> None:
    web.chat_postMessage(channel="C0OPS", text="something else")
    waited = {}
    for timeout in (0.2, 2.0):
        started = time.monotonic()
        with pytest.raises(AssertionError, match="something else"):
            slack_peer.wait_for("chat.postMessage", lambda c: c.params["text"] == "never", timeout=timeout)
        waited[timeout] = time.monotonic() - started

    assert waited[0.2] >= 0.2
    assert waited[0.2] < waited[2.0]  # the wait follows its timeout (a comparison within one run)


def test_the_response_url_sink_records_json_bodies_by_name(slack_peer: SlackPeer) -> None:
    url = slack_peer.response_url("r7")

    answer = WebhookClient(url).send(text="all clear", response_type="in_channel", replace_original=True)

    assert answer.status_code == 200
    assert slack_peer.wait_for_response("r7")["text"] == "all clear"
    assert slack_peer.responses("r7") == [
        {"text": "all clear", "response_type": "in_channel", "replace_original": True}
    ]
    assert slack_peer.responses("other") == []


def test_a_response_url_can_be_made_to_fail(slack_peer: SlackPeer) -> None:
    slack_peer.fail("response:r1", error="expired_url", status=404)

    answer = WebhookClient(slack_peer.response_url("r1")).send(text="too late")

    assert (answer.status_code, answer.body) == (404, "expired_url")


# --------------------------------------------------------------------------------------- signing


def test_signed_headers_verify_with_slacks_signature_verifier() -> None:
    body = slash_command_body("status example.com", response_url="http://127.0.0.1:1/response/r1")
    headers = signed_headers(body, SECRET)
    verifier = SignatureVerifier(SECRET)

    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert verifier.is_valid_request(body, headers)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert not verifier.is_valid_request(body + b"&x=1", headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
    stale = signed_headers(body, SECRET, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, stale)


def test_the_signature_is_the_v0_hmac_of_timestamp_and_body() -> None:
    body = b"token=x&text=hi"

    headers = signed_headers(body, SECRET, timestamp=1531420618)

    expected = SignatureVerifier(SECRET).generate_signature(timestamp="1531420618", body=body)
    assert headers["X-Slack-Signature"] == expected
    assert headers["X-Slack-Signature"].startswith("v0=")


def test_request_bodies_have_the_shape_slack_sends() -> None:
    command = parse_qs(slash_command_body("help", response_url="http://r", user_id="U0BOB").decode())
    mention = json.loads(app_mention_body("status", thread_ts="1700000000.000100"))
    action = json.loads(
        parse_qs(block_action_body("retry", "example.com", message_ts="1.2", response_url="http://r").decode())[
            "payload"
        ][0]
    )
    submission = json.loads(
        parse_qs(
            view_submission_body("settings", "C0OPS", {"b": {"a": {"type": "plain_text_input", "value": "v"}}}).decode()
        )["payload"][0]
    )

    assert command["command"] == ["/ses"]
    assert command["text"] == ["help"]
    assert command["user_id"] == ["U0BOB"]
    assert command["team_id"] == ["T0TEST"]
    assert mention["type"] == "event_callback"
    assert mention["event"]["type"] == "app_mention"
    assert mention["event"]["text"] == f"<@{BOT_USER_ID}> status"
    assert mention["event"]["thread_ts"] == "1700000000.000100"
    assert action["type"] == "block_actions"
    assert action["actions"][0]["action_id"] == "retry"
    assert action["container"]["message_ts"] == "1.2"
    assert action["response_url"] == "http://r"
    assert submission["type"] == "view_submission"
    assert submission["view"]["private_metadata"] == "C0OPS"
    assert submission["view"]["state"]["values"]["b"]["a"]["value"] == "v"


# ------------------------------------------------------------------------------ end to end with Bolt


def test_a_signed_slash_command_reaches_bolt_and_its_answer_reaches_the_response_url(
    bolt_url: str, slack_peer: SlackPeer
) -> None:
    body = slash_command_body("status example.com", response_url=slack_peer.response_url("cmd"))

    status, text = post_signed(bolt_url, body, SECRET)

    assert status == 200
    assert "checking status example.com" in text
    assert slack_peer.wait_for_response("cmd")["text"] == "done: status example.com"


def test_an_app_mention_event_makes_bolt_post_in_the_thread(bolt_url: str, slack_peer: SlackPeer) -> None:
    body = app_mention_body("why did mail to bob bounce?", ts="1700000001.000100")

    status, _ = post_signed(bolt_url, body, SECRET)

    assert status == 200
    posted = slack_peer.wait_for("chat.postMessage")
    assert posted.params["thread_ts"] == "1700000001.000100"
    assert posted.params["channel"] == "C0OPS"
    assert "why did mail to bob bounce?" in posted.params["text"]


def test_block_actions_and_view_submissions_reach_bolt(bolt_url: str, slack_peer: SlackPeer) -> None:
    action = block_action_body("retry", "example.com", response_url=slack_peer.response_url("act"))
    submission = view_submission_body(
        "settings", "C0OPS", {"region": {"pick": {"type": "plain_text_input", "value": "eu-west-1"}}}
    )

    assert post_signed(bolt_url, action, SECRET)[0] == 200
    assert post_signed(bolt_url, submission, SECRET)[0] == 200

    assert slack_peer.wait_for_response("act")["text"] == "retrying example.com"
    assert slack_peer.wait_for("chat.postMessage").params["text"] == "region set to eu-west-1"


@pytest.mark.parametrize(
    ("secret", "timestamp", "sign"),
    [("wrong-secret", None, True), (SECRET, int(time.time()) - 3600, True), (SECRET, None, False)],
    ids=["bad-signature", "stale-timestamp", "unsigned"],
)
def test_bolt_refuses_requests_not_signed_like_slack(
    bolt_url: str, slack_peer: SlackPeer, secret: str, timestamp: int | None, sign: bool
) -> None:
    body = slash_command_body("status", response_url=slack_peer.response_url("x"))

    status, _ = post_signed(bolt_url, body, secret, timestamp=timestamp, sign=sign)

    assert status == 401
    assert slack_peer.responses("x") == []


# ------------------------------------------------------------------------------------- lifecycle


def test_a_stopped_peer_answers_nobody_not_even_a_kept_alive_connection() -> None:
    with SlackPeer() as peer:
        port = peer.port
        assert peer.base_url == f"http://127.0.0.1:{port}/api/"
        kept_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        kept_alive.request("POST", "/api/auth.test", body=b"", headers={"Authorization": "Bearer xoxb-test-token"})
        assert json.loads(kept_alive.getresponse().read())["ok"] is True

    with pytest.raises((http.client.HTTPException, OSError)):
        kept_alive.request("POST", "/api/auth.test", body=b"", headers={"Authorization": "Bearer xoxb-test-token"})
        kept_alive.getresponse()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    kept_alive.close()
    peer.stop()  # stopping twice is harmless


# ------------------------------------------------------------------- what Slack refuses, refused here too

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}


def refusal_of(call: Any) -> tuple[str, list[str]]:
    with pytest.raises(SlackApiError) as err:
        call()
    return err.value.response["error"], err.value.response["response_metadata"]["messages"]


def test_a_home_view_of_more_than_a_hundred_blocks_is_refused_like_slack(web: WebClient, slack_peer: SlackPeer) -> None:
    error, problems = refusal_of(
        lambda: web.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": [SECTION] * 101})
    )
    assert error == "invalid_arguments"
    assert problems == ["101 blocks, more than 100"]
    assert slack_peer.refused == [("views.publish", problems)]
    assert slack_peer.home_of("U0ALICE") is None


def test_a_modal_with_a_title_over_24_characters_or_an_input_without_submit_is_refused(web: WebClient) -> None:
    long_title = {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}, "blocks": [SECTION]}
    _, problems = refusal_of(lambda: web.views_open(trigger_id="1.2.3", view=long_title))
    assert problems == ["SlackObjectFormationError: title must be between 1 and 24 characters"]
    field = {"type": "input", "label": {"type": "plain_text", "text": "Email"}, "element": {"type": "plain_text_input"}}
    no_submit = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": [field]}
    _, problems = refusal_of(lambda: web.views_open(trigger_id="1.2.3", view=no_submit))
    assert problems == ["a modal with input blocks needs a submit button"]


def test_a_view_without_its_trigger_or_user_is_refused(web: WebClient) -> None:
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": [SECTION]}
    assert refusal_of(lambda: web.api_call("views.open", json={"view": modal}))[1] == ["views.open needs trigger_id"]
    _, problems = refusal_of(
        lambda: web.api_call("views.publish", json={"view": {"type": "home", "blocks": [SECTION]}})
    )
    assert problems == ["views.publish needs user_id"]


def test_message_blocks_past_slacks_limits_are_refused_as_invalid_blocks(web: WebClient) -> None:
    error, problems = refusal_of(lambda: web.chat_postMessage(channel="C0OPS", text="t", blocks=[SECTION] * 51))
    assert (error, problems) == ("invalid_blocks", ["51 blocks, more than 50"])
    long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    _, problems = refusal_of(lambda: web.chat_postMessage(channel="C0OPS", text="t", blocks=[long]))
    assert problems == ["block 0: SlackObjectFormationError: text attribute cannot exceed 3000 characters"]
    _, problems = refusal_of(lambda: web.chat_postMessage(channel="C0OPS", text="t", blocks=[{"type": "banner"}]))
    assert problems == ['block 0 is not a block Slack knows: {"type": "banner"}']


def test_an_image_may_show_an_uploaded_private_file_by_id_or_url_and_nothing_else(
    web: WebClient, slack_peer: SlackPeer
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 40
    file = web.files_upload_v2(content=png, filename="chart.png", title="Chart", alt_txt="a chart")["file"]
    text = web.files_upload_v2(content=b"not a picture", filename="notes.txt")["file"]
    assert (file["channels"], file["mimetype"]) == ([], "image/png")  # shared in no channel: the bot's own
    for ref in ({"id": file["id"]}, {"url": file["url_private"]}, {"url": file["permalink"]}):
        image = {"type": "image", "alt_text": "a chart", "slack_file": ref}
        assert web.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": [image]})["ok"]

    def problems_of(image: dict[str, Any]) -> list[str]:
        return refusal_of(lambda: web.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": [image]}))[1]

    assert problems_of({"type": "image", "alt_text": "x", "slack_file": {"id": "F0NOSUCH"}}) == [
        'block 0: slack_file {"id": "F0NOSUCH"} is no file uploaded to this workspace'
    ]
    assert problems_of({"type": "image", "alt_text": "x", "slack_file": {"id": text["id"]}}) == [
        f"block 0: slack_file {text['id']} is not an image"
    ]
    both = {"type": "image", "alt_text": "x", "slack_file": {"id": file["id"], "url": file["permalink"]}}
    assert problems_of(both) == ["block 0: slack_file takes an id or a url, one of them"]
    assert web.files_delete(file=file["id"])["ok"] and slack_peer.deleted == [file["id"]]
    assert problems_of({"type": "image", "alt_text": "x", "slack_file": {"id": file["id"]}}) == [
        f'block 0: slack_file {{"id": "{file["id"]}"}} is no file uploaded to this workspace'
    ]
    _, problems = refusal_of(
        lambda: web.chat_postMessage(
            channel="C0OPS", text="t", blocks=[{"type": "image", "alt_text": "x", "slack_file": {"id": file["id"]}}]
        )
    )
    assert problems == [f'block 0: slack_file {{"id": "{file["id"]}"}} is no file uploaded to this workspace']


def test_a_new_file_is_processed_a_while_before_an_image_may_show_it(web: WebClient, slack_peer: SlackPeer) -> None:
    slack_peer.file_processing_polls = 1
    file = web.files_upload_v2(content=b"\x89PNG\r\n\x1a\n" + b"\0" * 40, filename="chart.png")["file"]
    assert file["mimetype"] == ""
    image = {"type": "image", "alt_text": "a chart", "slack_file": {"id": file["id"]}}
    _, problems = refusal_of(lambda: web.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": [image]}))
    assert problems == [f"block 0: slack_file {file['id']} is still being processed"]
    assert web.files_info(file=file["id"])["file"]["mimetype"] == ""
    assert web.files_info(file=file["id"])["file"]["mimetype"] == "image/png"
    assert web.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": [image]})["ok"]


def test_the_latest_home_view_is_kept_per_user(web: WebClient, slack_peer: SlackPeer) -> None:
    for text in ("first", "second"):
        block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        web.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": [block]})
    home = slack_peer.home_of("U0ALICE")
    assert home is not None and home["blocks"][0]["text"]["text"] == "second"


def test_shortcut_bodies_have_the_shape_slack_sends() -> None:
    global_shortcut = json.loads(parse_qs(shortcut_body("diagnose", user_id="U0BOB").decode())["payload"][0])
    on_message = json.loads(
        parse_qs(
            message_action_body("explain", "550 <x@example.com>", thread_ts="1.1", response_url="http://r").decode()
        )["payload"][0]
    )
    home_button = json.loads(
        parse_qs(block_action_body("open", "", view={"id": "V1", "type": "home"}).decode())["payload"][0]
    )
    home = json.loads(app_home_opened_body("U0BOB", event_id="Ev1"))

    assert (global_shortcut["type"], global_shortcut["callback_id"]) == ("shortcut", "diagnose")
    assert global_shortcut["user"]["id"] == "U0BOB" and "channel" not in global_shortcut
    assert (on_message["type"], on_message["callback_id"], on_message["channel"]["id"]) == (
        "message_action",
        "explain",
        "C0OPS",
    )
    assert on_message["message"]["text"] == "550 &lt;x@example.com&gt;"
    assert on_message["message"]["thread_ts"] == "1.1"
    assert home_button["container"] == {"type": "view", "view_id": "V1"}
    assert "channel" not in home_button and home_button["view"]["type"] == "home"
    assert (home["event"]["type"], home["event"]["user"], home["event_id"]) == ("app_home_opened", "U0BOB", "Ev1")


def test_message_metadata_is_kept_and_read_back_only_when_asked_for(web: WebClient, slack_peer: SlackPeer) -> None:
    metadata = {"event_type": "sesbot_outbox", "event_payload": {"outbox_id": 7, "instance": "abc"}}
    parent = web.chat_postMessage(channel="C0OPS", text="parent", metadata=metadata)
    assert "metadata" not in parent["message"]  # chat.postMessage does not echo it
    web.chat_postMessage(channel="C0OPS", text="reply", thread_ts=parent["ts"], metadata=metadata)
    web.chat_postMessage(channel="C0OPS", text="newer")

    plain = web.conversations_history(channel="C0OPS")
    assert [m["text"] for m in plain["messages"]] == ["newer", "parent"]  # newest first; replies stay in the thread
    assert all("metadata" not in m for m in plain["messages"])
    full = web.conversations_history(channel="C0OPS", include_all_metadata=True)
    assert full["messages"][1]["metadata"] == metadata
    assert full["messages"][1]["reply_count"] == 1
    thread = web.conversations_replies(channel="C0OPS", ts=parent["ts"], include_all_metadata=True)
    assert [(m["text"], m["metadata"]["event_payload"]["outbox_id"]) for m in thread["messages"]] == [
        ("parent", 7),
        ("reply", 7),
    ]
    newer_only = web.conversations_history(channel="C0OPS", oldest=parent["ts"])
    assert [m["text"] for m in newer_only["messages"]] == ["newer"]  # oldest is exclusive, as in Slack


def test_history_pages_with_a_cursor_and_an_unknown_thread_is_not_found(web: WebClient) -> None:
    for i in range(5):
        web.chat_postMessage(channel="C0OPS", text=f"m{i}")
    first = web.conversations_history(channel="C0OPS", limit=2)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"] and first["has_more"]
    second = web.conversations_history(channel="C0OPS", limit=2, cursor=first["response_metadata"]["next_cursor"])
    assert [m["text"] for m in second["messages"]] == ["m2", "m1"]
    with pytest.raises(SlackApiError) as err:
        web.conversations_replies(channel="C0OPS", ts="1.000001")
    assert err.value.response["error"] == "thread_not_found"


@pytest.mark.parametrize(
    "metadata",
    [
        {"event_type": "sesbot outbox", "event_payload": {}},  # a space
        {"event_type": "", "event_payload": {}},
        {"event_type": "sesbot_outbox", "event_payload": "outbox 7"},  # not an object
        {"event_payload": {"outbox_id": 7}},
        "sesbot_outbox",
    ],
)
def test_metadata_slack_would_refuse_is_refused_as_invalid_metadata_format(
    web: WebClient, slack_peer: SlackPeer, metadata: Any
) -> None:
    with pytest.raises(SlackApiError) as err:
        web.api_call("chat.postMessage", json={"channel": "C0OPS", "text": "x", "metadata": metadata})
    assert err.value.response["error"] == "invalid_metadata_format"
    assert slack_peer.messages_in("C0OPS") == []
    slack_peer.clear()  # the refusal was the point of this test


def test_a_held_answer_leaves_the_message_in_the_channel_until_released(web: WebClient, slack_peer: SlackPeer) -> None:
    slack_peer.hold("chat.postMessage")
    answers: list[Any] = []
    thread = threading.Thread(target=lambda: answers.append(web.chat_postMessage(channel="C0OPS", text="held")))
    thread.start()
    slack_peer.wait_for_held("chat.postMessage")
    assert [m["text"] for m in slack_peer.messages_in("C0OPS")] == ["held"]
    assert answers == []
    slack_peer.release()
    thread.join(timeout=10)
    assert answers and answers[0]["ok"]
