"""The App Home's rate charts: drawn once per sweep reading, uploaded to Slack as a private file, shown by id.

`HomeCharts` is the Home's `ChartSource`. Called with an account and a region it only looks up: the chart
kept in the store for the reading the Home shows (`bot.dashboard.kept_chart`), as an image block's
`slack_file` id, or None. Drawing and uploading is `prepare()`: for each account and region the last sweep
read whose chart is not kept for that reading, `bot.charts.rate_chart` with that account's clients, then
Slack's external upload (`files_upload_v2` without a channel: a private file of the bot, which a Block Kit
image may show by its id once Slack has processed it; `files.info` is asked until it has). So opening the
Home never waits on a picture: the Home is published with the charts that are ready, and the missing ones
are prepared on this source's own worker (`in_background`: one drawing at a time, never on the answer pool
that publishes the Homes, so nobody's opening waits behind AWS or an upload), which then publishes it again;
the sweep's refresh prepares them before it publishes.

A chart that cannot be drawn or uploaded is one log line and no image (the figures are in the text above
it); it is not tried again for the same reading. The file a chart replaces is deleted one replacement
later (`files.delete`), so a view published a moment earlier never points at a deleted file and the
workspace does not fill up with old charts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.aws import describe_error
from bot.charts import DEFAULT_DAYS, rate_chart
from bot.dashboard import KeptChart, keep_chart, kept_chart, reading_mark
from bot.deps import Deps
from bot.findings import where
from handlers.home_view import Chart
from handlers.work import Work

log = logging.getLogger(__name__)
PROCESSING_WAITS = (0.25, 0.5, 1.0, 2.0)  # seconds between files.info asks while Slack processes a new file
CHART_QUEUE = 20  # Home openings whose charts wait for the chart worker; beyond, the next sweep's refresh has them


def _failure(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if exc.response is not None else None
        return f"Slack answered {error or 'an error'}"
    return describe_error(exc)


class HomeCharts:
    """The rate chart of each account and region on the App Home (`handlers.home_view.ChartSource`)."""

    def __init__(
        self,
        deps: Deps,
        client: WebClient,
        days: int = DEFAULT_DAYS,
        processing_waits: tuple[float, ...] = PROCESSING_WAITS,
        queue: int = CHART_QUEUE,
    ) -> None:
        self.deps, self.client, self.days = deps, client, days
        self.processing_waits = processing_waits
        self._work = Work(workers=1, queue=queue)  # drawing after a Home opening, off the answer pool
        self._lock = threading.Lock()
        self._making: dict[tuple[str, str], threading.Lock] = {}  # one drawing at a time per account and region
        self._failed: dict[tuple[str, str], str] = {}  # the reading whose chart failed: not tried again for it

    def __call__(self, account: str, region: str) -> Chart | None:
        """The chart uploaded for the reading the Home shows of `account` in `region`; None when none is."""
        store = self.deps.store
        mark = reading_mark(store, account, region)
        kept = kept_chart(store, account, region)
        if mark is None or kept is None or kept.reading != mark:
            return None
        return Chart(alt_text=kept.alt_text, slack_file_id=kept.file_id, title=kept.title)

    def missing(self) -> list[tuple[Deps, str, str]]:
        """(account view, region, reading) of each chart the Home would show but has not got yet."""
        store = self.deps.store
        owed = []
        for view in self.deps.accounts():
            account = view.account_name or ""
            for region in self.deps.settings.regions:
                mark = reading_mark(store, account, region)
                if mark is None or self._failed.get((account, region)) == mark:
                    continue
                kept = kept_chart(store, account, region)
                if kept is None or kept.reading != mark:
                    owed.append((view, region, mark))
        return owed

    def in_background(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run `fn(*args)` (which prepares charts) on this source's own worker, after those already waiting;
        False when `queue` already wait (nothing runs)."""
        admission = self._work.admit()
        if not admission.accepted:
            return False
        admission.start(fn, *args)
        return True

    def shutdown(self, wait: bool = False) -> None:
        """Take no more background work and drop what waits; with `wait`, return once the drawing running is
        done."""
        self._work.shutdown(wait=wait)

    def prepare(self) -> int:
        """Draw and upload every missing chart; how many were made."""
        return sum(self._make(view, region, mark) for view, region, mark in self.missing())

    def _lock_of(self, key: tuple[str, str]) -> threading.Lock:
        with self._lock:
            return self._making.setdefault(key, threading.Lock())

    def _make(self, view: Deps, region: str, mark: str) -> bool:
        account = view.account_name or ""
        key = (account, region)
        store = self.deps.store
        with self._lock_of(key):  # two Homes opened at once: the second finds the first one's chart
            kept = kept_chart(store, account, region)
            if (kept is not None and kept.reading == mark) or self._failed.get(key) == mark:
                return False
            try:
                chart = rate_chart(view, region, days=self.days)
                image = chart.image
                answer = self.client.files_upload_v2(
                    content=image.data, filename=image.filename, title=image.title, alt_txt=image.alt_text
                )
                file = answer.get("file") or {}
                file_id = str(file.get("id") or "")
                if not file_id:
                    raise ValueError("Slack answered no file id")
                self._wait_processed(file)
            except Exception as exc:  # noqa: BLE001 - a chart never breaks the Home: its figures are there in words
                self._failed[key] = mark
                log.warning(
                    "no chart on the App Home for %s (%s); it shows the figures without one",
                    where(account, region),
                    _failure(exc),
                )
                return False
            replaced = kept.file_id if kept else ""
            keep_chart(store, account, region, KeptChart(mark, file_id, image.alt_text, image.title, replaced))
        if kept is not None and kept.replaced:
            self._delete(kept.replaced)
        return True

    def _wait_processed(self, file: dict[str, Any]) -> None:
        """Slack completes an upload asynchronously and refuses an image of a file it has not processed yet
        (the file has no mimetype until then): ask `files.info` again, waiting `processing_waits` in turn."""
        waits = iter(self.processing_waits)
        while not file.get("mimetype"):
            wait = next(waits, None)
            if wait is None:
                raise TimeoutError(f"Slack was still processing the file after {sum(self.processing_waits):g} s")
            time.sleep(wait)
            file = self.client.files_info(file=str(file["id"]))["file"] or {}

    def _delete(self, file_id: str) -> None:
        try:
            self.client.files_delete(file=file_id)
        except Exception as exc:  # noqa: BLE001 - an old chart left behind is untidy, not wrong
            log.info("could not delete the old App Home chart %s (%s)", file_id, _failure(exc))
