"""The recipient's own history: what SES told us about mail to this address (and its domain) lately.

Six checks read the `events` table (written by the ingest) over a lookback window: `recipient.bounces`,
`recipient.blocklist`, `recipient.complaints`, `recipient.delays`, `recipient.rejects` and
`recipient.rendering`; `recipient.bounces` also reads the recipient's latest delivery time (`last_delivery`,
since deliveries are not stored as events). They need no network, so they answer in milliseconds. Each says
the window it looked at; a history with nothing in it is not proof that nothing happened (`events.coverage`
says what the bot cannot see).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from bot.checks import CheckContext, check
from bot.checks.compliance.requirements import RejectionMatch, rejection_for
from bot.classify import BLOCKLISTS, classify
from bot.findings import Finding, Severity
from bot.history import domain_blocklist_events, domain_blocklist_refusals, last_delivery, recipient_events
from bot.redact import clip
from bot.store import iso
from bot.timefmt import when

LOOKBACK = timedelta(days=30)
MAX_LISTED = 5  # events spelled out in evidence; the rest are counted
QUOTE_CHARS = 300  # remote text quoted in evidence
SUMMARY_QUOTE_CHARS = 160  # remote text quoted in a summary

BOUNCE = ("Bounce",)
COMPLAINT = ("Complaint",)
DELAY = ("DeliveryDelay",)
REJECT = ("Reject",)
RENDERING = ("RenderingFailure", "Rendering Failure")  # the event type has a space; the store may not

BLOCKLIST_CATEGORIES = ("ip_blocklist", "domain_blocklist")
# bounceSubType Suppressed: SES's global suppression list, which recipient.suppressed cannot read. The claim
# is the classifier's (wording.toml, kind.suppressed).
GLOBAL_SUBTYPE = "suppressed"
GLOBAL_LIST = "SES's global suppression list"
GLOBAL_FIX = (
    f"On {GLOBAL_LIST} (not the account's, which recipient.suppressed reads): no API reads or changes it, "
    "and SES takes the address off on its own within 14 days; stop sending to it until then."
)
ACCOUNT_LIST_FIX = "See recipient.suppressed for why it is on the list and how to remove it."
# complaintSubType of a send SES did not make because the address is on the account suppression list.
SUPPRESSED_COMPLAINT = "OnAccountSuppressionList"
DEDICATED_IP_DOC = "https://docs.aws.amazon.com/ses/latest/dg/dedicated-ip.html"
EVENTS_DOC = "https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html"
SUPPRESSION_DOC = "https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list.html"
TEMPLATE_DOC = "https://docs.aws.amazon.com/ses/latest/dg/send-personalized-email-api.html"

# What each DeliveryDelay type means, in the words of the SES event reference.
DELAY_TYPES = {
    "InternalFailure": "an internal SES issue delayed the message",
    "General": "a generic failure occurred during the SMTP conversation",
    "MailboxFull": "the recipient's mailbox is full",
    "SpamDetected": "the receiving server saw a high volume of unsolicited mail from your account",
    "RecipientServerError": "a temporary problem with the recipient's mail server",
    "IPFailure": "the receiving provider is blocking or throttling the sending IP address",
    "TransientCommunicationFailure": "a temporary communication failure with the recipient's mail server",
    "BYOIPHostNameLookupUnavailable": "SES could not look up the host name of your BYOIP addresses",
    "Undetermined": "SES could not determine the reason",
    "SendingDeferral": "SES deferred the message internally",
}

_MISSING_ATTR = re.compile(r"Attribute '([^']+)' is not present", re.I)
_WS = re.compile(r"\s+")


# -- shared helpers ----------------------------------------------------------------------------------


def _window(ctx: CheckContext) -> tuple[datetime, str]:
    now = ctx.deps.now()
    return now - LOOKBACK, f"Looked at the last {LOOKBACK.days} days of the bot's event history."


def _recipient_rows(ctx: CheckContext, types: tuple[str, ...], since: datetime) -> list[dict[str, Any]]:
    """The recipient's events, newest first; the address as typed and lower-cased if that differs."""
    store = ctx.deps.store
    rows = recipient_events(store, ctx.target, since=since, types=types)
    if ctx.target != ctx.target.lower():
        seen = {r["id"] for r in rows}
        rows += [
            r for r in recipient_events(store, ctx.target.lower(), since=since, types=types) if r["id"] not in seen
        ]
        rows.sort(key=lambda r: r["timestamp"], reverse=True)
    return rows


