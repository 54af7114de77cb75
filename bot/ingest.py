"""Writing SES notifications into the store: batches, idempotence, quarantine, file streaming, retention.

This module's one job is to write what `bot.events` parses. Every path (the SQS consumer, the HTTPS
endpoint, `sesbot ingest`) goes through `ingest_documents` (or `write_batch` for a batch already parsed):

* one transaction per batch, with the raw connection's `executemany` (sqlite-utils' per-row helpers are
  several times slower on this path);
* problem events: `INSERT OR IGNORE` on their natural id, so a re-delivery changes nothing;
* counted events (Send, Delivery, Open, Click, Subscription): their ids are looked up in `seen`; only new ones
  are recorded there and added to the hourly `counters`, so counters are idempotent too;
* deliveries also move each recipient's `last_delivery` time forward (never back, so replaying old events
  changes nothing); the batch is first collapsed to one row per recipient;
* Send events also feed the rolling `header_sample` (per day, configuration set and From address: how many
  were sent, how many carried their headers, how many had List-Unsubscribe, one-click, an https URI, and one
  example message id without one-click); only Sends whose `seen` id was new are added, so it is idempotent
  like the counters, and the batch is first collapsed to one upsert per row;
* a malformed document goes to `quarantine` with its reason and raw body (keyed by a digest of the body,
  so a redelivered poison message is kept once); the valid documents of the same batch are written.

Files (`ingest_paths`, `iter_documents`) are streamed: JSON lines are read line by line (the fast path:
Firehose/S3 exports, SQS dumps), a JSON array or a pretty-printed / concatenated document is decoded one
top-level value at a time, so memory stays flat however big the input. One single value larger than
`MAX_DOCUMENT` bytes is refused (quarantined) rather than buffered.

    >>> from bot.store import Store
    >>> store = Store(":memory:")
    >>> line = b'{"eventType":"Send","mail":{"messageId":"m","timestamp":"2024-05-01T10:00:00.000Z",' \\
    ...        b'"destination":["a@example.com"]},"send":{}}'
    >>> ingest_documents(store, [line, line], origin="doctest").as_dict()
    {'ingested': 1, 'duplicates': 1, 'skipped': {}, 'quarantined': 0}
"""

from __future__ import annotations

import codecs
import functools
import gzip
import hashlib
import json
import multiprocessing
import os
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, Protocol

import orjson

from bot.events import EVENT_COLUMNS, MAX_RAW, Extracted, PushedEvent, extract, raw_text
from bot.timefmt import iso, utcnow

if TYPE_CHECKING:  # the parser processes import this module, and need no database
    import sqlite3

    from bot.store import Store

BATCH_RECORDS = 20_000  # records per transaction for files: each commit rewrites the index pages it touched
MAX_DOCUMENT = 16 * 1024 * 1024  # one JSON value in an array / pretty-printed file
_CHUNK = 1 << 20
PARALLEL_MIN_BYTES = 32 << 20  # files this big are parsed by parser processes while this one writes
RANGE_BYTES = 8 << 20  # bytes of a file per parser task
_SEEN_CHUNK = 500  # rows per multi-row INSERT into seen: 1,000 variables, well under SQLite's limit

_COLUMN_LIST = ", ".join(EVENT_COLUMNS)
_PLACEHOLDERS = ", ".join("?" for _ in EVENT_COLUMNS)
_INSERT_EVENTS = f"INSERT OR IGNORE INTO events ({_COLUMN_LIST}) VALUES ({_PLACEHOLDERS})"
_UPSERT_COUNTER = (
    "INSERT INTO counters (hour, type, domain, config_set, count) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (hour, type, domain, config_set) DO UPDATE SET count = count + excluded.count"
)
# Only a newer time rewrites the row: an older or repeated delivery leaves the page untouched.
_UPSERT_LAST_DELIVERY = (
    "INSERT INTO last_delivery (recipient, at) VALUES (?, ?) "
    "ON CONFLICT (recipient) DO UPDATE SET at = excluded.at WHERE excluded.at > last_delivery.at"
)
# Counts add up; the first example message id without one-click unsubscribe stays.
_UPSERT_HEADER_SAMPLE = (
    "INSERT INTO header_sample (day, config_set, from_address, sent, headers_seen, list_unsubscribe, one_click, "
    "https, example_without) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (day, config_set, from_address) DO UPDATE SET sent = sent + excluded.sent, "
    "headers_seen = headers_seen + excluded.headers_seen, "
    "list_unsubscribe = list_unsubscribe + excluded.list_unsubscribe, "
    "one_click = one_click + excluded.one_click, https = https + excluded.https, "
    "example_without = coalesce(header_sample.example_without, excluded.example_without)"
)
_INSERT_QUARANTINE = (
    "INSERT OR IGNORE INTO quarantine (received_at, origin, reason, raw, digest) VALUES (?, ?, ?, ?, ?)"
)


