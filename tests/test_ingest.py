"""bot.ingest: batches into SQLite, idempotent counters, quarantine, streamed files, retention."""

from __future__ import annotations

import gzip
import io
import json
import os
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import bot.commands.ingest  # noqa: F401  (registers the command)
from bot.commands import CommandContext, execute, parse_argv
from bot.deps import Deps
from bot.ingest import (
    IngestResult,
    ingest_documents,
    ingest_lines_parallel,
    ingest_paths,
    iter_documents,
    parser_pool,
    prune,
    quarantined,
)
from bot.settings import Settings
from bot.store import JOURNAL_SIZE_LIMIT, Store, iso
from bot.target import UsageError

DATA = Path(__file__).parent / "data" / "ses-notifications"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def corpus() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))]


def send_event(i: int, hour: str = "2024-06-01T10", domain: str = "example.com") -> dict:
    return {
        "eventType": "Send",
        "mail": {
            "timestamp": f"{hour}:00:00.000Z",
            "messageId": f"msg-{i}",
            "destination": [f"user{i}@{domain}"],
            "tags": {"ses:configuration-set": ["news"]},
        },
        "send": {},
    }


def bounce_event(i: int, ts: str = "2024-06-01T10:00:00.000Z") -> dict:
    return {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": f"gone{i}@example.org", "diagnosticCode": "550 5.1.1 no such user"}],
            "timestamp": ts,
            "feedbackId": f"fb-{i}",
        },
        "mail": {"timestamp": ts, "messageId": f"bmsg-{i}", "destination": [f"gone{i}@example.org"]},
    }


def delivery_event(n: int, to: str, ts: str) -> dict:
    return {
        "eventType": "Delivery",
        "mail": {"timestamp": ts, "messageId": f"dmsg-{n}", "destination": [to]},
        "delivery": {"timestamp": ts, "recipients": [to], "smtpResponse": "250 2.0.0 OK"},
    }


def table(store: Store, sql: str) -> list[dict]:
    return store.query(sql)


def test_the_whole_corpus_ingests_and_a_second_pass_changes_nothing(store):
    first = ingest_documents(store, corpus(), "test", now=NOW)
    # 32 files; Firehose and SNS examples are the same events, so the second copy of each is a duplicate.
    assert first.as_dict() == {"ingested": 22, "duplicates": 10, "skipped": {}, "quarantined": 0}
    events = table(store, "SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY type")
    assert events == [
        {"type": "Bounce", "n": 7},
        {"type": "Complaint", "n": 4},
        {"type": "DeliveryDelay", "n": 1},
        {"type": "Reject", "n": 1},
        {"type": "RenderingFailure", "n": 1},
    ]
    counters = table(
        store, "SELECT type, domain, config_set, sum(count) AS n FROM counters GROUP BY 1, 2, 3 ORDER BY 1, 2"
    )
    assert counters == [
        {"type": "Click", "domain": "example.com", "config_set": "ConfigSet", "n": 1},
        {"type": "Delivery", "domain": "example.com", "config_set": "", "n": 1},
        {"type": "Delivery", "domain": "example.com", "config_set": "ConfigSet", "n": 1},
        {"type": "Delivery", "domain": "simulator.amazonses.com", "config_set": "", "n": 2},
        {"type": "Open", "domain": "example.com", "config_set": "ConfigSet", "n": 1},
        {"type": "Send", "domain": "example.com", "config_set": "ConfigSet", "n": 1},
        {"type": "Subscription", "domain": "example.com", "config_set": "ConfigSet", "n": 1},
    ]
    again = ingest_documents(store, corpus(), "test", now=NOW)
    assert again.as_dict() == {"ingested": 0, "duplicates": 32, "skipped": {}, "quarantined": 0}
    assert table(store, "SELECT count(*) AS n FROM events") == [{"n": 14}]
    assert table(store, "SELECT sum(count) AS n FROM counters") == [{"n": 8}]


def test_counters_add_up_per_hour_domain_and_configuration_set(store):
    docs = [send_event(i) for i in range(5)] + [send_event(i, hour="2024-06-01T11") for i in range(5, 8)]
    docs += [send_event(i, domain="Example.NET") for i in range(8, 10)]
    result = ingest_documents(store, docs + docs[:3], "test", now=NOW)
    assert (result.ingested, result.duplicates) == (10, 3)
    assert table(store, "SELECT hour, type, domain, config_set, count FROM counters ORDER BY hour, domain") == [
        {"hour": "2024-06-01T10", "type": "Send", "domain": "example.com", "config_set": "news", "count": 5},
        {"hour": "2024-06-01T10", "type": "Send", "domain": "example.net", "config_set": "news", "count": 2},
        {"hour": "2024-06-01T11", "type": "Send", "domain": "example.com", "config_set": "news", "count": 3},
    ]


