"""Forecast: at the trend of the last hours, when a bounce or complaint rate reaches its next AWS level.

Pure arithmetic on what the sweep already has (no I/O): the least-squares slope of the hourly rates of the
last `FORECAST_HOURS` hours (the reading's trend), projected from the current figure to the next of the
review and pause thresholds. Only with enough sends in those hours to mean anything (`min_sends`,
`SESBOT_FORECAST_MIN_SENDS`): ten sends and one bounce make a slope of nothing. The rate alerts say it
(`messages`), one line.

    >>> f = forecast([0.02, 0.025, 0.03, 0.035, 0.04, 0.045], 0.045, {"review": 0.05, "suspension": 0.10}, 900, 500)
    >>> f.state, f.level, round(f.hours, 2)
    ('reaches', 'review', 1.0)
    >>> f.text()
    'At this trend (up 0.5 points an hour over the last 6 h), the review level (5%) in about 1 h.'
"""

from __future__ import annotations

from dataclasses import dataclass

FORECAST_HOURS = 6  # the hourly rates the slope is fitted to
MIN_POINTS = 3  # fewer hourly figures than this in the window: no slope worth the name
NEXT_LEVELS = ("review", "suspension")  # the AWS levels a forecast is about, in order
LEVEL_WORDS = {"review": "review", "suspension": "pause"}

# What the forecast line says, per state.
WORDING = {
    "reaches": "At this trend (up {slope} points an hour over the last {hours} h), the {level} level ({at}) {when}.",
    "not_rising": "At this trend: not rising ({slope} points an hour over the last {hours} h).",
    "too_few_sends": "No forecast: too few sends to forecast ({sends} < {floor}) in the last {hours} h.",
    "too_few_points": "No forecast: fewer than {points} hourly figures in the last {hours} h.",
    "no_volume": "No forecast: neither CloudWatch (Send) nor the bot's history counts this account's sends.",
}


def _pct(value: float) -> str:
    return f"{value * 100:.3g}%"


def _points(value: float) -> str:
    """A slope in percentage points: 0.005 -> '0.5', -0.0002 -> '-0.02'."""
    return f"{value * 100:.2g}"


def least_squares_slope(values: list[float | None]) -> float | None:
    """The slope (per step) of the least-squares line through the values that are there, x being their
    index; None with fewer than two of them."""
    points = [(float(i), v) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return sxy / sxx if sxx else None


def _when(hours: float) -> str:
    if hours < 1:
        return "within the hour"
    if hours < 48:
        return f"in about {round(hours)} h"
    if hours <= 24 * 14:
        return f"in about {round(hours / 24)} days"
    return "not for more than two weeks"


@dataclass(frozen=True)
class Forecast:
    """What the trend says. `state`: reaches, not_rising, too_few_sends, too_few_points, no_volume, or
    at_top (already at the last level: nothing to forecast, no line)."""

    state: str
    slope: float | None = None  # the rate's change an hour (a fraction: 0.005 = 0.5 points)
    level: str | None = None  # the next level it reaches at this trend
    threshold: float | None = None
    hours: float | None = None  # until it reaches it
    sends: int | None = None  # sends in the window
    min_sends: int = 0
    window: int = FORECAST_HOURS

    def text(self) -> str:
        """The forecast line of a rate alert; '' when there is nothing to say."""
        wording = WORDING.get(self.state)
        if wording is None:
            return ""
        return wording.format(
            slope=_points(self.slope or 0.0),
            hours=self.window,
            level=LEVEL_WORDS.get(self.level or "", self.level),
            at=_pct(self.threshold or 0.0),
            when=_when(self.hours or 0.0),
            sends=self.sends,
            floor=self.min_sends,
            points=MIN_POINTS,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state,
            "slope_per_hour": self.slope,
            "level": self.level,
            "threshold": self.threshold,
            "hours": self.hours,
            "sends": self.sends,
            "min_sends": self.min_sends,
            "window_hours": self.window,
        }


def forecast(
    trend: list[float | None],
    value: float | None,
    thresholds: dict[str, float],
    sends: int | None,
    min_sends: int,
    window: int = FORECAST_HOURS,
) -> Forecast:
    """When the rate, now `value`, reaches its next level at the slope of the last `window` hourly rates
    of `trend` (oldest first, the last is the current hour), given the `sends` in those hours."""

    def said(state: str, slope: float | None = None) -> Forecast:
        return Forecast(state, slope, sends=sends, min_sends=min_sends, window=window)

    nxt = [(name, thresholds[name]) for name in NEXT_LEVELS if name in thresholds]
    ahead = [(name, at) for name, at in nxt if value is None or value < at]
    if not ahead:
        return said("at_top")
    if sends is None:
        return said("no_volume")
    if sends < min_sends:
        return said("too_few_sends")
    recent = trend[-window:] if window > 0 else []
    if sum(v is not None for v in recent) < MIN_POINTS:
        return said("too_few_points")
    slope = least_squares_slope(recent)
    if slope is None or slope <= 0:
        return said("not_rising", slope or 0.0)
    start = value if value is not None else next(v for v in reversed(recent) if v is not None)
    level, at = ahead[0]
    return Forecast("reaches", slope, level, at, (at - start) / slope, sends, min_sends, window)
