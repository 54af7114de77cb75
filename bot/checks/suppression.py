"""Suppression list: is the recipient on the account's suppression list in this region?

One check, `recipient.suppressed`. A suppressed address is a top cause of "the mail never arrived":
SES accepts the send, returns a MessageId, never delivers it, and reports a
`Permanent/OnAccountSuppressionList` bounce that nobody reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.aws import error_code
from bot.checks import CheckContext, check
from bot.checks.account import account_unavailable, get_account
from bot.findings import Finding, Severity
from bot.timefmt import when

CHECK = "recipient.suppressed"
SUPPRESSION_DOC = "https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list.html"


def _lookup(ctx: CheckContext, address: str) -> dict[str, Any] | None:
    try:
        return ctx.client("sesv2").get_suppressed_destination(EmailAddress=address)["SuppressedDestination"]
    except Exception as exc:
        if error_code(exc) == "NotFoundException":
            return None
        raise


def _suppressed_reasons(ctx: CheckContext) -> list[str] | None:
    """The reasons the account list collects, from the shared GetAccount answer; None if unknown."""
    try:
        account = get_account(ctx)
    except Exception:  # the account checks report that failure; here it only loses a note
        return None
    attrs = account.get("SuppressionAttributes")
    if attrs is None:
        return None
    return list(attrs.get("SuppressedReasons") or [])


@check(CHECK, per_region=True)
def suppressed(ctx: CheckContext) -> Finding:
    region, address = ctx.region, ctx.target
    try:
        entry = _lookup(ctx, address)
        # The list matches addresses as SES stored them; a differently-cased local part is worth a look.
        if entry is None and address != address.lower():
            entry = _lookup(ctx, address.lower())
    except Exception as exc:
        return account_unavailable(CHECK, exc, region, "GetSuppressedDestination")

    reasons = _suppressed_reasons(ctx)
    reasons_line = (
        None
        if reasons is None
        else (
            f"Account suppression list collects: {', '.join(reasons)}"
            if reasons
            else "Account suppression list collects nothing (SuppressedReasons is empty)"
        )
    )

    if entry is None:
        evidence = [f"GetSuppressedDestination({address}): NotFoundException"]
        if reasons_line:
            evidence.append(reasons_line)
        summary = f"{address} is not on the account suppression list in {region}."
        fix = ""
        if reasons == []:
            # Without the list, SES keeps sending to addresses that hard-bounce; they count toward the
            # bounce rate that decides reviews and pauses.
            summary += " (The account-level suppression list is turned off.)"
            fix = (
                "Consider turning it on: `aws sesv2 put-account-suppression-attributes "
                f"--suppressed-reasons BOUNCE COMPLAINT --region {region}` ({SUPPRESSION_DOC})"
            )
        return Finding(CHECK, Severity.OK, summary, evidence=evidence, fix=fix, data={"suppressed": False})

    now = ctx.deps.now()
    reason = entry.get("Reason") or "unknown"
    attrs = entry.get("Attributes") or {}
    stored = entry.get("EmailAddress") or address
    evidence = [
        f"Reason: {reason}",
        f"On the list since: {when(entry.get('LastUpdateTime'), now)}",
    ]
    if attrs.get("MessageId"):
        evidence.append(f"Put there by message: {attrs['MessageId']}")
    if attrs.get("FeedbackId"):
        evidence.append(f"Feedback ID: {attrs['FeedbackId']}")
    if reasons_line:
        evidence.append(reasons_line)
    evidence.append(
        "SES accepts sends to this address, returns a MessageId, and never delivers them; each one is "
        "reported as a Permanent/OnAccountSuppressionList bounce."
    )
    remove = f"`aws sesv2 delete-suppressed-destination --email-address {stored} --region {region}`"
    if reason == "COMPLAINT":
        cause = "after they marked a message as spam"
        fix = (
            f"Only if {stored} has asked to get your mail again, remove it: {remove}. Sending to people who "
            f"complained raises the complaint rate AWS reviews accounts on. ({SUPPRESSION_DOC})"
        )
    else:
        cause = "after a hard bounce" if reason == "BOUNCE" else f"(reason {reason})"
        fix = (
            f"Make sure the address is valid now (ask the person; check the recipient.bounces history), then "
            f"remove it: {remove}. ({SUPPRESSION_DOC})"
        )
    updated = entry.get("LastUpdateTime")
    return Finding(
        CHECK,
        Severity.CRITICAL,
        f"{stored} is on the account suppression list in {region} {cause}: SES accepts mail to it "
        "but never delivers it.",
        evidence=evidence,
        fix=fix,
        data={
            "suppressed": True,
            "reason": reason,
            "last_update": updated.isoformat() if isinstance(updated, datetime) else updated,
            "message_id": attrs.get("MessageId"),
            "feedback_id": attrs.get("FeedbackId"),
        },
    )
