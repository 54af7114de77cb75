"""The scheduler: the alert sweep every `SESBOT_SWEEP_MINUTES`, retention pruning once a day, and the daily
digest at `SESBOT_DIGEST_AT` (UTC) when it is set and there is an alert channel to post it in.

APScheduler 3.11's `BackgroundScheduler` with a `MemoryJobStore`: the bot keeps its own state in SQLite
(alert levels, owed notifications), so jobs need not be persisted; they are (re)added at start with
`replace_existing=True`. `max_instances=1` means one sweep at a time; `coalesce=True` turns runs missed
while the process was busy or asleep into one; `misfire_grace_time` (whole seconds) lets a late run still
happen instead of being dropped.

APScheduler schedules by the wall clock only (it sleeps until the next run's wall-clock time), so a clock that
steps back (a VM resumed, an NTP correction) would hold every interval job back by the step: an hour back,
no sweep for 65 minutes. `ClockWatch` (a thread of `start_scheduler`) compares the wall clock with the
monotonic one and moves the interval jobs' next runs back by such a step.

    >>> from bot.settings import Settings
    >>> from bot.store import Store
    >>> from bot.deps import Deps
    >>> deps = Deps.build(Settings(regions=["eu-west-1"]), store=Store(":memory:"))
    >>> scheduler = build_scheduler(deps, poster=None)
    >>> sorted(job.id for job in scheduler.get_jobs())
    ['sesbot-prune', 'sesbot-sweep']
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.alerts import SweepResult, sweep
from bot.deps import Deps
from bot.notify import Poster

log = logging.getLogger(__name__)

SWEEP_JOB = "sesbot-sweep"
PRUNE_JOB = "sesbot-prune"
DIGEST_JOB = "sesbot-digest"
DIGEST_CATCH_UP_JOB = "sesbot-digest-catch-up"
FIRST_SWEEP_DELAY = timedelta(seconds=30)  # let the bot connect to Slack before the first sweep posts
FIRST_PRUNE_DELAY = timedelta(minutes=10)
CLOCK_CHECK_SECONDS = 15.0  # how often `ClockWatch` looks at the wall clock (by the monotonic clock)
CLOCK_STEP_SECONDS = 30.0  # a backward step of the wall clock at least this big moves the interval jobs back


AfterSweep = Callable[[SweepResult], None]


def run_sweep(deps: Deps, poster: Poster | None, after_sweep: AfterSweep | None = None) -> SweepResult | None:
    """One sweep; an unexpected failure is logged and the next run tries again (never kills the job).

    `after_sweep` gets the result of a sweep that worked: the front end's hook (the Slack App Home
    refreshes the views of those who opened it recently); its failure is logged and changes nothing here.
    """
    try:
        result = sweep(deps, poster)
    except Exception as exc:
        log.exception("alert sweep failed; the next one runs in %s minutes", deps.settings.sweep_minutes)
        deps.health.failed("the alert sweep", type(exc).__name__)
        return None
    deps.health.working("the alert sweep")
    if after_sweep is not None:
        try:
            after_sweep(result)
        except Exception:
            log.exception("the after-sweep hook failed; the sweep itself is done")
    changed = [s for s in result.signals if s.previous_level is not None and s.previous_level != s.level]
    log.info(
        "sweep: %d signals, %d changed, %d posted, %d still owed",
        len(result.signals),
        len(changed),
        len(result.posted),
        result.pending,
    )
    return result


def run_prune(deps: Deps) -> dict[str, int] | None:
    """Delete what is older than `SESBOT_RETENTION_DAYS`."""
    from bot.ingest import prune

    try:
        deleted = prune(deps.store, deps.settings.retention_days, deps.now())
    except Exception:
        log.exception("retention pruning failed; it runs again tomorrow")
        return None
    log.info("retention: deleted %s", deleted)
    return deleted


def run_digest(deps: Deps, poster: Poster) -> bool:
    """Owe today's digest once its time has come (once a day: a second run the same day owes nothing), and
    deliver what is owed; True when the digest was owed by this run. A failure is logged, never raised."""
    from bot.alerts import deliver
    from bot.digest import owe_digest

    try:
        owed = owe_digest(deps)
        if owed:
            deliver(deps, poster)
    except Exception:
        log.exception("the daily digest failed; it is tried again at the next run")
        return False
    if owed:
        log.info("daily digest posted")
    return owed


def build_scheduler(deps: Deps, poster: Poster | None, after_sweep: AfterSweep | None = None) -> BackgroundScheduler:
    """A scheduler with the sweep and prune jobs added, not started."""
    scheduler = BackgroundScheduler(jobstores={"default": MemoryJobStore()}, timezone="UTC")
    minutes = deps.settings.sweep_minutes
    now = datetime.now(UTC)  # APScheduler runs on the real clock, whatever clock the engine is given
    scheduler.add_job(
        run_sweep,
        IntervalTrigger(minutes=minutes, timezone="UTC"),
        args=[deps, poster, after_sweep],
        id=SWEEP_JOB,
        name="alert sweep",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=int(minutes * 60),  # a run up to one interval late still happens
        next_run_time=now + FIRST_SWEEP_DELAY,
    )
    scheduler.add_job(
        run_prune,
        IntervalTrigger(days=1, timezone="UTC"),
        args=[deps],
        id=PRUNE_JOB,
        name="retention pruning",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=6 * 3600,
        next_run_time=now + FIRST_PRUNE_DELAY,
    )
    if deps.settings.digest_at is not None and poster is not None:
        hour, minute = deps.settings.digest_at
        scheduler.add_job(
            run_digest,
            CronTrigger(hour=hour, minute=minute, timezone="UTC"),
            args=[deps, poster],
            id=DIGEST_JOB,
            name="daily digest",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=6 * 3600,  # a run up to 6 hours late (the process asleep) still happens
        )
        # Jobs are not persisted: a bot (re)started after the digest's time catches up once, shortly after
        # it starts (`owe_digest` owes it only within `CATCH_UP` of its time, and never twice a day).
        scheduler.add_job(
            run_digest,
            "date",
            run_date=now + FIRST_SWEEP_DELAY,
            args=[deps, poster],
            id=DIGEST_CATCH_UP_JOB,
            name="daily digest, if missed while the bot was down",
            replace_existing=True,
            misfire_grace_time=3600,
        )
    return scheduler


class ClockWatch:
    """Keeps the interval jobs (the sweep, pruning) on time when the wall clock steps back: APScheduler would
    wait for the wall clock to reach each next run again. The cron jobs (the digest) stay at their time of day.

    `wall` and `mono` are the clocks (`time.time`, `time.monotonic`); each `check` compares how far apart they
    are with the last check, and a wall clock behind by `CLOCK_STEP_SECONDS` or more is a step back.
    """

    def __init__(
        self,
        scheduler: BackgroundScheduler,
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        self.scheduler = scheduler
        self._wall, self._mono = wall, mono
        self._offset = wall() - mono()

    def check(self) -> timedelta:
        """How far the wall clock stepped back since the last check (0 if it did not); the interval jobs' next
        runs are moved back as far, so each still comes one interval after the last."""
        offset = self._wall() - self._mono()
        back, self._offset = self._offset - offset, offset
        if back < CLOCK_STEP_SECONDS:
            return timedelta(0)
        step = timedelta(seconds=back)
        for job in self.scheduler.get_jobs():
            if isinstance(job.trigger, IntervalTrigger) and job.next_run_time is not None:
                job.modify(next_run_time=job.next_run_time - step)
        log.warning("the wall clock stepped back %d s: the sweep and pruning keep their interval", round(back))
        return step

    def start(self) -> threading.Thread:
        """Check every `CLOCK_CHECK_SECONDS` (a monotonic wait) in a daemon thread, until the scheduler stops."""
        stop = threading.Event()
        self.scheduler.add_listener(lambda _event: stop.set(), EVENT_SCHEDULER_SHUTDOWN)

        def run() -> None:
            while not stop.wait(CLOCK_CHECK_SECONDS):
                try:
                    self.check()
                except Exception:
                    log.exception("the clock watch failed; it looks again at the next check")

        thread = threading.Thread(target=run, name="clock-watch", daemon=True)
        thread.start()
        return thread


def start_scheduler(deps: Deps, poster: Poster | None, after_sweep: AfterSweep | None = None) -> BackgroundScheduler:
    """Build and start the scheduler (daemon threads); call `.shutdown()` on the result to stop it.

    Without `SESBOT_ALERT_CHANNEL` the sweep still records levels (for `status`) but owes no message:
    there is nowhere to post it, and a backlog would flood the channel once one is set.
    """
    if not deps.settings.alert_channel and poster is not None:
        log.warning("SESBOT_ALERT_CHANNEL is not set: alert levels are tracked but nothing is posted")
        poster = None
    scheduler = build_scheduler(deps, poster, after_sweep)
    scheduler.start()
    ClockWatch(scheduler).start()
    log.info("scheduler started: alert sweep every %d minutes, pruning daily", deps.settings.sweep_minutes)
    if scheduler.get_job(DIGEST_JOB) is not None and deps.settings.digest_at is not None:
        log.info("daily digest at %02d:%02d UTC in the alert channel", *deps.settings.digest_at)
    return scheduler


start = start_scheduler
