"""Checks: small functions that each answer one question about a target and return findings.

A check is registered with `@check("recipient.suppressed", per_region=True)` in the module of its
concern; `REGISTRY` keeps them in report order (the order modules are imported in `bot.checks.all`).
The runner (`bot.runner`) runs them concurrently, each with its own timeout.

A check function takes a `CheckContext` and returns a `Finding`, a list of them, or None (nothing to say).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.deps import Deps
from bot.findings import Finding


@dataclass
class CheckContext:
    """What a check gets: the target, the region it runs for (per-region checks), the deps."""

    deps: Deps
    target: str  # the email address (or domain) being diagnosed
    region: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

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
    import bot.checks.all  # noqa: F401  (registers every check, in report order)

    return [c for c in REGISTRY if c.suite == suite]
