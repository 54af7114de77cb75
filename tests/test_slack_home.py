"""The Slack-native surfaces: the App Home dashboard, the "Diagnose an address" modal (from the Home button
and the global shortcut) answered in a direct message, and the "Explain with sesbot" message shortcut —
over real HTTP to the app, signed like Slack, against the Slack peer (which refuses what Slack would)."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.alerts import Incident
from bot.dashboard import Dashboard, dashboard, home_opened, recent_viewers
from bot.findings import Answer
from bot.pasted import question_in
from bot.scheduler import run_sweep
from handlers import diagnose
from handlers.home import refresher
from handlers.home_charts import HomeCharts
from handlers.home_view import MAX_INCIDENTS, Chart, home_view
from handlers.shortcuts import EXPLAIN_SHORTCUT, NOTHING_TO_ASK
from peers.slack import (
    app_home_opened_body,
    block_action_body,
    message_action_body,
    post_signed,
    shortcut_body,
    slash_command_body,
    view_problems,
    view_submission_body,
)
from tests.conftest import BOT_TOKEN, REGION, SIGNING_SECRET, put_rate, slack_poster
from tests.test_charts import png_size
from tests.test_slack_flows import open_incident, texts

DATA = Path(__file__).parent / "data" / "bounces"
REFUSED = ":no_entry: You are not on sesbot's list of allowed users; ask an admin to add you."


def spamhaus_bounce() -> str:
    """A real Spamhaus rejection as a receiver words it (zone-mta's bounce table, in tests/data)."""
    for line in (DATA / "providers-dev.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry["provider"] == "Spamhaus (sendmail receiver)" and "<recipient@example.com>" in entry["text"]:
            return entry["text"]
    raise AssertionError("the Spamhaus sample is missing from providers-dev.jsonl")


def open_home(server, slack_peer, user="U0ALICE"):
    post_signed(server.events_url, app_home_opened_body(user), SIGNING_SECRET)
    return slack_peer.wait_for("views.publish", lambda c: c.params["user_id"] == user, timeout=20).params["view"]


def submit_modal(server, text, user="U0ALICE"):
    values = {diagnose.TARGET_BLOCK: {diagnose.TARGET_ACTION: {"type": "plain_text_input", "value": text}}}
    body = view_submission_body(diagnose.VIEW, "", values, user_id=user, blocks=diagnose.diagnose_modal()["blocks"])
    status, raw = post_signed(server.events_url, body, SIGNING_SECRET)
    return status, (json.loads(raw) if raw.strip() else None)


def explain_message(server, slack_peer, text, **kw):
    body = message_action_body(EXPLAIN_SHORTCUT, text, response_url=slack_peer.response_url("m"), **kw)
    status, _ = post_signed(server.events_url, body, SIGNING_SECRET)
    assert status == 200


def view_text(view) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


# -- the App Home ---------------------------------------------------------------------------------------


def test_the_home_tab_shows_every_region_and_the_open_incident_with_a_link_to_its_thread(
    bot_server_factory, slack_peer, aws_peer, deps
):
    deps.settings.regions = [REGION, "eu-west-1"]
    aws_peer.set_account(production_access=True, region=REGION)
    open_incident(deps, slack_peer)
    server = bot_server_factory()
    view = open_home(server, slack_peer)
    shown = view_text(view)
    assert view["type"] == "home" and view_problems(view) == []
    region_sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"][:2]
    assert region_sections == [
        ":x: *us-east-1*\n"
        "Production access (out of the sandbox)\n"
        "Sending enabled: yes\n"
        "Enforcement status: HEALTHY\n"
        "Daily quota: 0 of 200 sent in the last 24 h (0%); at most 1 a second\n"
        "Bounce rate: 6% (CloudWatch), review (from 5%)\n"
        "Complaint rate: no data (no CloudWatch figure, too few events to estimate)",
        ":white_check_mark: *eu-west-1*\n"
        "Sandbox: only verified recipients, limited quota\n"
        "Sending enabled: yes\n"
        "Enforcement status: HEALTHY\n"
        "Daily quota: 0 of 200 sent in the last 24 h (0%); at most 1 a second\n"
        "Bounce rate: no data (no CloudWatch figure, too few events to estimate)\n"
        "Complaint rate: no data (no CloudWatch figure, too few events to estimate)",
    ]
    ts = deps.store.query("SELECT ts FROM incidents")[0]["ts"]
    link = f"https://sesbot-test.slack.com/archives/C0ALERTS/p{ts.replace('.', '')}"
    assert "#1 bounce rate in us-east-1: review, open since" in shown
    assert f"<{link}|Open its thread>" in shown
    assert view["blocks"][2]["elements"][0]["action_id"] == diagnose.OPEN_ACTION
    assert not [b for b in view["blocks"] if b["type"] == "image"]  # no chart source: no image block


def test_the_home_asks_slack_for_the_thread_links_of_the_incidents_it_lists_only(bot_server_factory, slack_peer, deps):
    for n in range(MAX_INCIDENTS + 5):
        deps.store.conn.execute(
            "INSERT INTO incidents (signal, region, scope, level, status, opened_at, channel, ts) "
            "VALUES ('bounce_rate', ?, ?, 'review', 'open', '2026-12-03T09:00:00.000Z', 'C0ALERTS', ?)",
            [REGION, f"cs{n}", f"1700000000.{n:06d}"],
        )
    deps.store.conn.commit()
    view = open_home(bot_server_factory(), slack_peer)
    assert view_problems(view) == [] and "… and 5 more: `/ses incidents` lists them all." in view_text(view)
    asked = [c.params["message_ts"] for c in slack_peer.calls_to("chat.getPermalink")]
    assert asked == [f"1700000000.{n:06d}" for n in range(MAX_INCIDENTS)]


def test_a_region_no_sweep_has_read_yet_is_marked_as_not_read_not_as_healthy(alert_deps, aws_peer, clock):
    alert_deps.settings.regions = [REGION]
    run_sweep(alert_deps, None)
    alert_deps.settings.regions = [REGION, "eu-west-1"]  # added since the last sweep
    sections = [b["text"]["text"] for b in home_view(dashboard(alert_deps))["blocks"] if b["type"] == "section"]
    assert sections[0] == ":information_source: *eu-west-1*\nNo sweep has read this region yet."  # above healthy
    assert sections[1].startswith(f":white_check_mark: *{REGION}*\nSandbox: only verified recipients")


def test_the_home_view_has_a_place_for_each_regions_chart_when_one_is_handed_in(deps):
    charts = {REGION: Chart(alt_text="Bounce rate over 7 days: 0.4% now, review level 5%", slack_file_id="F0CHART")}
    view = home_view(dashboard(deps), chart_for=lambda account, region: charts.get(region))
    images = [b for b in view["blocks"] if b["type"] == "image"]
    assert images == [
        {
            "type": "image",
            "alt_text": "Bounce rate over 7 days: 0.4% now, review level 5%",
            "slack_file": {"id": "F0CHART"},
        }
    ]
    assert view["blocks"][view["blocks"].index(images[0]) - 1]["text"]["text"].startswith(
        f":information_source: *{REGION}*"
    )
    assert view_problems(view) == []


def test_the_home_view_stays_within_a_hundred_blocks_showing_the_worst_regions_first_each_with_its_chart(deps):
    regions = [f"xx-test-{n}" for n in range(120)]
    level = {r: "review" if n >= 110 else "ok" for n, r in enumerate(regions)}  # the last ten in the settings
    status = Answer(
        "SES status",
        [
            (r, ["Production access (out of the sandbox)", f"Bounce rate: 0.4% (CloudWatch), {level[r]}"])
            for r in regions
        ],
        data={"regions": [{"region": r, "errors": [], "rates": [{"level": level[r]}]} for r in regions]},
    )
    incidents = [
        Incident(
            n, "bounce_rate", regions[n], "", "review", "open", "2026-12-03T09:00:00.000Z", channel="C0ALERTS", ts="1.2"
        )
        for n in range(1, 60)
    ]
    dash = Dashboard(status, "2026-12-03T09:00:00.000Z", incidents, [], 5)
    view = home_view(
        dash, chart_for=lambda _, r: Chart(alt_text=f"{r} rates", image_url="https://charts.example/x.png")
    )
    blocks = view["blocks"]
    assert len(blocks) <= 100 and view_problems(view) == []
    shown = [
        b["text"]["text"].split("*")[1] for b in blocks if b["type"] == "section" and " *xx-test-" in b["text"]["text"]
    ]
    assert shown == regions[110:] + regions[: len(shown) - 10]  # those under review first, then in their order
    under = [
        (blocks[k - 1]["text"]["text"].split("*")[1], b["alt_text"])
        for k, b in enumerate(blocks)
        if b["type"] == "image"
    ]
    assert under == [(r, f"{r} rates") for r in shown]  # every region shown has its chart, right under it
    text = view_text(view)
    assert f"… {120 - len(shown)} more regions not shown; `/ses status` shows every region." in text
    assert "*Open incidents (59)*" in text and "… and 39 more: `/ses incidents` lists them all." in text
    assert "*Latest diagnoses*" in blocks[-1]["text"]["text"]


def test_the_sweep_refreshes_the_home_of_those_who_opened_it_in_the_last_day(alert_deps, slack_peer, clock):
    home_opened(alert_deps.store, "U0ALICE", clock.now - timedelta(hours=2))
    home_opened(alert_deps.store, "U0GONE", clock.now - timedelta(hours=25))
    client = WebClient(token=BOT_TOKEN, base_url=slack_peer.base_url)
    run_sweep(alert_deps, slack_poster(slack_peer), after_sweep=refresher(alert_deps, client))
    published = [c.params["user_id"] for c in slack_peer.calls_to("views.publish")]
    assert published == ["U0ALICE"]
    home = slack_peer.home_of("U0ALICE")
    assert home is not None and home["blocks"][0]["text"]["text"] == "SES at a glance"
    sections = [b["text"]["text"] for b in home["blocks"] if b["type"] == "section"]
    assert sections[0].startswith(f":white_check_mark: *{REGION}*\nSandbox: only verified recipients"), sections


# -- the App Home's charts ------------------------------------------------------------------------------


def images(view) -> list[dict]:
    return [b for b in view["blocks"] if b["type"] == "image"]


def home_with_chart(slack_peer, user="U0ALICE"):
    """The first Home view published to `user` that shows a chart."""
    call = slack_peer.wait_for(
        "views.publish", lambda c: c.params["user_id"] == user and images(c.params["view"]), timeout=30
    )
    return call.params["view"]


def test_the_home_tab_shows_the_regions_the_open_incident_and_the_rate_chart_uploaded_as_a_real_png(
    bot_server_factory, slack_peer, aws_peer, deps
):
    aws_peer.set_account(production_access=True, region=REGION)
    open_incident(deps, slack_peer)  # 6% in CloudWatch: an incident, whose thread gets its own chart
    in_threads = len(slack_peer.uploads)
    server = bot_server_factory(charts=True)
    assert images(open_home(server, slack_peer)) == []  # published at once, before any chart is drawn
    view = home_with_chart(slack_peer)
    assert view_problems(view) == []
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert sections[0].startswith(f":x: *{REGION}*\nProduction access (out of the sandbox)")
    assert "Bounce rate: 6% (CloudWatch), review (from 5%)" in sections[0]
    assert any(text.startswith(":x: #1 bounce rate in us-east-1: review, open since") for text in sections)
    [image] = images(view)
    assert view["blocks"][view["blocks"].index(image) - 1]["text"]["text"] == sections[0]  # under its region
    [upload] = [u for u in slack_peer.uploads if u.file_id == image["slack_file"]["id"]]
    assert upload.channel_id is None  # the bot's private file, shared in no channel
    width, height = png_size(upload.data or b"")
    assert width >= 600 and height >= 300
    assert "6%" in image["alt_text"] and "bounce rate" in image["alt_text"].lower()
    assert "0.05" in json.dumps(aws_peer.widgets[-1]["annotations"])  # the review level, drawn by CloudWatch
    assert len(slack_peer.uploads) == in_threads + 1

    slack_peer.clear()  # opened again: the chart of this reading is shown at once, not drawn or uploaded again
    assert images(open_home(server, slack_peer)) == [image]
    assert slack_peer.calls_to("files.getUploadURLExternal") == []


def test_a_second_persons_home_is_published_while_the_first_ones_charts_are_still_being_drawn(
    bot_server_factory, slack_peer, deps
):
    open_incident(deps, slack_peer)  # a sweep reading whose Home chart is not drawn yet
    in_threads = len(slack_peer.uploads)
    server = bot_server_factory(charts=True, answer_workers=1)
    slack_peer.hold("files.getUploadURLExternal")  # Alice's chart: drawn, its upload waiting on Slack
    assert images(open_home(server, slack_peer, "U0ALICE")) == []
    slack_peer.wait_for_held("files.getUploadURLExternal")
    assert images(open_home(server, slack_peer, "U0BOB")) == []  # the one answer worker is not drawing
    slack_peer.release()
    assert images(home_with_chart(slack_peer, "U0ALICE")) == images(home_with_chart(slack_peer, "U0BOB"))
    assert len(slack_peer.uploads) == in_threads + 1  # drawn and uploaded once for both


def test_each_sweep_refreshes_the_home_with_the_chart_of_its_reading_and_old_charts_are_deleted(
    alert_deps, slack_peer, aws_peer, clock
):
    home_opened(alert_deps.store, "U0ALICE", clock.now)
    client = WebClient(token=BOT_TOKEN, base_url=slack_peer.base_url)
    refresh = refresher(alert_deps, client, HomeCharts(alert_deps, client))
    shown = []
    for rate in (0.01, 0.02, 0.03):
        put_rate(aws_peer, rate, clock.tick())
        run_sweep(alert_deps, None, after_sweep=refresh)
        [image] = images(slack_peer.home_of("U0ALICE"))
        shown.append(image)
    assert [f"now {n}%" in image["alt_text"] for n, image in zip((1, 2, 3), shown, strict=True)] == [True] * 3
    ids = [image["slack_file"]["id"] for image in shown]
    assert len(set(ids)) == 3
    assert slack_peer.deleted == [ids[0]]  # a replaced chart goes one replacement later
    assert [u.file_id for u in slack_peer.uploads] == ids[1:]


def test_a_chart_that_cannot_be_uploaded_leaves_the_home_without_it_and_says_so_in_one_log_line(
    alert_deps, slack_peer, aws_peer, clock, caplog
):
    slack_peer.fail("files.getUploadURLExternal", "missing_scope", status=200, retry_after=None, count=None)
    home_opened(alert_deps.store, "U0ALICE", clock.now)
    client = WebClient(token=BOT_TOKEN, base_url=slack_peer.base_url)
    refresh = refresher(alert_deps, client, HomeCharts(alert_deps, client))
    put_rate(aws_peer, 0.02, clock.tick())
    with caplog.at_level(logging.INFO):
        result = run_sweep(alert_deps, None, after_sweep=refresh)
        assert result is not None
        refresh(result)  # the same reading again: not tried again
    home = slack_peer.home_of("U0ALICE")
    assert images(home) == [] and f"*{REGION}*" in home["blocks"][5]["text"]["text"]
    said = [r.getMessage() for r in caplog.records if "no chart on the App Home" in r.getMessage()]
    assert said == [
        f"no chart on the App Home for {REGION} (Slack answered missing_scope); it shows the figures without one"
    ]
    assert len(slack_peer.calls_to("files.getUploadURLExternal")) == 1


def test_a_new_chart_is_shown_once_slack_has_processed_the_file_and_never_before(
    alert_deps, slack_peer, aws_peer, clock, caplog
):
    slack_peer.file_processing_polls = 2  # Slack answers two files.info without a mimetype
    home_opened(alert_deps.store, "U0ALICE", clock.now)
    client = WebClient(token=BOT_TOKEN, base_url=slack_peer.base_url)
    refresh = refresher(alert_deps, client, HomeCharts(alert_deps, client, processing_waits=(0.01, 0.01, 0.01)))
    put_rate(aws_peer, 0.02, clock.tick())
    run_sweep(alert_deps, None, after_sweep=refresh)
    assert len(images(slack_peer.home_of("U0ALICE"))) == 1
    assert len(slack_peer.calls_to("files.info")) == 3

    slack_peer.file_processing_polls = 5  # longer than the bot waits: no chart this time, and one log line
    refresh = refresher(alert_deps, client, HomeCharts(alert_deps, client, processing_waits=(0.01, 0.01)))
    put_rate(aws_peer, 0.03, clock.tick())
    with caplog.at_level(logging.INFO):
        run_sweep(alert_deps, None, after_sweep=refresh)
    assert images(slack_peer.home_of("U0ALICE")) == []
    assert [r.getMessage() for r in caplog.records if "no chart on the App Home" in r.getMessage()] == [
        f"no chart on the App Home for {REGION} (TimeoutError: Slack was still processing the file after 0.02 s); "
        "it shows the figures without one"
    ]


def test_someone_taken_out_of_the_allowed_group_gets_the_refusal_at_the_next_refresh(alert_deps, slack_peer, clock):
    alert_deps.settings.allowed_groups = frozenset({"S0SES"})
    slack_peer.usergroup_members["S0SES"] = ["U0ALICE", "U0BOB"]
    for user in ("U0ALICE", "U0BOB"):
        home_opened(alert_deps.store, user, clock.now)
    refresh = refresher(alert_deps, WebClient(token=BOT_TOKEN, base_url=slack_peer.base_url))
    run_sweep(alert_deps, None, after_sweep=refresh)
    assert [slack_peer.home_of(u)["blocks"][0]["type"] for u in ("U0ALICE", "U0BOB")] == ["header", "header"]
    slack_peer.usergroup_members["S0SES"] = ["U0BOB"]
    clock.tick()
    run_sweep(alert_deps, None, after_sweep=refresh)
    assert slack_peer.home_of("U0ALICE")["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": REFUSED}}]
    assert slack_peer.home_of("U0BOB")["blocks"][0]["type"] == "header"
    assert recent_viewers(alert_deps.store, clock.now) == ["U0BOB"]  # no refusal again at every sweep

    slack_peer.fail("usergroups.users.list", "internal_error", status=200, retry_after=None)
    clock.tick()
    before = slack_peer.home_of("U0BOB")
    run_sweep(alert_deps, None, after_sweep=refresh)  # who is in the group is unknown: Bob is neither refused
    assert slack_peer.home_of("U0BOB") == before  # nor shown the dashboard, and is still refreshed next time
    assert recent_viewers(alert_deps.store, clock.now) == ["U0BOB"]