def _quote(text: str | None, limit: int = QUOTE_CHARS) -> str:
    """Remote text on one line, cut at a word boundary: enough to read, never a wall."""
    if not text:
        return ""
    flat = _WS.sub(" ", str(text)).strip()
    if len(flat) <= limit:
        return flat
    cut = clip(flat, limit - 1)
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def _classification(row: dict[str, Any]) -> Any:
    return classify(
        row.get("diagnostic"),
        status=row.get("status"),
        bounce_type=row.get("bounce_type"),
        bounce_subtype=row.get("bounce_subtype"),
        delay_type=row.get("delay_type"),
    )


def _category(row: dict[str, Any]) -> str:
    """The stored classification (the ingest's), else the classifier's answer now."""
    return row.get("category") or _classification(row).category


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _last_delivery(ctx: CheckContext, since: datetime) -> str | None:
    """When mail to the recipient was last delivered, if that falls in the window."""
    at = last_delivery(ctx.deps.store, ctx.target)
    return at if at is not None and at >= iso(since) else None


def _nothing_sent(ctx: CheckContext, since: datetime, latest: str) -> tuple[Severity, str]:
    """A send SES refused or could not render never left SES: with no delivery to the recipient since, it is
    the cause (critical, before account states under which mail still goes out); after one, history (a
    warning, as a hard bounce followed by a delivery is), and the summary's tail says when."""
    delivered = _last_delivery(ctx, since)
    if delivered and delivered > latest:
        return Severity.WARNING, f" A later message was delivered {when(delivered, ctx.deps.now())}."
    return Severity.CRITICAL, ""


def _is_global(row: dict[str, Any]) -> bool:
    return (row.get("bounce_subtype") or "").lower() == GLOBAL_SUBTYPE


def _dropped_on(dropped: list[dict[str, Any]]) -> tuple[str, str]:
    """Which suppression list the drops came from, and what to do: the account's is recipient.suppressed's,
    SES's global one no API reads."""
    on_global = [r for r in dropped if _is_global(r)]
    if len(on_global) == len(dropped):
        return GLOBAL_LIST, GLOBAL_FIX
    if on_global:
        return "a suppression list (the account's or SES's global one)", f"{ACCOUNT_LIST_FIX} {GLOBAL_FIX}"
    return "a suppression list", ACCOUNT_LIST_FIX


def _bounce_line(row: dict[str, Any], now: datetime) -> str:
    kind = "/".join(x for x in (row.get("bounce_type"), row.get("bounce_subtype")) if x) or "Bounce"
    parts = [f"{when(row['timestamp'], now)}: {kind}, category {_category(row)}"]
    if row.get("status"):
        parts.append(f"status {row['status']}")
    line = ", ".join(parts)
    if row.get("diagnostic"):
        line += f': "{_quote(row["diagnostic"], 160)}"'
    return line


# -- recipient.bounces -------------------------------------------------------------------------------


