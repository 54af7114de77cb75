"""`why <message-id>`: everything known about one SES message, then the verdict for each of its recipients.

Two sources, read at the same time:

* the bot's event history (`bot.history.message_events`): the message's problem events (bounces,
  complaints, delays, rejects, rendering failures) as SES published them; sends and deliveries are only
  counted, so a message that was simply delivered leaves no row;
* Virtual Deliverability Manager's `GetMessageInsights`, once per region (the API allows 1 call/s): the
  From address, Subject and tags, and for each recipient the receiving ISP and every event, bounce text
  included. Regions are asked in parallel; the first one (in the order of the regions the message names,
  then `SESBOT_REGIONS`) that knows the id wins. A region with VDM off is not asked.

Both timelines are merged (one line per event, either source) and each bounce or delay text is classified
with `bot.classify.classify`. Then up to `MAX_RECIPIENTS` recipients get the full `why <email>` diagnosis, in
parallel, in the account that sent the message (its insights', else its events' `sendingAccountId`); with
several regions, a problem in a region the message did not go through is told for information
(`diagnose_recipient`). A capability that is absent (VDM off, access denied) is one info line; an id known nowhere is an
answer saying where the bot looked and what to check, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.aws import describe_error, error_code
from bot.checks import CheckContext, RunMemo
from bot.checks.availability import ACCESS_DENIED, VDM_ENABLE, absent, vdm_enabled
from bot.classify import classify
from bot.deps import Deps
from bot.event_accounts import sending_account
from bot.findings import Answer, Report, Severity, in_the_regions_used, where
from bot.history import message_events, recipient_events
from bot.redact import clip
from bot.runner import run_checks
from bot.store import iso
from bot.target import WhyTarget
from bot.timefmt import parse_ts, when

MAX_RECIPIENTS = 3  # recipients diagnosed per message; the others are named
QUOTE_CHARS = 200  # remote text quoted in a timeline line
MERGE_SECONDS = 120  # the same event from both sources is at most this far apart
EVENTS_DOC = "https://docs.aws.amazon.com/ses/latest/dg/monitor-using-event-publishing.html"

# Event type names: GetMessageInsights' (SEND, DELIVERY_DELAY, ...) and the history's (Send, DeliveryDelay,
# "Rendering Failure", ...) both fold to the same key; each key has one name for people.
EVENT_NAMES = {
    "send": "Send",
    "delivery": "Delivery",
    "bounce": "Bounce",
    "complaint": "Complaint",
    "deliverydelay": "Delivery delay",
    "reject": "Reject",
    "renderingfailure": "Rendering failure",
    "open": "Open",
    "click": "Click",
    "subscription": "Subscription",
}
# GetMessageInsights' BounceType (UNDETERMINED, TRANSIENT, PERMANENT) in the event-publishing spelling.
BOUNCE_TYPES = {"PERMANENT": "Permanent", "TRANSIENT": "Transient", "UNDETERMINED": "Undetermined"}

# What each insights lookup outcome means, for the one line a person reads (None: nothing to say).
STATUS_LINES = {
    "vdm_disabled": "message insights need Virtual Deliverability Manager, which is off in {regions}. " + VDM_ENABLE,
    "access_denied": (
        "message insights could not be read in {regions}: access denied. Allow `ses:GetMessageInsights` for "
        "the bot's IAM role or user (see the README's IAM policy)."
    ),
    "unavailable": "message insights are not available on this account in {regions} ({detail}).",
    "error": "message insights could not be read in {regions}: {detail}",
}


def _key(event_type: str | None) -> str:
    return "".join(ch for ch in (event_type or "").lower() if ch.isalpha())


def _quote(text: str | None, limit: int = QUOTE_CHARS) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else clip(flat, limit - 1).rstrip() + "…"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- the two sources ---------------------------------------------------------------------------------


@dataclass
class RegionLookup:
    """One region's `GetMessageInsights` outcome: found, not_found, vdm_disabled, access_denied,
    unavailable (the account or plan lacks it) or error."""

    region: str
    status: str
    detail: str = ""
    insights: dict[str, Any] | None = None
    account: str | None = None  # the `SESBOT_ACCOUNTS` name asked, with several accounts

    @property
    def where(self) -> str:
        return where(self.account, self.region)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"region": self.region, "status": self.status}
        if self.account:
            out["account"] = self.account
        if self.detail:
            out["detail"] = self.detail
        return out


def lookup_insights(deps: Deps, message_id: str, region: str) -> RegionLookup:
    """`GetMessageInsights` in one region of `deps`'s account, called at most once; VDM off (per `GetAccount`)
    means not at all."""
    found = _lookup(deps, message_id, region)
    found.account = deps.account_name
    return found


def _lookup(deps: Deps, message_id: str, region: str) -> RegionLookup:
    ctx = CheckContext(deps=deps, target=message_id, region=region, memo=RunMemo(), check_id="message.insights")
    if vdm_enabled(ctx) is False:
        return RegionLookup(region, "vdm_disabled", "VdmAttributes.VdmEnabled: DISABLED")
    try:
        answer = ctx.client("sesv2").get_message_insights(MessageId=message_id)
    except Exception as exc:
        code = error_code(exc)
        text = describe_error(exc)
        if code == "NotFoundException":
            return RegionLookup(region, "not_found", text)
        if code in ACCESS_DENIED:
            return RegionLookup(region, "access_denied", text)
        if code == "BadRequestException" and "deliverability manager" in text.lower():
            return RegionLookup(region, "vdm_disabled", text)
        if absent(exc):
            return RegionLookup(region, "unavailable", text)
        return RegionLookup(region, "error", text)
    return RegionLookup(region, "found", insights=answer)


def _regions(deps: Deps, target: WhyTarget, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Where to ask: the region the id's SMTP form names, the regions its events came from, the configured."""
    named = [target.region] if target.region else []
    return list(dict.fromkeys([*named, *(r["region"] for r in rows if r.get("region")), *deps.settings.regions]))


