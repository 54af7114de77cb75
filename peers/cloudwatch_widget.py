"""CloudWatch's `GetMetricWidgetImage` for the AWS peer (moto 5.2.5 has no such operation).

`parse_widget` checks a `MetricWidget` JSON document the way CloudWatch refuses a bad one (not JSON, no
metrics, a metric that is not `[namespace, name, dimension name, value, ..., {options}]`, annotations
without a numeric value or with an unknown axis, a size beyond 2,000 pixels, start after end) and returns
it with its defaults filled in. `render_widget` draws it as a real PNG with matplotlib (headless): each
metric's points on its axis, each horizontal annotation as a line with its label, the title, the size asked
for. The points come from moto's own CloudWatch store (the AWS peer queries it); this module only draws.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_WIDTH, DEFAULT_HEIGHT, MAX_SIZE = 600, 400, 2000
DEFAULT_PERIOD, DEFAULT_STAT = 300, "Average"


class WidgetError(ValueError):
    """The widget is one CloudWatch would refuse (the message says why)."""


def _time(value: Any, now: datetime, name: str) -> datetime:
    """An ISO 8601 time, or a duration back from now (`-PT3H`, `-P7D`)."""
    if not isinstance(value, str) or not value:
        raise WidgetError(f"The {name} of the widget must be a string")
    if value.startswith("-P"):
        body = value[2:]
        days = hours = 0
        try:
            if "T" in body:
                day_part, time_part = body.split("T", 1)
                hours = int(time_part.rstrip("H")) if time_part.endswith("H") else 0
            else:
                day_part = body
            days = int(day_part.rstrip("D")) if day_part else 0
        except ValueError as exc:
            raise WidgetError(f"Unsupported duration {value!r} for {name}") from exc
        return now - timedelta(days=days, hours=hours)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise WidgetError(f"The {name} of the widget is not an ISO 8601 time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _metric(entry: Any, widget: dict[str, Any], i: int) -> dict[str, Any]:
    if not isinstance(entry, list) or not entry:
        raise WidgetError(f"metrics[{i}] must be a non-empty array")
    options = entry[-1] if isinstance(entry[-1], dict) else {}
    names = entry[:-1] if options or isinstance(entry[-1], dict) else entry
    if len(names) < 2 or len(names) % 2 or not all(isinstance(n, str) and n for n in names):
        raise WidgetError(
            f"metrics[{i}] must be [namespace, metric name, dimension name, dimension value, ..., {{options}}]"
        )
    axis = options.get("yAxis", "left")
    if axis not in ("left", "right"):
        raise WidgetError(f"metrics[{i}].yAxis must be left or right, not {axis!r}")
    period = options.get("period", widget["period"])
    if not isinstance(period, int) or period < 1 or (period >= 60 and period % 60):
        raise WidgetError(f"metrics[{i}].period must be a positive multiple of 60 seconds")
    dims = [{"Name": names[k], "Value": names[k + 1]} for k in range(2, len(names), 2)]
    return {
        "namespace": names[0],
        "name": names[1],
        "dimensions": dims,
        "label": options.get("label") or names[1],
        "yAxis": axis,
        "color": options.get("color"),
        "period": period,
        "stat": options.get("stat", widget["stat"]),
    }


def parse_widget(text: str, now: datetime | None = None) -> dict[str, Any]:
    """The widget with defaults filled in and its metrics normalised (`_metrics`); raises `WidgetError`."""
    now = now or datetime.now(UTC)
    try:
        widget = json.loads(text)
    except ValueError as exc:
        raise WidgetError("The MetricWidget is not valid JSON") from exc
    if not isinstance(widget, dict):
        raise WidgetError("The MetricWidget must be a JSON object")
    if not isinstance(widget.get("metrics"), list) or not widget["metrics"]:
        raise WidgetError("The MetricWidget must have a non-empty metrics array")
    widget.setdefault("period", DEFAULT_PERIOD)
    widget.setdefault("stat", DEFAULT_STAT)
    for name, default in (("width", DEFAULT_WIDTH), ("height", DEFAULT_HEIGHT)):
        value = widget.setdefault(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIZE:
            raise WidgetError(f"The {name} of the widget must be a whole number from 1 to {MAX_SIZE}")
    start = _time(widget.get("start", "-PT3H"), now, "start")
    end = _time(widget["end"], now, "end") if "end" in widget else now
    if start >= end:
        raise WidgetError("The start of the widget must be before its end")
    widget["_start"], widget["_end"] = start, end
    widget["_metrics"] = [_metric(entry, widget, i) for i, entry in enumerate(widget["metrics"])]
    horizontal = (widget.get("annotations") or {}).get("horizontal") or []
    if not isinstance(horizontal, list):
        raise WidgetError("annotations.horizontal must be an array")
    for i, a in enumerate(horizontal):
        if not isinstance(a, dict) or isinstance(a.get("value"), bool) or not isinstance(a.get("value"), int | float):
            raise WidgetError(f"annotations.horizontal[{i}] needs a numeric value")
        if a.get("yAxis", "left") not in ("left", "right"):
            raise WidgetError(f"annotations.horizontal[{i}].yAxis must be left or right")
    return widget


def recorded(widget: dict[str, Any]) -> dict[str, Any]:
    """The widget as the bot sent it (without what `parse_widget` added)."""
    return {k: v for k, v in widget.items() if not k.startswith("_")}


def render_widget(widget: dict[str, Any], points: list[list[tuple[datetime, float]]]) -> bytes:
    """A PNG of `widget` (parsed), `points[i]` being the points of its metric i, `width` x `height` pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import DateFormatter, date2num
    from matplotlib.figure import Figure

    dpi = 100
    fig = Figure(figsize=(widget["width"] / dpi, widget["height"] / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    left = fig.add_subplot(1, 1, 1)
    axes = {"left": left}
    if any(m["yAxis"] == "right" for m in widget["_metrics"]) or any(
        a.get("yAxis") == "right" for a in (widget.get("annotations") or {}).get("horizontal") or []
    ):
        axes["right"] = left.twinx()
    for metric, series in zip(widget["_metrics"], points, strict=True):
        ax = axes[metric["yAxis"]]
        times = [float(date2num(t)) for t, _ in series]
        ax.plot(times, [v for _, v in series], label=metric["label"], color=metric["color"], marker="o", markersize=3)
    for a in (widget.get("annotations") or {}).get("horizontal") or []:
        ax = axes[a.get("yAxis", "left")]
        ax.axhline(a["value"], color=a.get("color") or "#d62728", linestyle="--", linewidth=1)
        ax.annotate(a.get("label", ""), (float(date2num(widget["_start"])), a["value"]), fontsize=7)
    for side, ax in axes.items():
        options = (widget.get("yAxis") or {}).get(side) or {}
        lo, hi = options.get("min"), options.get("max")
        if lo is not None or hi is not None:
            ax.set_ylim(lo, hi)
        if options.get("label"):
            ax.set_ylabel(options["label"], fontsize=8)
    left.set_xlim(float(date2num(widget["_start"])), float(date2num(widget["_end"])))
    left.xaxis.set_major_formatter(DateFormatter("%b %d"))
    # Said on the picture: this is the local AWS peer's drawing of the widget, not CloudWatch's own.
    fig.text(0.01, 0.01, "drawn by the local AWS peer in place of CloudWatch", fontsize=7, color="#777777")
    if widget.get("title"):
        fig.suptitle(widget["title"], fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
