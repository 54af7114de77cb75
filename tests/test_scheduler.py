"""The scheduler's jobs: how they are set up, and each job's function run once (never waiting on the clock)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from bot.deps import Deps
from bot.ingest import ingest_documents
from bot.scheduler import DIGEST_JOB, PRUNE_JOB, SWEEP_JOB, ClockWatch, build_scheduler, start_scheduler
from tests.conftest import CHANNEL, bounce_doc, put_rate, slack_poster


@pytest.fixture
def alert_deps(alert_deps: Deps) -> Deps:
    """The shared alert deps with a sweep interval and a retention these tests can tell from the defaults."""
    alert_deps.settings.sweep_minutes = 7
    alert_deps.settings.retention_days = 30
    return alert_deps


def test_the_sweep_runs_every_sweep_minutes_one_at_a_time_and_pruning_daily(alert_deps):
    scheduler = build_scheduler(alert_deps, poster=None)
    sweep_job, prune_job = scheduler.get_job(SWEEP_JOB), scheduler.get_job(PRUNE_JOB)

    assert isinstance(sweep_job.trigger, IntervalTrigger)
    assert sweep_job.trigger.interval == timedelta(minutes=7)
    assert (sweep_job.coalesce, sweep_job.max_instances, sweep_job.misfire_grace_time) == (True, 1, 420)
    assert prune_job.trigger.interval == timedelta(days=1)
    assert (prune_job.coalesce, prune_job.max_instances, prune_job.misfire_grace_time) == (True, 1, 21600)
    assert isinstance(sweep_job.misfire_grace_time, int)


def test_the_sweep_job_runs_one_sweep(aws_peer, slack_peer, alert_deps, clock):
    poster = slack_poster(slack_peer)
    job = build_scheduler(alert_deps, poster).get_job(SWEEP_JOB)
    put_rate(aws_peer, 0.052, clock.tick())

    result = job.func(*job.args)
    assert [(p.kind, p.channel) for p in result.posted] == [("open", CHANNEL)]
    assert [c.params["blocks"][0]["text"]["text"] for c in slack_peer.calls_to("chat.postMessage")] == [
        ":x: Bounce rate 5.2% in us-east-1: review"
    ]


def test_the_prune_job_deletes_events_older_than_the_retention(alert_deps, clock):
    old, recent = clock.now - timedelta(days=31), clock.now - timedelta(days=29)
    docs = [bounce_doc(1, "old@example.org", "550 user unknown", old), bounce_doc(2, "new@example.org", "550", recent)]
    ingest_documents(alert_deps.store, docs, origin="test")
    job = build_scheduler(alert_deps, poster=None).get_job(PRUNE_JOB)

    deleted = job.func(*job.args)
    assert deleted["events"] == 1
    assert alert_deps.store.query("SELECT recipient FROM events") == [{"recipient": "new@example.org"}]


class Clocks:
    """A wall clock and a monotonic one the test moves by hand, for `ClockWatch`."""

    def __init__(self) -> None:
        self.wall, self.mono = 1_800_000_000.0, 1000.0

    def elapse(self, seconds: float, wall_step: float = 0) -> None:
        self.mono += seconds
        self.wall += seconds + wall_step


def test_after_the_wall_clock_steps_back_an_hour_the_next_sweep_is_still_one_interval_after_the_last(
    alert_deps, slack_peer
):
    alert_deps.settings.digest_at = (9, 0)
    scheduler = build_scheduler(alert_deps, slack_poster(slack_peer))
    scheduler.start(paused=True)  # the jobs get their next runs; none runs
    try:
        clocks = Clocks()
        watch = ClockWatch(scheduler, wall=lambda: clocks.wall, mono=lambda: clocks.mono)
        runs = {job.id: job.next_run_time for job in scheduler.get_jobs()}

        clocks.elapse(15, wall_step=-3600)
        assert watch.check() == timedelta(hours=1)
        after = {job.id: job.next_run_time for job in scheduler.get_jobs()}
        assert after[SWEEP_JOB] == runs[SWEEP_JOB] - timedelta(hours=1)
        assert after[PRUNE_JOB] == runs[PRUNE_JOB] - timedelta(hours=1)
        assert after[DIGEST_JOB] == runs[DIGEST_JOB]  # at 09:00 UTC, whatever the clock did

        clocks.elapse(15, wall_step=-2)  # a small correction: nothing moves
        assert (watch.check(), scheduler.get_job(SWEEP_JOB).next_run_time) == (timedelta(0), after[SWEEP_JOB])
    finally:
        scheduler.shutdown(wait=True)


def test_start_runs_the_jobs_in_the_background_until_shutdown(alert_deps):
    scheduler = start_scheduler(alert_deps, poster=None)
    try:
        assert scheduler.running
        assert sorted(job.id for job in scheduler.get_jobs()) == [PRUNE_JOB, SWEEP_JOB]
    finally:
        scheduler.shutdown(wait=True)
    assert not scheduler.running
