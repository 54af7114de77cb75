"""The App Home view: a pure function from the engine's `Dashboard` to a Slack `home` view.

Per region the `status` lines (sandbox or production, sending, enforcement, quota, bounce and complaint
rates with their level) and, when one is handed in, the rate chart; the open incidents, each with a link
to its thread; the latest diagnoses; a "Diagnose an address" button. Every text from elsewhere is escaped;
the whole stays within Slack's 100 blocks a view. Regions come worst first (`region_severity`, then their
configuration order), so those left out when they do not all fit are the healthiest, and it says how many.

**The chart's place.** `home_view(..., chart_for=...)` takes a `ChartSource`: called with an account name
('' for the default credentials) and a region, it gives the `Chart` to show under their figures (a file
already uploaded to Slack, by its `slack_file` id, or an image URL Slack can fetch), or None for no chart.
It only looks up (`handlers.home_charts` draws and uploads elsewhere). Without a source there is no image.

    >>> chart_block(Chart(alt_text="Bounce rate 0.4%, review level 5%", slack_file_id="F0CHART"))["slack_file"]
    {'id': 'F0CHART'}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.alerts import LEVEL_SEVERITY, Incident
from bot.dashboard import Dashboard
from bot.findings import Severity
from bot.incidents import incident_line
from bot.redact import redact_addresses
from bot.slack_ids import slack_user
from handlers.blocks import (
    EMOJI,
    MAX_SECTION,
    MAX_VIEW_BLOCKS,
    button,
    context,
    cut,
    escape,
    header,
    mention,
    section,
)
from handlers.diagnose import OPEN_ACTION

MAX_INCIDENTS = 20  # one section each; the rest are counted (`/ses incidents` lists them all)
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,20}$")
_SAFE_LINK = re.compile(r"^https://[^\s|<>]+$")


@dataclass(frozen=True)
class Chart:
    """A chart image for the Home: a Slack file (`slack_file_id`, e.g. from files.completeUploadExternal)
    or a public `image_url`; `alt_text` states the figures in words."""

    alt_text: str
    slack_file_id: str | None = None
    image_url: str | None = None
    title: str | None = None


ChartSource = Callable[[str, str], Chart | None]  # (account, region) -> its chart, or None


def chart_block(chart: Chart) -> dict[str, Any] | None:
    """The image block for `chart`; None when it names no picture."""
    block: dict[str, Any] = {"type": "image", "alt_text": cut(chart.alt_text, 2000) or "chart"}
    if chart.slack_file_id:
        block["slack_file"] = {"id": chart.slack_file_id}
    elif chart.image_url and _SAFE_LINK.match(chart.image_url):
        block["image_url"] = chart.image_url[:3000]
    else:
        return None
    if chart.title:
        block["title"] = {"type": "plain_text", "text": cut(chart.title, 2000)}
    return block


def _when(iso: str | None) -> str:
    return f"{iso[:16].replace('T', ' ')} UTC" if iso else "?"


def region_severity(data: dict[str, Any]) -> Severity:
    """How bad a region looks, from the status data: its rates' levels, sending, enforcement, read errors;
    INFO (a neutral marker, not a healthy one) for a region no sweep has read yet."""
    if data.get("no_reading"):
        return Severity.INFO
    worst = Severity.OK
    for rate in data.get("rates") or []:
        worst = max(worst, LEVEL_SEVERITY.get(rate.get("level") or "ok", Severity.OK))
    if data.get("sending_enabled") is False:
        worst = max(worst, Severity.CRITICAL)
    if (data.get("enforcement_status") or "HEALTHY") != "HEALTHY":
        worst = max(worst, Severity.ERROR)
    if data.get("errors"):
        worst = max(worst, Severity.WARNING)
    return worst


def _region_blocks(heading: str, lines: list[str], data: dict[str, Any], chart: Chart | None) -> list[dict[str, Any]]:
    # The heading is `where(account, region)`: with several accounts it names the account already.
    title = f"{EMOJI[region_severity(data)]} *{escape(heading)}*"
    blocks = [section("\n".join([title, *(escape(line) for line in lines)]))]
    image = chart_block(chart) if chart else None
    if image:
        blocks.append(image)
    return blocks


def _incident_text(incident: Incident, link: str | None) -> str:
    line = f"{EMOJI[LEVEL_SEVERITY.get(incident.level, Severity.WARNING)]} {escape(incident_line(incident))}"
    if link and _SAFE_LINK.match(link):
        return f"{line}  <{link}|Open its thread>"
    if incident.channel and _CHANNEL.match(incident.channel):
        return f"{line}  (thread in <#{incident.channel}>)"
    return line


def _diagnosis_line(row: dict[str, Any], redact: bool) -> str:
    user = slack_user(row.get("user_id"))
    who = mention(user) if user else escape(row.get("via") or "")
    command = str(row.get("command") or "")
    summary = str(row.get("verdict_summary") or "nothing wrong found")
    if redact:
        command, summary = redact_addresses(command), redact_addresses(summary)
    severity = Severity.__members__.get(str(row.get("verdict_severity") or "ok").upper(), Severity.OK)
    asked = escape(cut(command, 200)).replace("`", "'")
    return f"{_when(row.get('at'))} {who} `{asked}`: {EMOJI[severity]} {escape(summary)}"


def home_view(
    dash: Dashboard,
    *,
    links: Mapping[int, str] | None = None,
    chart_for: ChartSource | None = None,
    redact: bool = False,
) -> dict[str, Any]:
    """The `home` view for `views.publish`. `links`: incident id -> its thread's permalink; `redact`: show
    other people's diagnosed addresses as `j***@example.com` (`SESBOT_REDACT=local`)."""
    links = links or {}
    if dash.as_of:
        when = f"As of the last sweep, {_when(dash.as_of)}"
    else:
        when = "No sweep has run yet; the first runs within a minute of the bot's start"
    head: list[dict[str, Any]] = [
        header("SES at a glance"),
        context(f"{when}. Refreshed when you open this tab and after every sweep (every {dash.sweep_minutes} min)."),
        {
            "type": "actions",
            "block_id": "sesbot_home_actions",
            "elements": [button("Diagnose an address", OPEN_ACTION, "home", style="primary")],
        },
        context(
            "In any channel: `/ses why user@example.com`, or `@sesbot why …` in a thread; on a pasted bounce, "
            "the message menu's *Explain with sesbot*. `/ses help` lists every command."
        ),
        {"type": "divider"},
    ]
    tail: list[dict[str, Any]] = [{"type": "divider"}]
    shown = dash.incidents[:MAX_INCIDENTS]
    tail.append(section(f"*Open incidents ({len(dash.incidents)})*" + ("" if shown else "\nnone")))
    tail += [section(_incident_text(i, links.get(i.id))) for i in shown]
    if len(dash.incidents) > len(shown):
        tail.append(context(f"… and {len(dash.incidents) - len(shown)} more: `/ses incidents` lists them all."))
    delivery = dict(dash.status.sections).get("Alert delivery")
    if delivery:
        tail.append(section(":warning: *Alert delivery*\n" + "\n".join(escape(line) for line in delivery)))
    tail.append({"type": "divider"})
    lines = [_diagnosis_line(row, redact) for row in dash.diagnoses] or ["none yet"]
    tail.append(section(cut("*Latest diagnoses*\n" + "\n".join(lines), MAX_SECTION)))
    regions = dash.status.data.get("regions") or []
    # Worst first (a stable sort: configuration order among equals), so what is cut is the healthiest.
    ranked = sorted(zip(dash.status.sections, regions, strict=False), key=lambda r: region_severity(r[1]), reverse=True)
    room = MAX_VIEW_BLOCKS - len(head) - len(tail)
    body: list[dict[str, Any]] = []
    for n, ((heading, lines), data) in enumerate(ranked):
        chart = chart_for(str(data.get("account") or ""), str(data.get("region") or heading)) if chart_for else None
        blocks = _region_blocks(heading, lines, data, chart)  # a region's section and its chart: never apart
        if len(body) + len(blocks) + (n + 1 < len(ranked)) > room:  # room kept for the line saying what is cut
            left = len(ranked) - n
            body.append(
                context(f"… {left} more region{'s' if left > 1 else ''} not shown; `/ses status` shows every region.")
            )
            break
        body += blocks
    return {"type": "home", "blocks": head + body + tail}
