"""CloudWatch's picture of the rates: the `GetMetricWidgetImage` widget (pure) and the call that asks for it.

The widget draws the two reputation metrics over the chart's window (bounce rate on the left axis,
complaint rate on the right, values as CloudWatch keeps them: fractions, 0.05 = 5%), with the review and
pause levels and each current figure as horizontal annotations on the axis of their rate.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.alerts.levels import RATE_METRICS, signal_label
from bot.alerts.messages import fmt_pct, upper_first
from bot.alerts.signals import CONFIG_SET_DIMENSION, NAMESPACE
from bot.charts.draw import COLORS, HEIGHT, WIDTH
from bot.charts.words import ChartFigures, level_words, title

CHART_PERIOD = 3600  # hourly points, as the chart shows them
CHART_STAT = "Maximum"  # the worst of each hour, as the sparkline of the alerts
AXES = {"bounce_rate": "left", "complaint_rate": "right"}


def _iso(figs: ChartFigures, hours: int) -> str:
    return (figs.first_hour + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def metric_widget(figs: ChartFigures) -> dict[str, Any]:
    """The widget JSON (as a dict) for `figs`: its metrics, window, and thresholds as annotations."""
    metrics: list[list[Any]] = []
    horizontal: list[dict[str, Any]] = []
    y_axis: dict[str, Any] = {}
    for s in figs.series:
        side = AXES[s.signal]
        dims = [CONFIG_SET_DIMENSION, figs.scope] if figs.scope else []
        label = upper_first(signal_label(s.signal))
        metrics.append(
            [NAMESPACE, RATE_METRICS[s.signal], *dims, {"label": label, "yAxis": side, "color": COLORS[s.signal]}]
        )
        for name, value in (("review", s.review), ("pause", s.pause)):
            if value is not None:
                horizontal.append(
                    {"label": f"{label}: {name} {fmt_pct(value)}", "value": value, "yAxis": side, "color": COLORS[name]}
                )
        if s.now_value is not None:
            horizontal.append(
                {
                    "label": f"{label} now {fmt_pct(s.now_value)} ({level_words(s.level)})",
                    "value": s.now_value,
                    "yAxis": side,
                    "color": "#000000",
                }
            )
        top = max([v for v in s.points if v is not None] + [s.now_value or 0.0, (s.pause or 0.0) * 1.25])
        y_axis[side] = {"min": 0, "max": min(1.0, round(top * 1.1, 6)), "label": label, "showUnits": False}
    return {
        "title": title(figs),
        "view": "timeSeries",
        "stacked": False,
        "region": figs.region,
        "width": WIDTH,
        "height": HEIGHT,
        "start": _iso(figs, 0),
        "end": _iso(figs, len(figs.series[0].points) if figs.series else figs.days * 24),
        "period": CHART_PERIOD,
        "stat": CHART_STAT,
        "timezone": "+0000",
        "metrics": metrics,
        "annotations": {"horizontal": horizontal},
        "yAxis": y_axis,
        "legend": {"position": "bottom"},
    }


def widget_image(cw: Any, figs: ChartFigures) -> bytes:
    """CloudWatch's PNG of `metric_widget(figs)`; raises what boto3 raises when CloudWatch refuses."""
    answer = cw.get_metric_widget_image(MetricWidget=json.dumps(metric_widget(figs)), OutputFormat="png")
    return bytes(answer["MetricWidgetImage"])