# -- the modal ------------------------------------------------------------------------------------------


def test_the_home_button_and_the_global_shortcut_open_the_same_modal(bot_server, slack_peer):
    post_signed(
        bot_server.events_url,
        block_action_body(diagnose.OPEN_ACTION, "home", view={"id": "V0HOME", "type": "home"}),
        SIGNING_SECRET,
    )
    from_home = slack_peer.wait_for("views.open").params["view"]
    slack_peer.clear()
    post_signed(bot_server.events_url, shortcut_body(diagnose.SHORTCUT), SIGNING_SECRET)
    from_shortcut = slack_peer.wait_for("views.open").params["view"]
    assert from_home == from_shortcut == diagnose.diagnose_modal()
    assert view_problems(from_home) == []


def test_a_bad_address_in_the_modal_is_an_inline_error_on_its_field(bot_server, slack_peer):
    status, answer = submit_modal(bot_server, "jane at example")
    assert status == 200
    assert answer["response_action"] == "errors"
    assert answer["errors"][diagnose.TARGET_BLOCK].startswith(
        "`jane` is not an email address, @domain or SES message id"
    )
    assert len(answer["errors"][diagnose.TARGET_BLOCK]) <= 150
    assert slack_peer.calls_to("conversations.open") == []


def test_a_valid_address_in_the_modal_is_diagnosed_in_a_direct_message_and_listed_on_the_home(
    bot_server, slack_peer, aws_peer
):
    aws_peer.set_account(production_access=True)
    aws_peer.set_identity("mail.example.com")
    aws_peer.suppress("jane@example.net", region=REGION)
    status, answer = submit_modal(bot_server, "jane@example.net")
    assert (status, answer) == (200, None)  # the modal closes
    assert slack_peer.wait_for("conversations.open").params["users"] == "U0ALICE"
    report = slack_peer.wait_for(
        "chat.postMessage", lambda c: c.params.get("blocks", [{}])[0].get("type") == "header", timeout=30
    ).params
    assert report["channel"] == "D0ALICE"
    assert report["blocks"][0]["text"]["text"] == "Diagnosis: jane@example.net"
    assert "`recipient.suppressed`" in report["blocks"][1]["text"]["text"]
    working = slack_peer.calls_to("chat.postMessage")[0].params
    assert (working["channel"], working["text"]) == (
        "D0ALICE",
        ":hourglass_flowing_sand: Working on `why jane@example.net`…",
    )
    latest = open_home(bot_server, slack_peer)["blocks"][-1]["text"]["text"]
    assert latest.startswith("*Latest diagnoses*\n")
    assert (
        "<@U0ALICE> `why jane@example.net`: :rotating_light: jane@example.net is on the account suppression list"
        in latest
    )


