"""Who may ask: one middleware for commands, mentions, buttons, dialogs, shortcuts and App Home alike.

Every request is audited (who, what, when, allowed or not), the row written by the store's audit thread so the
acknowledgement never waits on the database's write lock. A refusal is one line where the person asked: the
slash command's acknowledgement, an ephemeral message in the channel, the Home tab itself, an inline error in a
submitted modal, or a small modal for a global shortcut or a Home button (no channel there).
Checks, in order: the workspace (and Enterprise Grid org) is the configured one; the user is in
`SESBOT_ALLOWED_USERS` or one of `SESBOT_ALLOWED_GROUPS` (both empty = everyone); the channel is in
`SESBOT_ALLOWED_CHANNELS` (empty = every channel); diagnoses stay within the per-user rate limit.
"""

from __future__ import annotations

import contextlib
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
from bot.commands.why import account_option, parse_targets
from bot.deps import Deps
from bot.pasted import question_in
from bot.ratelimit import RateLimit
from bot.settings import Settings
from bot.target import UsageError
from handlers import diagnose
from handlers.blocks import cut, escape, notice_modal, section
from handlers.mentions import command_text

log = logging.getLogger(__name__)
GROUP_CACHE_SECONDS = 300
GROUP_RETRY_SECONDS = 60  # after a failed read of the allowed groups ("try again in a minute")
GROUP_READ_SECONDS = 2  # the longest a request waits for the groups (only while there is no list): within 3 s


@dataclass
class Asked:
    """What a request asks, from whom, where."""

    kind: str  # command, mention, action, view, home, shortcut
    action: str  # for the audit: "/ses why ...", "button sesbot_rerun", ...
    user: str | None
    team: str | None
    enterprise: str | None
    channel: str | None
    command_text: str | None = None  # the command a diagnosis would run, for the rate limit
    # Answered to the person alone, in no channel (the Home tab and its button, the global shortcut, the
    # diagnose modal): the channel allow-list has nothing to judge there; the user allow-lists still apply.
    private: bool = False


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
            return Asked("home", "app home", ev.get("user"), team, ent, None, private=True)
        return None
    if btype in ("shortcut", "message_action"):
        user = body.get("user") or {}
        team = (body.get("team") or {}).get("id") or user.get("team_id")
        ent = (body.get("enterprise") or {}).get("id") if body.get("enterprise") else None
        callback = body.get("callback_id", "")
        if btype == "shortcut":
            return Asked("shortcut", f"shortcut {callback}", user.get("id"), team, ent, None, private=True)
        question = question_in(str((body.get("message") or {}).get("text") or ""))
        channel = (body.get("channel") or {}).get("id")
        command = question.command if question else None
        return Asked("shortcut", f"message shortcut {callback}", user.get("id"), team, ent, channel, command)
    if btype in ("block_actions", "view_submission", "view_closed"):
        user = body.get("user") or {}
        team = (body.get("team") or {}).get("id") or user.get("team_id")
        ent = (body.get("enterprise") or {}).get("id") if body.get("enterprise") else None
        channel = (body.get("channel") or {}).get("id")
        if btype == "block_actions":
            action = (body.get("actions") or [{}])[0]
            aid = action.get("action_id", "")
            text = action.get("value") if aid == "sesbot_rerun" else None
            in_home = channel is None and (body.get("view") or {}).get("type") == "home"
            # A button on the bot's own answer in a direct message (the diagnose form answers there): private.
            in_dm = _direct_message(channel, (body.get("channel") or {}).get("name"))
            return Asked("action", f"button {aid}", user.get("id"), team, ent, channel, text, private=in_home or in_dm)
        view = body.get("view") or {}
        callback = view.get("callback_id", "")
        if callback == diagnose.VIEW:  # answered in a direct message; rate-limited as the `why` it runs
            try:
                line: str | None = diagnose.why_line(diagnose.submitted_text(view))
            except UsageError:
                line = None  # refused under its field: not a diagnosis, so not counted
            return Asked("view", f"dialog {callback}", user.get("id"), team, ent, None, line, private=True)
        # Slack sends no channel with a dialog; ours carry the one they were opened from. A dialog opened from a
        # button in a direct message is as private as that button was.
        channel = channel or _metadata_channel(view.get("private_metadata"))
        return Asked("view", f"dialog {callback}", user.get("id"), team, ent, channel, private=_direct_message(channel))
    return None