@check("recipient.bounces")
def bounces(ctx: CheckContext) -> list[Finding]:
    """Hard bounces (the verdict, in the remote server's words) and soft bounces, classified."""
    cid = ctx.check_id
    since, window = _window(ctx)
    now = ctx.deps.now()
    rows = _recipient_rows(ctx, BOUNCE, since)
    if not rows:
        return [Finding(cid, Severity.OK, f"No bounces to {ctx.target} in the history.", evidence=[window])]

    delivered = _last_delivery(ctx, since)
    # A suppression-list "bounce" is SES declining to try, not a receiving server's answer: it is told
    # apart so the verdict quotes the last real refusal, and recipient.suppressed owns the cause.
    dropped = [r for r in rows if _category(r) == "suppressed"]
    dropped_ids = {r["id"] for r in dropped}
    hard = [r for r in rows if (r.get("bounce_type") or "").lower() == "permanent" and r["id"] not in dropped_ids]
    hard_ids = {r["id"] for r in hard}
    soft = [r for r in rows if r["id"] not in hard_ids and r["id"] not in dropped_ids]
    findings: list[Finding] = []

    if hard:
        findings.append(_hard_bounce(ctx, hard, dropped, delivered, window, now))
    elif dropped:
        evidence = [f"{when(r['timestamp'], now)}: {r.get('bounce_type')}/{r.get('bounce_subtype')}" for r in dropped]
        on, fix = _dropped_on(dropped)
        findings.append(
            Finding(
                cid,
                Severity.ERROR,
                f"SES dropped {_plural(len(dropped), 'send')} to {ctx.target} without trying to deliver, "
                f"because the address is on {on} (the latest {when(dropped[0]['timestamp'], now)}).",
                evidence=[*evidence[:MAX_LISTED], window],
                fix=f"{fix} {SUPPRESSION_DOC}",
                data={
                    "dropped": len(dropped),
                    "global_suppression": sum(1 for r in dropped if _is_global(r)),
                    "category": "suppressed",
                },
            )
        )

    if soft:
        counts = Counter(_category(r) for r in soft)
        common = counts.most_common(1)[0][0]
        per_category = ", ".join(f"{c} ×{n}" for c, n in counts.most_common())
        evidence = [_bounce_line(r, now) for r in soft[:MAX_LISTED]]
        if len(soft) > MAX_LISTED:
            evidence.append(f"... and {len(soft) - MAX_LISTED} more")
        evidence.append(window)
        severity = Severity.WARNING
        summary = (
            f"{_plural(len(soft), 'soft bounce')} to {ctx.target} ({per_category}), "
            f"the latest {when(soft[0]['timestamp'], now)}."
        )
        if delivered and delivered > soft[0]["timestamp"]:
            severity = Severity.INFO
            summary += f" A later message was delivered {when(delivered, now)}."
        sample = next(r for r in soft if _category(r) == common)
        cls = _classification(sample)
        findings.append(
            Finding(
                cid,
                severity,
                summary,
                evidence=evidence,
                fix=cls.fix if cls.category == common else _fix_for(common),
                data={"soft": len(soft), "categories": dict(counts)},
            )
        )
    return findings


