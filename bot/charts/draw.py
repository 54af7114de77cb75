"""Drawing a rate chart with matplotlib, headless (the Agg canvas, no pyplot and no display).

One panel per rate, stacked (the bounce and complaint thresholds are 50 times apart): the hourly values, the
review and pause levels as dashed lines, the current figure as a dot with its level. The figures go into
the PNG's text chunks too (`Description`: the alt text; `sesbot:figures`: the values as JSON), so what a
picture shows can be read back from the file.
"""

from __future__ import annotations

import io
import json
import math
from typing import TYPE_CHECKING

from bot.alerts.levels import signal_label
from bot.alerts.messages import fmt_pct, upper_first
from bot.charts.words import ChartFigures, RateSeries, alt_text, caption, level_words, title

if TYPE_CHECKING:
    from matplotlib.axes import Axes

WIDTH, HEIGHT, DPI = 900, 450, 100  # pixels: readable in a Slack thread, and what CloudWatch is asked for
FIGURES_KEY = "sesbot:figures"
COLORS = {"bounce_rate": "#1f77b4", "complaint_rate": "#9467bd", "review": "#ff7f0e", "pause": "#d62728"}


def _panel(ax: Axes, figs: ChartFigures, s: RateSeries) -> None:
    from matplotlib.dates import date2num
    from matplotlib.ticker import FuncFormatter

    hours = [float(date2num(figs.hour_of(i))) for i in range(len(s.points))]
    values = [math.nan if v is None else v for v in s.points]
    ax.plot(hours, values, color=COLORS.get(s.signal, "#1f77b4"), linewidth=1.4, label=signal_label(s.signal))
    top = max([v for v in s.points if v is not None] + [0.0])
    for name, value in (("review", s.review), ("pause", s.pause)):
        if value is not None:
            ax.axhline(value, color=COLORS[name], linestyle="--", linewidth=1)
            ax.annotate(
                f"{name} {fmt_pct(value)}",
                (hours[0], value),
                xytext=(2, 2),
                textcoords="offset points",
                fontsize=8,
                color=COLORS[name],
            )
    if s.now_value is not None:
        ax.plot([hours[-1]], [s.now_value], "o", color="black", markersize=5)
        ax.annotate(
            f"now {fmt_pct(s.now_value)} ({level_words(s.level)})",
            (hours[-1], s.now_value),
            xytext=(-6, 6),
            textcoords="offset points",
            ha="right",
            fontsize=8,
        )
    ceiling = max(top, s.now_value or 0.0, (s.pause or 0.0) * 1.25, 0.0001)
    ax.set_ylim(0, min(1.0, ceiling * 1.1))
    ax.set_xlim(hours[0], hours[-1] + 1 / 24)  # dates are days in matplotlib
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_pct(v) if v else "0%"))
    ax.set_ylabel(upper_first(signal_label(s.signal)), fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.tick_params(labelsize=8)


def render_png(figs: ChartFigures) -> bytes:
    """The chart as PNG bytes, `WIDTH` x `HEIGHT` pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(max(1, len(figs.series)), 1, sharex=True, squeeze=False)
    for row, s in zip(axes, figs.series, strict=False):
        _panel(row[0], figs, s)
    axes[-1][0].xaxis.set_major_formatter(DateFormatter("%d %b"))
    fig.suptitle(title(figs), fontsize=11)
    fig.text(0.01, 0.01, caption(figs), fontsize=7, color="#555555", wrap=True)
    fig.subplots_adjust(left=0.09, right=0.98, top=0.9, bottom=0.14, hspace=0.25)
    buf = io.BytesIO()
    metadata = {
        "Title": title(figs),
        "Description": alt_text(figs),
        "Software": "sesbot",
        FIGURES_KEY: json.dumps(figs.as_dict()),
    }
    fig.savefig(buf, format="png", dpi=DPI, metadata=metadata)
    return buf.getvalue()