def test_poison_messages_are_quarantined_and_the_valid_ones_in_the_batch_are_kept(store):
    docs = [json.dumps(bounce_event(1)), b"{not json at all", json.dumps(send_event(1)), b'{"what": 1}']
    result = ingest_documents(store, docs, "sqs", now=NOW, batch_records=None)
    assert result.as_dict() == {"ingested": 2, "duplicates": 0, "skipped": {}, "quarantined": 2}
    got = [(q["origin"], q["reason"].split(":")[0], q["raw"]) for q in quarantined(store)]
    assert sorted(got) == [
        ("sqs", "not an SNS envelope or SES notification (keys", '{"what": 1}'),
        ("sqs", "not valid JSON", "{not json at all"),
    ]


def test_a_redelivered_poison_message_is_quarantined_once(store):
    ingest_documents(store, [b"{broken"], "sqs", now=NOW)
    again = ingest_documents(store, [b"{broken"], "sqs", now=NOW)
    assert again.quarantined == 1  # reported each time it is seen...
    assert table(store, "SELECT count(*) AS n FROM quarantine") == [{"n": 1}]  # ...kept once


def write_lines(path: Path, docs: list) -> Path:
    path.write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    return path


def test_a_file_of_json_lines_an_array_and_pretty_documents_all_ingest(store, tmp_path):
    docs = corpus()
    lines = write_lines(tmp_path / "export.jsonl", docs)
    array = tmp_path / "array.json"
    array.write_text(json.dumps(docs, indent=2))
    pretty = tmp_path / "pretty.json"
    pretty.write_text("\n".join(json.dumps(d, indent=2) for d in docs))
    for path in (lines, array, pretty):
        s = Store(str(tmp_path / f"{path.name}.db"))
        assert ingest_paths(s, [str(path)], now=NOW).as_dict() == {
            "ingested": 22,
            "duplicates": 10,
            "skipped": {},
            "quarantined": 0,
        }, path.name
        s.close()


def test_a_corpus_folder_copied_file_by_file_ingests(store, tmp_path):
    paths = [str(p) for p in sorted(DATA.glob("*.json"))]
    assert ingest_paths(store, paths, now=NOW).ingested == 22


def test_gzip_files_and_standard_input_are_read(store, tmp_path):
    gz = tmp_path / "export.jsonl.gz"
    with gzip.open(gz, "wt") as f:
        f.write(json.dumps(bounce_event(1)) + "\n")
    stdin = io.BytesIO((json.dumps(bounce_event(2)) + "\n").encode())
    result = ingest_paths(store, [str(gz), "-"], stdin=stdin, now=NOW)
    assert result.as_dict() == {"ingested": 2, "duplicates": 0, "skipped": {}, "quarantined": 0}


def test_gzip_is_known_by_its_magic_bytes_not_its_name(store, tmp_path):
    unnamed = tmp_path / "export-2024-06-01"  # Firehose's object names carry no suffix
    unnamed.write_bytes(gzip.compress((json.dumps(bounce_event(1)) + "\n").encode()))
    stdin = io.BytesIO(gzip.compress((json.dumps(bounce_event(2)) + "\n").encode()))  # zcat forgotten
    result = ingest_paths(store, [str(unnamed), "-"], stdin=stdin, now=NOW)
    assert result.as_dict() == {"ingested": 2, "duplicates": 0, "skipped": {}, "quarantined": 0}


def test_a_broken_line_in_json_lines_is_quarantined_and_the_rest_ingested(store, tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(bounce_event(1)) + "\n{cut off here\n\n" + json.dumps(bounce_event(2)) + "\n")
    result = ingest_paths(store, [str(path)], now=NOW)
    assert result.as_dict() == {"ingested": 2, "duplicates": 0, "skipped": {}, "quarantined": 1}
    assert [q["origin"] for q in quarantined(store)] == [f"file:{path}"]


