"""Deps: everything the engine talks to, built once at start and passed in (never global).

Handlers get it by closure and the scheduler by argument; tests build the same object pointed at the
local peers. Building it touches no network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass
class Deps:
    settings: Settings
    store: Store
    aws: AwsClients
    clock: Callable[[], datetime] = _utcnow
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, store: Store | None = None, **kw: Any) -> Deps:
        return cls(settings=settings, store=store or Store(settings.db_path), aws=AwsClients(settings), **kw)

    @cached_property
    def resolver(self) -> dns.resolver.Resolver:
        return make_resolver(self.settings)

    def async_resolver(self) -> dns.asyncresolver.Resolver:
        """A fresh asyncio resolver: each event loop needs its own."""
        return make_async_resolver(self.settings)

    def now(self) -> datetime:
        return self.clock()
