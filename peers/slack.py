"""A local stand-in for Slack: a Web API + response_url server, and requests signed the way Slack signs them.

`SlackPeer` serves ``POST /api/<method>`` on 127.0.0.1 (ephemeral port, one thread per connection) with
plausible ``{"ok": true, ...}`` answers, records every call, and can inject errors (``ratelimited`` with 429
and ``Retry-After``, ``invalid_auth``, an API that is down). It also serves ``/response/<name>`` as a sink for
``response_url`` posts. Point ``slack_sdk.WebClient(base_url=peer.base_url, token=...)`` at it.

What it receives is checked the way Slack checks it: message blocks (``chat.postMessage``, ``chat.update``,
``chat.postEphemeral``) and views (``views.publish``, ``views.open``, ``views.update``, ``views.push``) are
parsed with slack_sdk's own models (``slack_sdk.models.blocks.Block``, ``slack_sdk.models.views.View``, whose
validators carry Slack's limits: 100 blocks a view, a title of at most 24 characters, 3,000 characters a
section...), plus the rules Slack applies that the models leave out (50 blocks a message, a modal's title and
blocks, a view's type, ``trigger_id``/``user_id``/``view_id``). A refused call answers as Slack does
(``invalid_blocks``, ``invalid_arguments`` with ``response_metadata.messages``) and is kept in `refused`, so a
test can say what was wrong. The latest Home view published to each user is kept too (`home_of`).

Messages stay in their channel as Slack keeps them: ``conversations.history`` answers a channel's messages
(newest first; thread replies stay in their thread) and ``conversations.replies`` a thread (its parent first),
each with ``oldest``/``latest``/``limit`` and cursor paging. A message's ``metadata`` (chat.postMessage's
``{"event_type", "event_payload"}``) is checked as Slack checks it (``event_type`` letters, digits and
underscores, at most 255 characters; ``event_payload`` an object; else ``invalid_metadata_format``), stored
with the message, and answered only when the read asks for it (``include_all_metadata=true``). `hold` makes
the next call to a method take effect (the message is in the channel) while its HTTP answer waits until
`release`: a client that dies meanwhile posted a message it never heard about.

Files go through Slack's external-upload flow, as ``WebClient.files_upload_v2`` drives it:
``files.getUploadURLExternal`` (file name, length, alt text checked) answers an upload URL on this peer,
the bytes are POSTed there (the length must match), and ``files.completeUploadExternal`` shares them (the
files uploaded, one ``channel_id`` with ``thread_ts``, a ``thread_ts`` the bot posted in that channel),
answering file objects as Slack does. `SlackPeer.uploads` gives the files shared, bytes included. A file
shared with no channel is the bot's private file, which an image block may show by its ``slack_file`` id
or URL; an image naming a file the workspace does not hold (never uploaded, not completed, deleted with
``files.delete``, or no image) is refused like any invalid block. As in Slack, a new file may still be
processed for a while (`SlackPeer.file_processing_polls`): ``files.info`` answers it without a mimetype,
and an image naming it is refused, until then.

The module-level helpers build the bodies Slack sends to an app (slash command, ``app_mention`` and
``app_home_opened`` events, block action, view submission, global and message shortcuts) and sign them exactly
as Slack does (``v0:{timestamp}:{body}``, HMAC-SHA256 with the signing secret, via
``slack_sdk.signature.SignatureVerifier``); `post_signed` sends one over real HTTP.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.signature import SignatureVerifier

from peers.base import LoopbackPeer

TEAM_ID = "T0TEST"
TEAM_DOMAIN = "sesbot-test"
BOT_USER_ID = "U0SESBOT"
BOT_ID = "B0SESBOT"
APP_ID = "A0SESBOT"
DEFAULT_TRIGGER_ID = "13345224609.738474920.8088930838d88f008e0"
FORM = "application/x-www-form-urlencoded"
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")
MAX_UPLOAD_BYTES = 1_000_000_000  # Slack's limit for one file
MAX_ALT_TXT = 1000  # characters of a file's alt text
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_Predicate = Callable[[Any], bool]
MAX_MESSAGE_BLOCKS = 50  # Slack's limit for one message (a view allows 100: slack_sdk's View says so)
_MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage")
_VIEW_METHODS = ("views.publish", "views.open", "views.update", "views.push")


@dataclass(frozen=True)
class Call:
    """One Web API call; ``params`` merges query and body, JSON-string blocks/attachments/view decoded."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    token: str | None = None


@dataclass
class _Failure:
    method: str
    error: str
    status: int
    retry_after: int | None
    remaining: int | None


@dataclass
class Upload:
    """One file of the external-upload flow: asked for (`files.getUploadURLExternal`), its bytes POSTed to the
    upload URL, then shared (`files.completeUploadExternal`) in ``channel_id``, in the thread ``thread_ts``."""

    file_id: str
    filename: str
    length: int
    alt_txt: str | None = None
    data: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False
    processing: int = 0  # `files.info` answers still to say "being processed" (`SlackPeer.file_processing_polls`)


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    uploads: dict[str, Upload] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)  # ids of the files deleted (`files.delete`), in order
    posted: set[tuple[str, str]] = field(default_factory=set)  # (channel, ts) of every message posted
    responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failures: list[_Failure] = field(default_factory=list)
    token_valid: bool = True
    down: str | None = None  # None, "close" or "503"
    ts_counter: int = 0
    view_counter: int = 0
    refused: list[tuple[str, list[str]]] = field(default_factory=list)
    homes: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel -> its messages, oldest first
    holds: dict[str, int] = field(default_factory=dict)  # method -> how many more answers to hold back
    held: list[Call] = field(default_factory=list)  # calls whose answer is being held back now


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    for name in _JSON_FIELDS:
        value = params.get(name)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                params[name] = json.loads(value)
            except ValueError:
                pass
    return params


