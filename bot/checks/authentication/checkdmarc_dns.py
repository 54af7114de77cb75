"""checkdmarc, kept on the bot's resolver: importing this module switches off checkdmarc's process-wide
DNS cache (or fails loudly if a checkdmarc upgrade moved it), and `dns_options` gives the keyword
arguments every checkdmarc parse call takes so that all of its lookups go to our nameservers, with our
timeout and no retries. Verified by the tests against a DNS peer on an ephemeral port."""

from __future__ import annotations

from typing import Any

import checkdmarc.utils
import dns.resolver

# checkdmarc caches every answer process-wide for 30 minutes, keyed by name and type only: a record a
# person has just fixed would be reported stale, and answers from one resolver served for another. Its
# `query_dns` reads this module global at call time and caches only into an ExpiringDict, but its MX
# path (`get_mx_record_set`) stores into whatever the global is: a mapping that keeps nothing leaves
# every lookup live.
if not hasattr(checkdmarc.utils, "DNS_CACHE"):  # pragma: no cover - a checkdmarc upgrade moved it
    raise ImportError("checkdmarc.utils.DNS_CACHE is gone: re-check how sesbot disables checkdmarc's DNS cache")


class _KeepsNothing(dict[str, Any]):
    """A cache that never stores: every ``cache[key] = answer`` is dropped, every ``get`` misses."""

    def __setitem__(self, key: str, value: Any) -> None:
        return None


checkdmarc.utils.DNS_CACHE = _KeepsNothing()


def dns_options(resolver: dns.resolver.Resolver, timeout: float) -> dict[str, Any]:
    """The DNS arguments of a checkdmarc parse call: ``resolver=`` (whose ``Do53Nameserver`` entries carry
    the port) **and** ``nameservers=`` (the same nameserver objects), since checkdmarc 6.0.4 looks up an
    SPF ``exp=`` target without passing the resolver on and would otherwise ask the system's resolver."""
    return {"resolver": resolver, "nameservers": list(resolver.nameservers), "timeout": timeout, "retries": 0}