# -- the message shortcut -------------------------------------------------------------------------------


def test_the_shortcut_on_a_pasted_spamhaus_bounce_explains_it_in_the_messages_thread(bot_server, slack_peer):
    explain_message(bot_server, slack_peer, spamhaus_bounce(), message_ts="1700000000.000300")
    reply = slack_peer.wait_for("chat.postMessage", timeout=20).params
    assert (reply["channel"], reply["thread_ts"]) == ("C0OPS", "1700000000.000300")
    explanation = reply["blocks"][2]["text"]["text"]
    assert explanation.splitlines()[1] == "Category: ip_blocklist, zen.spamhaus.org", explanation
    assert reply["blocks"][0]["elements"][0]["text"] == "<@U0ALICE> asked sesbot about this message."


def test_the_shortcut_on_a_reply_answers_in_the_thread_it_belongs_to(bot_server, slack_peer):
    explain_message(
        bot_server, slack_peer, spamhaus_bounce(), message_ts="1700000000.000400", thread_ts="1700000000.000100"
    )
    assert slack_peer.wait_for("chat.postMessage", timeout=20).params["thread_ts"] == "1700000000.000100"


def test_the_shortcut_diagnoses_at_most_three_of_the_addresses_a_message_names(bot_server, slack_peer):
    text = "Nobody got it: ana@example.net, <mailto:bo@example.org|bo@example.org>, cy@example.com, di@example.com"
    explain_message(bot_server, slack_peer, text)
    reply = slack_peer.wait_for("chat.postMessage", timeout=60).params
    assert (
        reply["blocks"][1]["text"]["text"] == "Why mail did not arrive: ana@example.net, bo@example.org, cy@example.com"
    )
    assert "di@example.com" not in texts(reply)
    assert reply["blocks"][0]["elements"][1]["text"] == "It names 4 addresses or message ids; these are the first 3."


