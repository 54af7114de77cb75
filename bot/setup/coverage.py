"""`events.coverage` wording: the history has nothing for a recipient; what the bot cannot see, and the fix.

One job: the finding of the `why` check `events.coverage` (`bot.checks.coverage`), from the cached setup
inspection (`inspection.inspect_cached`): an empty history only means "nothing went wrong" when SES events
reach the bot.
"""

from __future__ import annotations

from bot.findings import Finding, Severity
from bot.setup.model import Inspection
from bot.setup.report import DOC_DEFAULT_SET, DOC_EVENTS, DOC_SNS_DESTINATION, sources_evidence, words


def coverage_finding(insp: Inspection, recipient: str, store_has_events: bool) -> Finding:
    """`events.coverage`: the history has nothing for `recipient`; what the bot cannot see, and how to fix it."""
    check, region = "events.coverage", insp.region
    problems = [i.error for i in insp.identities if i.error] + insp.errors
    problems += [insp.config_sets_error] if insp.config_sets_error else []
    cov = insp.coverage()
    evidence = sources_evidence(insp)
    data = {"coverage": {t: {"scope": c.scope, "via": c.via} for t, c in cov.items()}}
    head = f"No events recorded for {recipient}"
    missing = [t for t in ("BOUNCE", "COMPLAINT") if cov[t].scope == "none"]
    partial = [t for t in ("BOUNCE", "COMPLAINT", "DELIVERY_DELAY") if cov[t].scope == "some"]
    fix = (
        "Publish bounce, complaint, delivery-delay, reject and rendering-failure events to the bot: "
        f"`sesbot setup --apply` (then set SESBOT_SQS_QUEUE_URL if it says so). {DOC_EVENTS}"
    )
    if problems and (missing or cov["DELIVERY_DELAY"].scope == "none"):
        return Finding(
            check,
            Severity.WARNING,
            f"{head}, and the bot could not inspect its event setup in {region}: {problems[0]}",
            evidence,
            "Grant the bot read access to SES (see `sesbot setup`), then ask again.",
            region=region,
            data={**data, "could_not_check": True},
        )
    if insp.queue is None and not any(t.https for t in insp.topics.values()):
        return Finding(
            check,
            Severity.WARNING,
            f"{head}: the bot reads no event queue (SESBOT_SQS_QUEUE_URL is not set), so it cannot see bounces, "
            "complaints or delays",
            evidence,
            fix,
            region=region,
            data=data,
        )
    if missing:
        return Finding(
            check,
            Severity.WARNING,
            f"{head}, but the bot cannot see {words(missing)} in {region}: a bounce to this address would not show",
            evidence,
            fix,
            region=region,
            data=data,
        )
    if cov["DELIVERY_DELAY"].scope == "none":
        return Finding(
            check,
            Severity.WARNING,
            f"{head}; the bot sees bounces and complaints in {region} but no DELIVERY_DELAY events: mail SES is "
            "still retrying (greylisting, a full mailbox, a blocked IP) stays invisible until it bounces, up to "
            "14 hours later",
            evidence,
            "Add DELIVERY_DELAY to the configuration set's event destination (`sesbot setup --apply` does). "
            + DOC_SNS_DESTINATION,
            region=region,
            data=data,
        )
    if partial:
        return Finding(
            check,
            Severity.WARNING,
            f"{head}; in {region} the bot sees {words(partial, 'and')} only for mail that names a configuration set",
            evidence,
            "Make that configuration set the sender identity's default (`sesbot setup --apply` does), or make sure "
            f"the sending code names it. {DOC_DEFAULT_SET}",
            region=region,
            data=data,
        )
    caveat = (
        ""
        if store_has_events
        else " (the history holds no events at all yet: if mail has been going out for a while, check that the "
        "bot's queue consumer runs)"
    )
    return Finding(
        check,
        Severity.INFO,
        f"{head}: the bot sees bounces, complaints and delays in {region}, so SES has reported no problem with mail "
        f"to this address{caveat}",
        evidence,
        "If mail still did not arrive, it was delivered: look in the recipient's spam folder and at their own filters.",
        region=region,
        data=data,
    )
