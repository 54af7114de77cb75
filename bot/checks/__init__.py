"""Checks: small functions that each answer one question about a target and return findings.

A check is registered with `@check("recipient.suppressed", per_region=True)` in the module of its
concern; `REGISTRY` keeps them in report order (the order modules are imported in `bot.checks.all`).
The runner (`bot.runner`) runs them concurrently, each with its own timeout.

A check function takes a `CheckContext` and returns a `Finding`, a list of them, or None (nothing to say).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from bot.deps import Deps
from bot.findings import Finding


class RunMemo:
    """What the checks of one run share: each key is fetched once, by the first check that asks;
    the others wait for that answer (or that error). A new run starts with a new memo, so a Re-run
    right after a fix never sees the old state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[Any, Future] = {}

    def once(self, key: Any, fetch: Callable[[], Any]) -> Any:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if owner:
                future = self._futures[key] = Future()
        if owner:
            try:
                future.set_result(fetch())
            except BaseException as exc:  # every check that shares the call reports the same failure
                future.set_exception(exc)
        return future.result()


@dataclass
class CheckContext:
    """What a check gets: the target, the region it runs for (per-region checks), the deps."""

    deps: Deps
    target: str  # the email address (or domain) being diagnosed
    region: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    memo: RunMemo = field(default_factory=RunMemo)

    @property
    def settings(self):  # noqa: ANN201 - convenience
        return self.deps.settings

    @property
    def recipient_domain(self) -> str:
        return self.target.rpartition("@")[2].lower()

    def client(self, service: str) -> Any:
        return self.deps.aws.get(service, self.region)


CheckFn = Callable[[CheckContext], "Finding | list[Finding] | None"]


@dataclass(frozen=True)
class Check:
    id: str
    fn: CheckFn
    per_region: bool = False
    suite: str = "why"  # which report it belongs to: why, domain, ...
    timeout: float | None = None  # None = the setting SESBOT_CHECK_TIMEOUT


REGISTRY: list[Check] = []


def check(check_id: str, *, per_region: bool = False, suite: str = "why", timeout: float | None = None):
    """Register a check function under a stable id."""

    def deco(fn: CheckFn) -> CheckFn:
        REGISTRY.append(Check(check_id, fn, per_region=per_region, suite=suite, timeout=timeout))
        return fn

    return deco


def checks_for(suite: str) -> list[Check]:
    """A suite's checks in report order: the order of `bot.checks.all.MODULES`, then registration
    order (which module a test happened to import first must not change a report)."""
    from bot.checks.all import MODULES

    rank = {name: i for i, name in enumerate(MODULES)}
    ordered = sorted(enumerate(REGISTRY), key=lambda p: (rank.get(p[1].fn.__module__, len(rank)), p[0]))
    return [c for _, c in ordered if c.suite == suite]