# -- the timeline ------------------------------------------------------------------------------------


@dataclass
class Event:
    """One event of the message, from the history, the insights, or both."""

    at: datetime | None
    recipient: str
    type: str  # the folded key (see EVENT_NAMES)
    sources: list[str] = field(default_factory=list)
    isp: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return EVENT_NAMES.get(self.type, self.type.capitalize() or "Event")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "timestamp": iso(self.at) if self.at else None,
            "recipient": self.recipient,
            "type": self.name,
            "sources": list(self.sources),
        }
        if self.isp:
            out["isp"] = self.isp
        out.update({k: v for k, v in self.fields.items() if v not in (None, "")})
        return out


def _classified(fields: dict[str, Any], text: str | None, *, delay_type: str | None = None) -> None:
    c = classify(
        text,
        status=fields.get("status"),
        bounce_type=fields.get("bounce_type"),
        bounce_subtype=fields.get("bounce_subtype"),
        delay_type=delay_type,
    )
    if not fields.get("category"):
        fields["category"] = c.category
    if fields["category"] == c.category:
        # Which rule decided and how sure (a stored event keeps the rule of its ingest: said only when the
        # classifier still agrees with it), and the words' lead for an "other".
        if not fields.get("rule"):
            fields["rule"] = c.rule
        if fields["rule"] == c.rule:
            fields["confidence"] = c.confidence
        if c.lead:
            fields["lead"] = c.lead
    if c.blocklist and not fields.get("blocklist"):
        fields["blocklist"] = c.blocklist
    if c.delist_url:
        fields.setdefault("delist_url", c.delist_url)
    fields.setdefault("cause", c.summary)


def _from_history(row: dict[str, Any]) -> Event:
    fields = {
        k: row.get(k)
        for k in (
            "bounce_type",
            "bounce_subtype",
            "delay_type",
            "complaint_type",
            "complaint_subtype",
            "status",
            "diagnostic",
            "category",
            "rule",
            "blocklist",
            "sending_ip",
            "remote_mta",
            "reason",
            "template",
            "config_set",
            "tenant",
            "region",
        )
    }
    if _key(row.get("type")) in ("bounce", "deliverydelay") and (row.get("diagnostic") or row.get("delay_type")):
        _classified(fields, row.get("diagnostic"), delay_type=row.get("delay_type"))
    return Event(
        parse_ts(row.get("timestamp")),
        (row.get("recipient") or "").lower(),
        _key(row.get("type")),
        ["history"],
        fields=fields,
    )


