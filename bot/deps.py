"""Deps: everything the engine talks to, built once at start and passed in (never global).

Handlers get it by closure and the scheduler by argument; tests build the same object pointed at the
local peers. Building it touches no network and no disk: the store is opened by the first command that
uses it, so `sesbot explain ...` or a mistyped command leaves no database file behind.

With several accounts (`SESBOT_ACCOUNTS`), `deps.accounts()` gives one view per account: the same
settings, store, DNS and clock, with that account's AWS clients and its name in `account`.
"""

from __future__ import annotations

import copy
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import dns.asyncresolver
import dns.resolver

from bot.aws import AwsClients
from bot.dnsq import make_async_resolver, make_resolver
from bot.health import Health
from bot.settings import Account, Settings
from bot.store import Store, StoreUnavailable


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Deps:
    """The engine's dependencies: settings, the store (opened on first use), AWS clients, DNS, a clock."""

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        aws: AwsClients | None = None,
        clock: Callable[[], datetime] = _utcnow,
        extras: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self._store = store
        self._store_lock = threading.Lock()
        self.aws: AwsClients = aws if aws is not None else AwsClients(settings, clock=clock)
        self.clock = clock
        self.extras: dict[str, Any] = extras if extras is not None else {}
        self.health = Health()  # what the background parts report for /healthz (shared by every view)
        self.account: Account | None = None  # None: the default credentials, no account named
        self._root: Deps = self
        self._only: str | None = None  # `narrowed`: the one account `accounts()` gives

    @classmethod
    def build(cls, settings: Settings, store: Store | None = None, **kw: Any) -> Deps:
        return cls(settings=settings, store=store, **kw)

    @property
    def account_name(self) -> str | None:
        return self.account.name if self.account else None

    def for_account(self, account: Account | None) -> Deps:
        """This deps seen from `account` (None: the default credentials); the store and DNS are shared."""
        root = self._root
        if account is None:
            return root
        view = copy.copy(root)
        view.account = account
        view.aws = root.aws.for_account(account)
        return view

    def accounts(self, only: str | None = None) -> list[Deps]:
        """One view per configured account (`only`: that one by name); just this one when none is set."""
        configured = self.settings.accounts
        if not configured:
            return [self._root]
        only = only or self._only
        chosen = [a for a in configured if only is None or a.name.lower() == only.lower()]
        return [self.for_account(a) for a in chosen]

    def narrowed(self, account: str | None) -> Deps:
        """This deps with `accounts()` limited to the account named (`why --account prod`); None: all."""
        if account is None:
            return self
        view = copy.copy(self)
        view._only = account
        return view

    @property
    def store(self) -> Store:
        """The SQLite store, opened (and migrated) the first time anything asks for it."""
        if self._root is not self:
            return self._root.store
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    try:
                        self._store = Store(self.settings.db_path)
                    except (OSError, sqlite3.Error) as exc:  # a directory, not a database, not writable
                        raise StoreUnavailable(self.settings.db_path, exc) from exc
        return self._store

    @cached_property
    def resolver(self) -> dns.resolver.Resolver:
        return make_resolver(self.settings)

    def async_resolver(self) -> dns.asyncresolver.Resolver:
        """A fresh asyncio resolver: each event loop needs its own."""
        return make_async_resolver(self.settings)

    def now(self) -> datetime:
        return self.clock()