def test_the_shortcut_on_a_message_with_nothing_to_look_at_says_so_to_the_asker_only(bot_server, slack_peer):
    explain_message(bot_server, slack_peer, "lunch at noon?")
    said = slack_peer.wait_for("chat.postEphemeral").params
    assert (said["user"], said["text"]) == ("U0ALICE", f":warning: {NOTHING_TO_ASK}")
    assert slack_peer.calls_to("chat.postMessage") == []


def test_text_from_the_message_reaches_the_thread_escaped(bot_server, slack_peer):
    explain_message(bot_server, slack_peer, "554 5.7.1 <!channel> blocked using zen.spamhaus.org <@U0BOSS>")
    reply = slack_peer.wait_for("chat.postMessage", timeout=20).params
    shown = texts(reply)
    assert "<!channel>" not in shown and "<@U0BOSS>" not in shown


REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-central-1", "eu-north-1"]


def left_out(msg) -> list[int]:
    """The counts in a message's "… N more sections not shown" lines."""
    return [int(n) for n in re.findall(r"… (\d+) more sections not shown", json.dumps(msg, ensure_ascii=False))]


@pytest.mark.parametrize("where", ["thread", "direct message"])
def test_the_shortcut_on_a_diagnosis_too_long_for_one_message_keeps_its_buttons_and_says_once_what_it_left_out(
    bot_server_factory, slack_peer, aws_peer, where
):
    # Suppressed in eight regions, each with its own problems: more than Slack's 50 blocks. Eight regions at
    # once are slower than the tests' usual 5 s a check, and a check that times out would change the answer.
    server = bot_server_factory(allow_writes=True, regions=REGIONS, check_timeout=30.0)
    for region in REGIONS:
        aws_peer.suppress("ana@example.net", region=region)
    post_signed(
        server.events_url,
        slash_command_body("why ana@example.net", response_url=slack_peer.response_url("why")),
        SIGNING_SECRET,
    )
    asked = slack_peer.wait_for_response("why", timeout=60)
    assert len(left_out(asked)) == 1
    if where == "direct message":
        slack_peer.fail("chat.postMessage", "not_in_channel", status=200)
    explain_message(server, slack_peer, "Did ana@example.net get our mail?")
    channel = "D0ALICE" if where == "direct message" else "C0OPS"
    reply = slack_peer.wait_for("chat.postMessage", lambda c: c.params["channel"] == channel, timeout=60).params
    assert slack_peer.refused == []
    first = reply["blocks"][0]["elements"][0]["text"]
    assert first.startswith("sesbot cannot post" if where == "direct message" else "<@U0ALICE> asked sesbot")
    # The note takes the place of one more section; the buttons stay last, as in the answer to /ses why.
    assert len(reply["blocks"]) == len(asked["blocks"]) == 50
    assert reply["blocks"][-1] == asked["blocks"][-1]
    buttons = [e["action_id"] for e in reply["blocks"][-1]["elements"]]
    assert buttons == ["sesbot_rerun", "suppression_remove", "suppression_remove:1", "suppression_remove:2"]
    assert left_out(reply) == [left_out(asked)[0] + 1]


