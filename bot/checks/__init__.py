"""Checks: small functions that each answer one question about a target and return findings.

A check is registered with `@check("recipient.suppressed", per_region=True)` in the module of its
concern; `REGISTRY` keeps them in report order (the order modules are imported in `bot.checks.all`).
The runner (`bot.runner`) runs them concurrently, each with its own timeout.

A check function takes a `CheckContext` and returns a `Finding`, a list of them, or None (nothing to say);
`ctx.finding(severity, summary, ...)` builds one under the check's registered id. Adding a check is one
function with one `@check(...)` line in a module listed in `bot.checks.all.MODULES` (a new module: one line
there too). May import the rest of the engine (`bot.*`); never `handlers` or `sesbot`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from bot.deps import Deps
from bot.findings import Finding, Severity
from bot.settings import Settings


class RunMemo:
    """What the checks of one run share: each key is fetched once, by the first check that asks;
    the others wait for that answer (or that error). A new run starts with a new memo, so a Re-run
    right after a fix never sees the old state."""

    def __init__(self, _family: dict[str | None, RunMemo] | None = None) -> None:
        self._lock = threading.Lock()
        self._futures: dict[Any, Future[Any]] = {}
        # The run's memo of each account (`for_account`): one family, shared by all of them.
        self._family: dict[str | None, RunMemo] = _family if _family is not None else {None: self}
        self._family_lock = threading.Lock() if _family is None else None

    def for_account(self, account: str | None) -> RunMemo:
        """This run's memo for `account` (a name of `SESBOT_ACCOUNTS`; None: the default credentials), the
        same one each time it is asked: one account's answers are never read as another's."""
        root = self._family[None]
        assert root._family_lock is not None
        with root._family_lock:
            memo = self._family.get(account)
            if memo is None:
                memo = self._family[account] = RunMemo(self._family)
            return memo

    def once(self, key: Any, fetch: Callable[[], Any]) -> Any:
        with self._lock:
            existing = self._futures.get(key)
            owner = existing is None
            future: Future[Any] = Future() if existing is None else existing
            if owner:
                self._futures[key] = future
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
    check_id: str = ""  # the id the running check was registered under (set by the runner)

    @property
    def settings(self) -> Settings:
        return self.deps.settings

    def finding(self, severity: Severity, summary: str, **kwargs: Any) -> Finding:
        """A finding of the running check: its registered id and this context's region.

        Check bodies use this instead of repeating their id as a string literal.
        """
        kwargs.setdefault("region", self.region)
        return Finding(self.check_id, severity, summary, **kwargs)

    @property
    def recipient_domain(self) -> str:
        return self.target.rpartition("@")[2].lower()

    def client(self, service: str) -> Any:
        return self.deps.aws.get(service, self.region)

    def scopes(self) -> list[Scope]:
        """Every account (`SESBOT_ACCOUNTS`, or the one `--account` names) and region, as the runner runs a
        per-region check: for a check that looks across them all at once (the domain suite, compliance)."""
        regions: list[str | None] = list(self.settings.regions) or [None]
        return [
            Scope(view, self.memo.for_account(view.account_name), region)
            for view in self.deps.accounts()
            for region in regions
        ]


@dataclass(frozen=True)
class Scope:
    """One account and region: its deps view, its memo of this run, the region."""

    deps: Deps
    memo: RunMemo
    region: str | None

    @property
    def account(self) -> str | None:
        return self.deps.account_name


CheckFn = Callable[[CheckContext], "Finding | list[Finding] | None"]


@dataclass(frozen=True)
class Check:
    id: str
    fn: CheckFn
    per_region: bool = False
    suite: str = "why"  # which report it belongs to: why, domain, ...
    timeout: float | None = None  # None = the setting SESBOT_CHECK_TIMEOUT


REGISTRY: list[Check] = []


class DuplicateCheck(ValueError):
    """Two check functions asked for the same id: ids are part of the JSON output and must be unique."""


def check(
    check_id: str, *, per_region: bool = False, suite: str = "why", timeout: float | None = None
) -> Callable[[CheckFn], CheckFn]:
    """Register a check function under a stable id; a second function with the same id is refused."""

    def deco(fn: CheckFn) -> CheckFn:
        for existing in REGISTRY:
            if existing.id == check_id and existing.fn is not fn:
                where = f"{existing.fn.__module__}.{existing.fn.__qualname__}"
                raise DuplicateCheck(f"check id {check_id!r} is already registered by {where}")
        if not any(c.fn is fn for c in REGISTRY):
            REGISTRY.append(Check(check_id, fn, per_region=per_region, suite=suite, timeout=timeout))
        return fn

    return deco


def checks_for(suite: str) -> list[Check]:
    """A suite's checks in report order: the order of `bot.checks.all.MODULES`, then registration
    order (which module a test happened to import first must not change a report)."""
    from bot.checks.all import MODULES

    def rank(module: str) -> int:
        # A check module may be a package: `bot.checks.authentication.spf` ranks as `bot.checks.authentication`.
        for i, name in enumerate(MODULES):
            if module == name or module.startswith(name + "."):
                return i
        return len(MODULES)

    ordered = sorted(enumerate(REGISTRY), key=lambda p: (rank(p[1].fn.__module__), p[0]))
    return [c for _, c in ordered if c.suite == suite]
