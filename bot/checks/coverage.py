"""`events.coverage`: when the history has nothing for the recipient (no event, no delivery), what the bot
cannot see, and the fix.

An empty history only means "nothing went wrong" when SES events reach the bot. This check reuses the
`setup` inspection (cached for a few minutes, see `bot.setup.inspect_cached`) to say which event
types the bot sees in the region, and points at `sesbot setup --apply` when bounces, complaints or
delivery delays are not published to it.
"""

from __future__ import annotations

from bot.aws import MissingRegion
from bot.checks import CheckContext, check
from bot.findings import Finding
from bot.history import last_delivery, recipient_events
from bot.setup import coverage_finding, inspect_cached


@check("events.coverage", per_region=True)
def events_coverage(ctx: CheckContext) -> Finding | None:
    store = ctx.deps.store
    # The store keeps addresses lower-cased; a delivery is kept as the latest time only, not as an event.
    if recipient_events(store, ctx.target.lower(), limit=1) or last_delivery(store, ctx.target):
        return None  # the history speaks for itself
    store_has_events = bool(store.query("SELECT 1 AS x FROM events LIMIT 1")) or bool(
        store.query("SELECT 1 AS x FROM counters LIMIT 1")
    )
    if ctx.region is None:
        raise MissingRegion()
    return coverage_finding(inspect_cached(ctx.deps, ctx.region), ctx.target, store_has_events)
