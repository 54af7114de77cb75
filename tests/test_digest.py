"""The daily digest (issue 13): its figures against a known history put in the store, the same in the terminal
(`sesbot digest --json`, the real process), and the scheduled job posting it once a day (clock fixture)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.digest import _rate_change, digest_answer
from bot.ingest import ingest_documents, prune
from bot.scheduler import DIGEST_CATCH_UP_JOB, DIGEST_JOB, build_scheduler
from bot.store import iso
from tests.conftest import CHANNEL, bounce_doc, slack_poster
from tests.test_alerts import send_doc
from tests.test_cli import sesbot
from tests.test_why_message import _mail, delivery_doc, example


def complaint_doc(n: int, recipient: str, at) -> str:
    doc = _mail(example("complaint"), f"complained-{n}", [recipient], at)
    doc["complaint"].update(
        timestamp=iso(at), feedbackId=f"complaint-{n}", complainedRecipients=[{"emailAddress": recipient}]
    )
    return json.dumps(doc)


def sending(tag: str, at, sends: int, delivered: int, bounced: list[str], complaints: int = 0) -> list[str]:
    docs = [send_doc(n, f"{tag}{n}@example.org", at) for n in range(sends)]
    docs += [delivery_doc(f"{tag}-d{n}", [f"{tag}{n}@example.org"], at) for n in range(delivered)]
    docs += [
        bounce_doc(n, f"{tag}b{n}@{domain}", "smtp; 550 5.1.1 user unknown", at) for n, domain in enumerate(bounced)
    ]
    docs += [complaint_doc(n, f"{tag}c{n}@example.org", at) for n in range(complaints)]
    return docs


def known_history(deps, clock) -> None:
    """The last 24 h: 200 sends, 190 delivered, 6 hard bounces (4 at gmail.com, 2 at yahoo.com), 1 complaint;
    the day before: 100 sends, 98 delivered, 2 bounces; the same day a week before: 50 sends, all delivered."""
    docs = sending("day", clock.now - timedelta(hours=2), 200, 190, ["gmail.com"] * 4 + ["yahoo.com"] * 2, 1)
    docs += sending("prev", clock.now - timedelta(hours=26), 100, 98, ["gmail.com"] * 2)
    docs += sending("week", clock.now - timedelta(days=7, hours=2), 50, 50, [])
    result = ingest_documents(deps.store, docs, origin="test")
    assert result.quarantined == 0


def test_the_digest_compares_the_last_day_with_the_day_before_and_a_week_before(alert_deps, clock):
    known_history(alert_deps, clock)
    answer = digest_answer(alert_deps)
    day, previous, week = answer.data["day"], answer.data["previous_day"], answer.data["week_before"]
    assert (day["sends"], day["deliveries"], day["hard_bounces_counted"], day["complaints"]) == (200, 190, 6, 1)
    assert (previous["sends"], previous["hard_bounces_counted"], week["sends"], week["bounces"]) == (100, 2, 50, 0)
    sections = dict(answer.sections)
    assert sections["Sending (the bot's history)"] == [
        "200 sends; the day before 100 (+100.0%); a week before 50 (+300.0%)",
        "Delivery rate 95%; the day before 98% (-3 points); a week before 100% (-5 points)",
        "Bounce rate 3%; the day before 2% (+1 points); a week before 0% (+3 points)",
        "Complaint rate 0.5%; the day before 0% (+0.5 points); a week before 0% (+0.5 points)",
    ]
    assert sections["Top bounce domains"] == ["gmail.com: 4", "yahoo.com: 2"]
    assert sections["Bounce categories"] == ["unknown_user: 6"]
    assert sections["Account-wide rates (the last sweep)"] == ["no sweep has read them yet"]
    assert sections["Open incidents"] == ["none"]


def test_a_week_before_past_the_retention_reads_no_sends_not_a_zero_rate(alert_deps, clock):
    known_history(alert_deps, clock)
    prune(alert_deps.store, 7, clock.now)
    answer = digest_answer(alert_deps)
    assert (answer.data["week_before"]["sends"], answer.data["week_before"]["bounce_rate"]) == (0, None)
    assert dict(answer.sections)["Sending (the bot's history)"] == [
        "200 sends; the day before 100 (+100.0%); a week before no sends",
        "Delivery rate 95%; the day before 98% (-3 points); a week before no sends",
        "Bounce rate 3%; the day before 2% (+1 points); a week before no sends",
        "Complaint rate 0.5%; the day before 0% (+0.5 points); a week before no sends",
    ]


def test_sesbot_digest_prints_the_same_figures_in_the_terminal(alert_deps, clock):
    known_history(alert_deps, clock)
    env = {"AWS_REGION": "us-east-1", "SESBOT_DB": alert_deps.settings.db_path}
    out = sesbot("digest", "--json", env=env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    # The process runs on the real clock, three hours after the test's: the same events, a later window.
    assert (data["day"]["sends"], data["day"]["hard_bounces_counted"], data["previous_day"]["sends"]) == (200, 6, 100)
    assert data["top_bounce_domains"] == [["gmail.com", 4], ["yahoo.com", 2]]
    text = sesbot("digest", env=env)
    assert text.stdout.startswith("Daily digest: ")
    assert "  200 sends; the day before 100 (+100.0%)" in text.stdout


def test_the_digest_job_posts_once_a_day_at_its_time(slack_peer, alert_deps, clock):
    alert_deps.settings.digest_at = (clock.now.hour, 0)
    job = build_scheduler(alert_deps, slack_poster(slack_peer)).get_job(DIGEST_JOB)
    assert isinstance(job.trigger, CronTrigger)
    assert str(job.trigger) == f"cron[hour='{clock.now.hour}', minute='0']"

    posted = [job.func(*job.args)]
    clock.tick(5)
    posted.append(job.func(*job.args))  # a second run the same day owes nothing
    clock.tick(24 * 60 - 6)
    posted.append(job.func(*job.args))  # the next day, a minute before its time
    clock.tick(1)
    posted.append(job.func(*job.args))
    assert posted == [True, False, False, True]
    calls = slack_peer.calls_to("chat.postMessage")
    assert [c.params["channel"] for c in calls] == [CHANNEL, CHANNEL]
    assert all(c.params["blocks"][0]["text"]["text"].startswith(":information_source: Daily digest: ") for c in calls)


def test_a_bot_started_after_the_digest_time_catches_up_once_within_six_hours(slack_peer, alert_deps, clock):
    alert_deps.settings.digest_at = (clock.now.hour, 0)
    scheduler = build_scheduler(alert_deps, slack_poster(slack_peer))
    catch_up, daily = scheduler.get_job(DIGEST_CATCH_UP_JOB), scheduler.get_job(DIGEST_JOB)
    clock.tick(5 * 60)  # restarted five hours after the digest's time: it is still owed, once
    assert [catch_up.func(*catch_up.args), daily.func(*daily.args)] == [True, False]
    clock.tick(24 * 60 + 61)  # the next day, more than six hours after its time: too late, tomorrow's comes
    assert catch_up.func(*catch_up.args) is False
    assert len(slack_peer.calls_to("chat.postMessage")) == 1


def test_a_late_evening_digest_is_still_caught_up_after_midnight(slack_peer, alert_deps, clock):
    clock.now = datetime(2026, 12, 6, 23, 0, tzinfo=UTC) - timedelta(minutes=5)
    alert_deps.settings.digest_at = (23, 0)
    scheduler = build_scheduler(alert_deps, slack_poster(slack_peer))
    catch_up = scheduler.get_job(DIGEST_CATCH_UP_JOB)
    clock.now = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)  # the bot was down at 23:00, back at 01:30

    assert catch_up.func(*catch_up.args) is True  # yesterday's 23:00 digest, 2.5 hours late
    assert catch_up.func(*catch_up.args) is False  # once
    assert len(slack_peer.calls_to("chat.postMessage")) == 1


def test_without_a_digest_time_there_is_no_digest_job(slack_peer, alert_deps):
    assert alert_deps.settings.digest_at is None
    scheduler = build_scheduler(alert_deps, slack_poster(slack_peer))
    assert scheduler.get_job(DIGEST_JOB) is None and scheduler.get_job(DIGEST_CATCH_UP_JOB) is None


def test_the_day_and_the_day_before_share_no_hour_and_neither_counts_past_its_end(alert_deps):
    end = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # the digest at 09:30 covers the 24 hours up to 09:00
    batches = [
        (end - timedelta(days=1) + timedelta(minutes=15), 100),  # 09:15 yesterday: the day's first hour
        (end + timedelta(minutes=15), 100),  # 09:15 today: after the day's end
        (end - timedelta(days=1) - timedelta(minutes=45), 100),  # 08:15 yesterday: the day before
        (datetime(2026, 12, 2, 23, 30, tzinfo=UTC), 10),  # across midnight
        (datetime(2026, 12, 3, 0, 30, tzinfo=UTC), 10),
    ]
    docs, n = [], 0
    for at, count in batches:
        for _ in range(count):
            n += 1
            docs.append(send_doc(n, f"u{n}@example.com", at))
    ingest_documents(alert_deps.store, docs, origin="test", now=end + timedelta(minutes=20))
    answer = digest_answer(alert_deps, end + timedelta(minutes=30))
    assert (answer.data["day"]["sends"], answer.data["previous_day"]["sends"]) == (120, 100)


def test_a_rate_change_is_said_in_points_with_its_decimals():
    assert [_rate_change(*pair) for pair in ((1.0, 0.0), (0.5, 0.375), (0.0105, 0.01), (0.02, 0.05))] == [
        "0% (+100 points)",
        "37.5% (+12.5 points)",
        "1% (+0.05 points)",
        "5% (-3 points)",
    ]
