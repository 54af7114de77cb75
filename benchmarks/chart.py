"""How long drawing the rate chart takes (issue 14: "well under a second").

Draws sesbot's own picture (`bot.charts.draw.render_png`, matplotlib, headless) of a 7-day hourly bounce and
complaint series with some hours missing, as the incident threads get it when CloudWatch has no figures:
the first drawing in a fresh process (matplotlib's import included) and the median of the next 20. Prints
the PNG's size too. Nothing is asserted.

    .venv/bin/python benchmarks/chart.py
"""

from __future__ import annotations

import math
import statistics
import struct
import time
from datetime import UTC, datetime

from bot.charts.words import ChartFigures, RateSeries

HOURS = 7 * 24


def figures() -> ChartFigures:
    bounce = [None if h % 29 == 0 else 0.02 + 0.03 * (1 + math.sin(h / 9)) / 2 for h in range(HOURS)]
    complaint = [None if h % 31 == 0 else 0.0004 + 0.0004 * (1 + math.cos(h / 7)) / 2 for h in range(HOURS)]
    series = [
        RateSeries("bounce_rate", bounce, bounce[-1], "near_review", 0.05, 0.10),
        RateSeries("complaint_rate", complaint, complaint[-1], "elevated", 0.001, 0.005),
    ]
    return ChartFigures("us-east-1", "", 7, datetime.now(UTC), "history", series)


def main() -> None:
    figs = figures()
    started = time.perf_counter()
    from bot.charts.draw import render_png

    png = render_png(figs)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(20):
        t = time.perf_counter()
        render_png(figs)
        warm.append(time.perf_counter() - t)
    width, height = struct.unpack(">II", png[16:24])
    print(f"rate chart, 7 days hourly, 2 panels: {width}x{height} px, {len(png):,} bytes")
    print(f"first drawing (matplotlib import included): {cold * 1000:.0f} ms")
    print(f"next 20: median {statistics.median(warm) * 1000:.0f} ms, max {max(warm) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
