"""Charts: the bounce and complaint rate over the last days as a picture people can look at.

`rate_chart(deps, region)` gathers the hourly figures of the account `deps` is the view of (`Deps.accounts()`;
the default credentials' for the root deps) (`gather`): CloudWatch's (`AWS/SES` `Reputation.*`, asked the
way the alert sweep asks, `bot.alerts.signals.fetch_series`: the worst of each hour for the line, and each
rate's figure now as the sweep takes it, `latest_value` of its 5-minute averages, so the chart's "now" is
the figure the alert and the App Home say) when CloudWatch has the metric in the window, else the estimate
from the event history (`bot.alerts.signals.estimate_trend`). It then asks CloudWatch for the picture
(`GetMetricWidgetImage`, `widget`) or, for the history's figures (or when CloudWatch's picture fails), draws
it with matplotlib (`draw`, headless). The result is a neutral `bot.notify.Image` with its title, caption
(whose figures) and alt text (the figures in words, `words`).

Modules: `words` (pure wording and the figures' types), `draw` (matplotlib), `widget` (CloudWatch's widget).
The package may import the engine (`bot.*`) and never `handlers` or a chat SDK; matplotlib is imported only
when a picture is drawn.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.alerts.levels import RATE_METRICS, level_for_value, thresholds
from bot.alerts.signals import (
    estimate_rate,
    estimate_trend,
    fetch_series,
    history_is_the_accounts,
    hourly_trend,
    latest_value,
    rate_query,
)
from bot.aws import describe_error
from bot.charts.words import ChartFigures, RateSeries, alt_text, caption, filename, title
from bot.deps import Deps
from bot.notify import Image

log = logging.getLogger(__name__)

DEFAULT_DAYS = 7
MAX_DAYS = 30


@dataclass
class Chart:
    """A drawn chart: the image, the figures it shows, who drew it ("cloudwatch" or "sesbot"), and how long
    gathering and drawing took (seconds)."""

    image: Image
    figures: ChartFigures
    drawn_by: str
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "filename": self.image.filename,
            "title": self.image.title,
            "alt_text": self.image.alt_text,
            "caption": self.image.caption,
            "drawn_by": self.drawn_by,
            "bytes": len(self.image.data),
            "figures": self.figures.as_dict(),
        }


def _floor_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def _cloudwatch_series(
    deps: Deps, region: str, scope: str, days: int, now: datetime
) -> tuple[dict[str, list[Any]], dict[str, float | None]]:
    """Each rate's hourly maxima over the window (the line) and its figure now as the sweep takes it (the
    newest 5-minute average, `latest_value`), in the same GetMetricData calls."""
    from bot.charts.widget import CHART_PERIOD, CHART_STAT

    end = _floor_hour(now) + timedelta(hours=1)
    keys = [(signal, scope) for signal in RATE_METRICS]
    # The sweep's query of each rate (its period and statistic), under a key no (signal, scope) can take.
    current = {(f"{signal} now", scope): rate_query("", signal, scope)["MetricStat"] for signal in RATE_METRICS}
    found = fetch_series(
        deps.aws.get("cloudwatch", region),
        keys,
        end - timedelta(days=days),
        end,
        period=CHART_PERIOD,
        stat=CHART_STAT,
        extra=current,
    )
    hourly = {signal: found[(signal, scope)] for signal in RATE_METRICS}
    return hourly, {signal: latest_value(found[(f"{signal} now", scope)], now) for signal in RATE_METRICS}


def gather(
    deps: Deps, region: str, scope: str = "", days: int = DEFAULT_DAYS, now: datetime | None = None
) -> ChartFigures:
    """The figures of the chart: CloudWatch's when it has either metric in the window, else the history's.

    Raises what boto3 raises when CloudWatch cannot be read (the caller decides what a failure means).
    """
    now = now or deps.now()
    cw, cw_now = _cloudwatch_series(deps, region, scope, days, now)
    # No CloudWatch figure: the history's estimate, when its counts are this account's in this region alone.
    source = "cloudwatch" if any(cw.values()) else "history" if history_is_the_accounts(deps.settings) else "none"
    series = []
    for signal in RATE_METRICS:
        if source == "cloudwatch":
            points, now_value = hourly_trend(cw[signal], now, days), cw_now[signal]
        elif source == "none":
            points, now_value = hourly_trend([], now, days), None
        else:
            points = estimate_trend(deps.store, signal, now, config_set=scope or None, days=days)
            now_value = estimate_rate(deps.store, signal, now, config_set=scope or None)
        levels = thresholds(deps.settings, signal)
        level = level_for_value(deps.settings, signal, now_value) if now_value is not None else None
        series.append(RateSeries(signal, points, now_value, level, levels.get("review"), levels.get("suspension")))
    return ChartFigures(region, scope, days, now, source, series, account=deps.account_name or "")


def rate_chart(
    deps: Deps, region: str, scope: str = "", days: int = DEFAULT_DAYS, now: datetime | None = None
) -> Chart:
    """The rate chart of one region (and configuration set): CloudWatch's picture of CloudWatch's figures,
    else sesbot's own drawing. Raises only when the figures cannot be read at all."""
    from bot.charts.draw import render_png
    from bot.charts.widget import widget_image

    started = time.perf_counter()
    figs = gather(deps, region, scope, days, now)
    data, drawn_by = b"", "sesbot"
    if figs.source == "cloudwatch":
        try:
            data, drawn_by = widget_image(deps.aws.get("cloudwatch", region), figs), "cloudwatch"
        except Exception as exc:  # CloudWatch's picture is a nicety: its own figures are drawn here instead
            log.warning("GetMetricWidgetImage failed in %s (%s); drawing the chart here", region, describe_error(exc))
    if not data:
        data = render_png(figs)
    image = Image(data=data, filename=filename(figs), title=title(figs), alt_text=alt_text(figs), caption=caption(figs))
    return Chart(image, figs, drawn_by, time.perf_counter() - started)


__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "Chart", "ChartFigures", "RateSeries", "gather", "rate_chart"]