def _hard_bounce(
    ctx: CheckContext,
    hard: list[dict[str, Any]],
    dropped: list[dict[str, Any]],
    delivered: str | None,
    window: str,
    now: datetime,
) -> Finding:
    """The latest hard bounce, in the remote server's words: the verdict-grade finding."""
    last = hard[0]
    cls = _classification(last)
    category = last.get("category") or cls.category
    words = _quote(last.get("diagnostic"), SUMMARY_QUOTE_CHARS)
    said = f': "{words}"' if words else " (no diagnostic text)"
    kind = "/".join(x for x in (last.get("bounce_type"), last.get("bounce_subtype")) if x)
    evidence = [
        f"Latest hard bounce: {when(last['timestamp'], now)} ({kind})",
        f"Category: {category}" + (f" — {cls.summary}" if cls.category == category else ""),
    ]
    if last.get("diagnostic"):
        evidence.append(f'Remote server said: "{_quote(last["diagnostic"])}"')
    for label, key in (
        ("Status", "status"),
        ("Remote MTA", "remote_mta"),
        ("Reporting MTA", "reporting_mta"),
        ("Message ID", "message_id"),
        ("Sender", "source"),
    ):
        if last.get(key):
            evidence.append(f"{label}: {last[key]}")
    if len(hard) > 1:
        evidence.append(
            f"{_plural(len(hard), 'hard bounce')} in the window; earlier ones: "
            + "; ".join(when(r["timestamp"], now) for r in hard[1:MAX_LISTED])
        )
    if dropped:
        on = (
            f"{GLOBAL_LIST}, which SES clears on its own within 14 days"
            if all(_is_global(r) for r in dropped)
            else "the suppression list; see recipient.suppressed"
        )
        evidence.append(
            f"Since then SES dropped {_plural(len(dropped), 'send')} without trying (the address is on "
            f"{on}), the latest {when(dropped[0]['timestamp'], now)}"
        )
    evidence.append(window)
    severity = Severity.CRITICAL
    summary = f"{ctx.target} hard-bounced {when(last['timestamp'], now)} ({category}){said}"
    delivered_after = bool(delivered and delivered > last["timestamp"])
    if delivered and delivered_after:
        severity = Severity.WARNING
        summary += f" — but a later message was delivered {when(delivered, now)}"
        evidence.insert(0, f"Delivered after the bounce: {when(delivered, now)}")
    elif category in BLOCKLIST_CATEGORIES:
        # The more specific cause owns the evidence: recipient.blocklist names the list, the IP and the
        # delisting, with this bounce as its evidence; a second "hard-bounced" verdict beside it says less.
        severity = Severity.INFO
        summary = (
            f"{ctx.target} hard-bounced {when(last['timestamp'], now)} because of a blocklist listing; "
            "recipient.blocklist has the cause."
        )
    fix = cls.fix if cls.category == category else _fix_for(category)
    failed = rejection_for(last.get("diagnostic"), remote_mta=last.get("remote_mta"), domain=ctx.recipient_domain)
    if failed and severity == Severity.CRITICAL:
        summary, fix = _name_requirement(ctx, last, failed, summary, fix, evidence)
    return Finding(
        ctx.check_id,
        severity,
        summary,
        evidence=evidence,
        fix=fix,
        data={
            "requirements": [r.check for r in failed.requirements] if failed else [],
            "hard": len(hard),
            "dropped": len(dropped),
            "category": category,
            "timestamp": last["timestamp"],
            "diagnostic": last.get("diagnostic"),
            "delivered_after": delivered_after,
        },
    )


def _name_requirement(
    ctx: CheckContext, last: dict[str, Any], failed: RejectionMatch, summary: str, fix: str, evidence: list[str]
) -> tuple[str, str]:
    """A receiver's sender-requirement rejection (5.7.26, 5.7.515, Yahoo's 5.7.9): the verdict names the
    requirement that failed and points at `compliance`, which checks them all."""
    sender = (last.get("source") or "").rpartition("@")[2].strip("<> ").lower() or ctx.settings.sender_domain
    summary += f" — {failed.receiver}'s sender requirement failed: {failed.titles}"
    evidence.insert(2, f"Sender requirement: {failed.meaning}")
    docs = " ".join(dict.fromkeys(r.doc for r in failed.requirements))
    command = f"`compliance {sender}`" if sender else "`compliance <your domain>`"
    return summary, f"Run {command} to check every requirement of the big receivers and what to fix. {fix} {docs}"


def _fix_for(category: str) -> str:
    """A category's advice from the classifier's own table (the same words `explain` gives)."""
    probe = {
        "unknown_user": ("550 5.1.1 user unknown", "Permanent", "NoEmail"),
        "mailbox_full": ("452 4.2.2 mailbox full", "Transient", "MailboxFull"),
        "message_too_large": ("552 5.3.4 message too big", "Permanent", "MessageTooLarge"),
        "content": ("554 5.7.1 message content rejected", "Permanent", "ContentRejected"),
        "suppressed": ("", "Permanent", "OnAccountSuppressionList"),
    }.get(category)
    if probe:
        return classify(probe[0], bounce_type=probe[1], bounce_subtype=probe[2]).fix
    return (
        'Read the remote server\'s words above; `sesbot explain "<text>"` explains any bounce text. '
        f"Event reference: {EVENTS_DOC}"
    )


# -- recipient.blocklist -----------------------------------------------------------------------------


