"""What the App Home shows, from the store alone (never AWS or DNS): the status as of the last sweep, the open
incidents, the latest diagnoses; and who opened the Home recently, so the sweep can refresh theirs.

Opening the Home must not wait on AWS: the alert sweep reads every region every `SESBOT_SWEEP_MINUTES`
and keeps what it read in `alert_state`, and the status here is the `status` command's answer built from
those stored readings (`bot.alerts.stored_readings`). Each visit is kept as a `kv` row per user
(`home.opened:<user>` -> when), so there is no read-modify-write between two people opening it at once.

The Home's rate chart of each account and region is drawn and uploaded once per sweep reading, not per
visit: `kept_chart` / `keep_chart` hold the uploaded file (`home.chart:<account>:<region>` -> the reading's
`reading_mark`, the file id, its alt text and title, the file it replaced); a chart of an older reading is
not shown.

    >>> from bot.settings import Settings
    >>> from bot.store import Store
    >>> from bot.deps import Deps
    >>> deps = Deps.build(Settings(regions=["eu-west-1"]), store=Store(":memory:"))
    >>> dashboard(deps).status.sections[0]
    ('eu-west-1', ['No sweep has read this region yet.'])
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.alerts import Incident, stored_readings
from bot.deps import Deps
from bot.findings import Answer
from bot.incidents import open_incidents, status_answer
from bot.store import Store, iso

RECENT_VIEWERS = timedelta(hours=24)  # the sweep refreshes the Home of those who opened it this recently
LATEST_DIAGNOSES = 5
_VIEWER_KEY = "home.opened:"
_CHART_KEY = "home.chart:"


@dataclass
class Dashboard:
    """Everything one Home view shows; the same for every viewer."""

    status: Answer  # the `status` answer from the stored readings: one section per region, then incidents
    as_of: str | None  # when the last sweep stored a reading (ISO, UTC); None before the first sweep
    incidents: list[Incident]  # open, oldest first
    diagnoses: list[dict[str, Any]]  # the latest asked, newest first (rows of `diagnoses`, without the report)
    sweep_minutes: int


def latest_diagnoses(store: Store, limit: int = LATEST_DIAGNOSES) -> list[dict[str, Any]]:
    return store.query(
        "SELECT at, via, user_id, command, target, verdict_check, verdict_severity, verdict_summary "
        "FROM diagnoses ORDER BY id DESC LIMIT ?",
        [int(limit)],
    )


def dashboard(deps: Deps) -> Dashboard:
    store = deps.store
    as_of = store.conn.execute("SELECT max(updated_at) FROM alert_state").fetchone()[0]
    return Dashboard(
        status=status_answer(deps, stored_readings),
        as_of=as_of,
        incidents=open_incidents(store),
        diagnoses=latest_diagnoses(store),
        sweep_minutes=deps.settings.sweep_minutes,
    )


def home_opened(store: Store, user_id: str, at: datetime) -> None:
    """Remember that `user_id` opened the Home at `at`."""
    store.kv_set(_VIEWER_KEY + user_id, iso(at))


def home_forgotten(store: Store, user_id: str) -> None:
    """Forget that `user_id` opened the Home (the sweep no longer refreshes theirs)."""
    with store.transaction() as db:
        db.conn.execute("DELETE FROM kv WHERE key = ?", [_VIEWER_KEY + user_id])


def recent_viewers(store: Store, now: datetime, within: timedelta = RECENT_VIEWERS) -> list[str]:
    """The users who opened the Home in the last `within`, most recent first."""
    since = iso(now - within)
    rows = store.query("SELECT key, value FROM kv WHERE key LIKE ?", [_VIEWER_KEY + "%"])
    seen = sorted(((json.loads(r["value"]), r["key"]) for r in rows), reverse=True)
    return [key.removeprefix(_VIEWER_KEY) for at, key in seen if at >= since]


def reading_mark(store: Store, account: str | None, region: str) -> str | None:
    """Which sweep reading of `account` (None or '' = the default credentials) in `region` is stored: when it
    was stored (ISO, UTC); None before the first sweep read it. A chart is of one reading."""
    row = store.conn.execute(
        "SELECT max(updated_at) FROM alert_state WHERE account = ? AND region = ?", [account or "", region]
    ).fetchone()
    return str(row[0]) if row and row[0] else None


@dataclass(frozen=True)
class KeptChart:
    """A rate chart already uploaded for the Home: the reading it shows, the chat system's file id, its words,
    and the file of the chart it replaced (deleted when this one is replaced in turn: a view published just
    before the replacement still shows a file that exists)."""

    reading: str
    file_id: str
    alt_text: str
    title: str
    replaced: str = ""


def _chart_key(account: str | None, region: str) -> str:
    return f"{_CHART_KEY}{account or ''}:{region}"


def kept_chart(store: Store, account: str | None, region: str) -> KeptChart | None:
    """The chart kept for `account` in `region`, whichever reading it shows (compare with `reading_mark`)."""
    value = store.kv_get(_chart_key(account, region))
    if not isinstance(value, dict):
        return None
    try:
        return KeptChart(
            str(value["reading"]),
            str(value["file_id"]),
            str(value["alt_text"]),
            str(value["title"]),
            str(value.get("replaced") or ""),
        )
    except KeyError:
        return None


def keep_chart(store: Store, account: str | None, region: str, chart: KeptChart) -> None:
    store.kv_set(_chart_key(account, region), asdict(chart))