def test_a_broken_record_in_a_one_line_array_loses_only_itself(store, tmp_path):
    # A compact array, and Firehose's records written one after another: no line to resynchronise on.
    good = [json.dumps(bounce_event(i)) for i in range(1, 6)]
    compact = tmp_path / "compact.json"
    compact.write_text("[" + ",".join(good[:2] + ['{"eventType": "Bounce", "bounce": {cut'] + good[2:]) + "]")
    firehose = tmp_path / "firehose"
    firehose.write_text("".join(good[:2] + ['{"eventType": "Bounce", "mail": [1,}'] + good[2:]).replace("gone", "fh"))
    assert ingest_paths(store, [str(compact)], now=NOW).as_dict()["ingested"] == 5
    result = ingest_paths(store, [str(firehose)], now=NOW).as_dict()
    assert (result["ingested"], result["quarantined"]) == (5, 1)


def test_an_unpaired_surrogate_in_an_array_quarantines_that_document_and_not_the_file(store, tmp_path):
    bad = bounce_event(2)
    bad["mail"]["source"] = "x"
    text = json.dumps([bounce_event(1), bad, bounce_event(3)]).replace('"source": "x"', '"source": "\\ud800"')
    path = tmp_path / "array.json"
    path.write_text(text)
    result = ingest_paths(store, [str(path)], now=NOW)
    assert result.as_dict() == {"ingested": 2, "duplicates": 0, "skipped": {}, "quarantined": 1}
    assert result.reasons == [f"file:{path}: a string holds an unpaired UTF-16 surrogate (\\ud800-\\udfff)"]


