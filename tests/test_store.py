"""The store: migrations, owner-only file, WAL, safe from many threads at once."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading

import pytest

from bot.store import MIGRATIONS, Store, StoreUnavailable, iso


def test_a_new_database_is_migrated_to_the_latest_version(tmp_path):
    store = Store(str(tmp_path / "s.db"))
    assert store.version == len(MIGRATIONS)
    assert {
        "events",
        "counters",
        "quarantine",
        "diagnoses",
        "alert_state",
        "incidents",
        "notifications",
        "audit",
        "kv",
    } <= set(store.db.table_names())


def test_reopening_a_database_applies_nothing_twice(tmp_path):
    path = str(tmp_path / "s.db")
    Store(path).kv_set("k", 1)
    again = Store(path)
    assert again.version == len(MIGRATIONS)
    assert again.kv_get("k") == 1


def test_the_database_file_is_readable_by_its_owner_only(tmp_path):
    path = str(tmp_path / "s.db")
    Store(path).kv_set("k", "v")
    for p in (path, path + "-wal"):
        if os.path.exists(p):
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o600


def test_wal_is_on(tmp_path):
    store = Store(str(tmp_path / "s.db"))
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_writers_on_many_threads_lose_nothing(tmp_path):
    store = Store(str(tmp_path / "s.db"))
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(50):
                store.audit(f"action {n}-{i}", True, user_id=f"U{n}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.db["audit"].count == 400


def test_a_failed_transaction_leaves_nothing_behind(tmp_path):
    store = Store(str(tmp_path / "s.db"))
    try:
        with store.transaction() as db:
            db["kv"].insert({"key": "half", "value": "1", "updated_at": "x"})
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert store.kv_get("half") is None


def test_timestamps_have_one_sortable_format():
    from datetime import UTC, datetime

    assert iso(datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)) == "2026-01-02T03:04:05.678Z"


def test_diagnoses_record_who_asked_and_the_verdict(tmp_path):
    store = Store(str(tmp_path / "s.db"))
    report = {
        "target": "a@example.com",
        "verdict": {"check": "recipient.suppressed", "severity": "critical", "summary": "On the suppression list"},
        "elapsed_ms": 12,
    }
    store.record_diagnosis(report, via="slack", command="why a@example.com", user_id="U1", channel_id="C1")
    row = store.query("SELECT via, user_id, channel_id, target, verdict_check, verdict_severity FROM diagnoses")[0]
    assert row == {
        "via": "slack",
        "user_id": "U1",
        "channel_id": "C1",
        "target": "a@example.com",
        "verdict_check": "recipient.suppressed",
        "verdict_severity": "critical",
    }


def test_a_full_database_raises_that_it_is_full_and_the_next_transaction_still_works(store):
    # max_page_count fills this connection's database as a full disk would: SQLite rolls the transaction back
    # itself, and its error (not a failed ROLLBACK's "no transaction is active") is what the caller sees.
    conn = store.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
        store.kv_set("big", "x" * 100_000)
    assert not conn.in_transaction
    store.kv_set("small", 1)
    assert store.kv_get("small") == 1
    assert store.kv_get("big") is None


def test_a_database_file_deleted_while_running_stops_writes_with_a_clear_error(store):
    store.kv_set("before", 1)
    for suffix in ("", "-wal", "-shm"):
        os.remove(store.path + suffix)
    with pytest.raises(StoreUnavailable, match="deleted or replaced while sesbot ran: restart sesbot"):
        store.kv_set("after", 2)  # the open connection would commit it to the deleted file
    errors: list[BaseException] = []

    def another_thread() -> None:
        try:
            store.kv_get("before")  # a new connection would create an empty file and find no table kv
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=another_thread)
    t.start()
    t.join()
    assert [type(e) for e in errors] == [StoreUnavailable]
    assert not os.path.exists(store.path)


def test_a_database_file_replaced_while_running_stops_writes_with_a_clear_error(tmp_path, store):
    other = Store(str(tmp_path / "other.db"))
    other.kv_set("k", "other")
    os.replace(other.path, store.path)
    with pytest.raises(StoreUnavailable, match="SESBOT_DB"):
        store.kv_set("k", "mine")