def _is_hard(row: dict[str, Any]) -> bool:
    return row.get("type") in BOUNCE and (row.get("bounce_type") or "").lower() == "permanent"


def _delist_url(name: str | None) -> str | None:
    if not name:
        return None
    lowered = name.lower()
    for bl in BLOCKLISTS:
        if bl.name.lower() == lowered or re.search(bl.pattern, lowered):
            return bl.delist_url
    return None


@check("recipient.blocklist")
def blocklist(ctx: CheckContext) -> Finding:
    """Bounces or IPFailure delays to this recipient or its domain that name a blocklist."""
    cid = ctx.check_id
    since, window = _window(ctx)
    now = ctx.deps.now()
    domain = ctx.recipient_domain
    store = ctx.deps.store
    groups = domain_blocklist_refusals(store, domain, since, recipient=ctx.target)
    if not groups:
        return Finding(
            cid,
            Severity.OK,
            f"No bounce or delay to {ctx.target} or @{domain} points at a blocklist.",
            evidence=[window],
        )

    to_recipient = any(g["to_recipient"] for g in groups)
    [latest] = domain_blocklist_events(store, domain, since=since, recipient=ctx.target if to_recipient else None)
    latest_cls = _classification(latest)
    latest_name = latest.get("blocklist") or latest_cls.blocklist
    latest_ip = latest.get("sending_ip")
    latest_category = _category(latest)

    evidence = []
    listed: list[dict[str, Any]] = []
    for g in groups:
        what = "IPFailure delay" if not g["bounces"] else "bounce/delay"
        evidence.append(
            f"{g['blocklist'] or 'list not named'} ({g['category']}), "
            f"sending IP {g['sending_ip'] or 'not given in the bounce'}: "
            f"{_plural(g['n'], what)}, {g['to_recipient']} to {ctx.target}, latest {when(g['latest'], now)}"
        )
        listed.append(
            {
                "category": g["category"],
                "blocklist": g["blocklist"],
                "sending_ip": g["sending_ip"],
                "count": g["n"],
                "to_recipient": g["to_recipient"],
                "latest": g["latest"],
            }
        )
    if latest.get("diagnostic"):
        evidence.append(f'Latest text: "{_quote(latest["diagnostic"])}"')
    if latest.get("delay_type") == "IPFailure":
        evidence.append(f"IPFailure: {DELAY_TYPES['IPFailure']}.")
    evidence.append(window)

    what_listed = "a domain in the mail" if latest_category == "domain_blocklist" else "the sending IP"
    if latest_ip and latest_category != "domain_blocklist":
        what_listed += f" {latest_ip}"
    on = f"on {latest_name}" if latest_name else "on a blocklist the receiver uses"
    if latest.get("delay_type") == "IPFailure" and latest_category not in BLOCKLIST_CATEGORIES:
        on = "blocked or throttled by the receiver (IPFailure)"
    hard = _is_hard(latest) and bool(to_recipient)
    delivered = _last_delivery(ctx, since) if hard else None
    if hard and not (delivered and delivered > latest["timestamp"]):
        # The recipient's latest refusal is a hard bounce naming the list: this is the cause, and the
        # bounce is its evidence (recipient.bounces defers to it).
        severity = Severity.CRITICAL
        at = when(latest["timestamp"], now)
        summary = f"Mail to {ctx.target} hard-bounced {at} because {what_listed} is {on}."
        kind = "/".join(x for x in (latest.get("bounce_type"), latest.get("bounce_subtype")) if x)
        bounce_lines = [f"The bounce: {at} ({kind})"]
        for label, column in (("Status", "status"), ("Remote MTA", "remote_mta"), ("Message ID", "message_id")):
            if latest.get(column):
                bounce_lines.append(f"{label}: {latest[column]}")
        evidence[-1:-1] = bounce_lines
    elif to_recipient:
        severity = Severity.ERROR
        at = when(latest["timestamp"], now)
        summary = f"Mail to {ctx.target} was refused {at} because {what_listed} is {on}."
    else:
        severity = Severity.WARNING
        summary = (
            f"Other mail to @{domain} was refused {when(latest['timestamp'], now)} because {what_listed} "
            f"is {on}; mail to {ctx.target} may meet the same block."
        )
    fix = latest_cls.fix
    url = latest_cls.delist_url or _delist_url(latest_name)
    if url and url not in fix:
        fix += f" Delisting / lookup: {url}"
    if latest_category != "domain_blocklist":
        fix += f" Dedicated IPs keep other senders' listings off your mail: {DEDICATED_IP_DOC}"
    return Finding(cid, severity, summary, evidence=evidence, fix=fix, data={"lists": listed})


