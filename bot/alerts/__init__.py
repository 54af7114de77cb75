"""Alerts: read the signals, turn level changes into incidents and owed messages, deliver them.

One `sweep(deps, poster)` does it all, in three steps:

1. **Read** each region's signals (network, outside any transaction): bounce and complaint rates from
   CloudWatch `AWS/SES` `Reputation.*` (account-wide and per configuration set; estimated from the event
   history when CloudWatch has no data), the account status and the daily quota from SESv2 `GetAccount`,
   and whether those reads worked at all (`aws_api`: one "cannot read metrics" incident per outage).
2. **Apply**, in one SQLite transaction: compare each reading with `alert_state`; a level change is a
   transition (healthchecks' Flip). Going up is immediate; going down needs the value below the current
   level for `recovery_sweeps` sweeps in a row, so a value hovering at a threshold does not flap. New
   blocklist bounces (rows of `events` past a watermark) are read and grouped here too. A transition
   opens, updates or resolves the signal's incident and *inserts the messages it owes* (`notifications`)
   in the same transaction: a crash either keeps both or neither.
3. **Deliver** every unsent notification, oldest first: claim it (a committed lease), post it through the
   `Poster`, mark it sent with its ts. A `PostError` releases the claim and keeps it for the next
   sweep (after the `Retry-After` the poster reported); a reply waits until its parent is posted.
   A restart therefore neither repeats (sent ones are marked) nor loses (unsent ones are retried) one,
   and a post Slack took before a crash is found by its mark in the channel and adopted, not made twice.

One concern a module, each importing only the ones above it:

- `levels`: the signals, their ladders of levels, thresholds and labels; `next_level` (pure).
- `records`: the `Incident` row and the helper that reads rows on the sweep's connection.
- `messages`: pure builders, a `bot.notify.Message` from the `Facts` about a signal (no store, no boto3).
- `signals`: reading each signal as a `Reading` (CloudWatch, history estimate, account, blocklist).
- `transitions`: a reading against its stored level -> incident steps and owed `notifications` rows.
- `outbox`: claim, post through the `Poster` (with its mark), mark sent; adoption, retries, rate limits, errors.
- `pushed`: SES's status and Advisor events from the queue (EventBridge), applied as a sweep applies readings.
- `sweep`: the sweep that ties them together.

The package may import the engine (`bot.*`) and never `handlers` or a chat SDK: it hands neutral
`Message`s to a `bot.notify.Poster`, and the front end decides which chat system that is. The names
below are the public API other modules use; import them from `bot.alerts`.
"""

from __future__ import annotations

from bot.alerts.levels import (
    BEHIND_WINDOW,
    LEVEL_LABELS,
    LEVEL_SEVERITY,
    RATE_METRICS,
    SIGNALS,
    ladder,
    level_for_value,
    next_level,
    signal_label,
    thresholds,
)
from bot.alerts.messages import ACK_ACTION, BOUNCES_ACTION, TAKE_ACTION, Facts, fmt_pct, fmt_value, upper_first
from bot.alerts.outbox import PostedItem, deliver
from bot.alerts.records import Incident
from bot.alerts.signals import Reading, read_all, read_region, stored_readings
from bot.alerts.sweep import SweepResult, sweep
from bot.alerts.transitions import Signal

__all__ = [
    "ACK_ACTION",
    "BEHIND_WINDOW",
    "BOUNCES_ACTION",
    "LEVEL_LABELS",
    "LEVEL_SEVERITY",
    "RATE_METRICS",
    "SIGNALS",
    "TAKE_ACTION",
    "Facts",
    "Incident",
    "PostedItem",
    "Reading",
    "Signal",
    "SweepResult",
    "deliver",
    "fmt_pct",
    "fmt_value",
    "ladder",
    "level_for_value",
    "next_level",
    "read_all",
    "read_region",
    "signal_label",
    "stored_readings",
    "sweep",
    "thresholds",
    "upper_first",
]