def test_a_pasted_bounce_is_explained_even_when_it_names_its_recipient_and_message_ids_are_diagnosed():
    assert question_in(spamhaus_bounce()).command.startswith("explain 550 5.7.1 <recipient@example.com>")
    message_id = "010001812a3b4c5d-6e7f8a9b-0c1d-2e3f-4a5b-6c7d8e9f0a1b-000000"
    question = question_in(f"did <{message_id}@email.amazonses.com> arrive? ask jo@example.com")
    assert (question.command, question.found) == (f"why {message_id} jo@example.com", 2)
    assert question_in("lunch at noon?") is None


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("jöhn@example.com never got the invoice", "why jöhn@example.com"),
        ("jane@bücher.de never got the invoice", "why jane@xn--bcher-kva.de"),
        (
            "*jane@example.net* and To:joe@example.org, cc (ann@example.com).",
            "why jane@example.net joe@example.org ann@example.com",
        ),
        ("is jane@example.net's mail stuck? ask @dana", "why jane@example.net"),
    ],
)
def test_the_shortcut_finds_the_addresses_why_takes_in_any_script_and_diagnoses_them_whole(text, command):
    assert question_in(text).command == command


# -- the allow-lists, on every surface ------------------------------------------------------------------

SURFACES = ("home", "home button", "global shortcut", "message shortcut", "modal")