# -- recipient.complaints ----------------------------------------------------------------------------


@check("recipient.complaints")
def complaints(ctx: CheckContext) -> Finding:
    """Complaints from the recipient; a suppression-list "complaint" is SES declining to send, not one."""
    cid = ctx.check_id
    since, window = _window(ctx)
    now = ctx.deps.now()
    rows = _recipient_rows(ctx, COMPLAINT, since)
    if not rows:
        return Finding(cid, Severity.OK, f"No complaints from {ctx.target} in the history.", evidence=[window])
    evidence = []
    for r in rows[:MAX_LISTED]:
        line = f"{when(r['timestamp'], now)}: complaint"
        if r.get("complaint_type"):
            line += f", feedback type {r['complaint_type']}"
        if r.get("complaint_subtype"):
            line += f", subtype {r['complaint_subtype']}"
        if r.get("message_id"):
            line += f", message {r['message_id']}"
        evidence.append(line)
    if len(rows) > MAX_LISTED:
        evidence.append(f"... and {len(rows) - MAX_LISTED} more")
    evidence.append(window)
    # complaintSubType OnAccountSuppressionList: SES accepted the send but did not send it, because the
    # address is on the account suppression list; nobody complained and it does not count toward the rate.
    listed = [r for r in rows if (r.get("complaint_subtype") or "").lower() == SUPPRESSED_COMPLAINT.lower()]
    listed_ids = {r["id"] for r in listed}
    # not-spam feedback: the recipient moved the mail out of their spam folder, the opposite of a complaint.
    not_spam = [r for r in rows if r["id"] not in listed_ids and (r.get("complaint_type") or "").lower() == "not-spam"]
    not_spam_ids = {r["id"] for r in not_spam}
    spam = [r for r in rows if r["id"] not in listed_ids and r["id"] not in not_spam_ids]
    data = {
        "complaints": len(spam),
        "not_spam": len(not_spam),
        "suppression_list": len(listed),
        "latest": rows[0]["timestamp"],
    }
    if spam:
        severity = Severity.ERROR
        summary = (
            f"{ctx.target} marked your mail as spam ({_plural(len(spam), 'complaint')}, the latest "
            f"{when(spam[0]['timestamp'], now)})"
        )
        if not_spam:
            summary += f"; {len(not_spam)} reported as not spam, the latest {when(not_spam[0]['timestamp'], now)}"
        summary += "."
        fix = (
            "Stop sending to this address unless they opt in again: SES adds complainers to the account "
            "suppression list (when COMPLAINT is among its reasons), and every further complaint counts "
            "toward the complaint rate AWS reviews accounts at (0.1%). Make unsubscribing easy "
            f"(List-Unsubscribe header). {SUPPRESSION_DOC}"
        )
    elif not_spam:
        severity = Severity.INFO
        summary = (
            f"{ctx.target} sent 'not spam' feedback {when(not_spam[0]['timestamp'], now)}: their provider had "
            "filed your mail as spam and they moved it back."
        )
        fix = "Nothing to undo; it says your mail lands in their spam folder: see sender.authentication."
    else:
        severity, summary, fix = Severity.ERROR, "", ""
    if listed:
        severity = Severity.ERROR
        summary += (
            f" SES did not send {_plural(len(listed), 'message')} to {ctx.target} because the address is on the "
            f"account suppression list (complaint subtype {SUPPRESSED_COMPLAINT}: no complaint from the "
            f"recipient, not counted toward the complaint rate), the latest {when(listed[0]['timestamp'], now)}."
        )
        fix += f" {ACCOUNT_LIST_FIX}" if SUPPRESSION_DOC in fix else f" {ACCOUNT_LIST_FIX} {SUPPRESSION_DOC}"
    return Finding(cid, severity, summary.strip(), evidence=evidence, fix=fix.strip(), data=data)


