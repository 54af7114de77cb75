"""The alert sweep against the local peers: CloudWatch and the SES account in `aws_peer`, Slack in `slack_peer`.

Each test calls `sweep()` directly ("one sweep") with a clock the test moves; nothing waits on real time.
What Slack received is read back from the peer's recorded calls.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import botocore.session
import pytest

from bot.alerts import next_level, sweep
from bot.alerts.levels import ENFORCEMENT_LEVELS
from bot.alerts.signals import group_blocklist_events
from bot.alerts.summary import when
from bot.alerts.sweep import SweepResult
from bot.alerts.transitions import Signal
from bot.commands import CommandContext, execute, parse
from bot.commands.sweep import sweep_answer
from bot.deps import Deps
from bot.findings import Severity
from bot.incidents import get_incident, incident_status_answer, incident_summary_answer
from bot.ingest import ingest_documents, prune
from bot.notify import Button, Message
from bot.store import Store, iso
from handlers.alert_blocks import alert_message
from tests.conftest import CHANNEL, REGION, SENDER, Clock, bounce_doc, put_rate, slack_poster


def header(call) -> str:
    return call.params["blocks"][0]["text"]["text"]


def slack_log(slack_peer) -> list[tuple[str, str, str | None, str]]:
    """(method, channel, the parent it belongs to, header) for every chat call, in order."""
    out = []
    for c in slack_peer.calls:
        if c.method == "chat.postMessage":
            out.append((c.method, c.params["channel"], c.params.get("thread_ts"), header(c)))
        elif c.method == "chat.update":
            out.append((c.method, c.params["channel"], c.params["ts"], header(c)))
    return out


def levels_of(result, signal: str = "bounce_rate") -> list[tuple[str | None, str]]:
    return [(s.previous_level, s.level) for s in result.signals if s.signal == signal]


def send_doc(n: int, recipient: str, at: datetime) -> str:
    ts = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return json.dumps(
        {
            "eventType": "Send",
            "mail": {
                "timestamp": ts,
                "messageId": f"send-{n}",
                "source": "news@mail.example.com",
                "destination": [recipient],
            },
            "send": {},
        }
    )


SPAMHAUS = "smtp; 554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org <!channel>"


# -- the whole story -----------------------------------------------------------------------------------


def test_rising_bounce_rate_opens_an_incident_replies_in_its_thread_and_resolves(
    aws_peer, slack_peer, alert_deps, clock
):
    poster = slack_poster(slack_peer)
    transitions = []
    for value in (0.03, 0.045, 0.052, 0.11, 0.01, 0.01):
        put_rate(aws_peer, value, clock.tick())
        transitions += levels_of(sweep(alert_deps, poster))

    assert transitions == [
        (None, "elevated"),
        ("elevated", "near_review"),
        ("near_review", "review"),
        ("review", "suspension"),
        ("suspension", "suspension"),  # one sweep below is not a recovery yet
        ("suspension", "ok"),
    ]
    parent = slack_peer.calls_to("chat.postMessage")[0].params
    ts = "1700000000.000100"  # the peer's first ts: the parent's
    assert slack_log(slack_peer) == [
        ("chat.postMessage", CHANNEL, None, ":warning: Bounce rate 3% in us-east-1: elevated"),
        ("chat.postMessage", CHANNEL, ts, ":warning: Worse: bounce rate 4.5% in us-east-1"),
        ("chat.update", CHANNEL, ts, ":warning: Bounce rate 4.5% in us-east-1: near review"),
        ("chat.postMessage", CHANNEL, ts, ":x: Worse: bounce rate 5.2% in us-east-1"),
        ("chat.update", CHANNEL, ts, ":x: Bounce rate 5.2% in us-east-1: review"),
        ("chat.postMessage", CHANNEL, ts, ":rotating_light: Worse: bounce rate 11% in us-east-1"),
        ("chat.update", CHANNEL, ts, ":rotating_light: Bounce rate 11% in us-east-1: pause"),
        ("chat.postMessage", CHANNEL, ts, ":white_check_mark: Resolved: bounce rate in us-east-1"),
        ("chat.update", CHANNEL, ts, ":white_check_mark: Resolved: bounce rate in us-east-1"),
        ("chat.postMessage", CHANNEL, ts, ":white_check_mark: Incident #1 summary: bounce rate in us-east-1"),
    ]
    # The parent says the figure, the threshold, what it means, the trend, what to do, and offers buttons.
    opened = json.dumps(parent["blocks"], ensure_ascii=False)
    for expected in (
        "3% (CloudWatch)",
        "elevated (from 2%)",
        "AWS reviews the account at 5% and may pause it at 10%.",
        "▃",
        "What to do",
        "sesbot_incident_ack",
        "sesbot_incident_bounces",
    ):
        assert expected in opened
    resolved = slack_peer.calls_to("chat.update")[-1].params
    assert "Worst level reached: pause (11%)" in json.dumps(resolved["blocks"])
    assert alert_deps.store.query("SELECT signal, level, status, channel, ts FROM incidents") == [
        {"signal": "bounce_rate", "level": "suspension", "status": "resolved", "channel": CHANNEL, "ts": ts}
    ]
    assert alert_deps.store.query("SELECT COUNT(*) AS n FROM notifications WHERE sent_at IS NULL") == [{"n": 0}]


def test_a_sweep_without_change_posts_nothing(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    put_rate(aws_peer, 0.03, clock.tick())
    first = sweep(alert_deps, poster)
    put_rate(aws_peer, 0.031, clock.tick())
    second = sweep(alert_deps, poster)

    assert [p.kind for p in first.posted] == ["open"]
    assert second.posted == []
    assert levels_of(second) == [("elevated", "elevated")]
    assert len(slack_peer.calls_to("chat.postMessage")) == 1


def test_a_restart_between_sweeps_posts_nothing_twice(aws_peer, slack_peer, settings, store, clock):
    settings.alert_channel = CHANNEL
    put_rate(aws_peer, 0.03, clock.tick())
    sweep(Deps.build(settings, store=store, clock=clock), slack_poster(slack_peer))
    store.close()

    # A new process: a new Store on the same file, a new poster.
    reopened = Store(store.path)
    deps = Deps.build(settings, store=reopened, clock=clock)
    put_rate(aws_peer, 0.03, clock.tick())
    again = sweep(deps, slack_poster(slack_peer))
    put_rate(aws_peer, 0.045, clock.tick())
    worse = sweep(deps, slack_poster(slack_peer))
    reopened.close()

    assert again.posted == []
    ts = "1700000000.000100"
    assert slack_log(slack_peer) == [
        ("chat.postMessage", CHANNEL, None, ":warning: Bounce rate 3% in us-east-1: elevated"),
        ("chat.postMessage", CHANNEL, ts, ":warning: Worse: bounce rate 4.5% in us-east-1"),
        ("chat.update", CHANNEL, ts, ":warning: Bounce rate 4.5% in us-east-1: near review"),
    ]
    assert [p.kind for p in worse.posted] == ["update", "parent_update"]


def test_a_rate_hovering_at_a_threshold_posts_one_alert_per_level(aws_peer, slack_peer, alert_deps, clock):
    alert_deps.settings.ack_reminder_minutes = 0  # 35 minutes unacknowledged would add a reminder (test_reminders)
    poster = slack_poster(slack_peer)
    for value in (0.049, 0.051, 0.049, 0.051, 0.049, 0.051, 0.049):
        put_rate(aws_peer, value, clock.tick())
        sweep(alert_deps, poster)

    ts = "1700000000.000100"
    assert slack_log(slack_peer) == [
        ("chat.postMessage", CHANNEL, None, ":warning: Bounce rate 4.9% in us-east-1: near review"),
        ("chat.postMessage", CHANNEL, ts, ":x: Worse: bounce rate 5.1% in us-east-1"),
        ("chat.update", CHANNEL, ts, ":x: Bounce rate 5.1% in us-east-1: review"),
    ]


def test_recovery_lands_on_the_highest_level_seen_while_calm():
    levels = ["ok", "elevated", "near_review", "review"]
    step = next_level(levels, "review", "elevated", calm=0, calm_max=None, recovery_sweeps=2)
    assert step == ("review", 1, "elevated")
    step = next_level(levels, "review", "near_review", calm=1, calm_max="elevated", recovery_sweeps=2)
    assert step == ("near_review", 0, None)
    assert next_level(levels, "review", "ok", calm=5, calm_max="ok", recovery_sweeps=2, quiet_enough=False) == (
        "review",
        6,
        "ok",
    )
    assert next_level(levels, "ok", "review", calm=0, calm_max=None, recovery_sweeps=2) == ("review", 0, None)


def test_the_resolution_and_the_summary_give_the_highest_figure_even_a_rise_within_one_level(
    aws_peer, slack_peer, alert_deps, clock
):
    alert_deps.settings.ack_reminder_minutes = 0
    poster = slack_poster(slack_peer)
    for value in (0.105, 0.30, 0.30, 0.01, 0.01):  # pause at 10.5%, then 30% without a level change
        put_rate(aws_peer, value, clock.tick())
        sweep(alert_deps, poster)
    edits = [c.params["text"] for c in slack_peer.calls_to("chat.update")]
    assert any("Worst level reached: pause (30%)" in text for text in edits), edits
    [incident] = alert_deps.store.query("SELECT id FROM incidents")
    summary = incident_summary_answer(alert_deps, get_incident(alert_deps.store, incident["id"]))
    assert "Worst level: pause (30%)" in summary.sections[0][1]


# -- blocklist bounces ---------------------------------------------------------------------------------


def test_blocklist_bounces_ingested_between_sweeps_make_one_grouped_alert(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    assert sweep(alert_deps, poster).posted == []
    at = clock.tick()
    docs = [
        bounce_doc(1, "a@gmail.com", SPAMHAUS.format(ip="54.240.8.1"), at),
        bounce_doc(2, "b@gmail.com", SPAMHAUS.format(ip="54.240.8.1"), at),
        bounce_doc(3, "c@yahoo.com", SPAMHAUS.format(ip="54.240.8.1"), at),
        bounce_doc(4, "d@gmail.com", "smtp; 550 5.1.1 user unknown", at),  # no blocklist: not in this alert
    ]
    ingest_documents(alert_deps.store, docs, origin="test", now=at)
    clock.tick()
    grouped = sweep(alert_deps, poster)
    quiet = sweep(alert_deps, poster)

    assert [p.kind for p in grouped.posted] == ["open"]
    assert quiet.posted == []
    (call,) = slack_peer.calls_to("chat.postMessage")
    assert header(call) == ":warning: 3 new blocklist bounces in us-east-1"
    body = json.dumps(call.params["blocks"])
    assert "zen.spamhaus.org, sending IP 54.240.8.1, to gmail.com: 2" in body
    assert "zen.spamhaus.org, sending IP 54.240.8.1, to yahoo.com: 1" in body
    # The remote server's text cannot ping the channel.
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body

    # A new (list, IP) pair while the incident is open: a new listing, in its thread, and the parent counts it.
    at = clock.tick()
    ingest_documents(alert_deps.store, [bounce_doc(5, "e@gmail.com", SPAMHAUS.format(ip="54.240.8.2"), at)], "test")
    more = sweep(alert_deps, poster)
    assert [(p.kind, p.thread_ts) for p in more.posted] == [
        ("update", "1700000000.000100"),
        ("parent_update", "1700000000.000100"),
    ]
    assert header(slack_peer.calls_to("chat.postMessage")[-1]) == (
        ":warning: New blocklist listing in us-east-1: zen.spamhaus.org, sending IP 54.240.8.2"
    )


def test_blocklist_bounces_a_sweep_overlapping_another_read_but_did_not_apply_alert_at_the_next_sweep(
    aws_peer, slack_peer, alert_deps, settings, clock
):
    poster = slack_poster(slack_peer)
    sweep(alert_deps, poster)
    began = clock.tick()  # sweep A begins here and reads AWS ...
    other = Clock(began + timedelta(seconds=1))  # ... while sweep B, another process, begins and ends
    sweep(Deps.build(settings, store=Store(settings.db_path), clock=other), poster)
    docs = [bounce_doc(n, f"u{n}@gmail.com", SPAMHAUS.format(ip="54.240.8.1"), began) for n in range(3)]
    ingest_documents(alert_deps.store, docs, origin="test", now=began)
    late = sweep(alert_deps, poster)  # A applies after B: its readings are older than B's, so skipped
    assert [s.level for s in late.signals if s.signal == "blocklist"] == ["ok"]
    assert slack_peer.calls_to("chat.postMessage") == []

    clock.tick()
    assert [p.kind for p in sweep(alert_deps, poster).posted] == ["open"]
    assert header(slack_peer.calls_to("chat.postMessage")[0]) == ":warning: 3 new blocklist bounces in us-east-1"


def test_after_the_wall_clock_steps_back_an_hour_the_next_sweep_still_alerts(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    put_rate(aws_peer, 0.01, clock.tick())
    sweep(alert_deps, poster)
    clock.tick(-60)  # a VM resumed, an NTP correction: the stored readings are an hour ahead of the clock
    put_rate(aws_peer, 0.12, clock.tick())
    at = clock.now
    docs = [bounce_doc(n, f"u{n}@gmail.com", SPAMHAUS.format(ip="54.240.8.1"), at) for n in range(3)]
    ingest_documents(alert_deps.store, docs, origin="test", now=at)

    result = sweep(alert_deps, poster)
    assert levels_of(result) + levels_of(result, "blocklist") == [("ok", "suspension"), ("ok", "listed")]
    assert [header(c) for c in slack_peer.calls_to("chat.postMessage")] == [
        ":rotating_light: Bounce rate 12% in us-east-1: pause",
        ":warning: 3 new blocklist bounces in us-east-1",
    ]


BLOCKED = "smtp; 554 5.7.1 Service unavailable; Client host [54.240.8.1] blocked using zen.spamhaus.org; "


def quoting_at(limit: int, address: str, into: int) -> str:
    """A blocklist bounce text that quotes `<address>` so that character `limit` falls `into` the address."""
    return BLOCKED + "x" * (limit - into - len(BLOCKED) - 1) + f" <{address}>: rejected"


def test_a_blocklist_groups_example_leaves_out_an_address_its_cut_would_split():
    event = {"blocklist": "zen.spamhaus.org", "diagnostic": quoting_at(300, "jane.doe@example.com", into=12)}
    [group] = group_blocklist_events([event])
    assert group["example"].endswith(" <") and len(group["example"]) < 300


@pytest.mark.parametrize("into", [6, 12], ids=["in the local part", "in the domain"])
def test_a_redacted_blocklist_alert_shows_no_part_of_an_address_its_example_is_cut_inside(
    aws_peer, slack_peer, alert_deps, clock, into
):
    poster = slack_poster(slack_peer, redact=True)
    sweep(alert_deps, poster)
    at = clock.tick()
    doc = bounce_doc(1, "jane.doe@example.com", quoting_at(200, "jane.doe@example.com", into), at)
    ingest_documents(alert_deps.store, [doc], origin="test", now=at)
    clock.tick()
    sweep(alert_deps, poster)
    (call,) = slack_peer.calls_to("chat.postMessage")
    body = json.dumps(call.params, ensure_ascii=False)
    assert "e.g. smtp; 554 5.7.1" in body and "xxx &lt;" in body
    assert "jane" not in body.replace("j***@example.com", "")


def test_repeat_blocklist_bounces_update_the_parent_and_only_a_new_list_gets_a_reply(
    aws_peer, slack_peer, alert_deps, clock
):
    poster, n = slack_poster(slack_peer), 0
    sweep(alert_deps, poster)
    for text in ["blocked using zen.spamhaus.org"] * 3 + ["blocked using Barracuda Reputation"]:
        at = clock.tick()
        diagnostic = f"smtp; 554 5.7.1 Client host [54.240.8.1] {text}"
        docs = [bounce_doc(n + i, f"u{n + i}@gmail.com", diagnostic, at) for i in range(100)]
        n += 100
        ingest_documents(alert_deps.store, docs, origin="test", now=at)
        sweep(alert_deps, poster)
    assert [header(c) for c in slack_peer.calls_to("chat.postMessage")] == [
        ":warning: 100 new blocklist bounces in us-east-1",
        ":warning: New blocklist listing in us-east-1: b.barracudacentral.org, sending IP 54.240.8.1",
    ]
    edits = [c.params["blocks"][0]["text"]["text"] for c in slack_peer.calls_to("chat.update")]
    assert edits[-1] == ":warning: 400 blocklist bounces in us-east-1 since the incident opened"
    last = json.dumps(slack_peer.calls_to("chat.update")[-1].params["blocks"])
    assert "Lists: b.barracudacentral.org, zen.spamhaus.org" in last
    [incident] = alert_deps.store.query("SELECT id FROM incidents")
    assert f"Incident #{incident['id']} opened" in last  # the edited parent still names its incident


def test_a_blocklist_alert_for_a_shared_ses_ip_gives_the_shared_ip_advice_and_no_delisting_link(
    aws_peer, slack_peer, alert_deps, clock
):
    poster = slack_poster(slack_peer)
    sweep(alert_deps, poster)  # nothing listed: the dedicated IPs are not read
    assert aws_peer.calls_to("GetDedicatedIps") == []
    for n in range(2):  # the account has no dedicated IPs: 54.240.8.1 is one of SES's shared IPs
        at = clock.tick()
        blocked = bounce_doc(n, f"u{n}@gmail.com", SPAMHAUS.format(ip="54.240.8.1"), at)
        ingest_documents(alert_deps.store, [blocked], "t")
        sweep(alert_deps, poster)

    (opened,) = slack_peer.calls_to("chat.postMessage")
    (edited,) = slack_peer.calls_to("chat.update")
    for call in (opened, edited):
        body = json.dumps(call.params["blocks"])
        assert "sending IP 54.240.8.1, to gmail.com: " in body and "(a shared SES IP: no delisting request)" in body
        assert "54.240.8.1: not among the account's dedicated IPs" in body
        assert "AWS manages the shared IPs' listings" in body
        assert "delisting:" not in body and "request delisting" not in body
    assert len(aws_peer.calls_to("GetDedicatedIps")) == 1  # read for the new alert only, not the repeat


def test_a_blocklist_alert_for_a_dedicated_ip_keeps_the_delisting_link(aws_peer, slack_peer, alert_deps, clock):
    aws_peer.set_dedicated_ips(["54.240.8.1"])
    at = clock.tick()
    ingest_documents(alert_deps.store, [bounce_doc(1, "a@gmail.com", SPAMHAUS.format(ip="54.240.8.1"), at)], "t")
    sweep(alert_deps, slack_poster(slack_peer))

    body = json.dumps(slack_peer.calls_to("chat.postMessage")[0].params["blocks"])
    assert "to gmail.com: 1 (delisting: https://check.spamhaus.org/" in body
    assert "request delisting after the fix" in body
    assert "shared SES IP" not in body and "could not tell" not in body


def test_a_blocklist_alert_that_could_not_read_the_dedicated_ips_says_so_and_keeps_the_delisting_link(
    aws_peer, slack_peer, alert_deps, clock
):
    aws_peer.fail("GetDedicatedIps", code="AccessDeniedException", status=403, count=None)
    at = clock.tick()
    ingest_documents(alert_deps.store, [bounce_doc(1, "a@gmail.com", SPAMHAUS.format(ip="54.240.8.1"), at)], "t")
    sweep(alert_deps, slack_poster(slack_peer))

    body = json.dumps(slack_peer.calls_to("chat.postMessage")[0].params["blocks"])
    assert "(delisting: https://check.spamhaus.org/" in body
    assert "(could not tell whether this IP is dedicated)" in body
    assert "request delisting after the fix" in body


def test_blocklist_bounces_after_retention_pruned_a_backfilled_old_export_still_alert(
    aws_peer, slack_peer, alert_deps, clock
):
    store, poster = alert_deps.store, slack_poster(slack_peer)
    at = clock.tick()
    ingest_documents(store, [bounce_doc(n, f"u{n}@ok.example", "550 5.1.1 user unknown", at) for n in range(3)], "t")
    # An export older than the retention, backfilled last: its events hold the highest rowids.
    old = at - timedelta(days=alert_deps.settings.retention_days + 30)
    ingest_documents(store, [bounce_doc(10 + n, f"o{n}@old.example", "550 5.1.1 user", old) for n in range(3)], "file")
    sweep(alert_deps, poster)
    assert prune(store, alert_deps.settings.retention_days, clock.now)["events"] == 3
    at = clock.tick()
    blocked = [bounce_doc(20 + n, f"b{n}@gmail.com", SPAMHAUS.format(ip="54.240.8.1"), at) for n in range(3)]
    ingest_documents(store, blocked, "t")  # they take the rowids the pruned backfill had, up to the mark
    clock.tick()
    result = sweep(alert_deps, poster)

    assert [(s.level, s.value) for s in result.signals if s.signal == "blocklist"] == [("listed", 3.0)]
    assert header(slack_peer.calls_to("chat.postMessage")[-1]) == ":warning: 3 new blocklist bounces in us-east-1"


def test_the_sweeps_blocklist_query_walks_the_rowid_range_without_statistics_and_the_first_counts_only_new_mail(
    aws_peer, slack_peer, alert_deps, clock
):
    store, poster = alert_deps.store, slack_poster(slack_peer)
    assert store.query("SELECT name FROM sqlite_schema WHERE name = 'sqlite_stat1'") == []  # no ANALYZE, as live
    old = clock.now - timedelta(hours=2)
    docs = [bounce_doc(n, f"o{n}@gmail.com", SPAMHAUS.format(ip="54.240.8.1"), old) for n in range(3)]
    ingest_documents(store, docs, origin="test", now=old)  # received before the first sweep's interval
    at = clock.tick()
    ingest_documents(store, [bounce_doc(9, "n@gmail.com", SPAMHAUS.format(ip="54.240.8.2"), at)], "test", now=at)
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        first = sweep(alert_deps, poster)
        ingest_documents(store, [bounce_doc(10, "m@gmail.com", SPAMHAUS.format(ip="54.240.8.2"), at)], "test", now=at)
        sweep(alert_deps, poster)
    finally:
        store.conn.set_trace_callback(None)
    assert [s.value for s in first.signals if s.signal == "blocklist"] == [1.0]
    # Two a sweep: the read-only look before the transaction (`read_dedicated_ips`), then the transaction's.
    reads = [q for q in statements if q.startswith("SELECT * FROM events") and "rowid <= " in q]
    assert len(reads) == 4
    for q in reads:
        plan = [row[3] for row in store.conn.execute(f"EXPLAIN QUERY PLAN {q}")]
        assert plan == ["SEARCH events USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"], (q, plan)


def test_the_daily_prune_leaves_the_query_planner_statistics(alert_deps, clock):
    ingest_documents(alert_deps.store, [bounce_doc(1, "a@gmail.com", SPAMHAUS.format(ip="54.240.8.1"), clock.now)], "t")
    prune(alert_deps.store, alert_deps.settings.retention_days, clock.now)
    assert alert_deps.store.query("SELECT DISTINCT tbl FROM sqlite_stat1 WHERE tbl = 'events'") == [{"tbl": "events"}]


def test_a_blocklist_incident_resolves_after_an_hour_without_new_bounces(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    sweep(alert_deps, poster)
    at = clock.tick()
    ingest_documents(alert_deps.store, [bounce_doc(1, "a@gmail.com", SPAMHAUS.format(ip="54.240.8.1"), at)], "t")
    sweep(alert_deps, poster)
    clock.tick()
    sweep(alert_deps, poster)
    clock.tick()
    still_open = sweep(alert_deps, poster)  # two quiet sweeps, but not an hour yet
    incident = alert_deps.store.query("SELECT id FROM incidents")[0]["id"]
    waiting = incident_status_answer(alert_deps, get_incident(alert_deps.store, incident)).sections[0][1]
    clock.tick(60)
    resolved = sweep(alert_deps, poster)

    assert still_open.posted == []
    # Its status says what it still waits for (not "2 of the 2 sweeps a recovery needs").
    assert (
        "Lower for 2 sweeps (a recovery needs 2), and 60 minutes without a new blocklist bounce "
        f"(the last one was seen {when(iso(at))})"
    ) in waiting
    assert [p.kind for p in resolved.posted] == ["resolve", "parent_update", "summary"]


# -- failures ------------------------------------------------------------------------------------------


def test_a_ratelimited_alert_is_posted_after_retry_after_once(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    slack_peer.fail("chat.postMessage", error="ratelimited", status=429, retry_after=30)
    put_rate(aws_peer, 0.03, clock.tick())
    refused = sweep(alert_deps, poster)
    clock.tick(0.25)  # 15 s later: Retry-After (30 s) not over, nothing is tried
    too_early = sweep(alert_deps, poster)
    clock.tick()
    delivered = sweep(alert_deps, poster)
    clock.tick()
    after = sweep(alert_deps, poster)

    assert (refused.posted, refused.pending) == ([], 1)
    assert (too_early.posted, too_early.pending) == ([], 1)
    assert [p.kind for p in delivered.posted] == ["open"]
    assert (after.posted, after.pending) == ([], 0)
    assert [header(c) for c in slack_peer.calls_to("chat.postMessage")] == [
        ":warning: Bounce rate 3% in us-east-1: elevated",  # answered 429
        ":warning: Bounce rate 3% in us-east-1: elevated",  # delivered
    ]
    row = alert_deps.store.query(
        "SELECT attempts, last_error, sent_at IS NOT NULL AS sent FROM notifications WHERE kind <> 'chart'"
    )
    assert row == [{"attempts": 2, "last_error": None, "sent": 1}]


def test_alerts_owed_while_the_slack_api_is_down_are_posted_later_in_order(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    slack_peer.set_down(True, mode="close")
    put_rate(aws_peer, 0.03, clock.tick())
    first = sweep(alert_deps, poster)
    put_rate(aws_peer, 0.045, clock.tick())
    second = sweep(alert_deps, poster)
    slack_peer.set_down(False)
    slack_peer.clear()
    put_rate(aws_peer, 0.045, clock.tick())
    back = sweep(alert_deps, poster)
    put_rate(aws_peer, 0.045, clock.tick())
    after = sweep(alert_deps, poster)

    assert (first.posted, first.pending) == ([], 1)
    assert (second.posted, second.pending) == ([], 3)
    assert [p.kind for p in back.posted] == ["open", "update", "parent_update"]
    assert after.posted == []
    ts = "1700000000.000100"
    assert slack_log(slack_peer) == [
        ("chat.postMessage", CHANNEL, None, ":warning: Bounce rate 3% in us-east-1: elevated"),
        ("chat.postMessage", CHANNEL, ts, ":warning: Worse: bounce rate 4.5% in us-east-1"),
        ("chat.update", CHANNEL, ts, ":warning: Bounce rate 4.5% in us-east-1: near review"),
    ]


def test_cloudwatch_unreachable_is_one_notice_per_outage(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    put_rate(aws_peer, 0.03, clock.tick())
    sweep(alert_deps, poster)
    aws_peer.fail("GetMetricData", count=None)
    outage = []
    for _ in range(3):
        clock.tick()
        outage.append(sweep(alert_deps, poster))
    aws_peer.clear_failures()
    recovered = []
    for _ in range(2):
        put_rate(aws_peer, 0.03, clock.tick())
        recovered.append(sweep(alert_deps, poster))

    assert [[p.kind for p in r.posted] for r in outage] == [["open"], [], []]
    # The bounce rate keeps its level while it cannot be read: no "no data" transitions.
    assert [levels_of(r) for r in outage] == [[("elevated", "elevated")]] * 3
    assert [[p.kind for p in r.posted] for r in recovered] == [[], ["resolve", "parent_update", "summary"]]
    parents = [m for m in slack_peer.messages_in(CHANNEL) if m.get("thread_ts") in (None, m["ts"])]
    ts = parents[1]["ts"]  # the notice's: its resolution is a reply in its thread
    assert slack_log(slack_peer)[1:] == [
        ("chat.postMessage", CHANNEL, None, ":warning: Cannot read metrics in us-east-1"),
        ("chat.postMessage", CHANNEL, ts, ":white_check_mark: Resolved: metrics access in us-east-1"),
        ("chat.update", CHANNEL, ts, ":white_check_mark: Resolved: metrics access in us-east-1"),
        ("chat.postMessage", CHANNEL, ts, ":white_check_mark: Incident #2 summary: metrics access in us-east-1"),
    ]
    notice = json.dumps(slack_peer.calls_to("chat.postMessage")[1].params["blocks"])
    assert "CloudWatch: ServiceUnavailable" in notice


# -- other signals -------------------------------------------------------------------------------------


def test_a_configuration_set_with_reputation_metrics_is_its_own_signal_and_incident(
    aws_peer, slack_peer, alert_deps, clock
):
    cw = aws_peer.client("cloudwatch", REGION)
    dims = [{"Name": "ses:configuration-set", "Value": "Marketing-EU"}]
    at = clock.tick()
    cw.put_metric_data(
        Namespace="AWS/SES",
        MetricData=[{"MetricName": "Reputation.BounceRate", "Value": 0.06, "Timestamp": at, "Dimensions": dims}],
    )
    result = sweep(alert_deps, slack_poster(slack_peer))

    # (moto also counts the dimensioned point in the account-wide query, which CloudWatch does not:
    # only the configuration set's own signal is asserted.)
    marketing = [s.as_dict() for s in result.signals if s.scope == "Marketing-EU"]
    assert marketing == [
        {
            "signal": "bounce_rate",
            "region": REGION,
            "scope": "Marketing-EU",
            "value": 0.06,
            "estimate": False,
            "level": "review",
            "previous_level": None,
        }
    ]
    headers = [header(c) for c in slack_peer.calls_to("chat.postMessage")]
    assert ":x: Bounce rate of configuration set Marketing-EU 6% in us-east-1: review" in headers


def test_without_cloudwatch_data_the_rate_is_estimated_from_history_and_says_so(
    aws_peer, slack_peer, alert_deps, clock
):
    now = clock.tick()
    sends = [send_doc(n, f"user{n}@example.org", now - timedelta(minutes=30)) for n in range(100)]
    bounces = [bounce_doc(n, f"user{n}@example.org", "smtp; 550 5.1.1 user unknown", now) for n in range(6)]
    ingest_documents(alert_deps.store, sends + bounces, origin="test", now=now)
    result = sweep(alert_deps, slack_poster(slack_peer))

    (bounce,) = [s.as_dict() for s in result.signals if s.signal == "bounce_rate"]
    assert bounce == {
        "signal": "bounce_rate",
        "region": REGION,
        "scope": "",
        "value": 0.06,
        "estimate": True,
        "level": "review",
        "previous_level": None,
    }
    (call,) = slack_peer.calls_to("chat.postMessage")
    assert header(call) == ":x: Bounce rate 6% in us-east-1: review"
    body = json.dumps(call.params["blocks"])
    assert "6% (estimate from the event history)" in body
    assert "example.org: 6" in body  # the top recipient domain behind it


def test_the_breakdown_behind_a_bounce_incident_counts_only_the_bounces_the_rate_counts(
    aws_peer, slack_peer, alert_deps, clock
):
    now = clock.tick()
    put_rate(aws_peer, 0.06, now)
    suppressed = []
    for n in range(5):
        doc = json.loads(bounce_doc(n, f"user{n}@suppressed.example", "Amazon SES did not send the message", now))
        doc["bounce"]["bounceSubType"] = "OnAccountSuppressionList"
        suppressed.append(json.dumps(doc))
    real = bounce_doc(9, "user9@example.org", "smtp; 550 5.1.1 user unknown", now)
    ingest_documents(alert_deps.store, [*suppressed, real], origin="test", now=now)
    sweep(alert_deps, slack_poster(slack_peer))

    (call,) = slack_peer.calls_to("chat.postMessage")
    body = json.dumps(call.params["blocks"])
    assert "example.org: 1" in body
    assert "suppressed.example" not in body
    assert "unknown_user: 1" in body and "suppressed: 5" not in body


def test_the_breakdown_behind_a_complaint_incident_leaves_out_suppression_list_complaints(
    aws_peer, slack_peer, alert_deps, clock
):
    now = clock.tick()
    put_rate(aws_peer, 0.002, now, metric="Reputation.ComplaintRate")
    ts = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def complaint(n: int, recipient: str, **fields: str) -> str:
        mail = {"timestamp": ts, "messageId": f"message-{n}", "source": SENDER, "destination": [recipient]}
        body = {"complainedRecipients": [{"emailAddress": recipient}], "timestamp": ts, "feedbackId": f"fb-{n}"}
        return json.dumps({"eventType": "Complaint", "mail": mail, "complaint": body | fields})

    docs = [complaint(n, f"user{n}@suppressed.example", complaintSubType="OnAccountSuppressionList") for n in range(3)]
    docs.append(complaint(9, "user9@example.org", complaintFeedbackType="abuse"))
    ingest_documents(alert_deps.store, docs, origin="test", now=now)
    sweep(alert_deps, slack_poster(slack_peer))

    (call,) = slack_peer.calls_to("chat.postMessage")
    body = json.dumps(call.params["blocks"])
    assert "example.org: 1" in body and "abuse: 1" in body
    assert "suppressed.example" not in body and "not given" not in body


def test_with_several_regions_the_history_estimates_no_region_s_rate(aws_peer, slack_peer, alert_deps, clock):
    # The hourly counters keep no region: every region would get the rate of all of them (here us-east-1's 6%).
    alert_deps.settings.regions = [REGION, "eu-west-1"]
    now = clock.tick()
    sends = [send_doc(n, f"user{n}@example.org", now - timedelta(minutes=30)) for n in range(100)]
    bounces = [bounce_doc(n, f"user{n}@example.org", "smtp; 550 5.1.1 user unknown", now) for n in range(6)]
    ingest_documents(alert_deps.store, sends + bounces, origin="test", now=now)
    result = sweep(alert_deps, slack_poster(slack_peer))

    rates = [(s.region, s.value, s.estimate) for s in result.signals if s.signal == "bounce_rate"]
    assert sorted(rates) == [("eu-west-1", None, False), (REGION, None, False)]
    assert result.posted == []


def test_too_few_sends_make_no_estimate(aws_peer, slack_peer, alert_deps, clock):
    now = clock.tick()
    docs = [send_doc(n, f"user{n}@example.org", now) for n in range(10)]
    docs.append(bounce_doc(1, "user1@example.org", "smtp; 550 5.1.1 user unknown", now))
    ingest_documents(alert_deps.store, docs, origin="test", now=now)
    result = sweep(alert_deps, slack_poster(slack_peer))

    assert [(s.value, s.level) for s in result.signals if s.signal == "bounce_rate"] == [(None, "ok")]
    assert result.posted == []


def test_a_quota_alert_prints_millions_of_sends_in_full_with_separators(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    aws_peer.set_account(REGION, production_access=True, max_24h=2_000_000, sent_last_24h=1_700_000)
    clock.tick()
    sweep(alert_deps, poster)
    [alert] = [c for c in slack_peer.calls_to("chat.postMessage") if "quota" in header(c)]
    assert "Sent 1,700,000 of 2,000,000 in the last 24 hours." in json.dumps(alert.params["blocks"])


def test_account_review_and_quota_crossing_open_incidents_and_production_access_is_news(
    aws_peer, slack_peer, alert_deps, clock
):
    poster = slack_poster(slack_peer)
    clock.tick()
    sweep(alert_deps, poster)  # sandbox, healthy, quota unused: the first reading posts nothing
    aws_peer.set_account(REGION, enforcement_status="PROBATION", max_24h=200, sent_last_24h=170)
    clock.tick()
    bad = sweep(alert_deps, poster)
    aws_peer.set_account(REGION, enforcement_status="HEALTHY", production_access=True, sent_last_24h=10)
    clock.tick()
    healthy = sweep(alert_deps, poster)

    assert [(s.signal, s.previous_level, s.level) for s in bad.signals if s.signal in ("account_status", "quota")] == [
        ("account_status", "ok", "probation"),
        ("quota", "ok", "quota_80"),
    ]
    headers = [header(c) for c in slack_peer.calls_to("chat.postMessage")]
    assert headers == [
        ":x: Account status in us-east-1: under review (probation)",
        ":warning: Daily sending quota 85% in us-east-1: 80% of the daily quota",
        # Account status recovers at once (AWS's word is final); the quota waits for two calm sweeps.
        ":white_check_mark: Resolved: account status in us-east-1",
        ":white_check_mark: Incident #1 summary: account status in us-east-1",  # every resolution posts it
    ]
    assert [p.kind for p in healthy.posted] == ["resolve", "parent_update", "summary"]
    # Production access was granted in the same sweep: the resolution says so too.
    resolved = slack_peer.calls_to("chat.postMessage")[-2]  # the resolution, before its summary
    assert "Production access granted: the account left the sandbox." in json.dumps(resolved.params["blocks"])
    # Lost again, with no account incident open: a notice of its own (and the quota is calm for 2 sweeps).
    clock.tick()
    aws_peer.set_account(REGION, production_access=False)
    lost = sweep(alert_deps, poster)
    assert [p.kind for p in lost.posted] == ["notice", "resolve", "parent_update", "summary"]
    notice = slack_peer.calls_to("chat.postMessage")[-3]  # before the quota's resolution and its summary
    assert header(notice) == ":warning: Account change in us-east-1"
    assert "Production access lost" in json.dumps(notice.params["blocks"])


def test_the_enforcement_levels_name_every_status_botocore_documents():
    model = botocore.session.get_session().get_service_model("sesv2")
    member = model.operation_model("GetAccount").output_shape.members["EnforcementStatus"]
    assert set(ENFORCEMENT_LEVELS) == set(re.findall(r"<code>([A-Z_]+)</code>", member.documentation))


def test_an_enforcement_status_the_bot_does_not_know_keeps_the_account_incident_open_and_is_named(
    aws_peer, slack_peer, alert_deps, clock
):
    poster = slack_poster(slack_peer)
    clock.tick()
    sweep(alert_deps, poster)
    aws_peer.set_account(REGION, enforcement_status="PROBATION")
    clock.tick()
    sweep(alert_deps, poster)
    aws_peer.set_account(REGION, enforcement_status="SUSPENDED")  # a value SES may add after the bot was written
    clock.tick()
    unknown = sweep(alert_deps, poster)
    aws_peer.set_account(REGION, enforcement_status="HEALTHY")
    clock.tick()
    sweep(alert_deps, poster)

    assert levels_of(unknown, "account_status") == [("probation", "unknown_status")]
    posted = slack_peer.calls_to("chat.postMessage")
    assert [header(c) for c in posted] == [
        ":x: Account status in us-east-1: under review (probation)",
        ":warning: Changed: account status in us-east-1",
        ":white_check_mark: Resolved: account status in us-east-1",
        ":white_check_mark: Incident #1 summary: account status in us-east-1",
    ]
    changed, resolved = json.dumps(posted[1].params["blocks"]), json.dumps(posted[2].params["blocks"])
    assert "AWS reports EnforcementStatus SUSPENDED in this region, a value this bot does not know" in changed
    assert "HEALTHY" not in changed
    assert "Sending enabled, enforcement status HEALTHY." in resolved


def test_an_enforcement_status_the_bot_does_not_know_opens_an_incident_that_names_it(
    aws_peer, slack_peer, alert_deps, clock
):
    poster = slack_poster(slack_peer)
    clock.tick()
    sweep(alert_deps, poster)
    aws_peer.set_account(REGION, enforcement_status="SUSPENDED")
    clock.tick()
    sweep(alert_deps, poster)

    [opened] = slack_peer.calls_to("chat.postMessage")
    assert header(opened) == (
        ":warning: Account status in us-east-1: an enforcement status the bot does not know (SUSPENDED)"
    )
    status = execute(CommandContext(deps=alert_deps, via="cli"), parse("status"))
    assert status.severity == Severity.WARNING
    assert "Enforcement status: SUSPENDED" in status.sections[0][1]


# -- the terminal --------------------------------------------------------------------------------------


def test_sweep_once_json_prints_signals_and_posts(aws_peer, alert_deps, clock, capsys):
    import bot.commands.sweep  # noqa: F401  (registers the command)

    alert_deps.settings.alert_channel = None  # a terminal-only setup: no Slack bot uses this database
    put_rate(aws_peer, 0.052, clock.tick())
    result = execute(CommandContext(deps=alert_deps, via="cli"), parse("sweep --once --json"))

    assert result.data["signals"] == [
        {
            "signal": "aws_api",
            "region": REGION,
            "scope": "",
            "value": None,
            "estimate": False,
            "level": "ok",
            "previous_level": None,
        },
        {
            "signal": "account_status",
            "region": REGION,
            "scope": "",
            "value": None,
            "estimate": False,
            "level": "ok",
            "previous_level": None,
        },
        {
            "signal": "bounce_rate",
            "region": REGION,
            "scope": "",
            "value": 0.052,
            "estimate": False,
            "level": "review",
            "previous_level": None,
        },
        {
            "signal": "complaint_rate",
            "region": REGION,
            "scope": "",
            "value": None,
            "estimate": False,
            "level": "ok",
            "previous_level": None,
        },
        {
            "signal": "blocklist",
            "region": REGION,
            "scope": "",
            "value": 0.0,
            "estimate": False,
            "level": "ok",
            "previous_level": None,
        },
        {
            "signal": "quota",
            "region": REGION,
            "scope": "",
            "value": 0.0,
            "estimate": False,
            "level": "ok",
            "previous_level": None,
        },
    ]
    (posted,) = result.data["posted"]
    assert (posted["kind"], posted["channel"], posted["thread_ts"]) == ("open", "terminal", None)
    assert posted["text"].startswith("Bounce rate 5.2% in us-east-1: review\n")
    # Without a Slack token the message goes to the terminal: stderr under --json, stdout stays JSON-only.
    out = capsys.readouterr()
    assert "Bounce rate 5.2% in us-east-1: review" in out.err
    assert out.out == ""


# -- Block Kit -----------------------------------------------------------------------------------------


def test_alert_blocks_respect_slack_limits_and_escape_everything():
    hostile = "<!channel> <http://evil.example|your bank> & more " * 30
    message = Message(
        title="Bounce rate <!here> 5%",
        severity=Severity.CRITICAL,
        fields=[(f"field {i}", hostile) for i in range(15)],
        lines=[hostile] * 5,
        sections=[(f"group {i} <@U1>", [hostile] * 20) for i in range(60)],
        chart=["▁▂▃`█", hostile],
        buttons=[Button("Acknowledge", "sesbot_incident_ack", "7", "primary")],
        footer=hostile,
    )
    msg = alert_message(message)
    blocks = msg["blocks"]

    assert len(blocks) <= 50
    assert blocks[-1] == {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "action_id": "sesbot_incident_ack",
                "value": "7",
                "style": "primary",
            }
        ],
    }
    for b in blocks:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= 3000
            assert len(b.get("fields", [])) <= 10
    dumped = json.dumps(msg)
    assert "<!channel>" not in dumped and "<!here>" not in dumped and "<@U1>" not in dumped
    assert "<http://evil" not in dumped
    assert msg["text"].startswith("Bounce rate &lt;!here&gt; 5%: ")
    assert len(msg["text"]) <= 3000


def test_sweep_once_names_the_account_of_each_signal_when_there_are_several():
    result = SweepResult(signals=[Signal("bounce_rate", "eu-west-1", "", 0.01, False, "ok", "ok", account="prod")])
    assert sweep_answer(result).sections[0][1][0].startswith("prod · eu-west-1 bounce rate: 1%")