def _parse_params(body: bytes, content_type: str, query: str) -> dict[str, Any]:
    params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if body:
        if content_type.startswith("application/json"):
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if isinstance(data, dict):
                params.update(data)
        else:
            params.update({k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()})
    return _decode_json_fields(params)


def _wait(
    condition: threading.Condition,
    find: Callable[[], Any],
    timeout: float,
    describe: Callable[[], str],
) -> Any:
    deadline = time.monotonic() + timeout
    with condition:
        while True:
            found = find()
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(describe())
            condition.wait(min(remaining, 0.5))


def _matches(predicate: _Predicate | None, item: Any) -> bool:
    if predicate is None:
        return True
    try:
        return bool(predicate(item))
    except (KeyError, IndexError, TypeError, AttributeError):
        return False


def _model_problems(parsed: Callable[[], Any]) -> list[str]:
    """What slack_sdk's validators say about a payload (`to_dict()` validates every nested object)."""
    try:
        parsed().to_dict()
    except (SlackObjectFormationError, TypeError, ValueError, AttributeError, KeyError) as exc:
        return [f"{type(exc).__name__}: {exc}"]
    return []


def block_problems(blocks: Any, limit: int) -> list[str]:
    """Why Slack would refuse these blocks (none: an empty list)."""
    if not isinstance(blocks, list):
        return ["blocks must be a list"]
    problems = [f"{len(blocks)} blocks, more than {limit}"] if len(blocks) > limit else []
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or Block.parse(block) is None:
            problems.append(f"block {i} is not a block Slack knows: {json.dumps(block)[:200]}")
            continue
        problems += [f"block {i}: {p}" for p in _model_problems(partial(Block.parse, block))]
    return problems


def view_problems(view: Any) -> list[str]:
    """Why Slack would refuse this view in views.publish/open/update/push (none: an empty list)."""
    if not isinstance(view, dict):
        return ["view must be a JSON object"]
    kind = view.get("type")
    if kind not in ("home", "modal"):
        return [f"view type must be home or modal, not {kind!r}"]
    problems = block_problems(view.get("blocks"), View.blocks_max_length)
    if not view.get("blocks"):
        problems.append("a view needs at least one block")
    if kind == "modal":
        if not (view.get("title") or {}).get("text"):
            problems.append("a modal needs a title")
        inputs = [b for b in view.get("blocks") or [] if isinstance(b, dict) and b.get("type") == "input"]
        if inputs and not view.get("submit"):
            problems.append("a modal with input blocks needs a submit button")
    if not problems:
        problems = _model_problems(lambda: View(**view))
    return problems


_EVENT_TYPE = re.compile(r"^[A-Za-z0-9_]{1,255}$")
MAX_HISTORY_LIMIT = 999  # conversations.history and .replies answer at most this many a page


