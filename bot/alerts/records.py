"""Records: the `incidents` row as an `Incident`, and the one helper that reads rows on a connection.

Shared by the transitions (which open, update and resolve incidents inside the sweep's transaction) and
the outbox (which posts into an incident's thread); `bot.incidents` reads incidents back the same way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.alerts.levels import signal_label
from bot.findings import where


def query_rows(conn: sqlite3.Connection, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
    """The rows of `sql` as dicts, on this connection (so inside the caller's transaction)."""
    cur = conn.execute(sql, list(params))
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@dataclass
class Incident:
    """One row of `incidents`: a signal's bad spell, from the first bad level to the return to OK."""

    id: int
    signal: str
    region: str
    scope: str
    level: str  # the worst level reached
    status: str  # open, resolved
    opened_at: str
    resolved_at: str | None = None
    channel: str | None = None
    ts: str | None = None
    acked_by: str | None = None
    acked_at: str | None = None
    owner: str | None = None  # the Slack user who owns it (`assign`, "I'll take it")
    snoozed_until: str | None = None  # no updates at the same or a better level before this (`snooze 2h`)
    account: str = ""  # the SESBOT_ACCOUNTS name ('' = the default credentials' account)

    @property
    def where(self) -> str:
        """ "prod · eu-west-1" with several accounts, else the region."""
        return where(self.account, self.region)

    resolved_by: str | None = None  # who closed it by hand (`resolve <reason>`); None when it recovered
    reopens: int | None = None  # the incident closed by hand while its signal was still bad, which this reopens

    def snoozed(self, now: str) -> bool:
        return bool(self.snoozed_until) and now < str(self.snoozed_until)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Incident:
        values: dict[str, Any] = {k: row.get(k) for k in cls.__dataclass_fields__ if k in row}
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """The incident as `--json` prints it."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @property
    def label(self) -> str:
        return signal_label(self.signal, self.scope)


def worst_value(conn: sqlite3.Connection, incident_id: int) -> float | None:
    """The highest figure the incident reached: in its messages, or at any sweep while it was open (`peak`)."""
    row = conn.execute(
        "SELECT (SELECT max(value) FROM notifications WHERE incident_id = i.id AND value IS NOT NULL), i.peak "
        "FROM incidents i WHERE i.id = ?",
        [incident_id],
    ).fetchone()
    figures = [v for v in (row or ()) if v is not None]
    return max(figures) if figures else None