def latin1_export(path: Path, latin1_at: int) -> tuple[Path, int]:
    """Three bounces as JSON lines, the one on line `latin1_at` written in Latin-1; and where its ö is."""
    lines = [json.dumps(bounce_event(i), ensure_ascii=False).encode() for i in (1, 2, 3)]
    odd = bounce_event(latin1_at)
    odd["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = "550 5.1.1 Empfänger unbekannt in Göteborg"
    lines[latin1_at - 1] = json.dumps(odd, ensure_ascii=False).encode("latin-1")
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, lines[latin1_at - 1].index(b"\xe4")


@pytest.mark.parametrize("latin1_at", [1, 2, 3])
def test_a_line_that_is_not_utf8_is_quarantined_naming_its_line_and_byte_and_the_others_ingest(
    store, tmp_path, latin1_at
):
    path, offset = latin1_export(tmp_path / "latin1.jsonl", latin1_at)
    result = ingest_paths(store, [str(path)], now=NOW)
    assert result.as_dict() == {"ingested": 2, "duplicates": 0, "skipped": {}, "quarantined": 1}
    assert result.reasons == [f"file:{path}: line {latin1_at}: not UTF-8 (byte 0xE4 at offset {offset})"]
    stored = table(store, "SELECT recipient, diagnostic FROM events ORDER BY recipient")
    assert [e["recipient"] for e in stored] == [f"gone{i}@example.org" for i in (1, 2, 3) if i != latin1_at]
    assert "\ufffd" not in json.dumps(stored)


@pytest.mark.parametrize("indent", [None, 2], ids=["one-line array", "pretty-printed array"])
def test_a_document_that_is_not_utf8_in_an_array_is_quarantined_naming_its_line_and_byte(store, tmp_path, indent):
    odd = bounce_event(2)
    odd["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = "550 5.1.1 Empfänger unbekannt"
    data = json.dumps([bounce_event(1), odd, bounce_event(3)], indent=indent, ensure_ascii=False).encode("latin-1")
    path = tmp_path / "latin1.json"
    path.write_bytes(b"\n" + data)  # a blank first line: the lines are still counted from the file's first
    at = data.index(b"\xe4")
    line, offset = data[:at].count(b"\n") + 2, at - (data.rfind(b"\n", 0, at) + 1)
    result = ingest_paths(store, [str(path)], now=NOW)
    assert (result.ingested, result.quarantined) == (2, 1)
    assert result.reasons == [f"file:{path}: line {line}: not UTF-8 (byte 0xE4 at offset {offset})"]
    assert "\ufffd" not in json.dumps(table(store, "SELECT diagnostic FROM events"))


def test_parser_processes_name_the_line_that_is_not_utf8_as_one_stream_does(store, tmp_path):
    path, offset = latin1_export(tmp_path / "latin1.jsonl", 3)
    with parser_pool(2) as pool:
        result = ingest_lines_parallel(store, str(path), "file", workers=2, now=NOW, range_bytes=200, pool=pool)
    assert (result.ingested, result.reasons) == (2, [f"file: line 3: not UTF-8 (byte 0xE4 at offset {offset})"])


def test_a_timestamp_with_no_utc_time_is_no_timestamp_not_a_stuck_batch(store):
    delay = {
        "eventType": "DeliveryDelay",
        "mail": {"timestamp": "2024-06-01T10:00:00.000Z", "messageId": "dl-1", "destination": ["a@example.org"]},
        "deliveryDelay": {
            "timestamp": "2024-06-01T10:05:00.000Z",
            "delayType": "MailboxFull",
            "expirationTime": "0001-01-01T00:00:00+01:00",
            "delayedRecipients": [{"emailAddress": "a@example.org", "diagnosticCode": "452 4.2.2 full"}],
        },
    }
    late = bounce_event(9, ts="9999-12-31T23:59:59-01:00")
    result = ingest_documents(store, [json.dumps(bounce_event(1)), json.dumps(delay), json.dumps(late)], "sqs", now=NOW)
    assert result.ingested + result.quarantined == 3 and result.ingested >= 2


def test_a_byte_order_mark_at_the_start_of_a_file_is_ignored(store, tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([bounce_event(1)]).encode())
    assert ingest_paths(store, [str(path)], now=NOW).as_dict()["ingested"] == 1


def test_a_truncated_array_keeps_the_complete_elements(tmp_path):
    text = json.dumps([bounce_event(1), bounce_event(2)], indent=1)
    stream = io.BytesIO(text[: len(text) - 40].encode())
    items = list(iter_documents(stream))
    assert [type(i).__name__ for i in items] == ["dict", "Unreadable"]
    assert items[1].reason.startswith("not valid JSON")


def test_an_array_split_across_read_chunks_is_decoded_whole(tmp_path):
    # Elements bigger than nothing in particular, many of them: the 1 MB chunks cut values in the middle.
    docs = [bounce_event(i) for i in range(3000)]
    for d in docs:
        d["mail"]["padding"] = "x" * 700
    items = list(iter_documents(io.BytesIO(json.dumps(docs).encode())))
    assert [d["bounce"]["feedbackId"] for d in items] == [f"fb-{i}" for i in range(3000)]


def peak_memory(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_as_the_input_grows(tmp_path):
    # Small read chunks (64 KB) so that both inputs are many chunks long, as real exports are.
    inputs = {
        "lines-small": write_lines(tmp_path / "small.jsonl", [send_event(i) for i in range(1000)]),
        "lines-big": write_lines(tmp_path / "big.jsonl", [send_event(i) for i in range(8000)]),
        "array-small": tmp_path / "small.json",
        "array-big": tmp_path / "big.json",
    }
    inputs["array-small"].write_text(json.dumps([bounce_event(i) for i in range(1000)]))
    inputs["array-big"].write_text(json.dumps([bounce_event(i) for i in range(8000)]))
    peaks = {}
    for name, path in inputs.items():
        s = Store(str(tmp_path / f"{name}.db"))

        def run(s=s, path=path):
            with open(path, "rb") as f:
                ingest_documents(s, iter_documents(f, chunk_size=65536), "test", now=NOW, batch_records=500)

        peaks[name] = peak_memory(run)
        s.close()
    # Eight times the input, about the same peak (one batch and one chunk at a time), not eight times.
    assert peaks["lines-big"] < 1.5 * peaks["lines-small"], peaks
    assert peaks["array-big"] < 1.5 * peaks["array-small"], peaks


def test_prune_deletes_what_is_older_than_the_retention_counters_included(store):
    old, new = NOW - timedelta(days=100), NOW - timedelta(days=1)
    docs = [bounce_event(1, iso(old)), bounce_event(2, iso(new))]
    docs += [send_event(1, hour=iso(old)[:13]), send_event(2, hour=iso(new)[:13])]
    ingest_documents(store, docs, "test", now=NOW)
    with store.transaction() as db:
        db.conn.execute("UPDATE seen SET at = ?", [iso(NOW)])
        db["quarantine"].insert({"received_at": iso(old), "origin": "t", "reason": "r", "raw": "x", "digest": "1"})
        db["quarantine"].insert({"received_at": iso(new), "origin": "t", "reason": "r", "raw": "y", "digest": "2"})
        for at in (old, new):
            db["diagnoses"].insert({"at": iso(at), "via": "cli", "command": "why"})
            db["audit"].insert({"at": iso(at), "action": "why", "allowed": 1})
    deleted = prune(store, 90, now=NOW)
    assert deleted == {
        "events": 1,
        "seen": 1,
        "counters": 1,
        "quarantine": 1,
        "diagnoses": 1,
        "audit": 1,
        "last_delivery": 0,
    }
    assert table(store, "SELECT recipient FROM events") == [{"recipient": "gone2@example.org"}]
    assert table(store, "SELECT hour FROM counters") == [{"hour": iso(new)[:13]}]
    assert set(prune(store, 90, now=NOW).values()) == {0}


def test_an_event_older_than_the_retention_is_skipped_at_ingest_not_stored_or_counted(store):
    old, new = NOW - timedelta(days=8), NOW - timedelta(days=1)
    docs = [bounce_event(1, iso(old)), send_event(1, hour=iso(old)[:13]), send_event(2, hour=iso(new)[:13])]
    result = ingest_documents(store, docs, "test", now=NOW, retention_days=7)
    assert result.as_dict() == {
        "ingested": 1,
        "duplicates": 0,
        "skipped": {"older than retention": 2},
        "quarantined": 0,
    }
    assert table(store, "SELECT count(*) AS n FROM events") == [{"n": 0}]
    assert table(store, "SELECT hour, count FROM counters") == [{"hour": iso(new)[:13], "count": 1}]


def test_a_pruned_week_ingested_again_is_not_counted_twice(store):
    week = NOW - timedelta(days=7, hours=2)
    docs = [send_event(i, hour=iso(week)[:13]) for i in range(100)]
    ingest_documents(store, docs, "test", now=NOW)
    prune(store, 7, now=NOW)
    again = ingest_documents(store, docs, "test", now=NOW, retention_days=7)
    assert (again.ingested, again.skipped) == (0, {"older than retention": 100})
    assert table(store, "SELECT count(*) AS n FROM counters") == [{"n": 0}]


def test_each_recipients_latest_delivery_only_moves_forward(store):
    first = [
        delivery_event(1, "a@example.com", "2024-06-01T09:00:00.000Z"),
        delivery_event(2, "a@example.com", "2024-06-01T11:00:00.000Z"),  # the same batch: the later one wins
        delivery_event(3, "a@example.com", "2024-06-01T10:00:00.000Z"),
        delivery_event(4, "B@Example.com", "2024-06-01T10:30:00.000Z"),
        send_event(5),  # sent, never delivered: no row
    ]
    assert ingest_documents(store, first, "test", now=NOW).as_dict()["ingested"] == 5
    # A later batch: an older delivery replayed from a file changes nothing, a newer one moves b forward.
    later = [
        delivery_event(6, "a@example.com", "2024-05-30T08:00:00.000Z"),
        delivery_event(7, "b@example.com", "2024-06-01T11:45:00.000Z"),
    ]
    ingest_documents(store, later + first[:2], "test", now=NOW, batch_records=None)
    assert table(store, "SELECT recipient, at FROM last_delivery ORDER BY recipient") == [
        {"recipient": "a@example.com", "at": "2024-06-01T11:00:00.000Z"},
        {"recipient": "b@example.com", "at": "2024-06-01T11:45:00.000Z"},
    ]


def test_prune_deletes_latest_deliveries_older_than_the_retention_in_chunks(store):
    old, new = iso(NOW - timedelta(days=100)), iso(NOW - timedelta(days=1))
    # More old rows than one prune chunk (20,000), interleaved with recent ones in key order.
    rows = [(f"user{i:05d}@example.com", old if i % 2 else new) for i in range(45_001)]
    with store.transaction() as db:
        db.conn.executemany("INSERT INTO last_delivery (recipient, at) VALUES (?, ?)", rows)
    ingest_documents(store, [delivery_event(1, "user00001@example.com", new)], "test", now=NOW)

    assert prune(store, 90, now=NOW)["last_delivery"] == 22_499
    assert table(store, "SELECT count(*) AS n, min(at) AS oldest FROM last_delivery") == [{"n": 22_502, "oldest": new}]
    assert prune(store, 90, now=NOW)["last_delivery"] == 0


def test_a_prune_leaves_the_wal_empty_and_every_connection_caps_what_the_wal_keeps(store):
    old = iso(NOW - timedelta(days=100))
    with store.transaction() as db:
        rows = [(f"user{i:05d}@example.com", old) for i in range(5_000)]
        db.conn.executemany("INSERT INTO last_delivery (recipient, at) VALUES (?, ?)", rows)
    assert os.path.getsize(store.path + "-wal") > 0

    assert prune(store, 90, now=NOW)["last_delivery"] == 5_000
    assert os.path.getsize(store.path + "-wal") == 0
    for conn in (store.conn, Store(store.path).conn):
        assert conn.execute("PRAGMA journal_size_limit").fetchone()[0] == JOURNAL_SIZE_LIMIT


def test_a_prune_bigger_than_one_chunk_commits_one_transaction_per_chunk_at_least(store):
    old, new = iso(NOW - timedelta(days=100)), iso(NOW - timedelta(days=1))
    ingest_documents(store, [bounce_event(i, old) for i in range(450)] + [bounce_event(450, new)], "test", now=NOW)
    with store.transaction() as db:
        rows = [(f"user{i:05d}@example.com", old if i % 2 else new) for i in range(700)]
        db.conn.executemany("INSERT INTO last_delivery (recipient, at) VALUES (?, ?)", rows)
    commits: list[str] = []
    store.conn.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)

    deleted = prune(store, 90, now=NOW, chunk_rows=100)
    store.conn.set_trace_callback(None)
    assert (deleted["events"], deleted["last_delivery"]) == (450, 350)
    # 450 events and 350 deliveries, 100 rows at most a transaction: 5 + 4 of them, and more for the rest.
    assert len(commits) >= 9
    assert table(store, "SELECT recipient FROM events") == [{"recipient": "gone450@example.org"}]
    assert table(store, "SELECT count(*) AS n, min(at) AS oldest FROM last_delivery") == [{"n": 350, "oldest": new}]


def cli_deps(tmp_path, store, **extras) -> Deps:
    settings = Settings.from_env({"AWS_REGION": "us-east-1", "SESBOT_DB": str(tmp_path / "sesbot.db")})
    return Deps(settings=settings, store=store, aws=None, clock=lambda: NOW, extras=extras)  # type: ignore[arg-type]


def test_the_ingest_command_prints_the_counts(store, tmp_path):
    path = write_lines(tmp_path / "e.jsonl", [bounce_event(1), bounce_event(1), {"nope": 1}])
    answer = execute(CommandContext(deps=cli_deps(tmp_path, store)), parse_argv(["ingest", str(path), "--json"]))
    assert answer.data == {
        "ingested": 1,
        "duplicates": 1,
        "skipped": {},
        "quarantined": 1,
        "reasons": [f"file:{path}: not an SNS envelope or SES notification (keys: nope)"],
    }
    assert answer.sections[0][1][:3] == [
        "ingested: 1",
        "duplicates (already stored): 1",
        "quarantined (malformed, kept with the reason): 1",
    ]


def test_the_ingest_command_says_where_each_quarantined_document_came_from_and_why(store, tmp_path):
    path = write_lines(tmp_path / "e.jsonl", [bounce_event(1), 7, {"nope": 1}])
    utf16 = tmp_path / "utf16.json"
    utf16.write_bytes(b'\xff\xfe{"eventType":"Bounce"}')
    answer = execute(CommandContext(deps=cli_deps(tmp_path, store)), parse_argv(["ingest", str(path), str(utf16)]))
    assert answer.sections[1] == (
        "Quarantined (the bodies are kept in the quarantine table)",
        [
            f"file:{path}: expected a JSON object, got int",
            f"file:{path}: not an SNS envelope or SES notification (keys: nope)",
            f"file:{utf16}: not valid JSON: Expecting value (line 1); the text is not UTF-8 (the bytes that are"
            " not are kept as U+FFFD)",
        ],
    )


def test_the_ingest_command_reads_standard_input_for_a_dash(store, tmp_path):
    stdin = io.BytesIO(json.dumps([bounce_event(7)]).encode())
    deps = cli_deps(tmp_path, store, stdin=stdin)
    answer = execute(CommandContext(deps=deps), parse_argv(["ingest", "-"]))
    assert answer.data == {"ingested": 1, "duplicates": 0, "skipped": {}, "quarantined": 0, "reasons": []}


def test_the_ingest_command_refuses_a_missing_file(store, tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        execute(CommandContext(deps=cli_deps(tmp_path, store)), parse_argv(["ingest", str(tmp_path / "nope")]))


def test_the_ingest_command_says_a_directory_is_one_and_what_to_give_instead(store, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(UsageError) as err:
        execute(CommandContext(deps=cli_deps(tmp_path, store)), parse_argv(["ingest", str(folder)]))
    assert str(err.value) == f"{folder} is a directory: give the files in it, like {folder}/*.jsonl"


def test_the_ingest_command_as_json_says_where_each_quarantined_document_came_from_and_why(store, tmp_path):
    from tests.test_cli import sesbot

    path = write_lines(tmp_path / "e.jsonl", [bounce_event(1), 7])
    out = sesbot("ingest", str(path), "--json", env={"SESBOT_DB": str(tmp_path / "s.db")})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["reasons"] == [f"file:{path}: expected a JSON object, got int"]


def test_results_merge_their_skip_reasons():
    a = IngestResult(1, 2, {"x": 1}, 0)
    b = IngestResult(3, 0, {"x": 2, "y": 1}, 1)
    assert a.merge(b).as_dict() == {
        "ingested": 4,
        "duplicates": 2,
        "skipped": {"x": 3, "y": 1},
        "quarantined": 1,
    }


def test_a_copy_of_the_corpus_folder_stands_alone():
    # tests/data is a copy of the shared corpus, so a checkout of the project runs without it.
    assert (len(list(DATA.glob("*.json"))), (DATA / "SOURCES.tsv").exists()) == (31, True)


def test_a_big_file_parsed_in_ranges_by_parser_processes_stores_exactly_what_one_process_does(tmp_path):
    """Byte ranges cut lines anywhere: every line must be read once, by the range it starts in."""
    import bot.ingest as ingest_module

    samples = sorted((Path(__file__).parent / "data" / "ses-notifications").glob("*.json"))
    lines = []
    for i in range(300):
        doc = json.loads(samples[i % len(samples)].read_text())
        lines.append(json.dumps(doc) + "\n")
        if i % 50 == 7:
            lines.append("{not json\n")  # quarantined, in both ways
        if i % 60 == 3:
            lines.append("\n")
    path = tmp_path / "export.jsonl"
    path.write_text("".join(lines))

    serial, parallel = Store(str(tmp_path / "s.db")), Store(str(tmp_path / "p.db"))
    with path.open("rb") as f:
        one = ingest_module.ingest_documents(serial, ingest_module.iter_documents(f), "file", now=NOW)
    with ingest_module.parser_pool(2) as pool:
        many = ingest_module.ingest_lines_parallel(
            parallel, str(path), "file", workers=2, now=NOW, range_bytes=997, pool=pool
        )

    assert many.as_dict() == one.as_dict()
    for sql in (
        "SELECT * FROM events ORDER BY id",
        "SELECT * FROM counters ORDER BY 1, 2, 3, 4",
        "SELECT * FROM seen ORDER BY id",
        "SELECT * FROM last_delivery ORDER BY recipient",
        "SELECT reason, raw FROM quarantine ORDER BY raw",
    ):
        assert table(parallel, sql) == table(serial, sql), sql


def test_only_big_json_lines_files_get_parser_processes(tmp_path):
    from bot.ingest import PARALLEL_MIN_BYTES, parser_processes

    small = tmp_path / "small.jsonl"
    small.write_text('{"eventType": "Send"}\n')
    big_lines = tmp_path / "big.jsonl"
    big_array = tmp_path / "big.json"
    with big_lines.open("w") as f:
        f.write('{"eventType": "Send"}\n')
        f.truncate(PARALLEL_MIN_BYTES + 1)
    with big_array.open("w") as f:
        f.write("[\n")
        f.truncate(PARALLEL_MIN_BYTES + 1)
    assert parser_processes(str(small)) == 1
    assert parser_processes(str(big_array)) == 1  # an array is one stream
    assert parser_processes(str(tmp_path / "big.jsonl.gz")) == 1  # a compressed stream cannot be split
    assert parser_processes(str(big_lines)) == (1 if (os.cpu_count() or 1) < 2 else min(4, os.cpu_count()))


def test_the_tenant_a_problem_event_was_sent_as_is_stored_from_its_tag(store):
    docs = []
    for kind in ("bounce", "complaint", "delayed-delivery", "reject"):
        doc = json.loads((DATA / f"awsdocs-evt-sns-event-publishing-retrieving-sns-{kind}.json").read_text())
        doc["mail"]["tags"]["ses:tenant-name"] = ["shop-eu"]
        docs.append(doc)
    docs += [bounce_event(1), send_event(2)]  # no tenant tag; a counted event has no tenant to store
    result = ingest_documents(store, docs, "test", now=NOW)
    assert result.as_dict()["ingested"] == 6
    assert table(store, "SELECT type, recipient, tenant FROM events ORDER BY type, recipient") == [
        {"type": "Bounce", "recipient": "gone1@example.org", "tenant": None},
        {"type": "Bounce", "recipient": "recipient@example.com", "tenant": "shop-eu"},
        {"type": "Complaint", "recipient": "recipient@example.com", "tenant": "shop-eu"},
        {"type": "DeliveryDelay", "recipient": "recipient@example.com", "tenant": "shop-eu"},
        {"type": "Reject", "recipient": "sender@example.com", "tenant": "shop-eu"},
    ]


def test_several_big_files_share_one_set_of_parser_processes_and_store_what_one_process_does(tmp_path):
    """`ingest_paths` starts the parser processes once for all its files (each start imports the engine);
    what a later file stores must not depend on which process parsed the earlier one."""
    import bot.ingest as ingest_module

    samples = sorted((Path(__file__).parent / "data" / "ses-notifications").glob("*.json"))
    paths = []
    for n, (first, count) in enumerate([(0, 120), (40, 150)]):
        path = tmp_path / f"export-{n}.jsonl"
        path.write_text("".join(json.dumps(json.loads(samples[i % len(samples)].read_text())) + "\n"
                                for i in range(first, first + count)))  # fmt: skip
        paths.append(str(path))

    serial, parallel = Store(str(tmp_path / "s.db")), Store(str(tmp_path / "p.db"))
    one = ingest_module.IngestResult()
    for path in paths:
        with open(path, "rb") as f:
            one = one.merge(ingest_module.ingest_documents(serial, ingest_module.iter_documents(f), path, now=NOW))
    many = ingest_module.IngestResult()
    with ingest_module.parser_pool(2) as pool:
        for path in paths:
            many = many.merge(
                ingest_module.ingest_lines_parallel(
                    parallel, path, path, workers=2, now=NOW, range_bytes=1499, pool=pool
                )
            )

    assert many.as_dict() == one.as_dict()
    for sql in ("SELECT * FROM events ORDER BY id", "SELECT * FROM counters ORDER BY 1, 2, 3, 4"):
        assert table(parallel, sql) == table(serial, sql), sql


def test_one_ingest_call_over_big_small_and_compressed_files_stores_what_one_process_does(tmp_path):
    """`ingest_paths` as `sesbot ingest` runs it: two files big enough for parser processes (which share one
    set of them), a small one and a compressed one between them, in the order given."""
    from bot.ingest import PARALLEL_MIN_BYTES

    samples = [json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))]

    def write(path: Path, n: int, salt: str) -> Path:
        with path.open("w") as f:
            i = 0
            while f.tell() < n:
                doc = json.loads(json.dumps(samples[i % len(samples)]))
                mail = doc.get("mail") if isinstance(doc.get("mail"), dict) else None
                if mail is not None:
                    mail["messageId"] = f"{salt}-{i}"  # distinct events, so nothing is a duplicate by accident
                f.write(json.dumps(doc) + "\n")
                i += 1
        return path

    big_a = write(tmp_path / "a.jsonl", PARALLEL_MIN_BYTES + 1, "a")
    small = write(tmp_path / "b.jsonl", 20_000, "b")
    packed = tmp_path / "c.jsonl.gz"
    packed.write_bytes(gzip.compress(write(tmp_path / "c.jsonl", 20_000, "c").read_bytes()))
    big_b = write(tmp_path / "d.jsonl", PARALLEL_MIN_BYTES + 1, "d")
    paths = [str(p) for p in (big_a, small, packed, big_b)]

    serial, parallel = Store(str(tmp_path / "s.db")), Store(str(tmp_path / "p.db"))
    one = IngestResult()
    for path in paths:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as f:
            one.merge(ingest_documents(serial, iter_documents(f), f"file:{path}", now=NOW))
    many = ingest_paths(parallel, paths, now=NOW)

    assert many.as_dict() == one.as_dict()
    assert many.ingested > 20_000
    for sql in ("SELECT * FROM events ORDER BY id", "SELECT * FROM counters ORDER BY 1, 2, 3, 4"):
        assert table(parallel, sql) == table(serial, sql), sql
