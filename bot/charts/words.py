"""What a chart says in words: its title, its caption (whose figures they are) and its alt text (the figures).

Pure: `ChartFigures` in, strings out. The captions are data (`CAPTIONS`), one per source of the figures.

    >>> from datetime import UTC, datetime
    >>> figs = ChartFigures("us-east-1", "", 7, datetime(2026, 12, 3, 10, tzinfo=UTC), "history", [])
    >>> title(figs)
    'Bounce and complaint rate in us-east-1, last 7 days'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.alerts.levels import LEVEL_LABELS, RATE_METRICS, signal_label
from bot.alerts.messages import fmt_pct, upper_first
from bot.findings import where

ALT_TEXT_LIMIT = 1000  # Slack's limit for a file's alt text

CAPTIONS = {
    "cloudwatch": "Figures: CloudWatch's AWS/SES {metrics}, hourly maximum.",
    "history": (
        "Figures: estimated from the events sesbot received (hard bounces or complaints / sends, per hour); "
        "CloudWatch has no figure, and AWS's own rate may differ."
    ),
    "none": (
        "No figures: CloudWatch has none, and with several accounts or regions sesbot's history cannot tell "
        "whose sends it counted, so it estimates no rate."
    ),
}
SOURCE_WORDS = {"cloudwatch": "from CloudWatch", "history": "estimated from the event history", "none": "no figures"}
LINES_NOTE = "Dashed lines: where AWS reviews the account and where it may pause sending; the dot is now."


@dataclass
class RateSeries:
    """One rate over the chart's window: hourly values (None where nothing is known), oldest first, the last
    slot the current hour; the current figure and its level; where AWS reviews and may pause."""

    signal: str
    points: list[float | None]
    now_value: float | None
    level: str | None
    review: float | None
    pause: float | None

    def peak(self) -> tuple[int, float] | None:
        """(slot, value) of the highest hour, the latest one on a tie; None without any value."""
        known = [(v, i) for i, v in enumerate(self.points) if v is not None]
        if not known:
            return None
        value, slot = max(known)
        return slot, value

    def as_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "points": self.points,
            "now": self.now_value,
            "level": self.level,
            "review": self.review,
            "pause": self.pause,
        }


@dataclass
class ChartFigures:
    """Everything a rate chart shows, gathered before drawing it."""

    region: str
    scope: str  # '' = the whole account, else a configuration set
    days: int
    now: datetime
    source: str  # "cloudwatch", "history" or "none" (no CloudWatch figure, and the history is not this account's)
    series: list[RateSeries] = field(default_factory=list)
    account: str = ""  # the SESBOT_ACCOUNTS name ('' = the default credentials' account)

    @property
    def first_hour(self) -> datetime:
        """The hour the first slot starts (the last slot is the current hour)."""
        hours = len(self.series[0].points) if self.series else self.days * 24
        return self.now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)

    def hour_of(self, slot: int) -> datetime:
        return self.first_hour + timedelta(hours=slot)

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "scope": self.scope,
            "days": self.days,
            "now": self.now.isoformat(),
            "first_hour": self.first_hour.isoformat(),
            "source": self.source,
            "series": [s.as_dict() for s in self.series],
        }


def title(figs: ChartFigures) -> str:
    region = where(figs.account, figs.region)
    place = f"{region}, configuration set {figs.scope}" if figs.scope else region
    return f"Bounce and complaint rate in {place}, last {figs.days} day{'s' if figs.days != 1 else ''}"


def caption(figs: ChartFigures) -> str:
    metrics = " and ".join(RATE_METRICS[s.signal] for s in figs.series) or "Reputation.*"
    return CAPTIONS[figs.source].format(metrics=metrics) + " " + LINES_NOTE


def level_words(level: str | None) -> str:
    return LEVEL_LABELS.get(level or "", level or "no level")


def series_words(figs: ChartFigures, s: RateSeries) -> str:
    """'Bounce rate now 5.2% (review); highest 11% at 2026-12-02 14:00 UTC; AWS reviews at 5%, pauses at 10%.'"""
    label = upper_first(signal_label(s.signal))
    peak = s.peak()
    if peak is None:
        text = f"{label}: no figure in these {figs.days} days"
    else:
        slot, value = peak
        when = figs.hour_of(slot).strftime("%Y-%m-%d %H:00 UTC")
        now = f"now {fmt_pct(s.now_value)} ({level_words(s.level)})" if s.now_value is not None else "no current figure"
        text = f"{label} {now}; highest {fmt_pct(value)} in the hour from {when}"
    if s.review is not None and s.pause is not None:
        text += f"; AWS reviews the account at {fmt_pct(s.review)} and may pause it at {fmt_pct(s.pause)}"
    return text + "."


def alt_text(figs: ChartFigures) -> str:
    """The figures in words, for people who cannot see the picture (Slack keeps 1,000 characters)."""
    source = SOURCE_WORDS[figs.source]
    head = f"Chart: {title(figs)[0].lower()}{title(figs)[1:]}, hourly, {source}."
    text = " ".join([head, *(series_words(figs, s) for s in figs.series)])
    return text if len(text) <= ALT_TEXT_LIMIT else text[: ALT_TEXT_LIMIT - 1] + "…"


def filename(figs: ChartFigures) -> str:
    scope = figs.scope or "account"
    account = f"{figs.account}-" if figs.account else ""
    return f"sesbot-rates-{account}{figs.region}-{scope}-{figs.now:%Y%m%d-%H%M}.png"