# -- recipient.delays --------------------------------------------------------------------------------


@check("recipient.delays")
def delays(ctx: CheckContext) -> Finding:
    """Pending DeliveryDelay events: SES is still retrying, and until when."""
    cid = ctx.check_id
    since, window = _window(ctx)
    now = ctx.deps.now()
    rows = _recipient_rows(ctx, DELAY, since)
    if not rows:
        return Finding(cid, Severity.OK, f"No delivery delays to {ctx.target} in the history.", evidence=[window])

    # A delay is settled once the same message bounced, or once mail to this address was delivered after
    # it (deliveries are kept per recipient, not per message: a later delivery means the receiver takes
    # mail again, which is what a person asking "why" needs to know).
    outcomes = _recipient_rows(ctx, BOUNCE, since)
    settled = {r["message_id"] for r in outcomes if r.get("message_id")}
    delivered_at = _last_delivery(ctx, since) or ""
    now_iso = iso(now)
    pending: dict[str, dict[str, Any]] = {}
    past: list[dict[str, Any]] = []
    for r in rows:
        key = r.get("message_id") or r["id"]
        done = (r.get("message_id") or "") in settled or delivered_at > r["timestamp"]
        expired = bool(r.get("expires")) and r["expires"] <= now_iso
        if not done and not expired:
            pending.setdefault(key, r)  # newest first: the first row per message is the latest delay
        else:
            past.append(r)

    if pending:
        items = list(pending.values())
        latest = items[0]
        dtype = latest.get("delay_type") or "Undetermined"
        evidence = []
        for r in items[:MAX_LISTED]:
            t = r.get("delay_type") or "Undetermined"
            line = f"{when(r['timestamp'], now)}: {t} ({DELAY_TYPES.get(t, 'unknown delay type')})"
            if r.get("expires"):
                line += f"; SES gives up {when(r['expires'], now)}"
            if r.get("message_id"):
                line += f"; message {r['message_id']}"
            evidence.append(line)
            if r.get("diagnostic"):
                evidence.append(f'  Remote server said: "{_quote(r["diagnostic"], 200)}"')
        evidence.append(window)
        until = f", until {when(latest['expires'], now)}" if latest.get("expires") else ""
        summary = (
            f"SES is still retrying {_plural(len(items), 'message')} to {ctx.target}: delayed by {dtype} "
            f"({DELAY_TYPES.get(dtype, 'unknown delay type')}){until}."
        )
        if dtype == "IPFailure":
            fix = (
                "IPFailure means the receiving provider blocks or throttles the SES sending IP: see "
                "recipient.blocklist and the blocklist check. SES keeps retrying until the expiry; a bounce "
                f"follows if it never gets through. {DEDICATED_IP_DOC}"
            )
        else:
            fix = (
                "Nothing to do yet: SES retries until the expiry time, then delivers or reports a bounce. "
                + _classification(latest).fix
            )
        return Finding(
            cid,
            Severity.WARNING,
            summary,
            evidence=evidence,
            fix=fix,
            data={"pending": len(items), "delay_type": dtype, "expires": latest.get("expires")},
        )

    counts = Counter(r.get("delay_type") or "Undetermined" for r in past)
    return Finding(
        cid,
        Severity.INFO,
        f"{_plural(len(past), 'earlier delivery delay')} to {ctx.target} "
        f"({', '.join(f'{t} ×{n}' for t, n in counts.most_common())}), none still pending.",
        evidence=[f"Latest delay: {when(past[0]['timestamp'], now)}", window],
        data={"pending": 0, "past": dict(counts)},
    )