MAX_REASONS = 20
OLDER_THAN_RETENTION = "older than retention"  # the skip reason of an event past SESBOT_RETENTION_DAYS
_EVENT_TS = EVENT_COLUMNS.index("timestamp")


@dataclass
class IngestResult:
    """What one ingest did: new records, re-deliveries ignored, documents skipped (by reason), quarantined."""

    ingested: int = 0
    duplicates: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    pushed: list[PushedEvent] = field(default_factory=list)  # SES status/Advisor events for the alert engine
    # Where each quarantined document came from and why, the first MAX_REASONS of them (for the person
    # running `ingest`; the quarantine table keeps them all, with their bodies).
    reasons: list[str] = field(default_factory=list)

    def merge(self, other: IngestResult) -> IngestResult:
        self.pushed.extend(other.pushed)
        self.ingested += other.ingested
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.reasons.extend(other.reasons[: max(0, MAX_REASONS - len(self.reasons))])
        for reason, n in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + n
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "ingested": self.ingested,
            "duplicates": self.duplicates,
            "skipped": dict(sorted(self.skipped.items())),
            "quarantined": self.quarantined,
        }


@dataclass(frozen=True)
class Unreadable:
    """A piece of an input file that is not JSON: quarantined with its reason, never silently dropped."""

    reason: str
    raw: str


def ingest_documents(
    store: Store,
    docs: Iterable[Any],
    origin: str,
    *,
    now: datetime | None = None,
    batch_records: int | None = BATCH_RECORDS,
    retention_days: int | None = None,
) -> IngestResult:
    """Parse and store documents (bytes, text, decoded objects or `Unreadable`), batch by batch.

    `origin` says where they came from (`sqs`, `https`, `file:<path>`, `stdin`) and is kept with quarantined
    bodies. With `batch_records=None` everything goes in one transaction (the SQS consumer wants exactly
    that: one transaction per received batch); otherwise a transaction is committed every `batch_records`
    records, so a long file neither holds the write lock nor memory for long. With `retention_days`, an event
    older than the retention is neither stored nor counted (skipped as "older than retention": the next prune
    would delete it, and a counter without its `seen` id would count it again).
    """
    received_at = iso(now or utcnow())
    oldest = _oldest(now, retention_days)
    result = IngestResult()
    batch = Extracted()
    # 64 documents at a time: the batch-size test is not free, and a batch may overshoot a little.
    for chunk in _chunks(docs, 64 if batch_records is not None else 1 << 30):
        _extract_all(chunk, batch, received_at)
        if batch_records is not None and len(batch.events) + len(batch.counts) >= batch_records:
            result.merge(write_batch(store, batch, origin, received_at, oldest))
            batch = Extracted()
    if len(batch) or batch.skipped or batch.quarantined or batch.pushed:
        result.merge(write_batch(store, batch, origin, received_at, oldest))
    return result


