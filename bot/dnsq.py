"""DNS access: resolvers built from `SESBOT_DNS_SERVERS` (or the system's), with the bot's timeout.

DNSBLs refuse public resolvers, so the bot needs its own resolver setting; tests point it at a local
server on an ephemeral port, which is why servers are `host[:port]`.
"""

from __future__ import annotations

from typing import TypeVar

import dns.asyncresolver
import dns.nameserver
import dns.resolver

from bot.settings import Settings

_R = TypeVar("_R", bound=dns.resolver.BaseResolver)


def _configure(resolver: _R, settings: Settings) -> _R:
    if settings.dns_servers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(s.host, s.port) for s in settings.dns_servers]
    resolver.lifetime = settings.dns_timeout
    resolver.timeout = min(settings.dns_timeout, 2.0)
    resolver.cache = None
    return resolver


def make_resolver(settings: Settings) -> dns.resolver.Resolver:
    """A blocking resolver (thread-safe for queries)."""
    return _configure(dns.resolver.Resolver(configure=not settings.dns_servers), settings)


def make_async_resolver(settings: Settings) -> dns.asyncresolver.Resolver:
    """An asyncio resolver, for fan-outs such as blocklist lookups."""
    return _configure(dns.asyncresolver.Resolver(configure=not settings.dns_servers), settings)
