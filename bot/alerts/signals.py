"""Signals: read each alert signal as a `Reading`, without deciding anything about it.

- bounce and complaint rates from CloudWatch `AWS/SES` `Reputation.*` (account-wide and per configuration
  set), estimated from the event history when CloudWatch has no current figure;
- the account status and the daily quota from one SESv2 `GetAccount`;
- `aws_api`: whether those reads worked at all (one "cannot read metrics" incident per outage);
- new blocklist bounces from the local `events` table, past a watermark kept in `kv`;
- what is behind a rate (top recipient domains and categories), for the message that reports it.

The AWS reads run outside any transaction; the blocklist and "behind" reads take the sweep's connection.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot import history
from bot.alerts.forecast import FORECAST_HOURS
from bot.alerts.levels import (
    BEHIND_WINDOW,
    BLOCKLIST_QUIET,
    ENFORCEMENT_LEVELS,
    FIXED_LADDERS,
    QUOTA_LEVELS,
    RATE_METRICS,
    SIGNALS,
    TREND_DAYS,
    level_for_value,
)
from bot.alerts.records import query_rows
from bot.aws import describe_error
from bot.deps import Deps
from bot.event_accounts import events_of_account, sending_account
from bot.redact import clip
from bot.ses_status import judge_status
from bot.settings import Settings
from bot.store import KV_BLOCKLIST_MARK, Store, iso

log = logging.getLogger(__name__)

NAMESPACE = "AWS/SES"
CONFIG_SET_DIMENSION = "ses:configuration-set"
# The account's hourly sends, asked with the rates (the forecast's volume floor counts them).
SENDS_KEY = ("sends", "")
SENDS_STAT = {"Metric": {"Namespace": NAMESPACE, "MetricName": "Send"}, "Period": 3600, "Stat": "Sum"}

# How far back the figures look.
CW_PERIOD = 300  # seconds; SES publishes the reputation metrics at about this resolution
FRESH = timedelta(hours=24)  # a CloudWatch figure older than this is no current figure
ESTIMATE_WINDOW = timedelta(hours=24)  # the history window a rate estimate is computed over
MIN_ESTIMATE_SENDS = 100  # fewer sends than this in the window: no estimate (too noisy to alert on)


@dataclass
class Reading:
    """What one sweep saw of one signal. `level` None means "no figure": the stored level stays."""

    signal: str
    region: str
    scope: str = ""  # '' = the whole account, else a configuration set
    value: float | None = None
    estimate: bool = False
    level: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    trend: list[float | None] = field(default_factory=list)  # hourly, oldest first, ends now
    hysteresis: bool = True
    quiet: timedelta = timedelta(0)  # extra calm time a recovery needs (blocklist)
    account: str = ""  # the SESBOT_ACCOUNTS name; '' = the default credentials' account


# -- reading AWS ----------------------------------------------------------------------------------


def _floor(dt: datetime, seconds: int) -> datetime:
    epoch = int(dt.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def rate_query(qid: str, signal: str, scope: str, period: int = CW_PERIOD, stat: str = "Average") -> dict[str, Any]:
    """One `GetMetricData` query of a rate's metric: account-wide (scope '') or one configuration set's."""
    dims = [{"Name": CONFIG_SET_DIMENSION, "Value": scope}] if scope else []
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {"Namespace": NAMESPACE, "MetricName": RATE_METRICS[signal], "Dimensions": dims},
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def fetch_series(
    cw: Any,
    keys: Iterable[tuple[str, str]],
    start: datetime,
    end: datetime,
    *,
    period: int = CW_PERIOD,
    stat: str = "Average",
    extra: dict[tuple[str, str], dict[str, Any]] | None = None,
) -> dict[tuple[str, str], list[tuple[datetime, float]]]:
    """(signal, scope) -> CloudWatch's points of `[start, end)`, oldest first (every page, 500 queries a call);
    `extra`: more queries (their `MetricStat`) asked in the same calls, answered under their own keys."""
    queries: list[dict[str, Any]] = []
    by_id: dict[str, tuple[str, str]] = {}
    for signal, scope in keys:
        qid = f"q{len(queries)}"
        by_id[qid] = (signal, scope)
        queries.append(rate_query(qid, signal, scope, period, stat))
    for named, metric_stat in (extra or {}).items():
        qid = f"q{len(queries)}"
        by_id[qid] = named
        queries.append({"Id": qid, "MetricStat": metric_stat, "ReturnData": True})
    out: dict[tuple[str, str], list[tuple[datetime, float]]] = {key: [] for key in by_id.values()}
    # GetMetricData takes at most 500 queries a call.
    for first in range(0, len(queries), 500):
        kwargs: dict[str, Any] = {
            "MetricDataQueries": queries[first : first + 500],
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            answer = cw.get_metric_data(**kwargs)
            for result in answer.get("MetricDataResults", []):
                key = by_id.get(result.get("Id"))
                if key is None:
                    continue
                for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    out[key].append((ts.astimezone(UTC), float(value)))
            token = answer.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
    for points in out.values():
        points.sort(key=lambda p: p[0])
    return out


def read_cloudwatch(cw: Any, now: datetime) -> dict[tuple[str, str], list[tuple[datetime, float]]]:
    """(signal, scope) -> 5-minute points of the last `TREND_DAYS` days, oldest first.

    The account-wide series is always asked for; configuration sets only when `list_metrics` shows the
    metric with an `ses:configuration-set` dimension (it exists once reputation metrics are on for it).
    """
    scopes: dict[str, set[str]] = {signal: {""} for signal in RATE_METRICS}
    for signal, metric in RATE_METRICS.items():
        for page in cw.get_paginator("list_metrics").paginate(Namespace=NAMESPACE, MetricName=metric):
            for m in page.get("Metrics", []):
                dims = m.get("Dimensions") or []
                if len(dims) == 1 and dims[0].get("Name") == CONFIG_SET_DIMENSION and dims[0].get("Value"):
                    scopes[signal].add(dims[0]["Value"])
    keys = [(signal, scope) for signal in RATE_METRICS for scope in sorted(scopes[signal])]
    start = _floor(now - timedelta(days=TREND_DAYS), CW_PERIOD)
    end = _floor(now, CW_PERIOD) + timedelta(seconds=CW_PERIOD)
    return fetch_series(cw, keys, start, end, extra={SENDS_KEY: SENDS_STAT})


def cloudwatch_sends(points: list[tuple[datetime, float]], now: datetime, hours: int) -> int | None:
    """The account's sends in the current hour and the `hours - 1` before it, from CloudWatch's hourly `Send`
    sums (`read_cloudwatch` asks them with the rates); None when CloudWatch has none for those hours."""
    start = _floor(now - timedelta(hours=hours - 1), 3600)
    values = [v for ts, v in points if ts >= start]
    return int(sum(values)) if values else None


def hourly_trend(points: Iterable[tuple[datetime, float]], now: datetime, days: int = TREND_DAYS) -> list[float | None]:
    """Hourly maxima, oldest first, the last slot holding the current hour; None where no point fell."""
    slots: list[float | None] = [None] * (days * 24)
    start = _floor(now, 3600) + timedelta(hours=1) - timedelta(hours=len(slots))
    for ts, value in points:
        # A point stamped on the hour (CloudWatch's hourly points are) belongs to the hour it starts.
        index = int((ts - start).total_seconds() // 3600)
        if 0 <= index < len(slots):
            current = slots[index]
            slots[index] = value if current is None else max(current, value)
    return slots


def latest_value(points: list[tuple[datetime, float]], now: datetime) -> float | None:
    """The newest figure no older than `FRESH`: what "now" is; None when CloudWatch has no current one."""
    fresh = [v for ts, v in points if now - FRESH <= ts <= now + timedelta(seconds=CW_PERIOD)]
    return fresh[-1] if fresh else None


def estimate_rate(store: Store, signal: str, now: datetime, config_set: str | None = None) -> float | None:
    """The rate recomputed from the event history over `ESTIMATE_WINDOW`; None below `MIN_ESTIMATE_SENDS`.

    Too few sends make a meaningless rate (1 bounce in 10 sends is not "10%, AWS may pause you").
    """
    # The window is half-open: a minute past "now" so events stamped now (or by a clock slightly ahead) count.
    until = now + timedelta(minutes=1)
    estimate = history.rate_estimate(store, now - ESTIMATE_WINDOW, until, config_set=config_set)
    value = estimate.get(signal)
    if value is None or int(estimate.get("sends") or 0) < MIN_ESTIMATE_SENDS:
        return None
    return float(value)


def estimate_trend(
    store: Store, signal: str, now: datetime, config_set: str | None = None, days: int = TREND_DAYS
) -> list[float | None]:
    """Hourly estimated rates (from `history.hourly_series`) for the sparkline (and the chart) when
    CloudWatch has nothing; None for an hour without sends."""
    counted = "hard_bounces_counted" if signal == "bounce_rate" else "complaints"
    points = []
    since = now - timedelta(days=days)
    for row in history.hourly_series(store, since, now + timedelta(minutes=1), config_set=config_set):
        if row["sends"]:
            hour = datetime.fromisoformat(row["hour"] + ":00:00+00:00")
            points.append((hour, row[counted] / row["sends"]))
    return hourly_trend(points, now, days)


def _account_level(account: dict[str, Any]) -> str:
    """The account_status level: the enforcement status's (`ENFORCEMENT_LEVELS`; one the bot does not know
    is `unknown_status`, never OK), raised to `paused` when sending is disabled."""
    status = str(account.get("EnforcementStatus") or "")
    level = judge_status(status, ENFORCEMENT_LEVELS, "unknown_status") if status else "ok"
    if account.get("SendingEnabled") is False:
        levels = FIXED_LADDERS["account_status"]
        level = max(level, "paused", key=levels.index)
    return level


def account_readings(region: str, account: dict[str, Any]) -> list[Reading]:
    """The account-status and quota readings of one `GetAccount` answer."""
    detail = {
        "sending_enabled": account.get("SendingEnabled"),
        "enforcement_status": account.get("EnforcementStatus"),
        "production_access": account.get("ProductionAccessEnabled"),
    }
    out = [Reading("account_status", region, level=_account_level(account), detail=detail, hysteresis=False)]
    quota = account.get("SendQuota") or {}
    limit, sent = quota.get("Max24HourSend"), quota.get("SentLast24Hours")
    quota_detail = {"max_24h": limit, "sent_last_24h": sent, "max_rate": quota.get("MaxSendRate")}
    if limit is not None and sent is not None and float(limit) > 0:
        used = float(sent) / float(limit)
        level = "ok"
        for name, start in QUOTA_LEVELS:
            if used >= start:
                level = name
        out.append(Reading("quota", region, value=used, level=level, detail=quota_detail))
    else:  # -1 = unlimited: nothing to cross
        out.append(Reading("quota", region, value=None, level="ok", detail=quota_detail))
    return out


def history_is_the_accounts(settings: Settings) -> bool:
    """Whether the history's counts are one account's in one region, so its rates estimate that account's.

    The hourly counters keep no account and no region (a Send is counted, not stored): with several accounts
    or regions an estimate would give each of them everyone's rate.
    """
    return len(settings.accounts) <= 1 and len(settings.regions) <= 1


def rate_readings(
    deps: Deps, region: str, series: dict[tuple[str, str], list[tuple[datetime, float]]], now: datetime
) -> list[Reading]:
    """Bounce and complaint readings: CloudWatch's figure, else the history's estimate, else none."""
    out = []
    for (signal, scope), points in sorted(series.items()):
        value = latest_value(points, now)
        estimate = False
        trend = hourly_trend(points, now)
        if value is None and history_is_the_accounts(deps.settings):
            value = estimate_rate(deps.store, signal, now, config_set=scope or None)
            estimate = value is not None
            if estimate and not any(v is not None for v in trend):
                trend = estimate_trend(deps.store, signal, now, config_set=scope or None)
        level = None if value is None else level_for_value(deps.settings, signal, value)
        out.append(Reading(signal, region, scope, value=value, estimate=estimate, level=level, trend=trend))
    return out


def read_region(deps: Deps, region: str, now: datetime) -> list[Reading]:
    """Every AWS-backed reading of one region, plus `aws_api` saying whether the reads worked.

    A failed read leaves that signal out (its stored level stays): an outage is one `aws_api` alert,
    never a storm of "no data" transitions.
    """
    readings: list[Reading] = []
    errors: list[str] = []
    try:
        account = deps.aws.get("sesv2", region).get_account()
        readings += account_readings(region, account)
    except Exception as exc:  # any failure to read is reported, never raised out of the sweep
        log.warning("GetAccount failed in %s: %s", region, describe_error(exc))
        errors.append(f"SES GetAccount: {describe_error(exc)}")
    try:
        series = read_cloudwatch(deps.aws.get("cloudwatch", region), now)
    except Exception as exc:
        log.warning("CloudWatch read failed in %s: %s", region, describe_error(exc))
        errors.append(f"CloudWatch: {describe_error(exc)}")
    else:
        # the forecast's volume, as AWS counts it: the account's, so only its unscoped rates carry it
        sends = cloudwatch_sends(series.pop(SENDS_KEY, []), now, FORECAST_HOURS)
        rates = rate_readings(deps, region, series, now)
        if sends is not None:
            for r in rates:
                if not r.scope:
                    r.detail["cloudwatch_sends"] = sends
        readings += rates
    api = Reading("aws_api", region, level="unreachable" if errors else "ok", detail={"errors": errors})
    readings = [api, *readings]
    for r in readings:
        r.account = deps.account_name or ""
    return readings


def stored_readings(deps: Deps, region: str) -> list[Reading]:
    """What the last sweep read in `region`, from `alert_state` alone (no AWS call), in report order.

    Each rate's `level` is what its figure means now (`level_for_value`), as in a live reading; the stored
    alert level (with its hysteresis) stays in `alert_state`. Empty when no sweep has read the region yet.
    """
    account = deps.account_name or ""
    rows = deps.store.query("SELECT * FROM alert_state WHERE account = ? AND region = ?", [account, region])
    out = []
    for row in rows:
        signal = row["signal"]
        if signal not in SIGNALS or signal == "blocklist":  # blocklist bounces are local, not an AWS reading
            continue
        level = row["level"]
        if signal in RATE_METRICS:
            value = row["value"]
            level = None if value is None else level_for_value(deps.settings, signal, value)
        detail = json.loads(row["detail"]) if row.get("detail") else {}
        reading = Reading(
            signal, region, row["scope"], row["value"], bool(row["estimate"]), level, detail, account=account
        )
        out.append(reading)
    if out:  # a rate without a figure yet is stored as nothing; a live read says "no data" for it
        have = {(r.signal, r.scope) for r in out}
        out += [Reading(signal, region, account=account) for signal in RATE_METRICS if (signal, "") not in have]
    # The order `read_region` gives: reachability, the account, its quota, then the rates.
    first = {"aws_api": 0, "account_status": 1, "quota": 2}
    return sorted(out, key=lambda r: (first.get(r.signal, 3), SIGNALS.index(r.signal), r.scope))


def read_all(deps: Deps, now: datetime) -> list[Reading]:
    """Every AWS-backed reading of every configured account and region, read at the same time."""
    scopes = [(view, region) for view in deps.accounts() for region in deps.settings.regions]
    if len(scopes) <= 1:
        return [r for view, region in scopes for r in read_region(view, region, now)]
    with ThreadPoolExecutor(max_workers=min(16, len(scopes)), thread_name_prefix="read") as pool:
        parts = list(pool.map(lambda scope: read_region(scope[0], scope[1], now), scopes))
    return [r for part in parts for r in part]


# -- blocklist bounces (local) --------------------------------------------------------------------


def _kv(conn: sqlite3.Connection, key: str) -> Any:
    row = conn.execute("SELECT value FROM kv WHERE key = ?", [key]).fetchone()
    return json.loads(row[0]) if row else None


def _kv_put(conn: sqlite3.Connection, key: str, value: Any, now: datetime) -> None:
    conn.execute(
        "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        [key, json.dumps(value), iso(now)],
    )


# The blocklist events with rowids in (?, ?]. The unary + keeps `type` out of index choice: the rowid range
# is the plan, with or without ANALYZE statistics (tests check it with EXPLAIN QUERY PLAN).
BLOCKLIST_SINCE_MARK = (
    "SELECT * FROM events WHERE +type IN ('Bounce', 'DeliveryDelay') "
    "AND category IN ('ip_blocklist', 'domain_blocklist') AND rowid > ? AND rowid <= ?"
)


def first_rowid_received_since(conn: sqlite3.Connection, since: str, top: int) -> int:
    """The lowest rowid (at most `top` + 1) from which every event was received at `since` or later, by
    bisecting the rowids: events are stored as they arrive, so `received_at` grows with the rowid. About
    twenty primary-key lookups however big the table, where `received_at` (no index) would scan it."""
    lo, hi = 0, top + 1
    while lo < hi:
        mid = (lo + hi) // 2
        row = conn.execute(
            "SELECT rowid, received_at FROM events WHERE rowid >= ? AND rowid <= ? ORDER BY rowid LIMIT 1", [mid, top]
        ).fetchone()
        if row is None or (row[1] or "") >= since:
            hi = mid
        else:
            lo = mid + 1
    return lo


def blocklist_readings(conn: sqlite3.Connection, settings: Settings, now: datetime) -> list[Reading]:
    """New blocklist bounces since the last sweep, grouped by (blocklist, sending IP, recipient domain), one
    reading per account (the one that sent the mail, `sending_account`) and region.

    "New" is by rowid past a watermark kept in `kv`, which only reading does not move: the sweep moves it
    (`mark_blocklist_read`) in the same transaction, once it applied the readings, so bounces a skipped
    reading held are read again by the next sweep. Rowids grow in commit order, so an event committed while
    the sweep runs is never skipped, and none is counted twice. Retention
    pruning lowers the mark when it deletes the highest rowids (`lower_event_marks`), which new rows reuse.
    On the very first sweep, only events received in the last sweep interval count (no alert on old
    history).

    This runs inside the sweep's write transaction (and, read-only, before it: `read_dedicated_ips`), so its
    plan must not depend on statistics the bot never gathers (without ANALYZE, SQLite would walk the type
    index through every bounce and delay): `+type` leaves the rowid range as the only way in, and the first
    sweep finds where its range starts by rowid too (`first_rowid_received_since`), `received_at` having no
    index.
    """
    mark = _kv(conn, KV_BLOCKLIST_MARK)
    top = conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM events").fetchone()[0]
    if mark is None or int(mark) > top:  # first sweep, or the table was emptied and rowids restarted
        since = iso(now - timedelta(minutes=settings.sweep_minutes))
        start = first_rowid_received_since(conn, since, top) - 1
        rows = query_rows(conn, f"{BLOCKLIST_SINCE_MARK} AND received_at >= ?", [start, top, since])
    else:
        rows = query_rows(conn, BLOCKLIST_SINCE_MARK, [int(mark), top])
    default = settings.regions[0] if settings.regions else ""
    regions = settings.regions or [default]
    account_of = sending_account(settings)
    names = [a.name for a in settings.accounts] or [""]
    by_scope: dict[tuple[str, str], list[dict[str, Any]]] = {(name, r): [] for name in names for r in regions}
    for row in rows:
        region: str = row["region"] if row.get("region") in regions else default
        by_scope.setdefault((account_of(row.get("account_id")), region), []).append(row)
    out = []
    for (account, region), events in by_scope.items():
        groups = group_blocklist_events(events)
        out.append(
            Reading(
                "blocklist",
                region,
                value=float(len(events)),
                level="listed" if events else "ok",
                detail={"groups": groups, "count": len(events)},
                quiet=BLOCKLIST_QUIET,
                account=account,
            )
        )
    return out


def mark_blocklist_read(conn: sqlite3.Connection, now: datetime) -> None:
    """Move the blocklist watermark past every event there is: in the write transaction in which
    `blocklist_readings` read them and their readings were applied (no event can come in between)."""
    top = conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM events").fetchone()[0]
    _kv_put(conn, KV_BLOCKLIST_MARK, top, now)


def merge_blocklist_groups(*batches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups of several sweeps (`group_blocklist_events`) as one: counts added, the span widened; biggest first."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for batch in batches:
        for g in batch:
            key = (g["blocklist"], g["sending_ip"], g["domain"])
            if key not in out:
                out[key] = dict(g)
                continue
            m = out[key]
            m["count"] += g["count"]
            m["example"] = m.get("example") or g.get("example")
            m["first"] = min(filter(None, (m.get("first"), g.get("first"))), default=None)
            m["last"] = max(filter(None, (m.get("last"), g.get("last"))), default=None)
    return sorted(out.values(), key=lambda g: (-g["count"], g["blocklist"], g["sending_ip"], g["domain"]))


def group_blocklist_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups by (blocklist, sending IP, recipient domain), biggest first, with one example text."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for e in events:
        key = (
            e.get("blocklist") or "unnamed list",
            e.get("sending_ip") or "unknown IP",
            e.get("domain") or "?",
        )
        g = groups.setdefault(
            key,
            {
                "blocklist": key[0],
                "sending_ip": key[1],
                "domain": key[2],
                "count": 0,
                "category": e.get("category"),
                "example": None,
                "first": e.get("timestamp"),
                "last": e.get("timestamp"),
            },
        )
        g["count"] += 1
        g["example"] = g["example"] or clip(e.get("diagnostic") or "", 300) or None
        ts = e.get("timestamp") or ""
        g["first"] = min(g["first"] or ts, ts)
        g["last"] = max(g["last"] or ts, ts)
    return sorted(groups.values(), key=lambda g: (-g["count"], g["blocklist"], g["sending_ip"], g["domain"]))


# -- what is behind a rate ------------------------------------------------------------------------


def behind(
    conn: sqlite3.Connection,
    signal: str,
    region: str,
    scope: str,
    now: datetime,
    settings: Settings | None = None,
    account: str = "",
) -> dict[str, Any]:
    """The top recipient domains and categories of the events behind a rate, from the history (with
    `settings`: only those `account` sent): the events the rate counts (`history.COUNTED_HARD_BOUNCE`,
    `history.COUNTED_COMPLAINT`), not the suppressed ones or the blocklist bounces it leaves out."""
    if signal == "bounce_rate":
        where, column = history.COUNTED_HARD_BOUNCE, "COALESCE(category, bounce_subtype)"
    elif signal == "complaint_rate":
        where, column = history.COUNTED_COMPLAINT, "COALESCE(complaint_type, 'not given')"
    else:
        return {"domains": [], "categories": []}
    params: list[Any] = [iso(now - BEHIND_WINDOW), region]
    where += " AND timestamp >= ? AND (region = ? OR region IS NULL)"
    if scope:
        where += " AND config_set = ?"
        params.append(scope)
    if settings is not None:
        clause, values = events_of_account(settings, account)
        where += f" AND {clause}"
        params += values
    domains = query_rows(
        conn,
        f"SELECT domain AS name, COUNT(*) AS n FROM events WHERE {where} GROUP BY domain ORDER BY n DESC, name LIMIT 5",
        params,
    )
    categories = query_rows(
        conn,
        f"SELECT {column} AS name, COUNT(*) AS n FROM events WHERE {where} GROUP BY 1 ORDER BY n DESC, name LIMIT 5",
        params,
    )
    return {
        "domains": [(d["name"] or "?", d["n"]) for d in domains],
        "categories": [(c["name"] or "unclassified", c["n"]) for c in categories],
    }
