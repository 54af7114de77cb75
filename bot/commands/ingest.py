"""`ingest PATH... | -`: load SES notification files (or standard input) into the event history."""

from __future__ import annotations

import os
import sys

from bot.commands import CommandContext, Invocation, command
from bot.findings import Answer, Severity
from bot.ingest import ingest_paths
from bot.target import UsageError, shown


@command(
    "ingest",
    "ingest PATH... | -",
    "load SES notifications from files (JSON, JSON array or JSON lines; - reads standard input)",
    "ingest firehose-export.jsonl",
    in_chat=False,
)
def run_ingest(ctx: CommandContext, inv: Invocation) -> Answer:
    paths = list(inv.args)
    if not paths:
        raise UsageError("give one or more files to read, or - for standard input")
    folders = [p for p in paths if p != "-" and os.path.isdir(p)]
    if folders:
        where = folders[0].rstrip("/") or "/"
        raise UsageError(f"{shown(folders[0])} is a directory: give the files in it, like {shown(where)}/*.jsonl")
    missing = [p for p in paths if p != "-" and not os.path.isfile(p)]
    if missing:
        raise UsageError(f"no such file: {missing[0]}")
    stdin = ctx.deps.extras.get("stdin") or sys.stdin.buffer
    result = ingest_paths(
        ctx.deps.store, paths, stdin=stdin, now=ctx.deps.now(), retention_days=ctx.deps.settings.retention_days
    )
    # Where each quarantined document came from and why (the first ones), as the text shows them.
    data = {**result.as_dict(), "reasons": list(result.reasons)}
    lines = [
        f"ingested: {result.ingested}",
        f"duplicates (already stored): {result.duplicates}",
        f"quarantined (malformed, kept with the reason): {result.quarantined}",
    ]
    lines += [f"skipped, {reason}: {n}" for reason, n in sorted(result.skipped.items())]
    sections = [("Counts", lines)]
    if result.reasons:
        more = result.quarantined - len(result.reasons)
        why = [shown(r, 200) for r in result.reasons] + ([f"and {more} more"] if more > 0 else [])
        sections.append(("Quarantined (the bodies are kept in the quarantine table)", why))
    severity = Severity.WARNING if result.quarantined else Severity.INFO
    title = f"Ingested {result.ingested} event{'s' if result.ingested != 1 else ''} from {len(paths)} source(s)"
    return Answer(title=title, sections=sections, data=data, kind="ingest", severity=severity)
