"""Deps: everything the engine talks to, built once at start and passed in (never global).

Handlers get it by closure and the scheduler by argument; tests build the same object pointed at the
local peers. Building it touches no network and no disk: the store is opened by the first command that
uses it, so `sesbot explain ...` or a mistyped command leaves no database file behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import dns.asyncresolver
import dns.resolver

from bot.aws import AwsClients
from bot.dnsq import make_async_resolver, make_resolver
from bot.settings import Settings
from bot.store import Store


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
        self.aws: AwsClients = aws if aws is not None else AwsClients(settings)
        self.clock = clock
        self.extras: dict[str, Any] = extras if extras is not None else {}

    @classmethod
    def build(cls, settings: Settings, store: Store | None = None, **kw: Any) -> Deps:
        return cls(settings=settings, store=store, aws=AwsClients(settings), **kw)

    @property
    def store(self) -> Store:
        """The SQLite store, opened (and migrated) the first time anything asks for it."""
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    self._store = Store(self.settings.db_path)
        return self._store

    @cached_property
    def resolver(self) -> dns.resolver.Resolver:
        return make_resolver(self.settings)

    def async_resolver(self) -> dns.asyncresolver.Resolver:
        """A fresh asyncio resolver: each event loop needs its own."""
        return make_async_resolver(self.settings)

    def now(self) -> datetime:
        return self.clock()