def _from_insights(destination: dict[str, Any]) -> list[Event]:
    out = []
    recipient = str(destination.get("Destination") or "").lower()
    for e in destination.get("Events") or []:
        details = e.get("Details") or {}
        bounce = details.get("Bounce") or {}
        complaint = details.get("Complaint") or {}
        fields: dict[str, Any] = {}
        if bounce:
            fields["bounce_type"] = BOUNCE_TYPES.get(str(bounce.get("BounceType")), bounce.get("BounceType"))
            fields["bounce_subtype"] = bounce.get("BounceSubType")
            fields["diagnostic"] = bounce.get("DiagnosticCode")
            _classified(fields, bounce.get("DiagnosticCode"))
        if complaint:
            fields["complaint_type"] = complaint.get("ComplaintFeedbackType")
            fields["complaint_subtype"] = complaint.get("ComplaintSubType")
        out.append(
            Event(
                parse_ts(e.get("Timestamp")),
                recipient,
                _key(e.get("Type")),
                ["insights"],
                destination.get("Isp"),
                fields,
            )
        )
    return out


def merge_timeline(history: Iterable[Event], insights: Iterable[Event]) -> list[Event]:
    """Both sources as one timeline, oldest first: an insights event and a history event of the same
    recipient and type, at most `MERGE_SECONDS` apart, are one event (the history adds its detail)."""
    merged = list(insights)
    for h in history:
        twin = next(
            (
                e
                for e in merged
                if "history" not in e.sources
                and e.recipient == h.recipient
                and e.type == h.type
                and (e.at is None or h.at is None or abs((e.at - h.at).total_seconds()) <= MERGE_SECONDS)
            ),
            None,
        )
        if twin is None:
            merged.append(h)
            continue
        twin.sources.append("history")
        for k, v in h.fields.items():
            if v not in (None, "") and not twin.fields.get(k):
                twin.fields[k] = v
    merged.sort(key=lambda e: (e.at is None, e.at or datetime.min, e.recipient))
    return merged


def timeline_line(e: Event, now: datetime) -> str:
    """`2024-06-01 10:00 UTC (2 hours ago) jo@gmail.com (Gmail): Bounce Permanent/General, ip_blocklist
    (zen.spamhaus.org): "smtp; 554 ..."`."""
    f = e.fields
    who = e.recipient + (f" ({e.isp})" if e.isp else "")
    what = e.name
    kind = "/".join(x for x in (f.get("bounce_type"), f.get("bounce_subtype")) if x)
    if kind:
        what += f" {kind}"
    if f.get("delay_type"):
        what += f" {f['delay_type']}"
    if f.get("complaint_type"):
        what += f", feedback type {f['complaint_type']}"
    if f.get("complaint_subtype"):
        what += f", subtype {f['complaint_subtype']}"
    if f.get("category"):
        what += f", {f['category']}" + (f" ({f['blocklist']})" if f.get("blocklist") else "")
    if f.get("status"):
        what += f", status {f['status']}"
    said = f.get("diagnostic") or f.get("reason")
    if said:
        what += f': "{_quote(said)}"'
    return f"{when(e.at, now) if e.at else 'at an unknown time'} {who}: {what}"


# -- the answer --------------------------------------------------------------------------------------


def report_section(report: Report) -> tuple[str, list[str]]:
    """One diagnosis as an answer section: the verdict in the heading (with where it was seen, as a single
    diagnosis shows it), its fix, the other problems, what passed."""
    verdict = report.verdict
    heading = f"{report.target}: " + (
        f"{verdict.severity.label} — {verdict.summary}" + (f" ({verdict.where})" if verdict.where else "")
        if verdict
        else "nothing wrong found"
    )
    lines = []
    if verdict and verdict.fix:
        lines.append(f"Fix: {verdict.fix}")
    for f in report.problems:
        if f is not verdict:
            lines.append(f"{f.severity.label}: {f.summary}")
    passed = [f.check for f in report.passed]
    if passed:
        lines.append("Passed: " + ", ".join(dict.fromkeys(passed)))
    return heading, lines


def _notes(lookups: Sequence[RegionLookup], found: RegionLookup | None) -> list[str]:
    """One line per kind of absent capability (VDM off, access denied...), naming what enables it."""
    if found is not None:
        return []
    by_status: dict[str, list[RegionLookup]] = {}
    for lk in lookups:
        if lk.status in STATUS_LINES:
            by_status.setdefault(lk.status, []).append(lk)
    lines = []
    for status, items in by_status.items():
        text = STATUS_LINES[status].format(regions=", ".join(i.where for i in items), detail=items[0].detail)
        lines.append(text[0].upper() + text[1:])
    return lines


