"""The recipient's address itself: `recipient.address`.

What `why` read in the address as typed: an invisible character (a zero-width space, a soft hyphen, a
byte-order mark: `bot.target.INVISIBLE`) copied in from a web page or a mail client makes another address,
one with no history and no suppression entry, that looks like the one meant. `why` removes them
(`bot.target.visible`) and this check says so, so the answer never hides that the address was changed.
"""

from __future__ import annotations

from bot.checks import CheckContext, check
from bot.findings import Finding, Severity

#: The run option (`CheckContext.options`) naming the invisible characters removed from the typed address.
REMOVED = "removed"


def _removed(ctx: CheckContext, codes: list[str]) -> Finding:
    what = (
        f"an invisible character {codes[0]} was" if len(codes) == 1 else f"invisible characters {', '.join(codes)} were"
    )
    return ctx.finding(
        Severity.INFO,
        f"Diagnosed {ctx.target}: {what} removed from the address as typed.",
        evidence=[f"{what[0].upper()}{what[1:]} removed (text copied from a web page or a mail client carries them)"],
        data={"removed": codes},
    )


@check("recipient.address")
def recipient_address(ctx: CheckContext) -> list[Finding] | None:
    codes = list(ctx.options.get(REMOVED) or [])
    findings = [_removed(ctx, codes)] if codes else []
    return findings or None
