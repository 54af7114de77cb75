"""Who may ask: one middleware for commands, mentions, buttons, dialogs and App Home alike.

Every request is audited (who, what, when, allowed or not). Refusals are one ephemeral line.
Checks, in order: the workspace (and Enterprise Grid org) is the configured one; the user is in
`SESBOT_ALLOWED_USERS` or one of `SESBOT_ALLOWED_GROUPS` (both empty = everyone); the channel is in
`SESBOT_ALLOWED_CHANNELS` (empty = every channel); diagnoses stay within the per-user rate limit.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.context import BoltContext
from slack_sdk import WebClient

from bot.commands import parse, resolve
from bot.deps import Deps
from bot.ratelimit import RateLimit
from bot.target import UsageError
from handlers.blocks import escape
from handlers.mentions import command_text

log = logging.getLogger(__name__)
GROUP_CACHE_SECONDS = 300


@dataclass
class Asked:
    """What a request asks, from whom, where."""

    kind: str  # command, mention, action, view, home
    action: str  # for the audit: "/ses why ...", "button sesbot_rerun", ...
    user: str | None
    team: str | None
    enterprise: str | None
    channel: str | None
    command_text: str | None = None  # the command a diagnosis would run, for the rate limit


def asked(body: dict[str, Any]) -> Asked | None:
    """Read who/what/where from any Slack request body; None for requests that carry no person."""
    btype = body.get("type")
    if "command" in body:
        text = body.get("text") or ""
        return Asked(
            "command",
            f"{body['command']} {text}".strip(),
            body.get("user_id"),
            body.get("team_id"),
            body.get("enterprise_id"),
            body.get("channel_id"),
            text,
        )
    if btype == "event_callback":
        ev = body.get("event") or {}
        etype = ev.get("type")
        team = body.get("team_id") or ev.get("team")
        ent = body.get("enterprise_id")
        if etype == "app_mention":
            text = command_text(ev.get("text", ""))
            return Asked("mention", f"@mention {text}", ev.get("user"), team, ent, ev.get("channel"), text)
        if etype == "app_home_opened":
            return Asked("home", "app home", ev.get("user"), team, ent, None)
        return None
    if btype in ("block_actions", "view_submission", "view_closed"):
        user = body.get("user") or {}
        team = (body.get("team") or {}).get("id") or user.get("team_id")
        ent = (body.get("enterprise") or {}).get("id") if body.get("enterprise") else None
        channel = (body.get("channel") or {}).get("id")
        if btype == "block_actions":
            action = (body.get("actions") or [{}])[0]
            aid = action.get("action_id", "")
            text = action.get("value") if aid == "sesbot_rerun" else None
            return Asked("action", f"button {aid}", user.get("id"), team, ent, channel, text)
        view = body.get("view") or {}
        # Slack sends no channel with a dialog; ours carry the one they were opened from.
        channel = channel or _metadata_channel(view.get("private_metadata"))
        return Asked("view", f"dialog {view.get('callback_id', '')}", user.get("id"), team, ent, channel)
    return None


def _metadata_channel(metadata: Any) -> str | None:
    try:
        value = json.loads(metadata) if isinstance(metadata, str) and metadata else {}
    except ValueError:
        return None
    channel = value.get("channel") if isinstance(value, dict) else None
    return channel if isinstance(channel, str) else None


class GroupMembers:
    """Members of the allowed user groups, from usergroups.users.list, cached for five minutes."""

    def __init__(self, groups: frozenset[str], clock: Callable[[], float] = time.monotonic):
        self.groups = groups
        self.clock = clock
        self._members: set[str] = set()
        self._at = -1e9
        self._lock = threading.Lock()

    def contains(self, client: WebClient, user: str) -> bool:
        with self._lock:
            if self.clock() - self._at > GROUP_CACHE_SECONDS:
                members: set[str] = set()
                for g in self.groups:
                    try:
                        members.update(client.usergroups_users_list(usergroup=g).get("users") or [])
                    except Exception as exc:  # noqa: BLE001 - a failed lookup refuses, it never allows
                        log.warning("cannot read user group %s: %s", g, type(exc).__name__)
                self._members, self._at = members, self.clock()
            return user in self._members


def register(app: App, deps: Deps) -> None:
    s = deps.settings
    limiter = RateLimit(s.diagnoses_per_minute)
    groups = GroupMembers(s.allowed_groups)

    def refusal(req: Asked, context: BoltContext, client: WebClient) -> str | None:
        auth = context.authorize_result
        team = s.slack_team_id or (auth.team_id if auth else None)
        enterprise = auth.enterprise_id if auth else None
        if team and req.team and req.team != team:
            return "This sesbot serves another Slack workspace."
        if enterprise and req.enterprise and req.enterprise != enterprise:
            return "This sesbot serves another Slack organisation."
        if not req.user:
            return "sesbot could not tell who asked."
        if s.allowed_users or s.allowed_groups:
            if req.user not in s.allowed_users and not (s.allowed_groups and groups.contains(client, req.user)):
                return "You are not on sesbot's list of allowed users; ask an admin to add you."
        if s.allowed_channels and req.kind != "home" and req.channel not in s.allowed_channels:
            return "sesbot does not answer in this channel; ask in one of its allowed channels."
        if req.command_text is not None and _is_diagnosis(req.command_text):
            wait = limiter.check(req.user)
            if wait:
                per = s.diagnoses_per_minute
                return f"You have asked for {per} diagnoses in the last minute; try again in {wait:.0f} s."
        return None

    @app.use
    def guard(
        body: dict[str, Any], context: BoltContext, next: Callable[[], None], ack: Callable, client: WebClient
    ) -> BoltResponse | None:
        """Let the request through (`next()`, None), or refuse it with the response Bolt sends instead."""
        req = asked(body)
        if req is None:
            next()
            return None
        reason = refusal(req, context, client)
        deps.store.audit(
            req.action[:200], reason is None, user_id=req.user, team_id=req.team, channel_id=req.channel, detail=reason
        )
        if reason is None:
            next()
            return None
        log.info("refused %s from %s: %s", req.kind, req.user, reason)
        line = f":no_entry: {escape(reason)}"
        if req.kind == "command":  # the acknowledgement itself carries the refusal
            return BoltResponse(
                status=200,
                body=json.dumps({"response_type": "ephemeral", "text": line}),
                headers={"content-type": "application/json"},
            )
        try:
            if req.kind == "home" and req.user:
                client.views_publish(
                    user_id=req.user,
                    view={"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": line}}]},
                )
            elif req.channel and req.user:
                client.chat_postEphemeral(channel=req.channel, user=req.user, text=line)
        except Exception as exc:  # noqa: BLE001 - the refusal stands even if we cannot say so
            log.warning("could not deliver a refusal: %s", type(exc).__name__)
        return BoltResponse(status=200, body="")


def _is_diagnosis(text: str) -> bool:
    try:
        return resolve(parse(text), "slack").record
    except UsageError:
        return False