@pytest.mark.parametrize("surface", SURFACES)
def test_a_refused_user_gets_the_refusal_on_every_surface_and_nothing_runs(
    bot_server_factory, slack_peer, deps, surface
):
    server = bot_server_factory(allowed_users=frozenset({"U0BOB"}))
    if surface == "home":
        assert open_home(server, slack_peer)["blocks"] == [
            {"type": "section", "text": {"type": "mrkdwn", "text": REFUSED}}
        ]
    elif surface in ("home button", "global shortcut"):
        body = (
            block_action_body(diagnose.OPEN_ACTION, "home", view={"id": "V0HOME", "type": "home"})
            if surface == "home button"
            else shortcut_body(diagnose.SHORTCUT)
        )
        post_signed(server.events_url, body, SIGNING_SECRET)
        modal = slack_peer.wait_for("views.open").params["view"]
        assert (modal.get("callback_id"), modal["blocks"][0]["text"]["text"]) == (None, REFUSED)
    elif surface == "message shortcut":
        explain_message(server, slack_peer, spamhaus_bounce())
        said = slack_peer.wait_for("chat.postEphemeral").params
        assert (said["user"], said["text"]) == ("U0ALICE", REFUSED)
    else:
        _, answer = submit_modal(server, "jane@example.net")
        assert answer == {"response_action": "errors", "errors": {"target": REFUSED.removeprefix(":no_entry: ")}}
    assert [c.method for c in slack_peer.calls if c.method in ("chat.postMessage", "conversations.open")] == []
    assert deps.store.flush_audit(timeout=10)
    assert deps.store.query("SELECT user_id, allowed FROM audit")[-1] == {"user_id": "U0ALICE", "allowed": 0}


