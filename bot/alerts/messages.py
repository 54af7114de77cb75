"""Messages: pure builders, a `bot.notify.Message` from the `Facts` about one signal; no I/O.

`open_message` is an incident's parent (figure, threshold, meaning, trend, what is behind it, what to
do); `change_message`, `new_listing_message` and `resolve_message` are replies in its thread;
`parent_message` is the parent as it should read now; `notice_message` is an account change that is no
level change. Rendering (Slack blocks, terminal text) is the poster's job. This module never imports the
store, boto3 or Slack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.alerts.forecast import Forecast
from bot.alerts.levels import (
    BEHIND_WINDOW,
    BLOCKLIST_QUIET,
    LEVEL_LABELS,
    LEVEL_SEVERITY,
    RATE_METRICS,
    TREND_DAYS,
    signal_label,
)
from bot.findings import Severity, where
from bot.notify import Button, Message
from bot.numfmt import fmt_num
from bot.redact import clip

ACK_ACTION = "sesbot_incident_ack"
BOUNCES_ACTION = "sesbot_incident_bounces"
TAKE_ACTION = "sesbot_incident_take"

DOCS_ENFORCEMENT = "https://docs.aws.amazon.com/ses/latest/dg/faqs-enforcement.html"
DOCS_REPUTATION = "https://docs.aws.amazon.com/ses/latest/dg/monitor-sender-reputation.html"
DOCS_QUOTAS = "https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas.html"


def upper_first(text: str) -> str:
    """'bounce rate of configuration set Marketing-EU' -> 'Bounce rate of ...' (str.capitalize lowers the rest)."""
    return text[:1].upper() + text[1:]


def fmt_pct(value: float | None) -> str:
    """0.052 -> '5.2%', 0.0008 -> '0.08%', 0.11 -> '11%'."""
    if value is None:
        return "no data"
    return f"{value * 100:.3g}%"


def fmt_value(signal: str, value: float | None) -> str:
    if signal in RATE_METRICS or signal == "quota":
        return fmt_pct(value)
    if value is None:
        return ""
    return fmt_num(value)


def _human_time(text: str | None) -> str:
    return (text or "")[:16].replace("T", " ") + " UTC" if text else ""


def _human_now(now: datetime) -> str:
    """What `_human_time` reads of the stored form of `now` (a naive datetime is UTC, as in the store)."""
    dt = now if now.tzinfo else now.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + " UTC"


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None], top: float) -> str:
    """One character per value, scaled so that `top` (the pause threshold) and above is a full bar."""
    out = []
    for v in values:
        if v is None:
            out.append("·")
        else:
            out.append(BARS[max(0, min(len(BARS) - 1, int(v / top * len(BARS))))] if top > 0 else BARS[0])
    return "".join(out)


@dataclass
class Facts:
    """Everything a message about one signal says, gathered before building it."""

    signal: str
    region: str
    scope: str
    level: str
    previous_level: str | None
    value: float | None
    estimate: bool
    levels: list[str]
    thresholds: dict[str, float]
    recovery_sweeps: int
    now: datetime
    trend: list[float | None] = field(default_factory=list)
    behind: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    incident_id: int | None = None
    opened_at: str | None = None
    worst_level: str | None = None
    worst_value: float | None = None
    account: str = ""  # the SESBOT_ACCOUNTS name; '' = the default credentials' account

    @property
    def where(self) -> str:
        """ "prod · eu-west-1" with several accounts, else the region."""
        return where(self.account, self.region)

    reopens: dict[str, Any] | None = None  # the incident closed by hand that this one reopens: id, by, at, reason
    forecast: Forecast | None = None  # a rate's trend: when it reaches the next level (`forecast`)

    @property
    def label(self) -> str:
        return signal_label(self.signal, self.scope)

    @property
    def figure(self) -> str:
        text = fmt_value(self.signal, self.value)
        if self.signal in RATE_METRICS:
            text += " (estimate from the event history)" if self.estimate else " (CloudWatch)"
        return text


def _level_text(f: Facts, level: str) -> str:
    start = f.thresholds.get(level)
    label = LEVEL_LABELS.get(level, level)
    return f"{label} (from {fmt_pct(start)})" if start is not None else label


ACCOUNT_MEANING = {
    "unknown_status": [
        "AWS reports EnforcementStatus {enforcement_status} in this region, a value this bot does not know: "
        "read it as a problem until the SES console's reputation page says otherwise."
    ],
    "probation": ["AWS has placed the account under review (EnforcementStatus PROBATION) in this region."],
    "paused": ["Sending is disabled for the account in this region: SES accepts nothing."],
    "shutdown": ["AWS has shut down sending for the account in this region (EnforcementStatus SHUTDOWN)."],
}


def _meaning(f: Facts) -> list[str]:
    """What the level means, in AWS's terms."""
    if f.signal in RATE_METRICS:
        review, pause = f.thresholds.get("review"), f.thresholds.get("suspension")
        keep = f.thresholds.get(f.levels[1]) if len(f.levels) > 1 else None
        kind = "bounces" if f.signal == "bounce_rate" else "complaints"
        lines = {
            "elevated": f"Above the {fmt_pct(keep)} AWS asks senders to stay under; no action from AWS yet.",
            "near_review": f"Close to {fmt_pct(review)}, where AWS places the account under review.",
            "review": f"At this rate of {kind} AWS places the account under review (status PROBATION).",
            "near_suspension": f"Close to {fmt_pct(pause)}, where AWS may pause the account's sending.",
            "suspension": f"At this rate of {kind} AWS may pause the whole account's sending in {f.where}.",
        }
        out = [lines.get(f.level, "")] if f.level in lines else []
        out.append(f"AWS reviews the account at {fmt_pct(review)} and may pause it at {fmt_pct(pause)}.")
        if f.estimate:
            out.append("CloudWatch has no figure, so this is estimated from the events the bot received.")
        return out
    if f.signal == "quota":
        d = f.detail
        return [
            f"Sent {fmt_num(d.get('sent_last_24h', 0))} of {fmt_num(d.get('max_24h', 0))} in the last 24 hours.",
            "At 100% SES refuses sends with 'Daily message quota exceeded' until the window moves on.",
        ]
    if f.signal == "account_status":
        words = {"enforcement_status": f.detail.get("enforcement_status")}
        meaning = [line.format_map(words) for line in ACCOUNT_MEANING.get(f.level, [])]
        return meaning + list(f.detail.get("changes", []))
    if f.signal == "blocklist":
        return [
            "Receivers refused mail because a sending IP or domain is on a blocklist.",
            "Blocklist bounces do not count toward the bounce rate, but the mail did not arrive.",
        ]
    if f.signal == "aws_api":
        return [
            "The bot cannot read the account's figures here, so it cannot warn about them.",
            *[str(e) for e in f.detail.get("errors", [])],
        ]
    return []


