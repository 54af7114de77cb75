"""The recipient's address itself: `recipient.address`.

A local part (before the @) that is not 7-bit ASCII (`jöhn@example.com`) is one SES cannot send to:
"Amazon SES does not support the SMTPUTF8 extension, as described in RFC6531. For this reason, the local part
of a destination email address (the part of the email address that precedes the @ sign) may only contain 7-bit
ASCII characters" (the SESv2 API reference, `Destination`: `SMTPUTF8_DOC`). That is critical, whatever the
history says. An internationalised domain is no problem: the bot reads it in its ASCII form, as SES takes it.

It also says what `why` took out of the address as typed: an invisible character (a zero-width space, a soft hyphen, a
byte-order mark: `bot.target.INVISIBLE`) copied in from a web page or a mail client makes another address,
one with no history and no suppression entry, that looks like the one meant. `why` removes them
(`bot.target.visible`) and this check says so, so the answer never hides that the address was changed.
"""

from __future__ import annotations

from bot.checks import CheckContext, check
from bot.findings import Finding, Severity

SMTPUTF8_DOC = "https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Destination.html"
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


def _not_ascii(ctx: CheckContext, local: str) -> Finding:
    odd = list(dict.fromkeys(c for c in local if not c.isascii()))
    named = ", ".join(f"{c} U+{ord(c):04X}" for c in odd)
    return ctx.finding(
        Severity.CRITICAL,
        f"SES cannot send to {ctx.target}: its local part (before the @) is not 7-bit ASCII, and SES does not "
        "support SMTPUTF8 (RFC 6531).",
        evidence=[
            f"In the local part: {named} (not ASCII)",  # the characters, never the local part (redaction)
            "SES API reference (Destination): the local part of a destination address may only contain 7-bit "
            "ASCII characters",
        ],
        fix=f"Ask the recipient for an address whose part before the @ is plain ASCII. {SMTPUTF8_DOC}",
        data={"ascii_local_part": False},
    )


@check("recipient.address")
def recipient_address(ctx: CheckContext) -> list[Finding] | None:
    codes = list(ctx.options.get(REMOVED) or [])
    findings = [_removed(ctx, codes)] if codes else []
    local = ctx.target.rpartition("@")[0]
    if not local.isascii():
        findings.append(_not_ascii(ctx, local))
    return findings or None