# -- recipient.rejects -------------------------------------------------------------------------------


@check("recipient.rejects")
def rejects(ctx: CheckContext) -> Finding:
    """SES refused to send (Reject event): it found a virus in the message."""
    cid = ctx.check_id
    since, window = _window(ctx)
    now = ctx.deps.now()
    rows = _recipient_rows(ctx, REJECT, since)
    if not rows:
        return Finding(cid, Severity.OK, f"SES rejected no message to {ctx.target}.", evidence=[window])
    evidence = []
    for r in rows[:MAX_LISTED]:
        line = f'{when(r["timestamp"], now)}: rejected, reason "{_quote(r.get("reason") or "not given", 120)}"'
        if r.get("message_id"):
            line += f", message {r['message_id']}"
        evidence.append(line)
    evidence.append(window)
    reason = _quote(rows[0].get("reason") or "not given", 120)
    severity, later = _nothing_sent(ctx, since, rows[0]["timestamp"])
    return Finding(
        cid,
        severity,
        f"SES rejected {_plural(len(rows), 'message')} to {ctx.target} without sending "
        f'(reason "{reason}": SES found a virus in the message), '
        f"the latest {when(rows[0]['timestamp'], now)}.{later}",
        evidence=evidence,
        fix=(
            "SES scans every message and rejects those carrying a virus; nothing was sent. Remove or clean "
            "the attachment, scan the system that produced it, and send again."
        ),
        data={"rejects": len(rows), "reason": rows[0].get("reason")},
    )


# -- recipient.rendering -----------------------------------------------------------------------------


@check("recipient.rendering")
def rendering(ctx: CheckContext) -> Finding:
    """Templated sends that SES accepted but could not render (Rendering Failure events)."""
    cid = ctx.check_id
    since, window = _window(ctx)
    now = ctx.deps.now()
    rows = _recipient_rows(ctx, RENDERING, since)
    if not rows:
        return Finding(cid, Severity.OK, f"No template rendering failures for {ctx.target}.", evidence=[window])
    groups: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for r in rows:
        m = _MISSING_ATTR.search(r.get("reason") or r.get("diagnostic") or "")
        groups.setdefault((r.get("template") or "unknown template", m.group(1) if m else None), []).append(r)
    evidence = []
    for (template, var), items in groups.items():
        what = f"variable '{var}' missing" if var else f'"{_quote(items[0].get("reason"), 160)}"'
        evidence.append(
            f"Template {template}: {what}, {_plural(len(items), 'failure')}, latest {when(items[0]['timestamp'], now)}"
        )
    evidence.append(
        "SES returns a MessageId for a templated send even when rendering fails later; only this event tells."
    )
    evidence.append(window)
    (template, var), _ = next(iter(groups.items()))
    if var:
        summary = (
            f"Template {template} failed to render for {ctx.target}: the variable '{var}' is not in the "
            f"send's template data, so nothing was sent ({_plural(len(rows), 'failure')}, the latest "
            f"{when(rows[0]['timestamp'], now)})."
        )
        fix = (
            f"Put '{var}' in the TemplateData of every send to {template} (or guard it in the template "
            f"with {{{{#if {var}}}}}); try it with `aws sesv2 test-render-email-template "
            f"--template-name {template} --template-data '{{...}}'`. {TEMPLATE_DOC}"
        )
    else:
        summary = (
            f"Template {template} failed to render for {ctx.target}: "
            f'"{_quote(rows[0].get("reason"), 160)}"; nothing was sent.'
        )
        fix = "Fix the template or its data and test with `aws sesv2 test-render-email-template`. " + TEMPLATE_DOC
    severity, later = _nothing_sent(ctx, since, rows[0]["timestamp"])
    return Finding(
        cid,
        severity,
        summary + later,
        evidence=evidence,
        fix=fix,
        data={"failures": len(rows), "template": template, "missing_variable": var},
    )