def _todo(f: Facts) -> list[str]:
    """What to do, per signal."""
    if f.signal == "bounce_rate":
        return [
            "Pause or slow the sending behind it (the domains and configuration set above).",
            "Stop mailing addresses that hard-bounced; find where they came from (an old or bought list?).",
            "Keep BOUNCE in the account suppression list so SES stops repeat attempts.",
            f"AWS's guidance: {DOCS_ENFORCEMENT}",
        ]
    if f.signal == "complaint_rate":
        return [
            "Find the mail that drew complaints (the domains above) and stop that sending.",
            "Send only to people who asked for it; make unsubscribing one click (List-Unsubscribe).",
            "Keep COMPLAINT in the account suppression list.",
            f"AWS's guidance: {DOCS_ENFORCEMENT}",
        ]
    if f.signal == "blocklist":
        groups = f.detail.get("groups") or []
        shared = shared_ip_advice(groups)
        if shared and all(g.get("dedicated") is False for g in groups):
            return [*shared, "`why <address>` diagnoses one affected recipient."]
        return [
            "Check each listing at the blocklist's site (links above); request delisting after the fix.",
            "On SES's shared IPs, open a case with AWS Support; on dedicated IPs, find what changed "
            "(a new list, a volume spike).",
            *shared,
            "`why <address>` diagnoses one affected recipient.",
        ]
    if f.signal == "quota":
        return [
            "Spread large sends over the day, or request a higher quota (Service Quotas, SES sending quota).",
            f"How: {DOCS_QUOTAS}",
        ]
    if f.signal == "account_status":
        if f.level == "ok":
            return []
        return [
            "Read AWS's notice (email to the account owner, SES console reputation page), fix the cause.",
            "Answer AWS through the case it opened; if your team paused sending, re-enable it when ready.",
            f"AWS's guidance: {DOCS_ENFORCEMENT}",
        ]
    if f.signal == "aws_api":
        return [
            "Check the bot's AWS credentials, network and IAM policy (cloudwatch:GetMetricData, "
            "cloudwatch:ListMetrics, ses:GetAccount).",
            "Alerts for this region are on hold until the bot can read again; it retries every sweep.",
        ]
    return []