@dataclass
class MessageFacts:
    """What is known about one message, from both sources."""

    message_id: str
    rows: list[dict[str, Any]]
    lookups: list[RegionLookup]
    found: RegionLookup | None
    timeline: list[Event]
    recipients: list[str]
    window_days: int
    account: str | None = None  # the `SESBOT_ACCOUNTS` name of the account that sent it, when known

    @property
    def known(self) -> bool:
        return bool(self.rows) or self.found is not None

    @property
    def insights(self) -> dict[str, Any]:
        return (self.found.insights if self.found else None) or {}

    @property
    def sender(self) -> str | None:
        return self.insights.get("FromEmailAddress") or next((r["source"] for r in self.rows if r.get("source")), None)

    @property
    def subject(self) -> str | None:
        return self.insights.get("Subject")

    @property
    def tags(self) -> dict[str, str]:
        tags = {str(t.get("Name")): str(t.get("Value")) for t in self.insights.get("EmailTags") or []}
        for row in self.rows:
            if row.get("config_set"):
                tags.setdefault("ses:configuration-set", row["config_set"])
            if row.get("tenant"):
                tags.setdefault("ses:tenant-name", row["tenant"])
        return tags

    @property
    def region(self) -> str | None:
        if self.found is not None:
            return self.found.region
        return next((r["region"] for r in self.rows if r.get("region")), None)

    @property
    def insights_status(self) -> str:
        if self.found is not None:
            return "found"
        statuses = {lk.status for lk in self.lookups}
        for status in ("access_denied", "vdm_disabled", "unavailable", "error"):
            if status in statuses:
                return status
        return "not_found" if statuses else "not_asked"

    def as_dict(self, diagnosed: Sequence[str]) -> dict[str, Any]:
        isp = {e.recipient: e.isp for e in self.timeline if e.isp}
        return {
            "message_id": self.message_id,
            "found": self.known,
            "from": self.sender,
            "subject": self.subject,
            "tags": self.tags,
            "region": self.region,
            "account": self.account,
            "recipients": [{"address": r, "isp": isp.get(r)} for r in self.recipients],
            "diagnosed": list(diagnosed),
            "more_recipients": max(0, len(self.recipients) - len(diagnosed)),
            "events": [e.as_dict() for e in self.timeline],
            "insights": {
                "status": self.insights_status,
                "region": self.found.region if self.found else None,
                "account": self.found.account if self.found else None,
                "regions": [lk.as_dict() for lk in self.lookups],
                "notes": _notes(self.lookups, self.found),
            },
            "history": {"events": len(self.rows), "window_days": self.window_days},
        }


def gather(deps: Deps, target: WhyTarget) -> MessageFacts:
    """The history and the insights of every account and region for one message id (asked in parallel)."""
    message_id = target.value
    rows = message_events(deps.store, message_id)
    regions = _regions(deps, target, rows)
    scopes = [(view, region) for view in deps.accounts() for region in regions]
    if scopes:
        with ThreadPoolExecutor(max_workers=min(len(scopes), 16), thread_name_prefix="insights") as pool:
            lookups = list(pool.map(lambda s: lookup_insights(s[0], message_id, s[1]), scopes))
    else:
        lookups = []
    found = next((lk for lk in lookups if lk.status == "found"), None)
    destinations = ((found.insights or {}).get("Insights") or []) if found else []
    timeline = merge_timeline([_from_history(r) for r in rows], [e for d in destinations for e in _from_insights(d)])
    addresses = [str(d.get("Destination") or "").lower() for d in destinations]
    recipients = list(dict.fromkeys([*filter(None, addresses), *(e.recipient for e in timeline if e.recipient)]))
    account = found.account if found else _sent_by(deps, rows)
    return MessageFacts(message_id, rows, lookups, found, timeline, recipients, deps.settings.retention_days, account)


def _sent_by(deps: Deps, rows: Sequence[dict[str, Any]]) -> str | None:
    """The account the message's events say sent it (`sendingAccountId`), when it is one `deps` asks."""
    asked = {view.account_name for view in deps.accounts() if view.account_name}
    name = sending_account(deps.settings)
    return next((name(r.get("account_id")) for r in rows if name(r.get("account_id")) in asked), None)


