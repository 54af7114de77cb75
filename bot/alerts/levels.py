"""Levels: the signals, the ladder of levels each one climbs, their thresholds and labels, and `next_level`.

Pure data and arithmetic (no I/O): what a value means (`level_for_value`) and how one sweep moves a
signal from its stored level (`next_level`: up at once, down only after `recovery_sweeps` calm sweeps).
The time windows the readings and the messages share live here too, so both say the same thing.

    >>> next_level(["ok", "elevated", "review"], "review", "ok", calm=1, calm_max="ok", recovery_sweeps=2)
    ('ok', 0, None)
"""

from __future__ import annotations

from datetime import timedelta

from bot.findings import Severity
from bot.settings import Settings

RATE_METRICS = {"bounce_rate": "Reputation.BounceRate", "complaint_rate": "Reputation.ComplaintRate"}

QUOTA_LEVELS: tuple[tuple[str, float], ...] = (("quota_80", 0.80), ("quota_95", 0.95))
FIXED_LADDERS: dict[str, list[str]] = {
    "quota": ["ok"] + [name for name, _ in QUOTA_LEVELS],
    # unknown_status: an EnforcementStatus the bot does not know (SES may add one): not OK, and not ranked
    # above PROBATION, since nothing says it stops mail.
    "account_status": ["ok", "unknown_status", "probation", "paused", "shutdown"],
    "blocklist": ["ok", "listed"],
    "aws_api": ["ok", "unreachable"],
}
# GetAccount EnforcementStatus -> its account_status level: the values botocore's sesv2 model documents (the
# member is a plain string there); any other is `unknown_status` (`bot.ses_status.judge_status`).
ENFORCEMENT_LEVELS = {"HEALTHY": "ok", "PROBATION": "probation", "SHUTDOWN": "shutdown"}
# The order signals are read and reported in.
SIGNALS = ("aws_api", "account_status", "bounce_rate", "complaint_rate", "blocklist", "quota")

LEVEL_LABELS = {
    "ok": "OK",
    "elevated": "elevated",
    "near_review": "near review",
    "review": "review",
    "near_suspension": "near pause",
    "suspension": "pause",
    "quota_80": "80% of the daily quota",
    "quota_95": "95% of the daily quota",
    "unknown_status": "an enforcement status the bot does not know",
    "probation": "under review (probation)",
    "paused": "sending paused",
    "shutdown": "shut down by AWS",
    "listed": "blocklist bounces",
    "unreachable": "cannot read",
}
LEVEL_SEVERITY = {
    "ok": Severity.OK,
    "elevated": Severity.WARNING,
    "near_review": Severity.WARNING,
    "review": Severity.ERROR,
    "near_suspension": Severity.ERROR,
    "suspension": Severity.CRITICAL,
    "quota_80": Severity.WARNING,
    "quota_95": Severity.ERROR,
    "unknown_status": Severity.WARNING,
    "probation": Severity.ERROR,
    "paused": Severity.CRITICAL,
    "shutdown": Severity.CRITICAL,
    "listed": Severity.WARNING,
    "unreachable": Severity.WARNING,
}
SIGNAL_LABELS = {
    "bounce_rate": "bounce rate",
    "complaint_rate": "complaint rate",
    "blocklist": "blocklist bounces",
    "account_status": "account status",
    "quota": "daily sending quota",
    "aws_api": "metrics access",
}

# Windows shared by the readings and the messages that describe them.
TREND_DAYS = 3  # the sparkline: hourly maxima over these days
BEHIND_WINDOW = timedelta(hours=24)  # "top recipient domains and categories behind it"
BLOCKLIST_QUIET = timedelta(hours=1)  # a blocklist incident resolves only after this long without one


def ladder(settings: Settings, signal: str) -> list[str]:
    """The levels of `signal`, lowest (`ok`) first."""
    if signal in RATE_METRICS:
        return ["ok"] + [name for name, _, _ in settings.rate_levels]
    return FIXED_LADDERS[signal]


def thresholds(settings: Settings, signal: str) -> dict[str, float]:
    """level -> the value at which it starts (rates and quota only)."""
    if signal == "bounce_rate":
        return {name: b for name, b, _ in settings.rate_levels}
    if signal == "complaint_rate":
        return {name: c for name, _, c in settings.rate_levels}
    if signal == "quota":
        return dict(QUOTA_LEVELS)
    return {}


def level_for_value(settings: Settings, signal: str, value: float) -> str:
    """The highest level whose threshold the value has reached."""
    level = "ok"
    for name, start in thresholds(settings, signal).items():
        if value >= start:
            level = name
    return level


def next_level(
    levels: list[str],
    current: str,
    raw: str,
    *,
    calm: int,
    calm_max: str | None,
    recovery_sweeps: int,
    hysteresis: bool = True,
    quiet_enough: bool = True,
) -> tuple[str, int, str | None]:
    """One sweep's step: (new level, calm sweeps, highest level seen while calm).

    Up is immediate. Down needs `recovery_sweeps` sweeps in a row below the current level (and
    `quiet_enough`); it then lands on the highest level seen during those sweeps, never lower.
    """
    index = {name: i for i, name in enumerate(levels)}
    cur, new = index.get(current, 0), index.get(raw, 0)
    if new > cur:
        return raw, 0, None
    if new == cur:
        return levels[cur], 0, None
    if not hysteresis:
        return raw, 0, None
    calm += 1
    if calm_max is None or index.get(calm_max, 0) < new:
        calm_max = raw
    if calm >= recovery_sweeps and quiet_enough:
        return calm_max, 0, None
    return levels[cur], calm, calm_max


def signal_label(signal: str, scope: str = "") -> str:
    """'bounce rate', or 'bounce rate of configuration set Marketing-EU' for a configuration set's."""
    label = SIGNAL_LABELS.get(signal, signal)
    return f"{label} of configuration set {scope}" if scope else label