def _chunks(docs: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _extract_all(docs: list[Any], out: Extracted, received_at: str) -> None:
    """Parse documents into `out`: what ingest does with each one, in this process or a parser process."""
    for doc in docs:
        if doc.__class__ is bytes and len(doc) < 4 and not doc.strip():
            continue  # a blank line between JSON lines is not a document
        if doc.__class__ is Unreadable:
            out.quarantined.append((doc.reason, doc.raw))
        else:
            extract(doc, out, received_at)


def ingest_lines_parallel(
    store: Store,
    path: str,
    origin: str,
    *,
    workers: int,
    now: datetime | None = None,
    batch_records: int = BATCH_RECORDS,
    range_bytes: int = RANGE_BYTES,
    pool: ProcessPoolExecutor,
    retention_days: int | None = None,
) -> IngestResult:
    """`ingest_documents` for a big JSON-lines file: parser processes each read and parse a byte range of
    the file while this process writes the rows, in file order, a transaction every `batch_records`.

    Parsing is pure Python and writing is SQLite's, so on two or more cores they overlap; the documents
    never cross a pipe (each process reads its own range), only the rows do. At most two ranges per worker
    are in flight, so memory stays flat however big the file. `pool`: the parser processes
    (:func:`parser_pool`, `workers` of them), shared by the files of one call, since starting them costs
    an import of the engine each.
    """
    received_at = iso(now or utcnow())
    oldest = _oldest(now, retention_days)
    size = os.path.getsize(path)
    ranges = [(start, min(start + range_bytes, size)) for start in range(0, size, range_bytes)]
    result = IngestResult()
    batch = Extracted()
    in_flight: deque[Future] = deque()

    def take_one() -> None:
        nonlocal batch
        batch.merge(in_flight.popleft().result())
        if len(batch.events) + len(batch.counts) >= batch_records:
            result.merge(write_batch(store, batch, origin, received_at, oldest))
            batch = Extracted()

    for start, end in ranges:
        in_flight.append(pool.submit(_parse_range, path, start, end, received_at))
        if len(in_flight) >= 2 * workers:
            take_one()
    while in_flight:
        take_one()
    if len(batch) or batch.skipped or batch.quarantined or batch.pushed:
        result.merge(write_batch(store, batch, origin, received_at, oldest))
    return result


def parser_pool(workers: int) -> ProcessPoolExecutor:
    """Parser processes for :func:`ingest_lines_parallel`. Spawned, not forked: the bot's threads (Slack,
    scheduler, SQS) must not be copied mid-lock into a child."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def _parse_range(path: str, start: int, end: int, received_at: str) -> Extracted:
    """A parser process's task: the lines that start in [start, end) of a JSON-lines file, parsed."""
    out = Extracted()
    with open(path, "rb") as f:
        if start:
            f.seek(start - 1)
            f.readline()  # the line that began before `start` belongs to the range before
        pos = first = f.tell()
        lines: list[bytes | Unreadable] = []
        bad: list[tuple[int, str]] = []  # (index, why) of the lines that are not UTF-8
        while pos < end:
            line = f.readline()
            if not line:
                break
            pos += len(line)
            if not line.isascii() and (problem := _not_utf8(line)) is not None:
                bad.append((len(lines), problem))
            lines.append(line)
    if bad:  # rare: only then is the range's first line number worth counting
        number = _lines_before(path, first) + 1
        for i, problem in bad:
            lines[i] = Unreadable(f"line {number + i}: {problem}", raw_text(lines[i]))
    _extract_all(lines, out, received_at)
    return out


def _lines_before(path: str, pos: int) -> int:
    """How many lines of the file end before byte `pos`."""
    count = 0
    with open(path, "rb") as f:
        while pos > 0:
            chunk = f.read(min(pos, _CHUNK))
            if not chunk:
                break
            count += chunk.count(b"\n")
            pos -= len(chunk)
    return count


def _oldest(now: datetime | None, retention_days: int | None) -> str | None:
    """The retention's cutoff (as `prune` computes it), or None to keep everything."""
    return iso((now or utcnow()) - timedelta(days=retention_days)) if retention_days is not None else None


def _drop_older(batch: Extracted, oldest: str) -> int:
    """Take out of the batch what `prune` would delete at once (the same bounds); returns how many."""
    hour, day = oldest[:13], oldest[:10]
    before = len(batch.events) + len(batch.counts)
    batch.events = [e for e in batch.events if (e[_EVENT_TS] or "") >= oldest]
    batch.counts = [c for c in batch.counts if c[1] >= hour]
    batch.deliveries = [d for d in batch.deliveries if d[1] >= oldest]
    batch.headers = [h for h in batch.headers if h[1] >= day]
    return before - len(batch.events) - len(batch.counts)


def write_batch(
    store: Store, batch: Extracted, origin: str, received_at: str, oldest: str | None = None
) -> IngestResult:
    """Write one parsed batch in one transaction; returns what was new, duplicate, skipped, quarantined.
    `oldest`: events before it (the retention's cutoff) are skipped, not written."""
    if oldest is not None and (old := _drop_older(batch, oldest)):
        batch.skipped[OLDER_THAN_RETENTION] = batch.skipped.get(OLDER_THAN_RETENTION, 0) + old
    result = IngestResult(
        skipped=dict(batch.skipped),
        quarantined=len(batch.quarantined),
        pushed=list(batch.pushed),
        reasons=[f"{origin}: {reason}" for reason, _ in batch.quarantined[:MAX_REASONS]],
    )
    conn = store.conn
    with store.transaction():
        if batch.events:
            before = conn.total_changes
            conn.executemany(_INSERT_EVENTS, batch.events)
            new = conn.total_changes - before
            result.ingested += new
            result.duplicates += len(batch.events) - new
        if batch.counts:
            new_ids = _count(conn, batch.counts, received_at)
            new = len(new_ids)
            result.ingested += new
            result.duplicates += len(batch.counts) - new
            if batch.headers and new_ids:
                conn.executemany(_UPSERT_HEADER_SAMPLE, _header_sample_rows(batch.headers, new_ids))
        if batch.deliveries:
            conn.executemany(_UPSERT_LAST_DELIVERY, _latest_per_recipient(batch.deliveries))
        if batch.quarantined:
            conn.executemany(
                _INSERT_QUARANTINE,
                [(received_at, origin, reason, raw, _digest(raw)) for reason, raw in batch.quarantined],
            )
    return result


def _count(conn: Any, counts: list[tuple[str, str, str, str, str]], received_at: str) -> list[str]:
    """Record the counted events not seen before and add them to the hourly counters; returns their ids.

    `INSERT OR IGNORE ... RETURNING id` does the lookup and the insert in one pass: only the ids that were
    new come back (a re-delivery, or the same event twice in this batch, returns nothing).
    """
    new_ids: list[str] = []
    for i in range(0, len(counts), _SEEN_CHUNK):
        chunk = counts[i : i + _SEEN_CHUNK]
        params = [value for row in chunk for value in (row[0], received_at)]
        new_ids.extend(r[0] for r in conn.execute(_insert_seen_sql(len(chunk)), params))
    if not new_ids:
        return new_ids
    by_id = {row[0]: row for row in counts}
    groups: dict[tuple[str, str, str, str], int] = {}
    for key in new_ids:
        group = by_id[key][1:]
        groups[group] = groups.get(group, 0) + 1
    conn.executemany(_UPSERT_COUNTER, [(*group, n) for group, n in groups.items()])
    return new_ids


def _header_sample_rows(headers: list[tuple[Any, ...]], new_ids: list[str]) -> list[tuple[Any, ...]]:
    """The batch's Send header facts (`bot.events.HEADER_COLUMNS`) whose `seen` id was new, summed per
    (day, config set, From): one upsert per sample row, not per message. A message sampled twice in one
    batch (the same Send delivered twice) counts once: its id is taken out of `fresh` when used."""
    fresh = set(new_ids)
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for seen_id, day, config_set, sender, seen, lu, oc, https, message_id in headers:
        if seen_id not in fresh:
            continue
        fresh.discard(seen_id)
        g = groups.get((day, config_set, sender))
        if g is None:
            g = groups[(day, config_set, sender)] = [0, 0, 0, 0, 0, None]
        g[0] += 1
        g[1] += seen
        g[2] += lu
        g[3] += oc
        g[4] += https
        if seen and not oc and g[5] is None and message_id:
            g[5] = message_id  # known to lack one-click only when the headers were there to read
    return [(*key, *g) for key, g in sorted(groups.items())]


def _latest_per_recipient(deliveries: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One `(recipient, latest timestamp)` per recipient, in key order.

    Fewer upserts when a batch delivers to the same address more than once (a file spanning days), and key
    order walks the primary-key B-tree once, left to right, instead of jumping around it (about 10% less
    time per upsert on a table of a million recipients, measured).
    """
    latest: dict[str, str] = {}
    get = latest.get
    for recipient, at in deliveries:
        if at > get(recipient, ""):
            latest[recipient] = at
    return sorted(latest.items())


@functools.lru_cache(maxsize=8)
def _insert_seen_sql(rows: int) -> str:
    return f"INSERT OR IGNORE INTO seen (id, at) VALUES {', '.join('(?, ?)' for _ in range(rows))} RETURNING id"


def _digest(raw: str) -> str:
    return hashlib.blake2b(raw.encode("utf-8", "replace"), digest_size=16).hexdigest()


# -- files ---------------------------------------------------------------------------------------------------


def ingest_paths(
    store: Store,
    paths: Sequence[str],
    *,
    stdin: IO[bytes] | None = None,
    now: datetime | None = None,
    batch_records: int = BATCH_RECORDS,
    retention_days: int | None = None,
) -> IngestResult:
    """`sesbot ingest PATH... | -`: stream each file (`-` = standard input; gzip, by its magic bytes whatever the
    name, is decompressed); `retention_days` as for `ingest_documents`."""
    result = IngestResult()
    with ExitStack() as cleanup:
        pool: ProcessPoolExecutor | None = None  # started for the first big file, shared by the rest
        for path in paths:
            workers = 1 if path == "-" else parser_processes(path)
            if workers > 1:
                pool = pool or cleanup.enter_context(parser_pool(workers))
                result.merge(
                    ingest_lines_parallel(
                        store,
                        path,
                        f"file:{path}",
                        workers=workers,
                        now=now,
                        batch_records=batch_records,
                        pool=pool,
                        retention_days=retention_days,
                    )
                )
            else:
                result.merge(
                    _ingest_stream(
                        store, path, stdin=stdin, now=now, batch_records=batch_records, retention_days=retention_days
                    )
                )
    return result


def _ingest_stream(
    store: Store,
    path: str,
    *,
    stdin: IO[bytes] | None,
    now: datetime | None,
    batch_records: int,
    retention_days: int | None = None,
) -> IngestResult:
    """One file (or `-`, standard input) read as one stream, in this process."""
    if path == "-":
        stream: Any = stdin if stdin is not None else sys.stdin.buffer
        if _starts_gzip(stream):
            stream = gzip.GzipFile(fileobj=stream, mode="rb")
        return ingest_documents(
            store, iter_documents(stream), "stdin", now=now, batch_records=batch_records, retention_days=retention_days
        )
    with open(path, "rb") as file:
        stream = gzip.GzipFile(fileobj=file, mode="rb") if _starts_gzip(file) else file
        return ingest_documents(
            store,
            iter_documents(stream),
            f"file:{path}",
            now=now,
            batch_records=batch_records,
            retention_days=retention_days,
        )


_GZIP_MAGIC = b"\x1f\x8b"


def _starts_gzip(stream: Any) -> bool:
    """Whether `stream` starts with gzip's magic bytes (a `.gz` file, or one named otherwise), read without
    consuming them."""
    if hasattr(stream, "peek"):
        return bool(stream.peek(2)[:2] == _GZIP_MAGIC)
    if stream.seekable():
        at = stream.tell()
        head = stream.read(2)
        stream.seek(at)
        return bool(head == _GZIP_MAGIC)
    return False


def parser_processes(path: str) -> int:
    """How many parser processes a file is worth: one per core (at most four) for a big JSON-lines file;
    1 (parse here) below PARALLEL_MIN_BYTES, where starting processes costs more than it saves."""
    cores = os.cpu_count() or 1
    if cores < 2 or path.endswith(".gz"):  # a compressed stream cannot be read from the middle
        return 1
    try:
        if os.path.getsize(path) < PARALLEL_MIN_BYTES:
            return 1
        with open(path, "rb") as f:  # JSON lines only: other layouts are read as one stream
            first = f.readline(_CHUNK)
            if first[:2] == _GZIP_MAGIC:
                return 1
    except OSError:
        return 1
    if not (first.endswith(b"\n") and first.lstrip()[:1] == b"{" and _is_whole_json(first)):
        return 1
    return min(4, cores)


class ByteStream(Protocol):
    """What the readers need of a binary file: a plain file, standard input or a `gzip.GzipFile`."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...

    def __iter__(self) -> Iterator[bytes]: ...


def iter_documents(stream: ByteStream, *, chunk_size: int = _CHUNK) -> Iterator[bytes | Any | Unreadable]:
    """The documents in a file, one at a time: JSON lines, one JSON array, or (pretty-printed) documents.

    The first line decides: a line that is a whole JSON value means JSON lines (each line one document,
    handed on as bytes for `orjson`); a first line opening `[` means an array, decoded element by element;
    anything else (a pretty-printed document, several concatenated) is decoded value by value.
    """
    # Bounded: a compact JSON array is one long line, and must not be read whole to find out.
    first = stream.readline(chunk_size)
    number = 1  # the first line's number in the file
    while first and not first.strip():
        first = stream.readline(chunk_size)
        number += 1
    if not first:
        return
    if first.startswith(codecs.BOM_UTF8):  # files saved by some Windows editors
        first = first[len(codecs.BOM_UTF8) :]
    head = first.lstrip()[:1]
    if head == b"[":
        yield from _decode_values(first, stream, in_array=True, chunk_size=chunk_size, number=number)
        return
    # A line that is not UTF-8 (a Latin-1 export, say) is still a JSON line if it would be JSON as UTF-8.
    if first.endswith(b"\n") and _is_whole_json(first if first.isascii() else _as_utf8(first)):
        yield from _json_lines([first], number)
        yield from _json_lines(stream, number + 1)  # blank lines are dropped by ingest_documents
        return
    yield from _decode_values(first, stream, in_array=False, chunk_size=chunk_size, number=number)


def _json_lines(lines: Iterable[bytes], number: int) -> Iterator[bytes | Unreadable]:
    """JSON lines from line `number` on, each as is, but one that is not UTF-8 quarantined with its number: the
    file's encoding is not guessed, and a replacement character would be stored as if it had been sent."""
    for n, line in enumerate(lines, number):
        if line.isascii() or (problem := _not_utf8(line)) is None:
            yield line
        else:
            yield Unreadable(f"line {n}: {problem}", raw_text(line))


def _not_utf8(line: bytes) -> str | None:
    """Why `line` is not UTF-8 ("not UTF-8 (byte 0xF6 at offset 41)", the offset in the line), or None."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 (byte 0x{line[exc.start]:02X} at offset {exc.start})"
    return None


def _as_utf8(line: bytes) -> bytes:
    """`line` with what is not UTF-8 replaced (U+FFFD), to tell whether it is JSON otherwise."""
    return line.decode("utf-8", "replace").encode("utf-8")


def _is_whole_json(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


_SPACE = re.compile(r"\s*")
_RESYNC = re.compile(r"\n(?=[ \t]{0,2}[\{\[])")
# With no such line (a compact array or Firehose's records written one after another on one line): the next
# object that starts right after a comma or the end of another.
_RESYNC_INLINE = re.compile(r"(?:\}\s*,?|,)\s*(?=\{\")")
# A \uD800-\uDFFF escape: Python's json reads an unpaired one into a string SQLite cannot store.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SPACE_COMMA = re.compile(r"[\s,]*")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, as `surrogateescape` decodes it


def _decode_values(
    head: bytes, stream: ByteStream, *, in_array: bool, chunk_size: int, number: int = 1
) -> Iterator[Any | Unreadable]:
    """Top-level JSON values (or array elements) one at a time, reading the file chunk by chunk; `head` is the
    file's line `number`. A value with a byte that is not UTF-8 in it is quarantined, naming the byte."""
    text = codecs.getincrementaldecoder("utf-8")("surrogateescape")  # a byte that is not UTF-8 stays known
    decoder = json.JSONDecoder()
    skip = _SPACE_COMMA if in_array else _SPACE
    buf = text.decode(head)
    pos = buf.index("[") + 1 if in_array else 0
    eof = False
    lines_before = number - 1  # the lines of the file that ended before buf[0]

    def more() -> bool:
        nonlocal buf, pos, eof, lines_before
        if eof:
            return False
        data = stream.read(chunk_size)
        lines_before += buf.count("\n", 0, pos)
        if not data:
            eof = True
            buf = buf[pos:] + text.decode(b"", final=True)
            pos = 0
            return False
        buf = buf[pos:] + text.decode(data)
        pos = 0
        return True

    while True:
        m = skip.match(buf, pos)
        assert m is not None  # both patterns match the empty string, so they always match
        pos = m.end()
        if pos >= len(buf):
            if not more() and pos >= len(buf):
                return
            continue
        if in_array and buf[pos] == "]":
            return
        try:
            value, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            # Where it broke, from the value's start: more() moves the value to the start of the buffer.
            broke_at = max(exc.pos - pos, 1)
            too_big = len(buf) - pos >= MAX_DOCUMENT
            if not too_big and more():
                continue  # most likely the value is cut at the chunk boundary: read on
            # A broken value: quarantine it up to the next line that opens a value (or, on one long line, the next
            # object), and carry on from there.
            resync = _RESYNC.search(buf, pos + broke_at)
            inline = None if resync else _RESYNC_INLINE.search(buf, pos + broke_at)
            stop = resync.start() + 1 if resync else inline.end() if inline else len(buf)
            if too_big:
                reason = f"a single JSON value larger than {MAX_DOCUMENT // (1024 * 1024)} MB"
            else:
                reason = f"not valid JSON: {exc.msg} (line {lines_before + exc.lineno})"
            if _NOT_UTF8.search(buf, pos, stop):
                # What is not UTF-8 (a UTF-16 file, say): the kept body has U+FFFD there.
                reason += "; the text is not UTF-8 (the bytes that are not are kept as U+FFFD)"
            yield Unreadable(reason, _replaced(buf[pos:stop][:MAX_RAW]))
            pos = stop
            continue
        if bad := _NOT_UTF8.search(buf, pos, end):
            yield Unreadable(_not_utf8_in(buf, bad.start(), lines_before), _replaced(buf[pos:end][:MAX_RAW]))
            pos = end
            continue
        if _SURROGATE_ESCAPE.search(buf, pos, end) and not _is_whole_json(buf[pos:end].encode("utf-8", "replace")):
            # orjson (the JSON-lines path) refuses an unpaired surrogate: so does this path, one value at a time.
            yield Unreadable("a string holds an unpaired UTF-16 surrogate (\\ud800-\\udfff)", buf[pos:end][:MAX_RAW])
            pos = end
            continue
        yield value
        pos = end
        if pos > chunk_size:
            lines_before += buf.count("\n", 0, pos)
            buf, pos = buf[pos:], 0


def _not_utf8_in(buf: str, at: int, lines_before: int) -> str:
    """`_not_utf8`'s reason for the byte that `surrogateescape` kept at `buf[at]`, with its line's number."""
    start = buf.rfind("\n", 0, at) + 1
    offset = len(buf[start:at].encode("utf-8", "surrogateescape"))
    number = lines_before + buf.count("\n", 0, at) + 1
    return f"line {number}: not UTF-8 (byte 0x{ord(buf[at]) - 0xDC00:02X} at offset {offset})"


def _replaced(text: str) -> str:
    """`text` with each byte `surrogateescape` kept (not UTF-8) as U+FFFD, as a quarantined body is stored."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if _NOT_UTF8.search(text) else text


# -- retention -----------------------------------------------------------------------------------------------

_PRUNE_CHUNK = 20_000  # rows at most in one prune transaction
_PRUNE_FIRST = 1_000  # rows in the first one; the next are sized from how long the last one took
_PRUNE_HOLD = 0.2  # seconds a prune transaction aims to hold the write lock, its commit included


def prune(
    store: Store, retention_days: int, now: datetime | None = None, *, chunk_rows: int = _PRUNE_CHUNK
) -> dict[str, int]:
    """Delete what is older than the retention: problem events, `seen` ids, the hourly counters, quarantine,
    diagnoses, audit, the `last_delivery` of recipients with no delivery since, and the days of the
    `header_sample` before the cutoff's day.

    Counters go with the events and the `seen` ids of their hours: a rate needs both, and a counter whose ids
    are gone would count a re-ingested event twice. A window past the retention has no data, not 0 %.
    Deletes run in chunks, each its own short transaction (about 0.2 s of holding the write lock, `chunk_rows`
    rows at most), so ingest never waits long for it; each chunk is checkpointed into the file, so the WAL stays
    about one chunk's size and is empty at the end.
    Returns the number of rows deleted per table, except the header sample's (a handful of rows a day; the
    returned keys stay those callers already read).
    """
    from bot.store import lower_event_marks  # here: the parser processes import this module, not the store

    cutoff = iso((now or utcnow()) - timedelta(days=retention_days))
    statements = {
        "events": "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE timestamp < ? LIMIT ?)",
        # seen ids start with their event's hour, so this is a primary-key range (see bot.events).
        "seen": "DELETE FROM seen WHERE id IN (SELECT id FROM seen WHERE id < ? LIMIT ?)",
        "counters": (
            "DELETE FROM counters WHERE (hour, type, domain, config_set) IN "
            "(SELECT hour, type, domain, config_set FROM counters WHERE hour < ? LIMIT ?)"
        ),
        "quarantine": ("DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine WHERE received_at < ? LIMIT ?)"),
        "diagnoses": "DELETE FROM diagnoses WHERE id IN (SELECT id FROM diagnoses WHERE at < ? LIMIT ?)",
        "audit": "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ? LIMIT ?)",
    }
    deleted: dict[str, int] = {}
    for table, sql in statements.items():
        bound = cutoff[:13] if table in ("seen", "counters") else cutoff

        def batch(conn: sqlite3.Connection, limit: int, table: str = table, sql: str = sql, bound: str = bound) -> int:
            n = conn.execute(sql, [bound, limit]).rowcount
            if table == "events" and n:
                lower_event_marks(conn)
            return n

        deleted[table] = _delete_in_chunks(store, batch, chunk_rows)
    deleted["last_delivery"] = _prune_last_delivery(store, cutoff, chunk_rows)
    # One row per day, set and From: a primary-key range delete, in one short transaction.
    with store.transaction() as db:
        db.conn.execute("DELETE FROM header_sample WHERE day < ?", [cutoff[:10]])
    store.optimize()  # the day's statistics, after the day's deletes
    store.checkpoint()  # the WAL back to nothing
    return deleted


def _delete_in_chunks(store: Store, batch: Callable[[sqlite3.Connection, int], int], chunk_rows: int) -> int:
    """Call `batch(conn, limit)` (deletes up to `limit` rows, returns how many), one transaction each, until it
    deletes fewer than asked. A row costs more in a big table (every index, and the commit writes each page
    touched), so a fixed count does not bound how long a writer waits: each chunk is sized from the time the
    last one took, commit included, to hold the write lock about `_PRUNE_HOLD` seconds (`chunk_rows` at most).
    """
    total, limit = 0, min(_PRUNE_FIRST, chunk_rows)
    while True:
        started = time.monotonic()
        with store.transaction() as db:
            n = batch(db.conn, limit)
        took = time.monotonic() - started
        store.checkpoint()  # each chunk into the file: the WAL stays the size of one chunk
        total += n
        if n < limit:
            return total
        limit = max(1, min(chunk_rows, 2 * limit, int(limit * _PRUNE_HOLD / max(took, 0.001))))


_PRUNE_LAST_DELIVERY = (
    "DELETE FROM last_delivery WHERE recipient IN (SELECT recipient FROM last_delivery "
    "WHERE recipient > ? AND at < ? ORDER BY recipient LIMIT ?) RETURNING recipient"
)


def _prune_last_delivery(store: Store, cutoff: str, chunk_rows: int) -> int:
    """Delete `last_delivery` rows older than `cutoff`, walking the table once in key order.

    `at` has no index (it would cost every ingest write to serve one daily prune), so each batch resumes
    after the greatest key the previous one deleted: every row is read once, not once per batch.
    """
    after = ""

    def batch(conn: sqlite3.Connection, limit: int) -> int:
        nonlocal after
        gone = [row[0] for row in conn.execute(_PRUNE_LAST_DELIVERY, [after, cutoff, limit])]
        after = max(gone, default=after)
        return len(gone)

    return _delete_in_chunks(store, batch, chunk_rows)


def quarantined(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    """The most recent quarantined bodies, newest first (for a person who wants to see what was refused)."""
    return store.query(
        "SELECT id, received_at, origin, reason, substr(raw, 1, 2000) AS raw FROM quarantine "
        "ORDER BY received_at DESC, id DESC LIMIT ?",
        [int(limit)],
    )


__all__ = [
    "IngestResult",
    "Unreadable",
    "ingest_documents",
    "ingest_paths",
    "iter_documents",
    "prune",
    "quarantined",
    "raw_text",
    "write_batch",
]
