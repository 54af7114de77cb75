"""The scheduler: the alert sweep every `SESBOT_SWEEP_MINUTES`, retention pruning once a day, and the daily
digest at `SESBOT_DIGEST_AT` (UTC) when it is set and there is an alert channel to post it in.

APScheduler 3.11's `BackgroundScheduler` with a `MemoryJobStore`: the bot keeps its own state in SQLite
(alert levels, owed notifications), so jobs need not be persisted; they are (re)added at start with
`replace_existing=True`. `max_instances=1` means one sweep at a time; `coalesce=True` turns runs missed
while the process was busy or asleep into one; `misfire_grace_time` (whole seconds) lets a late run still
happen instead of being dropped.

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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

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
    log.info("scheduler started: alert sweep every %d minutes, pruning daily", deps.settings.sweep_minutes)
    if scheduler.get_job(DIGEST_JOB) is not None and deps.settings.digest_at is not None:
        log.info("daily digest at %02d:%02d UTC in the alert channel", *deps.settings.digest_at)
    return scheduler


start = start_scheduler