def _chart(f: Facts) -> list[str]:
    if f.signal not in RATE_METRICS or not any(v is not None for v in f.trend):
        return []
    top = f.thresholds.get("suspension") or max(f.thresholds.values(), default=1.0)
    review = f.thresholds.get("review")
    legend = f"scale: {BARS[0]} 0%"
    if review is not None:
        legend += f"  {sparkline([review], top)} review {fmt_pct(review)}"
    legend += f"  {BARS[-1]} pause {fmt_pct(top)}+  · no data"
    kind = "estimated " if f.estimate else ""
    return [
        f"{f.label}, {kind}hourly maximum, last {TREND_DAYS} days (right = now):",
        sparkline(f.trend, top),
        legend,
    ]


def _behind_sections(f: Facts) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    domains = f.behind.get("domains") or []
    categories = f.behind.get("categories") or []
    window = int(BEHIND_WINDOW.total_seconds() // 3600)
    if domains:
        out.append((f"Top recipient domains (last {window} h)", [f"{name}: {n}" for name, n in domains]))
    if categories:
        head = "Bounce categories" if f.signal == "bounce_rate" else "Complaint types"
        out.append((f"{head} (last {window} h)", [f"{name}: {n}" for name, n in categories]))
    groups = f.detail.get("groups") or []
    if groups and f.detail.get("since_open"):  # the parent as updated: every list of the incident
        lists = ", ".join(sorted({g["blocklist"] for g in groups}))
        out.append(("Blocklist bounces since the incident opened", [f"Lists: {lists}", *blocklist_lines(groups)]))
    elif groups:
        out.append(("New blocklist bounces", blocklist_lines(groups)))
    return out


def shared_ip_advice(groups: list[dict[str, Any]]) -> list[str]:
    """The classifier's shared-IP advice (`shared_ip_listing`) for the groups' sending IPs that are none of
    the account's dedicated IPs (`dedicated` False, set by the sweep); none when there are none."""
    from bot.checks.blocklist import SES_DEDICATED_IPS_DOC
    from bot.classify import wording

    ips = sorted({g["sending_ip"] for g in groups if g.get("dedicated") is False})
    if not ips:
        return []
    return [
        f"{', '.join(ips)}: not among the account's dedicated IPs (GetDedicatedIps), so a shared SES IP. "
        f"{wording('shared_ip_listing')[1]} {SES_DEDICATED_IPS_DOC}"
    ]


def blocklist_lines(groups: list[dict[str, Any]], limit: int = 10) -> list[str]:
    """One line per group; a listing of a sending IP that is none of the account's dedicated IPs
    (`dedicated` False) has no delisting link: AWS manages the shared IPs' listings."""
    from bot.classify import delist_url_for

    lines = []
    for g in groups[:limit]:
        line = f"{g['blocklist']}, sending IP {g['sending_ip']}, to {g['domain']}: {g['count']}"
        url = delist_url_for(g["blocklist"]) if g.get("blocklist") else None
        if g.get("dedicated") is False:
            line += " (a shared SES IP: no delisting request)"
        elif url:
            line += f" (delisting: {url})"
        if "dedicated" in g and g["dedicated"] is None:
            line += " (could not tell whether this IP is dedicated)"
        lines.append(line)
        if g.get("example"):
            lines.append(f"    e.g. {clip(g['example'], 200)}")
    if len(groups) > limit:
        lines.append(f"... and {len(groups) - limit} more groups")
    return lines


def _buttons(f: Facts) -> list[Button]:
    if f.incident_id is None:
        return []
    value = str(f.incident_id)
    out = [Button("Acknowledge", ACK_ACTION, value, "primary"), Button("I'll take it", TAKE_ACTION, value)]
    if f.signal in ("bounce_rate", "complaint_rate", "blocklist"):
        out.append(Button("Show bounces", BOUNCES_ACTION, value))
    return out


def _title(f: Facts) -> str:
    where = f" in {f.where}"
    if f.signal in RATE_METRICS or f.signal == "quota":
        level = LEVEL_LABELS.get(f.level, f.level)
        return f"{upper_first(f.label)} {fmt_value(f.signal, f.value)}{where}: {level}"
    if f.signal == "blocklist":
        n = int(f.value or 0)
        if f.detail.get("since_open"):
            return f"{n} blocklist bounce{'' if n == 1 else 's'}{where} since the incident opened"
        return f"{n} new blocklist bounce{'' if n == 1 else 's'}{where}"
    if f.signal == "aws_api":
        return f"Cannot read metrics{where}"
    label = LEVEL_LABELS.get(f.level, f.level)
    if f.level == "unknown_status":
        label += f" ({f.detail.get('enforcement_status')})"
    return f"Account status{where}: {label}"


def _fields(f: Facts) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if f.signal in RATE_METRICS or f.signal == "quota":
        out.append(("Now", f.figure))
        out.append(("Level", _level_text(f, f.level)))
        higher = (
            [lv for lv in f.levels[f.levels.index(f.level) + 1 :] if lv in f.thresholds] if f.level in f.levels else []
        )
        if higher:
            out.append(("Next", _level_text(f, higher[0])))
    elif f.signal == "account_status":
        d = f.detail
        out += [
            ("Sending enabled", "yes" if d.get("sending_enabled") else "no"),
            ("Enforcement status", str(d.get("enforcement_status") or "unknown")),
            ("Production access", "yes" if d.get("production_access") else "no (sandbox)"),
        ]
    if f.account:
        out.append(("Account", f.account))
    out.append(("Region", f.region))
    if f.scope:
        out.append(("Configuration set", f.scope))
    return out


# An incident someone closed by hand (`resolve <reason>`), and the one that opens when the signal stayed bad.
RESOLVED_BY_HAND = "Resolved by hand by {by}: {reason}"
REOPENS = (
    "Reopens incident #{id}, resolved by hand {at} by {by} ({reason}): the signal stayed bad for the "
    "{sweeps} sweeps after it."
)


def _reopens_lines(f: Facts) -> list[str]:
    if not f.reopens:
        return []
    r = f.reopens
    return [
        REOPENS.format(
            id=r["id"],
            at=_human_time(r.get("at")),
            by=r.get("by") or "someone",
            reason=r.get("reason") or "no reason given",
            sweeps=f.recovery_sweeps,
        )
    ]


def _forecast_lines(f: Facts) -> list[str]:
    """A rate's forecast line: when it reaches the next level at this trend, "not rising", or why not."""
    text = f.forecast.text() if f.forecast is not None and f.signal in RATE_METRICS else ""
    return [text] if text else []


def open_message(f: Facts) -> Message:
    """The incident's parent message: figure, threshold, meaning, trend, what is behind it, what to do."""
    sections = _behind_sections(f)
    todo = _todo(f)
    if todo:
        sections.append(("What to do", todo))
    opened = _human_time(f.opened_at) if f.opened_at else _human_now(f.now)
    return Message(
        title=_title(f),
        severity=LEVEL_SEVERITY.get(f.level, Severity.WARNING),
        fields=_fields(f),
        lines=_reopens_lines(f) + _meaning(f) + _forecast_lines(f),
        sections=sections,
        chart=_chart(f),
        buttons=_buttons(f),
        footer=f"Incident #{f.incident_id} opened {opened}. Mention the bot here with `status` or `ack`.",
        people=[str(f.reopens["by"])] if f.reopens and f.reopens.get("by") else [],
    )


def change_message(f: Facts) -> Message:
    """A thread reply: the level went up or down (still not OK)."""
    before = f.levels.index(f.previous_level) if f.previous_level in f.levels else 0
    worse = f.levels.index(f.level) > before if f.level in f.levels else True
    # A status the bot does not know is neither better nor worse than one it does.
    word = "Changed" if "unknown_status" in (f.level, f.previous_level) else "Worse" if worse else "Better"
    lines = [f"Now {_level_text(f, f.level)}, was {LEVEL_LABELS.get(f.previous_level or 'ok', 'OK')}."]
    if worse or word == "Changed":
        lines += _meaning(f)[:1]
    lines += _forecast_lines(f)
    return Message(
        title=f"{word}: {f.label} {fmt_value(f.signal, f.value)}".rstrip() + f" in {f.where}",
        severity=LEVEL_SEVERITY.get(f.level, Severity.WARNING),
        fields=_fields(f),
        lines=lines,
        chart=_chart(f) if worse else [],
    )


def chart_message(f: Facts) -> Message:
    """What an owed chart is about (its row's text); the picture itself is drawn when it is delivered."""
    return Message(
        title=f"Chart: {f.label} in {f.region}, now {LEVEL_LABELS.get(f.level, f.level)}",
        severity=LEVEL_SEVERITY.get(f.level, Severity.WARNING),
        fields=[("Region", f.region)] + ([("Configuration set", f.scope)] if f.scope else []),
    )


def new_listing_message(f: Facts, fresh: list[dict[str, Any]]) -> Message:
    """A thread reply: bounces name a (list, sending IP) pair the open incident had not seen, a new listing.
    (Repeats of known pairs are counted on the parent, not replied.)"""
    pairs = sorted({(g["blocklist"], g["sending_ip"]) for g in fresh})
    named = "; ".join(f"{bl}, sending IP {ip}" for bl, ip in pairs)
    sections = [("New since the last sweep", blocklist_lines(fresh))]
    shared = shared_ip_advice(fresh)
    if shared:
        sections.append(("What to do", shared))
    return Message(
        title=f"New blocklist listing in {f.where}: {named}",
        severity=Severity.WARNING,
        sections=sections,
    )


def resolve_message(f: Facts) -> Message:
    """A thread reply: back to OK."""
    if f.signal == "blocklist":
        why = f"No new blocklist bounce for {int(BLOCKLIST_QUIET.total_seconds() // 60)} minutes or more."
    elif f.signal in RATE_METRICS or f.signal == "quota":
        first = f.thresholds.get(f.levels[1]) if len(f.levels) > 1 else None
        why = f"Below {fmt_pct(first)} for {f.recovery_sweeps} sweeps in a row; now {f.figure}."
    elif f.signal == "aws_api":
        why = "The bot reads the account's figures again."
    else:
        why = f"Sending enabled, enforcement status {f.detail.get('enforcement_status') or 'not reported'}."
    lines = [why, *f.detail.get("changes", [])]
    return Message(title=f"Resolved: {f.label} in {f.where}", severity=Severity.OK, lines=lines)


def parent_message(f: Facts, *, resolved: bool = False) -> Message:
    """The parent message as it should read now: the open message at a worse level, or resolved."""
    if not resolved:
        return open_message(f)
    worst = f.worst_level or f.level
    lines = [f"Worst level reached: {LEVEL_LABELS.get(worst, worst)}"]
    if f.worst_value is not None and (f.signal in RATE_METRICS or f.signal == "quota"):
        lines[0] += f" ({fmt_value(f.signal, f.worst_value)})"
    lines.append(f"Opened {_human_time(f.opened_at)}, resolved {_human_now(f.now)}.")
    by_hand = f.detail.get("resolved_by_hand")
    if by_hand:
        lines.append(RESOLVED_BY_HAND.format(by=by_hand.get("by") or "someone", reason=by_hand.get("reason") or "-"))
    fields = [("Account", f.account)] if f.account else []
    fields += [("Region", f.region)] + ([("Configuration set", f.scope)] if f.scope else [])
    return Message(
        title=f"Resolved: {f.label} in {f.where}",
        severity=Severity.OK,
        fields=fields,
        lines=lines,
        footer=f"Incident #{f.incident_id}. The thread has the timeline.",
        people=[str(by_hand["by"])] if by_hand and by_hand.get("by") else [],
    )


def notice_message(f: Facts, changes: list[str]) -> Message:
    """An account change that is no level change (production access granted or lost, a new status)."""
    lost = any("sandbox" in c for c in changes)
    return Message(
        title=f"Account change in {f.where}",
        severity=Severity.WARNING if lost else Severity.INFO,
        fields=_fields(f),
        lines=changes,
    )