def _direct_message(channel: str | None, name: str | None = None) -> bool:
    """Whether a channel is a direct message with the bot (its id starts with D; Slack names it "directmessage")."""
    return name == "directmessage" or str(channel or "").startswith("D")


def _first_input(body: dict[str, Any]) -> str | None:
    """The block id of a submitted modal's first input, where Slack can show an inline error."""
    for block in (body.get("view") or {}).get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None


def _metadata_channel(metadata: Any) -> str | None:
    try:
        value = json.loads(metadata) if isinstance(metadata, str) and metadata else {}
    except ValueError:
        return None
    channel = value.get("channel") if isinstance(value, dict) else None
    return channel if isinstance(channel, str) else None


class GroupMembers:
    """Members of the allowed user groups, from usergroups.users.list, cached for five minutes (read once per
    sweep by the App Home's refresh; the request path uses `GroupWatch`, which never waits on Slack)."""

    def __init__(self, groups: frozenset[str], clock: Callable[[], float] = time.monotonic):
        self.groups = groups
        self.clock = clock
        self._members: set[str] = set()
        self._at = -1e9
        self._lock = threading.Lock()
        self.unread = False  # the last read missed a group: its members are refused, never allowed, until the next

    def contains(self, client: WebClient, user: str) -> bool:
        with self._lock:
            if self.clock() - self._at > GROUP_CACHE_SECONDS:
                members, unread, _ = read_groups(client, self.groups)
                self._members, self._at, self.unread = members, self.clock(), unread
            return user in self._members


def read_groups(
    client: WebClient, groups: frozenset[str], deadline: float | None = None
) -> tuple[set[str], bool, float]:
    """The members of `groups`, whether a group could not be read (a failed read refuses, it never allows), and
    the Retry-After Slack asked for (0 without one). Past `deadline` (`time.monotonic()`) no more groups are
    read: they count as unread."""
    members: set[str] = set()
    unread, retry_after = False, 0.0
    for g in sorted(groups):
        if deadline is not None and time.monotonic() >= deadline:
            unread = True
            break
        try:
            members.update(client.usergroups_users_list(usergroup=g).get("users") or [])
        except Exception as exc:  # noqa: BLE001 - a failed lookup refuses, it never allows
            log.warning("cannot read user group %s: %s", g, type(exc).__name__)
            unread = True
            headers = getattr(getattr(exc, "response", None), "headers", None) or {}
            wait = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
            with contextlib.suppress(ValueError):  # no Retry-After ("None"), or not a number
                retry_after = max(retry_after, float(str(wait)))
    return members, unread, retry_after


class GroupWatch:
    """The allowed groups' members for the request path, which never waits on Slack for them.

    Once the list is five minutes old, the next request starts reading it again in the background and is
    judged on the list it has; a failed read leaves the last complete list in place. Only while there is no
    complete list yet does a request read it itself: once, within GROUP_READ_SECONDS, without retrying a rate
    limit, and someone it could not check is refused with COULD_NOT_CHECK. A failed read is tried again after
    GROUP_RETRY_SECONDS, or the Retry-After Slack asked for if that is longer."""

    def __init__(self, groups: frozenset[str], clock: Callable[[], float] = time.monotonic):
        self.groups = groups
        self.clock = clock
        self._members: set[str] = set()
        self._complete = False
        self._due = -1e9  # when the list is to be read again (clock())
        self._state = threading.Lock()
        self._reading = threading.Lock()  # one read at a time

    def check(self, client: WebClient, user: str) -> bool | None:
        """Whether `user` is in one of the groups; None when the list could not be read (and they are not in
        the part that was)."""
        with self._state:
            due, complete = self.clock() >= self._due, self._complete
        if due and complete:
            if self._reading.acquire(blocking=False):
                threading.Thread(target=self._read, args=(client,), name="usergroups", daemon=True).start()
        elif due and self._reading.acquire(timeout=GROUP_READ_SECONDS):
            self._read(client)
        with self._state:
            return True if user in self._members else (False if self._complete else None)

    def idle(self, timeout: float) -> bool:
        """Wait (at most `timeout` seconds) until no read is running; whether none is."""
        if not self._reading.acquire(timeout=timeout):
            return False
        self._reading.release()
        return True

    def _read(self, client: WebClient) -> None:
        """Read the list (the caller holds `_reading`, released here), unless another read just did."""
        try:
            with self._state:
                if self.clock() < self._due:
                    return
            quick = WebClient(
                token=client.token, base_url=client.base_url, timeout=GROUP_READ_SECONDS, retry_handlers=[]
            )
            members, unread, retry_after = read_groups(quick, self.groups, time.monotonic() + GROUP_READ_SECONDS)
            with self._state:
                if not unread:
                    self._members, self._complete = members, True
                    self._due = self.clock() + GROUP_CACHE_SECONDS
                    return
                if not self._complete:  # no list yet: what was read counts, the rest could not be checked
                    self._members = members
                # else the last complete list stands until a read succeeds
                self._due = self.clock() + max(GROUP_RETRY_SECONDS, retry_after)
        finally:
            self._reading.release()