def metadata_problems(metadata: Any) -> list[str]:
    """Why Slack would refuse a message's ``metadata`` (none: an empty list)."""
    if not isinstance(metadata, dict):
        return ["metadata must be a JSON object"]
    problems = []
    event_type = metadata.get("event_type")
    if not isinstance(event_type, str) or not _EVENT_TYPE.match(event_type):
        problems.append(f"event_type must be letters, digits and underscores (1-255), not {event_type!r}")
    if not isinstance(metadata.get("event_payload"), dict):
        problems.append("event_payload must be a JSON object")
    return problems


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _refusal(method: str, params: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(error, problems) when Slack would refuse this call for what it carries; None when it would not."""
    if method in ("chat.postMessage", "chat.update") and "metadata" in params:
        problems = metadata_problems(params["metadata"])
        if problems:
            return "invalid_metadata_format", problems
    if method in _MESSAGE_METHODS and "blocks" in params:
        problems = block_problems(params["blocks"], MAX_MESSAGE_BLOCKS)
        return ("invalid_blocks", problems) if problems else None
    if method in _VIEW_METHODS:
        problems = view_problems(params.get("view"))
        needs = {"views.publish": "user_id", "views.open": "trigger_id", "views.push": "trigger_id"}.get(method)
        if needs and not params.get(needs):
            problems.append(f"{method} needs {needs}")
        if method == "views.update" and not (params.get("view_id") or params.get("external_id")):
            problems.append("views.update needs view_id or external_id")
        if method == "views.publish" and (params.get("view") or {}).get("type") != "home":
            problems.append("views.publish takes a home view")
        return ("invalid_arguments", problems) if problems else None
    return None


class SlackPeer(LoopbackPeer):
    """A Slack Web API stand-in on 127.0.0.1 (ephemeral port); see the module docstring."""

    def __init__(self, *, team_id: str = TEAM_ID, bot_user_id: str = BOT_USER_ID, bot_id: str = BOT_ID) -> None:
        super().__init__()
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.usergroup_members: dict[str, list[str]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.socket_mode_url: str | None = None
        # Slack completes an upload asynchronously: for this many `files.info` answers after it is shared, a new
        # file is still being processed (no mimetype yet), and an image block naming it is refused.
        self.file_processing_polls = 0
        self._state = _State()
        self._cond = threading.Condition(threading.RLock())
        self._server: _Server | None = None
        self._connections: set[socket.socket] = set()

    # ----------------------------------------------------------------------------------- lifecycle

    def _serve(self) -> int:
        handler = type("BoundSlackHandler", (_Handler,), {"peer": self})
        self._server = _Server((self.host, 0), handler)
        self._serve_forever(self._server, "slack-peer")
        return int(self._server.server_address[1])

    def _shutdown(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            for connection in list(self._connections):  # keep-alive clients: a stopped peer answers nobody
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._connections.clear()
            server.server_close()

    @property
    def base_url(self) -> str:
        """What ``slack_sdk.WebClient(base_url=...)`` takes: ``http://127.0.0.1:PORT/api/``."""
        return f"{self.url}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A ``response_url`` whose posts are recorded under ``name``."""
        return f"{self.url}/response/{name}"

    # ------------------------------------------------------------------------------- recorded calls

    @property
    def calls(self) -> list[Call]:
        """Every Web API call so far (a copy), oldest first."""
        with self._cond:
            return list(self._state.calls)

    def calls_to(self, method: str) -> list[Call]:
        """The calls to ``method`` (e.g. ``chat.postMessage``)."""
        return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, predicate: _Predicate | None = None, timeout: float = 5.0) -> Call:
        """The first call to ``method`` matching ``predicate``, waiting up to ``timeout`` seconds for it."""

        def find() -> Call | None:
            return next(
                (c for c in self._state.calls if c.method == method and _matches(predicate, c)),
                None,
            )

        def describe() -> str:
            seen = [f"{c.method} {json.dumps(c.params, default=str)[:300]}" for c in self._state.calls]
            return f"no {method} call matching the predicate within {timeout}s; calls seen: {seen}"

        return _wait(self._cond, find, timeout, describe)

    def responses(self, name: str = "r1") -> list[dict[str, Any]]:
        """The JSON bodies posted to ``response_url(name)`` so far."""
        with self._cond:
            return list(self._state.responses.get(name, []))

    def wait_for_response(
        self, name: str = "r1", predicate: _Predicate | None = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """The first body posted to ``response_url(name)`` matching ``predicate``, waiting for it."""

        def find() -> dict[str, Any] | None:
            return next((b for b in self._state.responses.get(name, []) if _matches(predicate, b)), None)

        def describe() -> str:
            seen = {k: [json.dumps(b)[:300] for b in v] for k, v in self._state.responses.items()}
            return f"no response to {name!r} matching the predicate within {timeout}s; responses seen: {seen}"

        return _wait(self._cond, find, timeout, describe)

    @property
    def refused(self) -> list[tuple[str, list[str]]]:
        """Calls refused for what they carried, as (method, problems): invalid blocks or views."""
        with self._cond:
            return list(self._state.refused)

    def home_of(self, user_id: str) -> dict[str, Any] | None:
        """The Home view last published to ``user_id`` (None if none was)."""
        with self._cond:
            return self._state.homes.get(user_id)

    @property
    def uploads(self) -> list[Upload]:
        """Every file shared through the external-upload flow (`files.completeUploadExternal`), oldest first."""
        with self._cond:
            return [u for u in self._state.uploads.values() if u.completed]

    @property
    def deleted(self) -> list[str]:
        """The ids of the files deleted (`files.delete`), oldest first."""
        with self._cond:
            return list(self._state.deleted)

    def wait_for_upload(self, predicate: _Predicate | None = None, timeout: float = 5.0) -> Upload:
        """The first shared file matching ``predicate``, waiting up to ``timeout`` seconds for it."""

        def find() -> Upload | None:
            done = [u for u in self._state.uploads.values() if u.completed]
            return next((u for u in done if _matches(predicate, u)), None)

        def describe() -> str:
            seen = [(u.file_id, u.filename, u.channel_id, u.thread_ts) for u in self._state.uploads.values()]
            return f"no shared file matching the predicate within {timeout}s; uploads seen: {seen}"

        return _wait(self._cond, find, timeout, describe)

    def clear(self) -> None:
        """Forget recorded calls and responses (state and injected errors stay)."""
        with self._cond:
            self._state.calls.clear()
            self._state.responses.clear()
            self._state.refused.clear()

    def reset(self) -> None:
        """Back to a fresh peer: no calls, responses, errors, groups, users, channels; API up, token valid."""
        with self._cond:
            self._state = _State()
            self.usergroup_members.clear()
            self.users.clear()
            self.channels.clear()
            self.socket_mode_url = None
            self.file_processing_polls = 0

    # -------------------------------------------------------------------------------- fault injection

    def fail(
        self,
        method: str,
        error: str = "ratelimited",
        status: int = 429,
        retry_after: int | None = 1,
        count: int | None = 1,
    ) -> None:
        """Answer the next ``count`` calls to ``method`` (None: all) with ``{"ok": false, "error": error}``.

        A 429 carries ``Retry-After: retry_after``. ``method`` may also be ``"response:<name>"`` to make that
        response_url answer ``status`` with ``error`` as its text, or ``"*"`` for every Web API method.
        """
        if count is not None and count < 1:
            raise ValueError("count must be at least 1, or None for every call")
        with self._cond:
            self._state.failures.append(_Failure(method, error, status, retry_after, count))

    def set_token_valid(self, valid: bool) -> None:
        """With False, every Web API call answers ``invalid_auth``."""
        with self._cond:
            self._state.token_valid = bool(valid)

    def set_down(self, down: bool = True, *, mode: str = "close") -> None:
        """Simulate an unreachable API: ``"close"`` drops connections unanswered, ``"503"`` answers 503."""
        if mode not in ("close", "503"):
            raise ValueError("mode must be 'close' or '503'")
        with self._cond:
            self._state.down = mode if down else None

    def hold(self, method: str, count: int = 1) -> None:
        """Let the next ``count`` calls to ``method`` take effect (a posted message is in its channel at once)
        but hold their HTTP answers back until `release` (or `stop`)."""
        with self._cond:
            self._state.holds[method] = self._state.holds.get(method, 0) + count

    def release(self) -> None:
        """Send every answer held back by `hold`, and hold no more."""
        with self._cond:
            self._state.holds.clear()
            self._state.held.clear()
            self._cond.notify_all()

    def wait_for_held(self, method: str, timeout: float = 10.0) -> Call:
        """The first call to ``method`` whose answer is being held back, waiting for it."""

        def find() -> Call | None:
            return next((c for c in self._state.held if c.method == method), None)

        return _wait(self._cond, find, timeout, lambda: f"no {method} call was held within {timeout}s")

    def _hold_answer(self, call: Call) -> None:
        """Block this request's thread while its answer is held (bounded: a test that forgets is not a hang)."""
        deadline = time.monotonic() + 60

        def holding() -> bool:
            return any(c is call for c in self._state.held)

        with self._cond:
            while holding() and self._server is not None and time.monotonic() < deadline:
                self._cond.wait(0.2)
            self._state.held = [c for c in self._state.held if c is not call]

    # ------------------------------------------------------------------------------------ messages

    def messages_in(self, channel: str, *, thread_ts: str | None = None, uploads: bool = True) -> list[dict[str, Any]]:
        """The messages in ``channel`` as Slack keeps them (metadata included), oldest first; with
        ``thread_ts``, that thread's (parent first); ``uploads=False`` leaves out the messages that share an
        uploaded file (a chart)."""
        with self._cond:
            kept = [m for m in self._state.messages.get(channel, []) if uploads or not m.get("upload")]
        if thread_ts is None:
            return [dict(m) for m in kept]
        return [dict(m) for m in kept if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts]

    def _keep(self, channel: str, message: dict[str, Any]) -> None:
        self._state.messages.setdefault(channel, []).append(dict(message))
        parent_ts = message.get("thread_ts")
        if parent_ts and parent_ts != message["ts"]:
            for m in self._state.messages[channel]:
                if m["ts"] == parent_ts:
                    m["thread_ts"] = parent_ts
                    m["reply_count"] = int(m.get("reply_count") or 0) + 1

    def _edit(self, channel: str, ts: str, params: dict[str, Any]) -> None:
        for m in self._state.messages.get(channel, []):
            if m["ts"] == ts:
                for name in ("text", "blocks", "attachments"):
                    if name in params:
                        m[name] = params[name]
                if isinstance(params.get("metadata"), dict):
                    m["metadata"] = params["metadata"]
                m["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}

    def _page(self, messages: list[dict[str, Any]], params: dict[str, Any], *, newest_first: bool) -> dict[str, Any]:
        """One page of a history or thread read: ``oldest``/``latest`` (exclusive unless ``inclusive``),
        ``limit`` (default 100 for history, 1,000 for replies; at most 999), ``cursor``; metadata only with
        ``include_all_metadata``."""
        inclusive = _flag(params.get("inclusive"))
        oldest, latest = params.get("oldest"), params.get("latest")
        try:
            low = float(oldest) if oldest not in (None, "") else None
            high = float(latest) if latest not in (None, "") else None
            limit = int(params.get("limit") or (100 if newest_first else 1000))
            start = int(str(params.get("cursor") or "0").removeprefix("next_ts:") or 0)
        except (TypeError, ValueError):
            return {"ok": False, "error": "invalid_arguments"}
        limit = max(1, min(limit, MAX_HISTORY_LIMIT))

        def within(m: dict[str, Any]) -> bool:
            ts = float(m["ts"])
            if low is not None and (ts < low or (ts == low and not inclusive)):
                return False
            return high is None or ts < high or (ts == high and inclusive)

        chosen = [m for m in messages if within(m)]
        if newest_first:
            chosen.reverse()
        page = chosen[start : start + limit]
        with_metadata = _flag(params.get("include_all_metadata"))
        out = [{k: v for k, v in m.items() if with_metadata or k != "metadata"} for m in page]
        answer: dict[str, Any] = {"ok": True, "messages": out, "has_more": start + limit < len(chosen)}
        answer["response_metadata"] = {"next_cursor": f"next_ts:{start + limit}" if answer["has_more"] else ""}
        return answer

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not self._channel(channel)["is_member"]:
            return {"ok": False, "error": "not_in_channel"}
        kept = self._state.messages.get(channel, [])
        top = [m for m in kept if not m.get("thread_ts") or m["thread_ts"] == m["ts"]]
        return self._page(top, params, newest_first=True)

    def _replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel") or ""), str(params.get("ts") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not self._channel(channel)["is_member"]:
            return {"ok": False, "error": "not_in_channel"}
        kept = self._state.messages.get(channel, [])
        thread = [m for m in kept if m["ts"] == ts or m.get("thread_ts") == ts]
        if not thread or thread[0]["ts"] != ts:
            return {"ok": False, "error": "thread_not_found"}
        return self._page(thread, params, newest_first=False)

    def _take_failure(self, key: str) -> _Failure | None:
        for failure in self._state.failures:
            if failure.method == key or (failure.method == "*" and not key.startswith("response:")):
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._state.failures.remove(failure)
                return failure
        return None

    # ------------------------------------------------------------------------------------- answers

    def _next_ts(self) -> str:
        self._state.ts_counter += 1
        micros = 1_700_000_000_000_000 + self._state.ts_counter * 100
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": APP_ID,
            "team": self.team_id,
            "text": params.get("text") or "",
            "ts": ts,
        }
        for name in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(name):
                message[name] = params[name]
        return message

    def _user(self, user_id: str) -> dict[str, Any]:
        name = user_id[2:].lower() if user_id.startswith("U0") else user_id.lower()
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": name.title(),
            "deleted": False,
            "is_bot": user_id == self.bot_user_id,
            "is_admin": False,
            "tz": "Etc/UTC",
            "tz_offset": 0,
            "profile": {"real_name": name.title(), "display_name": name, "email": f"{name}@example.com"},
        }
        user.update(self.users.get(user_id, {}))
        return user

    def _channel(self, channel_id: str) -> dict[str, Any]:
        channel: dict[str, Any] = {
            "id": channel_id,
            "name": channel_id[2:].lower() if channel_id.startswith("C0") else channel_id.lower(),
            "is_channel": channel_id.startswith("C"),
            "is_group": channel_id.startswith("G"),
            "is_im": channel_id.startswith("D"),
            "is_private": channel_id.startswith("G"),
            "is_member": True,
            "is_archived": False,
        }
        channel.update(self.channels.get(channel_id, {}))
        return channel

    def _view(self, params: dict[str, Any]) -> dict[str, Any]:
        self._state.view_counter += 1
        given = params.get("view")
        view: dict[str, Any] = given if isinstance(given, dict) else {}
        view_id = params.get("view_id") or f"V{self._state.view_counter:010d}"
        return {
            "id": view_id,
            "team_id": self.team_id,
            "app_id": APP_ID,
            "bot_id": self.bot_id,
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "state": {"values": {}},
            "private_metadata": "",
            "callback_id": "",
            **view,
        }

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method in _MESSAGE_METHODS:
            if not params.get("channel"):
                return {"ok": False, "error": "channel_not_found"}
            if not any(params.get(k) for k in ("text", "blocks", "attachments")):
                return {"ok": False, "error": "no_text"}
        if method in _VIEW_METHODS:
            return {"ok": True, "view": self._view(params)}
        answer = _ANSWERS.get(method)
        return answer(self, params) if answer is not None else {"ok": True}

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "sesbot test",
            "user": "sesbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params["channel"]
        ts = self._next_ts()
        self._state.posted.add((str(channel), ts))
        message = self._message(params, ts)
        self._keep(str(channel), message)
        answered = {k: v for k, v in message.items() if k != "metadata"}
        return {"ok": True, "channel": channel, "ts": ts, "message": answered}

    def _update_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params["channel"]
        updated_ts = params.get("ts")
        if not updated_ts:
            return {"ok": False, "error": "message_not_found"}
        message = self._message(params, updated_ts)
        self._edit(str(channel), str(updated_ts), params)
        message.pop("metadata", None)
        return {"ok": True, "channel": channel, "ts": updated_ts, "text": message["text"], "message": message}

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _schedule_message(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "channel": params["channel"],
            "scheduled_message_id": f"Q{self._next_ts().replace('.', '')}",
        }

    def _delete_message(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}

    def _permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        ts = str(params.get("message_ts") or "")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _conversation_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": self._channel(channel)}

    def _conversation_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users") or params.get("user") or "")
        return {"ok": True, "channel": {"id": "D0" + users.split(",")[0].removeprefix("U0")}}

    def _user_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = params.get("user")
        if not user:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user(user)}

    def _usergroup_users(self, params: dict[str, Any]) -> dict[str, Any]:
        group = params.get("usergroup")
        if group not in self.usergroup_members:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroup_members[group])}

    def _usergroups(self, params: dict[str, Any]) -> dict[str, Any]:
        groups = [
            {"id": gid, "team_id": self.team_id, "handle": gid.lower(), "name": gid, "users": list(members)}
            for gid, members in self.usergroup_members.items()
        ]
        return {"ok": True, "usergroups": groups}

    def _connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.socket_mode_url or f"ws://127.0.0.1:{self.port}/socket-mode"}

    # ------------------------------------------------------------------------------ external upload

    def _file_refusal(self, method: str, params: dict[str, Any]) -> tuple[str, list[str]] | None:
        """An image block's ``slack_file`` must name, by ``id`` or by ``url`` (its ``url_private`` or
        ``permalink``), one of them, a PNG this workspace holds: uploaded, shared (completed), not deleted."""
        if method in _VIEW_METHODS:
            view = params.get("view")
            blocks, error = (view.get("blocks") if isinstance(view, dict) else None), "invalid_arguments"
        elif method in _MESSAGE_METHODS:
            blocks, error = params.get("blocks"), "invalid_blocks"
        else:
            return None
        problems = []
        for i, block in enumerate(blocks if isinstance(blocks, list) else []):
            if not isinstance(block, dict) or block.get("type") != "image":
                continue
            ref = block.get("slack_file")
            if (ref is None) == (block.get("image_url") is None):
                problems.append(f"block {i}: an image takes image_url or slack_file, one of them")
            if ref is None:
                continue
            if not isinstance(ref, dict) or ("id" in ref) == ("url" in ref):
                problems.append(f"block {i}: slack_file takes an id or a url, one of them")
                continue
            upload = self._uploaded(ref)
            if upload is None:
                problems.append(f"block {i}: slack_file {json.dumps(ref)} is no file uploaded to this workspace")
            elif upload.processing > 0:
                problems.append(f"block {i}: slack_file {upload.file_id} is still being processed")
            elif (upload.data or b"")[:8] != PNG_SIGNATURE:
                problems.append(f"block {i}: slack_file {upload.file_id} is not an image")
        return (error, problems) if problems else None

    def _uploaded(self, ref: dict[str, Any]) -> Upload | None:
        for upload in self._state.uploads.values():
            if not upload.completed:
                continue
            obj = self._file_object(upload)
            if ref.get("id") == upload.file_id or ref.get("url") in (obj["url_private"], obj["permalink"]):
                return upload
        return None

    def _file_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """`files.info`: the file object; while the file is still being processed, without its mimetype."""
        upload = self._state.uploads.get(str(params.get("file") or ""))
        if upload is None or not upload.completed:
            return {"ok": False, "error": "file_not_found"}
        obj = self._file_object(upload)
        upload.processing = max(0, upload.processing - 1)
        return {"ok": True, "file": obj}

    def _delete_file(self, params: dict[str, Any]) -> dict[str, Any]:
        """`files.delete`: a file this workspace holds is gone (its id no longer shows in an image)."""
        upload = self._state.uploads.get(str(params.get("file") or ""))
        if upload is None or not upload.completed:
            return {"ok": False, "error": "file_not_found"}
        del self._state.uploads[upload.file_id]
        self._state.deleted.append(upload.file_id)
        return {"ok": True}

    def _upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        """`files.getUploadURLExternal`: a file name, a length in bytes (1 byte to 1 GB), an alt text of at most
        1,000 characters; answers an upload URL on this peer and the file's id."""
        filename = params.get("filename")
        if not isinstance(filename, str) or not filename.strip():
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": ["filename"]}}
        try:
            length = int(str(params.get("length")))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": ["length"]}}
        if not 1 <= length <= MAX_UPLOAD_BYTES:
            return {"ok": False, "error": "invalid_length"}
        alt_txt = params.get("alt_txt")
        if alt_txt is not None and len(str(alt_txt)) > MAX_ALT_TXT:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": ["alt_txt"]}}
        file_id = f"F0{uuid.uuid4().hex[:9].upper()}"
        self._state.uploads[file_id] = Upload(file_id, filename, length, alt_txt)
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _receive_upload(self, file_id: str, body: bytes) -> tuple[int, str]:
        """The POST of a file's bytes to its upload URL: known id, the length announced, once."""
        with self._cond:
            upload = self._state.uploads.get(file_id)
            if upload is None:
                return 404, "no such upload"
            if upload.data is not None:
                return 400, "already uploaded"
            if len(body) != upload.length:
                return 400, f"expected {upload.length} bytes, got {len(body)}"
            upload.data = body
            self._cond.notify_all()
        return 200, f"OK - {len(body)}"

    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        """`files.completeUploadExternal`: ``files`` a JSON array of ``{"id", "title"}`` of uploaded files;
        ``thread_ts`` only with one ``channel_id`` and naming a message posted there."""
        raw = params.get("files")
        try:
            files = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            files = None
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) and f.get("id") for f in files):
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": ["files"]}}
        channel = params.get("channel_id")
        thread_ts = params.get("thread_ts")
        if thread_ts and (not channel or params.get("channels")):
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": ["thread_ts"]}}
        if channel and not self._channel(str(channel))["is_member"]:
            return {"ok": False, "error": "not_in_channel"}
        if thread_ts and (str(channel), str(thread_ts)) not in self._state.posted:
            return {"ok": False, "error": "invalid_thread_ts"}
        uploads = []
        for f in files:
            upload = self._state.uploads.get(str(f["id"]))
            if upload is None or upload.completed:
                return {"ok": False, "error": "file_not_found"}
            if upload.data is None:
                return {"ok": False, "error": "file_upload_not_complete"}
            uploads.append((upload, f))
        answered = []
        for upload, f in uploads:
            upload.title = f.get("title") or upload.filename
            upload.channel_id, upload.thread_ts = channel, thread_ts
            upload.initial_comment = params.get("initial_comment")
            upload.completed = True
            upload.processing = self.file_processing_polls
            answered.append(self._file_object(upload))
        if channel:  # shared in a channel: Slack shows the files in a message of the bot's (in the thread)
            share: dict[str, Any] = {
                "type": "message",
                "user": self.bot_user_id,
                "text": str(params.get("initial_comment") or ""),
                "ts": self._next_ts(),
                "files": answered,
                "upload": True,
            }
            if thread_ts:
                share["thread_ts"] = str(thread_ts)
            self._keep(str(channel), share)
        self._cond.notify_all()
        return {"ok": True, "files": answered}

    def _file_object(self, upload: Upload) -> dict[str, Any]:
        data = upload.data or b""
        is_png = data[:8] == PNG_SIGNATURE
        obj: dict[str, Any] = {
            "id": upload.file_id,
            "created": int(time.time()),
            "timestamp": int(time.time()),
            "name": upload.filename,
            "title": upload.title,
            "mimetype": "image/png" if is_png else "application/octet-stream",
            "filetype": "png" if is_png else "binary",
            "pretty_type": "PNG" if is_png else "Binary",
            "user": self.bot_user_id,
            "user_team": self.team_id,
            "editable": False,
            "size": len(data),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(upload.channel_id and upload.channel_id.startswith("C")),
            "url_private": f"{self.url}/files/{upload.file_id}/{upload.filename}",
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{self.bot_user_id}/{upload.file_id}/{upload.filename}",
            "channels": [upload.channel_id] if upload.channel_id else [],
            "groups": [],
            "ims": [],
        }
        if upload.processing > 0:  # Slack has not looked at the bytes yet
            obj.update(mimetype="", filetype="", pretty_type="")
        if upload.alt_txt:
            obj["alt_txt"] = upload.alt_txt
        if is_png and len(data) >= 24:  # the IHDR chunk: width and height, big-endian
            obj["original_w"] = int.from_bytes(data[16:20], "big")
            obj["original_h"] = int.from_bytes(data[20:24], "big")
        return obj

    def _handle_api(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict, dict]:
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else params.get("token")
        call = Call(method, params, headers, token)
        answer = self._api_answer(method, params, token, call)
        self._hold_answer(call)
        return answer

    def _api_answer(self, method: str, params: dict[str, Any], token: str | None, call: Call) -> tuple[int, dict, dict]:
        with self._cond:
            self._state.calls.append(call)
            if self._state.holds.get(method):
                self._state.holds[method] -= 1
                self._state.held.append(call)
            self._cond.notify_all()
            failure = self._take_failure(method)
            if failure is not None:
                extra = {}
                if failure.status == 429 and failure.retry_after is not None:
                    extra["Retry-After"] = str(failure.retry_after)
                return failure.status, {"ok": False, "error": failure.error}, extra
            if not token:
                return 200, {"ok": False, "error": "not_authed"}, {}
            if not self._state.token_valid:
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            refusal = _refusal(method, params) or self._file_refusal(method, params)
            if refusal is not None:
                error, problems = refusal
                self._state.refused.append((method, problems))
                return 200, {"ok": False, "error": error, "response_metadata": {"messages": problems}}, {}
            answer = self._answer(method, params)
            if method == "views.publish":
                self._state.homes[str(params["user_id"])] = answer["view"]
            return 200, answer, {}

    def _handle_response(self, name: str, body: bytes, content_type: str) -> tuple[int, str]:
        if content_type.startswith("application/json"):
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                payload = {"_raw": body.decode("utf-8", "replace")}
        else:
            payload = _parse_params(body, content_type, "")
            if isinstance(payload.get("payload"), str):
                try:
                    payload = json.loads(payload["payload"])
                except ValueError:
                    pass
        with self._cond:
            self._state.responses.setdefault(name, []).append(payload)
            self._cond.notify_all()
            failure = self._take_failure(f"response:{name}")
        if failure is not None:
            return failure.status, failure.error
        return 200, "ok"