def _message_lines(facts: MessageFacts, diagnosed: Sequence[str], now: datetime) -> list[str]:
    lines = []
    if facts.sender:
        lines.append(f"From: {facts.sender}")
    if facts.subject:
        lines.append(f"Subject: {facts.subject}")
    if facts.tags:
        lines.append("Tags: " + ", ".join(f"{k}={v}" for k, v in sorted(facts.tags.items())))
    known = []
    if facts.found is not None:
        known.append(f"message insights in {facts.found.where}")
    if facts.rows:
        known.append(f"{_plural(len(facts.rows), 'event')} in the bot's history")
    lines.append("Known from: " + " and ".join(known))
    isp = {e.recipient: e.isp for e in facts.timeline if e.isp}
    lines.append("Recipients: " + ", ".join(r + (f" ({isp[r]})" if r in isp else "") for r in facts.recipients))
    lines += [timeline_line(e, now) for e in facts.timeline]
    if facts.found is None:
        lines.append(
            "The history keeps problem events only (bounces, complaints, delays, rejects, rendering failures); "
            "sends and deliveries are counted, not stored per message."
        )
    missing = [lk.where for lk in facts.lookups if lk.status == "not_found"]
    if facts.found is None and missing:
        lines.append(f"Message insights: not found in {', '.join(missing)}.")
    lines += _notes(facts.lookups, facts.found)
    more = [r for r in facts.recipients if r not in diagnosed]
    if more:
        lines.append(
            f"{_plural(len(more), 'more recipient')} not diagnosed here (at most {MAX_RECIPIENTS} at a time): "
            + ", ".join(more[:10])
            + (" …" if len(more) > 10 else "")
            + f"; ask `why {more[0]}`."
        )
    return lines


def _not_found(deps: Deps, facts: MessageFacts) -> Answer:
    configured = ", ".join(deps.settings.regions) or "none"
    looked = [
        f"Event history: no event with this id in the last {facts.window_days} days (the history keeps "
        "bounces, complaints, delays, rejects and rendering failures; a delivered message leaves none)."
    ]
    # Regions that do not know the id, then one line per absent capability (VDM off, access denied...).
    looked += [f"{lk.where}: GetMessageInsights: not found" for lk in facts.lookups if lk.status == "not_found"]
    looked += _notes(facts.lookups, None)
    check = [
        f"The id: `{facts.message_id}` should be the MessageId SendEmail returned (in a Message-ID header, "
        "the part before @...amazonses.com).",
        f"The region: the bot looks in {configured} (SESBOT_REGIONS); a message sent from another region "
        "is only known there.",
        "Event publishing: the bot only hears of bounces, complaints and delays SES publishes to it; "
        f"`sesbot setup` checks that ({EVENTS_DOC}).",
    ]
    return Answer(
        title=f"Message {facts.message_id}: not found",
        sections=[("Where I looked", looked), ("What to check", check)],
        data={"message": facts.as_dict([]), "reports": []},
        kind="why",
        severity=Severity.INFO,
    )


def diagnose_recipient(deps: Deps, facts: MessageFacts, recipient: str) -> Report:
    """`why <recipient>` for one recipient of the message, in the account that sent it when known (as
    `why --account` asks one). With several regions, what is wrong in a region the message did not go
    through is told for information (`in_the_regions_used`): the message's region when known (its insights',
    else its events' `sourceArn`), else the regions of the recipient's own mail, as `why <email>` judges them."""
    report, _ = run_checks(deps, recipient, account=facts.account)
    regions = deps.settings.regions
    if facts.region:
        return in_the_regions_used(report, [{"region": facts.region}], regions, mail="this message")
    return in_the_regions_used(report, recipient_events(deps.store, recipient), regions)


def diagnose_message(deps: Deps, target: WhyTarget) -> Answer:
    """Everything known about one message, then the `why <email>` verdict for up to `MAX_RECIPIENTS` of
    its recipients (in parallel)."""
    facts = gather(deps, target)
    if not facts.known:
        return _not_found(deps, facts)
    diagnosed = facts.recipients[:MAX_RECIPIENTS]
    reports: list[Report] = []
    if diagnosed:
        with ThreadPoolExecutor(max_workers=len(diagnosed), thread_name_prefix="why-msg") as pool:
            reports = list(pool.map(lambda r: diagnose_recipient(deps, facts, r), diagnosed))
    now = deps.now()
    worst = max((r.worst for r in reports), default=Severity.INFO)
    title = f"Message {facts.message_id}: {_plural(len(facts.recipients), 'recipient')}"
    if facts.found is not None:
        title += f", sent in {facts.found.where}"
    elif facts.region:
        title += f", sent in {where(facts.account, facts.region)}"
    return Answer(
        title=title,
        sections=[("Message", _message_lines(facts, diagnosed, now)), *(report_section(r) for r in reports)],
        data={"message": facts.as_dict(diagnosed), "reports": [r.as_dict() for r in reports]},
        kind="why",
        severity=worst,
        reports=reports,
    )