NOT_ALLOWED = "You are not on sesbot's list of allowed users; ask an admin to add you."
COULD_NOT_CHECK = "sesbot could not check your user group; try again in a minute."


def user_allowed(settings: Settings, groups: GroupMembers, client: WebClient, user: str) -> bool:
    """Whether `user` is in `SESBOT_ALLOWED_USERS` or one of `SESBOT_ALLOWED_GROUPS` (both empty: everyone)."""
    if not (settings.allowed_users or settings.allowed_groups):
        return True
    return user in settings.allowed_users or bool(settings.allowed_groups and groups.contains(client, user))


def not_allowed(settings: Settings, groups: GroupWatch, client: WebClient, user: str) -> str | None:
    """Why `user` may not ask (`SESBOT_ALLOWED_USERS`, `SESBOT_ALLOWED_GROUPS`), or None; never waits on Slack
    beyond the one bounded read of `GroupWatch`."""
    if not (settings.allowed_users or settings.allowed_groups) or user in settings.allowed_users:
        return None
    if not settings.allowed_groups:
        return NOT_ALLOWED
    member = groups.check(client, user)
    return None if member else (COULD_NOT_CHECK if member is None else NOT_ALLOWED)


def refusal_home(reason: str) -> dict[str, Any]:
    """The Home tab of someone refused: the one line saying why."""
    return {"type": "home", "blocks": [section(f":no_entry: {escape(reason)}")]}


def register(app: App, deps: Deps) -> None:
    s = deps.settings
    limiter = RateLimit(s.diagnoses_per_minute)
    groups = GroupWatch(s.allowed_groups)

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
        why_not = not_allowed(s, groups, client, req.user)
        if why_not:
            return why_not
        if s.allowed_channels and not req.private and req.channel not in s.allowed_channels:
            return "sesbot does not answer in this channel; ask in one of its allowed channels."
        if req.command_text is not None and _is_diagnosis(s, req.command_text):
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
        # Written by the store's audit thread: the acknowledgement never waits on the database's write lock.
        deps.store.audit_soon(
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
        field = _first_input(body) if req.kind == "view" else None
        if field:  # a modal submission: the refusal under its field, the modal stays open
            return BoltResponse(
                status=200,
                body=json.dumps({"response_action": "errors", "errors": {field: cut(reason, 150)}}),
                headers={"content-type": "application/json"},
            )
        try:
            if req.kind == "home" and req.user:
                client.views_publish(user_id=req.user, view=refusal_home(reason))
            elif req.channel and req.user:
                client.chat_postEphemeral(channel=req.channel, user=req.user, text=line)
            elif body.get("trigger_id"):  # the global shortcut, a Home button: nowhere to post, so a modal
                client.views_open(trigger_id=body["trigger_id"], view=notice_modal("sesbot", line))
        except Exception as exc:  # noqa: BLE001 - the refusal stands even if we cannot say so
            log.warning("could not deliver a refusal: %s", type(exc).__name__)
        return BoltResponse(status=200, body="")


def _is_diagnosis(settings: Settings, text: str) -> bool:
    """Whether `text` would run a diagnosis: a recorded command whose targets are valid (a refused one is
    answered with its usage line and costs nothing)."""
    try:
        inv = parse(text)
        if not resolve(inv, "slack").record:
            return False
        if inv.name == "why":
            parse_targets(account_option(settings, inv)[1])
        return True
    except UsageError:
        return False