def test_the_channel_allow_list_leaves_the_home_and_its_modal_to_the_user_allow_lists(
    bot_server_factory, slack_peer, aws_peer
):
    server = bot_server_factory(allowed_channels=frozenset({"C0OPS"}))
    assert open_home(server, slack_peer)["blocks"][0]["type"] == "header"
    assert submit_modal(server, "jane@example.net") == (200, None)
    assert slack_peer.wait_for("conversations.open").params["users"] == "U0ALICE"
    explain_message(server, slack_peer, spamhaus_bounce(), channel_id="C0RANDOM")
    assert slack_peer.wait_for("chat.postEphemeral").params["text"].startswith(":no_entry: sesbot does not answer")


def test_diagnoses_from_the_modal_count_toward_the_rate_limit(bot_server_factory, slack_peer, dns_peer):
    server = bot_server_factory(diagnoses_per_minute=1)
    post_signed(
        server.events_url,
        slash_command_body("why a@example.com", response_url=slack_peer.response_url()),
        SIGNING_SECRET,
    )
    _, answer = submit_modal(server, "b@example.com")
    assert answer["errors"]["target"].startswith("You have asked for 1 diagnoses in the last minute")


def test_input_the_modal_refuses_costs_nothing_from_the_rate_limit(bot_server_factory, slack_peer, dns_peer):
    server = bot_server_factory(diagnoses_per_minute=1)
    for bad in (",", "jane at example", "jane@example.net --account=qa"):
        _, answer = submit_modal(server, bad)
        assert answer["response_action"] == "errors"
        assert "diagnoses in the last minute" not in answer["errors"][diagnose.TARGET_BLOCK]
    # The form takes no flags (it would drop them): it says so rather than diagnosing every account.
    assert answer["errors"][diagnose.TARGET_BLOCK].startswith("the form takes addresses, @domains and message ids")
    assert submit_modal(server, "jane@example.net") == (200, None)  # the one diagnosis the minute allows


def test_the_buttons_on_the_modals_direct_message_answer_work_with_a_channel_allow_list(
    bot_server_factory, slack_peer, aws_peer
):
    server = bot_server_factory(allowed_channels=frozenset({"C0OPS"}))
    assert submit_modal(server, "jane@example.net") == (200, None)
    report = slack_peer.wait_for(
        "chat.postMessage", lambda c: c.params.get("blocks", [{}])[0].get("type") == "header", timeout=30
    ).params
    rerun = next(b for b in report["blocks"][-1]["elements"] if b["action_id"] == "sesbot_rerun")
    slack_peer.clear()
    body = block_action_body(
        rerun["action_id"], rerun["value"], channel_id=report["channel"], response_url=slack_peer.response_url("rr")
    )
    post_signed(server.events_url, body, SIGNING_SECRET)
    answer = slack_peer.wait_for_response("rr", timeout=30)
    assert "does not answer in this channel" not in json.dumps(answer)
    assert slack_peer.calls_to("chat.postEphemeral") == []