# What the stand-in answers, per Web API method (a method not here answers {"ok": true}; the views methods
# answer the view; _MESSAGE_METHODS are checked for a channel and some text first).
_ANSWERS: dict[str, Callable[[SlackPeer, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": SlackPeer._auth_test,
    "chat.postMessage": SlackPeer._post_message,
    "chat.update": SlackPeer._update_message,
    "chat.postEphemeral": SlackPeer._post_ephemeral,
    "chat.scheduleMessage": SlackPeer._schedule_message,
    "chat.delete": SlackPeer._delete_message,
    "chat.getPermalink": SlackPeer._permalink,
    "conversations.history": SlackPeer._history,
    "conversations.replies": SlackPeer._replies,
    "conversations.info": SlackPeer._conversation_info,
    "conversations.open": SlackPeer._conversation_open,
    "files.getUploadURLExternal": SlackPeer._upload_url,
    "files.completeUploadExternal": SlackPeer._complete_upload,
    "files.delete": SlackPeer._delete_file,
    "files.info": SlackPeer._file_info,
    "users.info": SlackPeer._user_info,
    "usergroups.users.list": SlackPeer._usergroup_users,
    "usergroups.list": SlackPeer._usergroups,
    "apps.connections.open": SlackPeer._connections_open,
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client (or stop()) hung up: not worth a traceback
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Routes /api/<method> and /response/<name> to the peer."""

    peer: SlackPeer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.peer._connections.add(self.connection)

    def finish(self) -> None:
        self.peer._connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        peer = self.peer
        with peer._cond:
            down = peer._state.down
        if down == "close":
            self.close_connection = True
            return
        if down == "503":
            self._send(503, b"Service Unavailable", "text/plain")
            return
        path, _, query = self.path.partition("?")
        content_type = self.headers.get("Content-Type", "")
        if path.startswith("/api/") and len(path) > len("/api/"):
            method = path[len("/api/") :].strip("/")
            params = _parse_params(body, content_type, query)
            status, payload, extra = peer._handle_api(method, params, dict(self.headers.items()))
            self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8", extra)
        elif path.startswith("/upload/"):
            status, text = peer._receive_upload(path[len("/upload/") :], body)
            self._send(status, text.encode(), "text/plain; charset=utf-8")
        elif path.startswith("/response/"):
            status, text = peer._handle_response(path[len("/response/") :], body, content_type)
            self._send(status, text.encode(), "text/plain; charset=utf-8")
        else:
            self._send(404, b"not found", "text/plain")


# ------------------------------------------------------------------------------------ signed requests


def _guess_content_type(body: bytes) -> str:
    return "application/json" if body.lstrip()[:1] == b"{" else FORM


def signed_headers(
    body: bytes,
    signing_secret: str,
    timestamp: int | None = None,
    content_type: str | None = None,
) -> dict[str, str]:
    """Headers Slack sends with ``body``: Content-Type, ``X-Slack-Request-Timestamp``, ``X-Slack-Signature``.

    ``timestamp`` defaults to now; ``content_type`` to JSON for a body starting with ``{``, else form.
    """
    ts = str(int(time.time()) if timestamp is None else int(timestamp))
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body.decode("utf-8"))
    return {
        "Content-Type": content_type or _guess_content_type(body),
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
    }


def post_signed(
    url: str,
    body: bytes,
    signing_secret: str,
    *,
    timestamp: int | None = None,
    content_type: str | None = None,
    sign: bool = True,
    timeout: float = 10,
) -> tuple[int, str]:
    """POST ``body`` to ``url`` over real HTTP, signed like Slack (unless ``sign`` is False).

    Returns (HTTP status, response text); HTTP errors are returned, not raised. Proxies are bypassed.
    """
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    if sign:
        headers = signed_headers(body, signing_secret, timestamp, content_type)
    else:
        headers = {"Content-Type": content_type or _guess_content_type(body)}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - checked above
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


def _user_block(user_id: str, team_id: str) -> dict[str, str]:
    name = user_id[2:].lower() if user_id.startswith("U0") else user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def slash_command_body(
    text: str,
    *,
    command: str = "/ses",
    user_id: str = "U0ALICE",
    user_name: str = "alice",
    channel_id: str = "C0OPS",
    channel_name: str = "ops",
    team_id: str = TEAM_ID,
    response_url: str,
    trigger_id: str = DEFAULT_TRIGGER_ID,
) -> bytes:
    """The form-encoded body Slack posts for a slash command."""
    return urlencode(
        {
            "token": "verification-token",
            "team_id": team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    ).encode()


def app_mention_body(
    text: str,
    *,
    user: str = "U0ALICE",
    channel: str = "C0OPS",
    ts: str | None = None,
    thread_ts: str | None = None,
    team_id: str = TEAM_ID,
    bot_user_id: str = BOT_USER_ID,
) -> bytes:
    """The Events API ``event_callback`` JSON for an ``app_mention``.

    The text starts with ``<@bot_user_id>`` as in Slack, unless ``text`` already mentions someone.
    ``ts`` defaults to now.
    """
    ts = ts or f"{time.time():.6f}"
    if "<@" not in text:
        text = f"<@{bot_user_id}> {text}"
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": team_id,
        "client_msg_id": str(uuid.uuid4()),
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return json.dumps(
        {
            "token": "verification-token",
            "team_id": team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(float(ts)),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }
    ).encode()


def block_action_body(
    action_id: str,
    value: str,
    *,
    user_id: str = "U0ALICE",
    channel_id: str = "C0OPS",
    team_id: str = TEAM_ID,
    message_ts: str | None = None,
    response_url: str | None = None,
    trigger_id: str = DEFAULT_TRIGGER_ID,
    block_id: str = "sesbot",
    view: dict[str, Any] | None = None,
) -> bytes:
    """The form-encoded ``payload=`` body Slack posts when a button is clicked: in a message, or, with
    ``view`` (e.g. ``{"id": "V1", "type": "home"}``), in a Home tab or modal, which carries no channel."""
    ts = message_ts or "1700000000.000100"
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user_block(user_id, team_id),
        "api_app_id": APP_ID,
        "token": "verification-token",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel_id, "is_ephemeral": False},
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {
            "id": channel_id,
            "name": channel_id[2:].lower() if channel_id.startswith("C0") else channel_id,
        },
        "message": {
            "type": "message",
            "ts": ts,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": "",
            "blocks": [],
        },
        "state": {"values": {}},
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if view is not None:
        view_id = view.get("id", "V0000000001")
        payload["container"] = {"type": "view", "view_id": view_id}
        payload["view"] = {"id": view_id, "team_id": team_id, "app_id": APP_ID, "bot_id": BOT_ID, **view}
        del payload["channel"], payload["message"]
    if response_url:
        payload["response_url"] = response_url
    return urlencode({"payload": json.dumps(payload)}).encode()


def shortcut_body(
    callback_id: str, *, user_id: str = "U0ALICE", team_id: str = TEAM_ID, trigger_id: str = DEFAULT_TRIGGER_ID
) -> bytes:
    """The form-encoded ``payload=`` body Slack posts for a global shortcut (the search bar, the + menu)."""
    payload = {
        "type": "shortcut",
        "token": "verification-token",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user_block(user_id, team_id),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def message_action_body(
    callback_id: str,
    text: str,
    *,
    user_id: str = "U0ALICE",
    channel_id: str = "C0OPS",
    team_id: str = TEAM_ID,
    message_ts: str = "1700000000.000200",
    thread_ts: str | None = None,
    author: str = "U0BOB",
    response_url: str,
    trigger_id: str = DEFAULT_TRIGGER_ID,
) -> bytes:
    """The form-encoded ``payload=`` body Slack posts for a message shortcut on a message ``author`` wrote
    (``thread_ts`` when that message is a reply in a thread). Slack escapes ``&``, ``<`` and ``>`` in the
    text it sends, as in every message."""
    message: dict[str, Any] = {
        "type": "message",
        "user": author,
        "ts": message_ts,
        "text": text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
        "team": team_id,
    }
    if thread_ts:
        message["thread_ts"] = thread_ts
    payload = {
        "type": "message_action",
        "token": "verification-token",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user_block(user_id, team_id),
        "channel": {"id": channel_id, "name": channel_id[2:].lower() if channel_id.startswith("C0") else channel_id},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "response_url": response_url,
        "message_ts": message_ts,
        "message": message,
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def app_home_opened_body(
    user: str = "U0ALICE", *, team_id: str = TEAM_ID, event_id: str | None = None, tab: str = "home"
) -> bytes:
    """The Events API ``event_callback`` JSON Slack sends when someone opens the app's Home tab."""
    now = time.time()
    event = {"type": "app_home_opened", "user": user, "channel": "D0" + user.removeprefix("U0"), "tab": tab}
    event["event_ts"] = f"{now:.6f}"
    return json.dumps(
        {
            "token": "verification-token",
            "team_id": team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
        }
    ).encode()


def view_submission_body(
    callback_id: str,
    private_metadata: str,
    state_values: dict[str, Any],
    *,
    user_id: str = "U0ALICE",
    team_id: str = TEAM_ID,
    view_id: str = "V0000000001",
    blocks: list[dict[str, Any]] | None = None,
) -> bytes:
    """The form-encoded ``payload=`` body Slack posts when a modal is submitted.

    ``state_values`` is ``view.state.values``: ``{block_id: {action_id: {"type": ..., "value": ...}}}``;
    ``blocks`` the modal's blocks as it was opened (Slack sends them back).
    """
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user_block(user_id, team_id),
        "api_app_id": APP_ID,
        "token": "verification-token",
        "trigger_id": DEFAULT_TRIGGER_ID,
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "title": {"type": "plain_text", "text": "sesbot"},
            "blocks": blocks or [],
            "state": {"values": state_values},
            "hash": f"{int(time.time())}.abcdef12",
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "root_view_id": view_id,
            "previous_view_id": None,
        },
        "response_urls": [],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_ID",
    "Call",
    "SlackPeer",
    "app_home_opened_body",
    "Upload",
    "app_mention_body",
    "block_action_body",
    "block_problems",
    "message_action_body",
    "post_signed",
    "shortcut_body",
    "signed_headers",
    "slash_command_body",
    "view_problems",
    "view_submission_body",
]

if __name__ == "__main__":  # pragma: no cover - manual use: python -m peers.slack
    SlackPeer().serve_until_interrupted(lambda peer: f"Slack peer at {peer.base_url}")
