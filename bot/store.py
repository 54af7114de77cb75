"""The store: the bot's SQLite file, through sqlite-utils.

One `Store` per process; each thread gets its own connection (sqlite3 connections must not be shared
across threads carelessly, and Bolt's listener threads, the scheduler and the SQS consumer all write).
WAL is on, so readers never wait for the writer. The schema is a list of numbered migrations applied
in order at open; `PRAGMA user_version` records how far a file has got.

    >>> store = Store(":memory:")
    >>> store.db["diagnoses"].count
    0
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import sqlite_utils

from bot.timefmt import iso, utcnow  # the store's timestamp format; imported from here by most modules

Migration = Callable[[sqlite_utils.Database], None]
log = logging.getLogger(__name__)


def _m1_core(db: sqlite_utils.Database) -> None:
    """Problem events, hourly counters, quarantine, diagnoses, alerts, incidents, audit, key-value."""
    db.execute(
        """
        CREATE TABLE events (
            id TEXT PRIMARY KEY,          -- natural key: a re-delivery changes nothing
            type TEXT NOT NULL,           -- Bounce, Complaint, DeliveryDelay, Reject, RenderingFailure, ...
            recipient TEXT,
            domain TEXT,
            timestamp TEXT NOT NULL,      -- ISO 8601 UTC, 'YYYY-MM-DDTHH:MM:SS.mmmZ', sorts as text
            message_id TEXT,
            source TEXT,
            config_set TEXT,
            region TEXT,
            bounce_type TEXT,
            bounce_subtype TEXT,
            delay_type TEXT,
            complaint_type TEXT,
            status TEXT,
            action TEXT,
            diagnostic TEXT,
            category TEXT,
            blocklist TEXT,
            sending_ip TEXT,
            remote_mta TEXT,
            reporting_mta TEXT,
            template TEXT,
            reason TEXT,                  -- reject reason or rendering error message
            expires TEXT,                 -- DeliveryDelay expirationTime
            feedback_id TEXT,
            received_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX events_recipient_ts ON events (recipient, timestamp)")
    db.execute("CREATE INDEX events_domain_ts ON events (domain, timestamp)")
    db.execute("CREATE INDEX events_ts ON events (timestamp)")
    db.execute("CREATE INDEX events_type_ts ON events (type, timestamp)")
    db.execute(
        """
        CREATE TABLE counters (            -- high-volume events, counted per hour and recipient domain
            hour TEXT NOT NULL,            -- 'YYYY-MM-DDTHH'
            type TEXT NOT NULL,
            domain TEXT NOT NULL,
            config_set TEXT NOT NULL DEFAULT '',
            count INTEGER NOT NULL,
            PRIMARY KEY (hour, type, domain, config_set)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE seen (                -- natural keys of counted events, so re-deliveries count once
            id TEXT PRIMARY KEY,
            at TEXT NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY,
            received_at TEXT NOT NULL,
            origin TEXT NOT NULL,          -- sqs, https, file:<path>
            reason TEXT NOT NULL,
            raw TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE diagnoses (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            via TEXT NOT NULL,             -- slack, cli
            user_id TEXT,
            channel_id TEXT,
            command TEXT NOT NULL,
            target TEXT,
            verdict_check TEXT,
            verdict_severity TEXT,
            verdict_summary TEXT,
            elapsed_ms INTEGER,
            report TEXT                    -- the report as JSON
        )
        """
    )
    db.execute("CREATE INDEX diagnoses_at ON diagnoses (at)")
    db.execute(
        """
        CREATE TABLE alert_state (         -- the current level of each signal
            signal TEXT NOT NULL,          -- bounce_rate, complaint_rate, blocklist, account_status, quota
            region TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT '',  -- '' = account, else a configuration set name
            level TEXT NOT NULL,
            value REAL,
            estimate INTEGER NOT NULL DEFAULT 0,
            calm_sweeps INTEGER NOT NULL DEFAULT 0,  -- sweeps in a row below the current level
            detail TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (signal, region, scope)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            signal TEXT NOT NULL,
            region TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT '',
            level TEXT NOT NULL,           -- the worst level reached
            status TEXT NOT NULL,          -- open, resolved
            opened_at TEXT NOT NULL,
            resolved_at TEXT,
            channel TEXT,
            ts TEXT,                       -- the parent message
            acked_by TEXT,
            acked_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX incidents_open ON incidents (status, signal, region, scope)")
    db.execute(
        """
        CREATE TABLE notifications (       -- every message the bot owes Slack: claimed, posted, marked sent
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            incident_id INTEGER REFERENCES incidents(id),
            kind TEXT NOT NULL,            -- open, update, resolve, parent_update, notice
            signal TEXT,
            region TEXT,
            from_level TEXT,
            to_level TEXT,
            value REAL,
            channel TEXT,
            thread_ts TEXT,
            text TEXT NOT NULL,
            blocks TEXT,
            claimed_at TEXT,
            sent_at TEXT,
            ts TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            not_before TEXT
        )
        """
    )
    db.execute("CREATE INDEX notifications_unsent ON notifications (sent_at, id)")
    db.execute(
        """
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user_id TEXT,
            team_id TEXT,
            channel_id TEXT,
            action TEXT NOT NULL,
            allowed INTEGER NOT NULL,
            detail TEXT
        )
        """
    )
    db.execute("CREATE INDEX audit_at ON audit (at)")
    db.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT, updated_at TEXT)")


def _m2_event_history(db: sqlite_utils.Database) -> None:
    """Event history (issue 4): complaint subtype, idempotent quarantine, indexes for the alert queries."""
    # complaintSubType (null or OnAccountSuppressionList): such complaints do not count toward the rate.
    db.execute("ALTER TABLE events ADD COLUMN complaint_subtype TEXT")
    # A poison SQS message redelivered after a crash is quarantined once: rows are keyed by a body digest.
    db.execute("ALTER TABLE quarantine ADD COLUMN digest TEXT")
    db.execute("CREATE UNIQUE INDEX quarantine_digest ON quarantine (digest)")
    db.execute("CREATE INDEX quarantine_received ON quarantine (received_at)")
    # The rate queries count bounces/complaints in a time window from the index alone (no table lookups);
    # this index starts with (type, timestamp), so it replaces events_type_ts, which only cost writes.
    db.execute("DROP INDEX IF EXISTS events_type_ts")
    db.execute(
        "CREATE INDEX events_type_ts_rate ON events "
        "(type, timestamp, bounce_type, bounce_subtype, complaint_subtype, config_set)"
    )
    # Small partial indexes for the alert sweep: blocklist bounces and the sending IPs they name.
    db.execute(
        "CREATE INDEX events_blocklist_ts ON events (timestamp) WHERE category IN ('ip_blocklist', 'domain_blocklist')"
    )
    db.execute("CREATE INDEX events_sending_ip_ts ON events (timestamp, sending_ip) WHERE sending_ip IS NOT NULL")


def _m3_rate_index_category(db: sqlite_utils.Database) -> None:
    """The rate query also leaves out blocklist bounces (they do not count toward the SES bounce rate):
    the covering index carries the category so the query still never reads the table."""
    db.execute("DROP INDEX IF EXISTS events_type_ts_rate")
    db.execute(
        "CREATE INDEX events_type_ts_rate ON events "
        "(type, timestamp, bounce_type, bounce_subtype, complaint_subtype, config_set, category)"
    )


def _m4_last_delivery(db: sqlite_utils.Database) -> None:
    """Each recipient's latest delivery time: deliveries are only counted per hour and domain, yet a delivery
    after a bounce says the address works. One small row per recipient (not one per delivery), keyed by the
    lower-cased address; no index on `at`, which would cost every ingest write for a daily prune."""
    db.execute(
        """
        CREATE TABLE last_delivery (
            recipient TEXT PRIMARY KEY,
            at TEXT NOT NULL               -- the latest Delivery event's timestamp, as in events.timestamp
        ) WITHOUT ROWID
        """
    )


def _m5_tenant_and_message(db: sqlite_utils.Database) -> None:
    """The SES tenant a problem event's mail was sent as (its `ses:tenant-name` tag), a lookup of a
    message's events by SES message id (`why <message-id>`), and the classifier rule behind each category."""
    db.execute("ALTER TABLE events ADD COLUMN tenant TEXT")
    db.execute("CREATE INDEX events_message_id ON events (message_id)")
    # Which classifier rule decided the event's category (bot/classify/rules.toml), for "why this class?".
    db.execute("ALTER TABLE events ADD COLUMN rule TEXT")


def _m6_header_sample(db: sqlite_utils.Database) -> None:
    """The rolling header sample (issue 16): per day, configuration set and From address, how many Send events
    were seen, how many carried their headers, and how many of those had `List-Unsubscribe`,
    `List-Unsubscribe-Post: List-Unsubscribe=One-Click` and an https unsubscribe URI, with one example
    message id without one-click unsubscribe. One row per day x set x From, whatever the volume; the primary
    key starts with the day, so retention pruning is a primary-key range delete."""
    db.execute(
        """
        CREATE TABLE header_sample (
            day TEXT NOT NULL,                 -- 'YYYY-MM-DD' of the Send event (UTC)
            config_set TEXT NOT NULL DEFAULT '',
            from_address TEXT NOT NULL DEFAULT '',  -- lower-cased, from mail.commonHeaders.from / mail.source
            sent INTEGER NOT NULL,             -- Send events (one per message)
            headers_seen INTEGER NOT NULL,     -- of which the event carried mail.headers
            list_unsubscribe INTEGER NOT NULL, -- had a List-Unsubscribe header
            one_click INTEGER NOT NULL,        -- had List-Unsubscribe-Post: List-Unsubscribe=One-Click
            https INTEGER NOT NULL,            -- List-Unsubscribe held an <https:...> URI
            example_without TEXT,              -- a message id whose headers lacked one-click (first seen wins)
            PRIMARY KEY (day, config_set, from_address)
        ) WITHOUT ROWID
        """
    )


def _m7_failed_notifications(db: sqlite_utils.Database) -> None:
    """A message Slack refuses for good (the bot is not in the channel, the token is dead) is marked failed
    with the reason instead of being retried every sweep."""
    db.execute("ALTER TABLE notifications ADD COLUMN failed_at TEXT")
    db.execute("ALTER TABLE notifications ADD COLUMN failed_reason TEXT")


def _m8_incident_log(db: sqlite_utils.Database) -> None:
    """What people do on an incident from its thread (issue 13): notes (`@sesbot note ...`) and owner changes
    (`assign`, "I'll take it"), part of its timeline; and the current owner on the incident."""
    db.execute(
        """
        CREATE TABLE incident_log (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incidents(id),
            at TEXT NOT NULL,
            kind TEXT NOT NULL,            -- note, owner
            user_id TEXT,                  -- who did it
            text TEXT NOT NULL             -- the note as written (escaped wherever shown), or the new owner's id
        )
        """
    )
    db.execute("CREATE INDEX incident_log_incident ON incident_log (incident_id, at)")
    db.execute("ALTER TABLE incidents ADD COLUMN owner TEXT")


def _m9_snooze(db: sqlite_utils.Database) -> None:
    """`snooze 2h` in an incident thread: no updates at the same or a better level until then."""
    db.execute("ALTER TABLE incidents ADD COLUMN snoozed_until TEXT")


def _m10_accounts(db: sqlite_utils.Database) -> None:
    """Several AWS accounts (`SESBOT_ACCOUNTS`): each signal's level and each incident belong to one account
    by its configured name ('' = the default credentials' account, as every row before this)."""
    db.execute("ALTER TABLE incidents ADD COLUMN account TEXT NOT NULL DEFAULT ''")
    db.execute(
        """
        CREATE TABLE alert_state_by_account (
            account TEXT NOT NULL DEFAULT '',
            signal TEXT NOT NULL,
            region TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT '',
            level TEXT NOT NULL,
            value REAL,
            estimate INTEGER NOT NULL DEFAULT 0,
            calm_sweeps INTEGER NOT NULL DEFAULT 0,
            detail TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (account, signal, region, scope)
        )
        """
    )
    columns = "signal, region, scope, level, value, estimate, calm_sweeps, detail, updated_at"
    db.execute(f"INSERT INTO alert_state_by_account (account, {columns}) SELECT '', {columns} FROM alert_state")
    db.execute("DROP TABLE alert_state")
    db.execute("ALTER TABLE alert_state_by_account RENAME TO alert_state")


def _m11_resolved_by_hand(db: sqlite_utils.Database) -> None:
    """`resolve <reason>` in an incident thread: who closed it by hand (the reason is on its timeline), and on
    the incident that opens when the signal was still bad, the one closed by hand it reopens."""
    db.execute("ALTER TABLE incidents ADD COLUMN resolved_by TEXT")
    db.execute("ALTER TABLE incidents ADD COLUMN reopens INTEGER REFERENCES incidents(id)")


def _m12_claimed_by(db: sqlite_utils.Database) -> None:
    """Exactly once across a crash (issue 13): which process holds an outbox row's claim (host, pid and the
    process's start), so that a restarted bot takes over a dead process's claims at once, not after the lease."""
    db.execute("ALTER TABLE notifications ADD COLUMN claimed_by TEXT")


def _m13_event_account(db: sqlite_utils.Database) -> None:
    """Each problem event's sending AWS account (`mail.sendingAccountId`), so that with several accounts
    (`SESBOT_ACCOUNTS`) a blocklist bounce is the concern of the account that sent the mail. Older rows: NULL."""
    db.execute("ALTER TABLE events ADD COLUMN account_id TEXT")


def _m14_incident_peak(db: sqlite_utils.Database) -> None:
    """The highest figure an open incident's signal reached at any sweep (its messages are written only when
    the level changes, so a rise within one level was in none of them). Older rows: NULL."""
    db.execute("ALTER TABLE incidents ADD COLUMN peak REAL")


def _m15_ack_log(db: sqlite_utils.Database) -> None:
    """Each person's acknowledgement on the incident's timeline (`incident_log`, kind 'ack'), not only the last
    one; `acked_by`/`acked_at` keep the first. Older rows: the one acknowledgement they kept."""
    db.execute(
        "INSERT INTO incident_log (incident_id, at, kind, user_id, text) "
        "SELECT id, acked_at, 'ack', acked_by, '' FROM incidents WHERE acked_at IS NOT NULL ORDER BY id"
    )


def _m16_notifications_by_incident(db: sqlite_utils.Database) -> None:
    """An incident's messages by incident: the sweep's reminder and snooze-end checks read them per incident."""
    db.execute("CREATE INDEX notifications_incident ON notifications (incident_id, kind)")


MIGRATIONS: list[Migration] = [
    _m1_core,
    _m2_event_history,
    _m3_rate_index_category,
    _m4_last_delivery,
    _m5_tenant_and_message,
    _m6_header_sample,
    _m7_failed_notifications,
    _m8_incident_log,
    _m9_snooze,
    _m10_accounts,
    _m11_resolved_by_hand,
    _m12_claimed_by,
    _m13_event_account,
    _m14_incident_peak,
    _m15_ack_log,
    _m16_notifications_by_incident,
]


# The alert sweep's watermark over `events` rowids: blocklist bounces past it are new (bot.alerts.signals).
KV_BLOCKLIST_MARK = "alerts.blocklist_rowid"
# When `sesbot run` last started on this database: a chat bot uses it (`sweep --once` leaves it the outbox).
KV_STARTED_AT = "started_at"


def lower_event_marks(conn: sqlite3.Connection) -> None:
    """After deleting events, inside the same transaction: lower the rowid watermark to the highest rowid left.

    `events` has no AUTOINCREMENT, so SQLite gives a new row the highest rowid in the table plus one: once
    retention deletes the highest rowids (an old export backfilled last), new rows take rowids at or below a
    mark set before, and a sweep reading "past the mark" would never see them. Every row above the lowered
    mark is gone, so nothing is skipped and nothing counted twice.
    """
    conn.execute(
        "UPDATE kv SET value = (SELECT COALESCE(MAX(rowid), 0) FROM events) "
        "WHERE key = ? AND CAST(value AS INTEGER) > (SELECT COALESCE(MAX(rowid), 0) FROM events)",
        [KV_BLOCKLIST_MARK],
    )


def first_time_in(conn: sqlite3.Connection, key: str, at: datetime) -> bool:
    """`Store.first_time` inside a transaction the caller holds: the claim commits (or not) with its work."""
    claim = f"{iso(at)[:13]}:{key}"
    cur = conn.execute("INSERT OR IGNORE INTO seen (id, at) VALUES (?, ?)", [claim, iso(utcnow())])
    return cur.rowcount == 1


class StoreUnavailable(Exception):
    """The database `SESBOT_DB` names cannot be opened or written (a directory, not a database, read-only,
    deleted or replaced while the bot ran...): one line for a person, naming the variable, the same from
    `sesbot run` and from the terminal commands."""

    def __init__(self, path: str, cause: BaseException):
        super().__init__(path, cause)
        self.path, self.cause = path, cause

    def __str__(self) -> str:
        return f"cannot write the database {self.path} ({self.cause}); check SESBOT_DB."


class FileReplaced(Exception):
    """The file at the store's path is no longer the one it opened (deleted, or another put in its place)."""

    def __str__(self) -> str:
        return "the file was deleted or replaced while sesbot ran: restart sesbot"


JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes of WAL kept once it has been checkpointed (SQLite truncates to this)


class Store:
    """Thread-safe access to the SQLite file: one connection per thread, migrations at open."""

    def __init__(self, path: str, migrations: list[Migration] | None = None):
        self.path = path
        self._local = threading.local()
        self._migrations = MIGRATIONS if migrations is None else migrations
        self._memory_db: sqlite_utils.Database | None = None
        self._lock = threading.RLock()
        self._audits: queue.Queue[dict[str, Any]] = queue.Queue()
        self._audit_writer: threading.Thread | None = None
        self._audit_start = threading.Lock()
        self._file: tuple[int, int] | None = None  # (st_dev, st_ino) of the file opened
        if path != ":memory:":
            parent = os.path.dirname(os.path.abspath(path))
            os.makedirs(parent, exist_ok=True)
            # Owner-only from the first byte: the file holds recipient addresses and alert history.
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
            st = os.fstat(fd)
            os.close(fd)
            self._file = (st.st_dev, st.st_ino)
            for suffix in ("-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.chmod(path + suffix, 0o600)
        self.migrate()

    # -- connections -------------------------------------------------------------------------------
    def _connect(self) -> sqlite_utils.Database:
        if self.path == ":memory:":
            if self._memory_db is None:
                conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
                self._memory_db = sqlite_utils.Database(conn)
            return self._memory_db
        self.check_file()  # before connecting: SQLite would create an empty file in place of a deleted one
        old = os.umask(0o077)
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
        finally:
            os.umask(old)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MB: ingest and pruning touch big indexes
        # The WAL keeps the size of its largest run of writes (a prune: gigabytes) unless told to shrink back.
        conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT:d}")
        return sqlite_utils.Database(conn)

    def check_file(self) -> None:
        """Raise `StoreUnavailable` if the file at `path` is not the one this store opened: a connection to a
        deleted file goes on committing to it, all lost at the next start (and SQS deletes what it acknowledged).
        One `stat`, about a microsecond: before every write transaction and every new connection."""
        if self._file is None:
            return
        try:
            st = os.stat(self.path)
        except OSError:
            st = None
        if st is None or (st.st_dev, st.st_ino) != self._file:
            raise StoreUnavailable(self.path, FileReplaced())

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
        return db

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def durable(self) -> sqlite3.Connection:
        """This thread's connection, its commits on the disk before they return (`synchronous=FULL`).

        For writes whose source is gone once they commit (an SQS message deleted after the commit, an SNS
        delivery answered 200): with WAL's usual NORMAL, a commit can be lost to a power cut or an OS crash.
        """
        conn = self.conn
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    def checkpoint(self) -> None:
        """Copy the whole WAL into the database file and empty it (`wal_checkpoint(TRUNCATE)`: waits, up to the
        busy timeout, for the writer and readers of the moment). After a run of big writes (a prune): the
        automatic checkpoints, which never wait, let the WAL grow to gigabytes while another writer works."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None and self.path != ":memory:":
            db.conn.close()
        self._local.db = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction (BEGIN IMMEDIATE: take the write lock up front, no upgrade deadlocks).

        On a full disk, an I/O error or no memory SQLite has rolled back already: the ROLLBACK is only for a
        transaction still open, and the error raised is always the one that ended it, never the ROLLBACK's.
        """
        db = self.db
        lock = self._lock if self.path == ":memory:" else contextlib.nullcontext()
        with lock:
            self.check_file()
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.conn.execute("COMMIT")
            except BaseException:
                if db.conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        db.conn.execute("ROLLBACK")
                raise

    def optimize(self) -> None:
        """`PRAGMA optimize`, as SQLite recommends for long-lived databases: gathers the statistics the query
        planner lacks (ANALYZE, bounded by `analysis_limit` so the write lock is held briefly), where they
        would help. Run after the daily prune."""
        self.conn.execute("PRAGMA analysis_limit=1000")
        self.conn.execute("PRAGMA optimize=0x10002")  # 0x10000: every table (SQLite 3.46+)

    # -- schema ------------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> int:
        """Apply the migrations this file has not seen, each in its own transaction."""
        with self.transaction() as db:
            current = db.conn.execute("PRAGMA user_version").fetchone()[0]
            for number, migration in enumerate(self._migrations, start=1):
                if number <= current:
                    continue
                migration(db)
                db.conn.execute(f"PRAGMA user_version = {number:d}")
        return self.version

    # -- small shared helpers ----------------------------------------------------------------------
    def query(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params or []))

    def kv_get(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM kv WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else default

    def kv_set(self, key: str, value: Any) -> None:
        with self.transaction() as db:
            db.conn.execute(
                "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                [key, json.dumps(value), iso(utcnow())],
            )

    def first_time(self, key: str, at: datetime) -> bool:
        """Claim `key`, which happened `at`, once: True for the first caller ever (this process or another),
        False after.

        Claims live in the `seen` table beside counted events, under the same id shape (`YYYY-MM-DDTHH:` of
        `at`, then the key), so retention prunes them with the rest. `at` must be the same for every claim
        of one key (the thing's own time, not the time it arrived).
        """
        with self.transaction() as db:
            return first_time_in(db.conn, key, at)

    def audit(
        self,
        action: str,
        allowed: bool,
        *,
        user_id: str | None = None,
        team_id: str | None = None,
        channel_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        with self.transaction() as db:
            db.table("audit").insert(_audit_row(action, allowed, user_id, team_id, channel_id, detail))

    def audit_soon(
        self,
        action: str,
        allowed: bool,
        *,
        user_id: str | None = None,
        team_id: str | None = None,
        channel_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        """The same audit row as `audit`, stamped now but written by one background thread: for a caller that
        must not wait on the write lock (a sweep or an ingest batch may hold it for seconds), such as a Slack
        request before its acknowledgement. `flush_audit` waits for the rows asked so far."""
        self._audits.put(_audit_row(action, allowed, user_id, team_id, channel_id, detail))
        with self._audit_start:
            if self._audit_writer is None or not self._audit_writer.is_alive():
                self._audit_writer = threading.Thread(target=self._write_audits, name="audit", daemon=True)
                self._audit_writer.start()

    def flush_audit(self, timeout: float | None = None) -> bool:
        """Wait until every row given to `audit_soon` so far is written (or could not be); False if `timeout`
        seconds passed first."""
        with self._audit_start:
            if self._audit_writer is None:  # nothing was ever given
                return True
            done = threading.Event()
            self._audits.put({"_flushed": done})
        return done.wait(timeout)

    def _write_audits(self) -> None:
        while True:
            row = self._audits.get()
            if "_flushed" in row:
                row["_flushed"].set()
                continue
            try:
                with self.transaction() as db:
                    db.table("audit").insert(row)
            except Exception as exc:  # noqa: BLE001 - one lost audit row must not stop the ones after it
                log.error("could not write an audit row (%s %s): %s", row["action"], row["user_id"], exc)

    def record_diagnosis(
        self,
        report_dict: dict[str, Any],
        *,
        via: str,
        command: str,
        user_id: str | None = None,
        channel_id: str | None = None,
    ) -> int:
        verdict = report_dict.get("verdict") or {}
        with self.transaction() as db:
            table = db.table("diagnoses")
            table.insert(
                {
                    "at": iso(utcnow()),
                    "via": via,
                    "user_id": user_id,
                    "channel_id": channel_id,
                    "command": command[:500],
                    "target": (report_dict.get("target") or "")[:500],
                    "verdict_check": verdict.get("check"),
                    "verdict_severity": verdict.get("severity"),
                    "verdict_summary": verdict.get("summary"),
                    "elapsed_ms": report_dict.get("elapsed_ms"),
                    "report": json.dumps(report_dict, default=str),
                }
            )
            pk = table.last_pk
            if not isinstance(pk, int):  # `id INTEGER PRIMARY KEY`: always the new rowid after an insert
                raise RuntimeError(f"diagnosis insert returned no integer id: {pk!r}")
            return pk


def _audit_row(
    action: str, allowed: bool, user_id: str | None, team_id: str | None, channel_id: str | None, detail: str | None
) -> dict[str, Any]:
    return {
        "at": iso(utcnow()),
        "user_id": user_id,
        "team_id": team_id,
        "channel_id": channel_id,
        "action": action[:200],
        "allowed": int(allowed),
        "detail": (detail or "")[:2000] or None,
    }
