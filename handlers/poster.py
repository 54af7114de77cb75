"""`SlackPoster`: the alert engine's `Poster`, posting through the Slack Web API.

It renders the engine's neutral messages with `handlers.alert_blocks`, uploads its images (charts) into a
thread with Slack's external-upload flow (`files_upload_v2`), and turns Slack's failures into
`PostError`, which the engine understands: `ratelimited` (HTTP 429) carries `Retry-After`; a Web API that
is down (connection refused or dropped, timeouts, 5xx, Slack's own `internal_error`...) is transient;
an error retrying cannot fix (`PERMANENT_ERRORS`: the channel is gone or the bot is not in it, the token is
dead, the message itself is refused) is permanent, with what to do about it; anything else is not transient
but still retried next sweep. Never raises anything else for a Slack problem.

Every message it posts for the outbox carries the outbox's `Mark` in Slack message metadata
(`METADATA_EVENT_TYPE`, payload `{"outbox_id", "instance"}`); `find` reads the channel's recent history
(`conversations.history`, or `conversations.replies` for a thread) with `include_all_metadata` and answers
the message carrying a given mark, so a post cut short by a crash is adopted, not made twice. Reading history
needs `channels:history` (and `groups:history` in a private channel); without it `find` logs once and answers
"not found" (the message may then be posted twice, as before).
"""

from __future__ import annotations

import logging
import urllib.error
from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.notify import Image, Mark, Message, Posted, PostError
from handlers.alert_blocks import alert_message
from handlers.blocks import redact_message

log = logging.getLogger(__name__)

# Slack errors that say "try again later" rather than "fix something".
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)


# Slack errors that retrying cannot fix: (scope, what a person does). Scope "channel": no message reaches that
# channel; "token": none reaches any; "message": only this one is refused.
PERMANENT_ERRORS: dict[str, tuple[str, str]] = {
    "channel_not_found": ("channel", "check SESBOT_ALERT_CHANNEL (a channel ID, like C0123ABCDEF)"),
    "not_in_channel": ("channel", "invite the bot to the channel (/invite @sesbot)"),
    "is_archived": ("channel", "unarchive the channel or set SESBOT_ALERT_CHANNEL to another"),
    "restricted_action": ("channel", "let apps post in the channel (its posting permissions)"),
    "invalid_auth": ("token", "SLACK_BOT_TOKEN is not valid: reinstall the app and set the new token"),
    "not_authed": ("token", "SLACK_BOT_TOKEN is not set in the running bot"),
    "account_inactive": ("token", "the app's token was deactivated: reinstall the app"),
    "token_revoked": ("token", "the bot token was revoked: reinstall the app"),
    "missing_scope": ("token", "the app lacks chat:write: add it in the manifest and reinstall"),
    "invalid_blocks": ("message", "a bug in sesbot's message; report it with the log line"),
    "msg_too_long": ("message", "a bug in sesbot's message; report it with the log line"),
}


# What a person does when an upload is refused for good: the chart is skipped, the alerts go on.
UPLOAD_HINTS = {
    "missing_scope": "the app lacks files:write: add it in the manifest and reinstall (or SESBOT_CHARTS=off)",
    "not_in_channel": "invite the bot to the channel (/invite @sesbot): uploads need membership",
}


METADATA_EVENT_TYPE = "sesbot_outbox"  # the event_type of the metadata every outbox message carries
FIND_PAGE = 200  # messages read a page when looking for a message cut short
FIND_PAGES = 5  # pages read at most: the post being looked for is recent


def _retry_after(exc: SlackApiError) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value if isinstance(value, str | int | float) else value[0]))
            except (TypeError, ValueError, IndexError):
                return None
    return None


def _as_post_error(exc: BaseException, method: str) -> PostError:
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        data = getattr(exc.response, "data", None)
        error = data.get("error") if isinstance(data, dict) else None
        if status == 429 or error == "ratelimited":
            wait = _retry_after(exc)
            return PostError(f"{method}: ratelimited", wait if wait is not None else 1.0)
        if status >= 500:
            return PostError(f"{method}: Slack answered HTTP {status}")
        if error in TRANSIENT_ERRORS:
            return PostError(f"{method}: Slack answered {error}")
        if error in PERMANENT_ERRORS:
            scope, hint = PERMANENT_ERRORS[error]
            return PostError(f"{method}: {error}", permanent=scope, reason=error, hint=hint)
        return PostError(f"{method}: {error or status}", transient=False)
    return PostError(f"{method}: cannot reach the Slack Web API ({type(exc).__name__})")


# Answers to a history read that mean the bot cannot look for a message it may have posted: it posts, so a
# message is posted at least once rather than never. A bot that posts with chat:write.public to a channel it
# was not invited to (README, step 4) may post there but not read it: not_in_channel.
CANNOT_LOOK = frozenset({"missing_scope", "not_in_channel", "thread_not_found", "channel_not_found"})
HISTORY_HINTS = {
    "missing_scope": "add channels:history and groups:history and reinstall",
    "not_in_channel": "invite the bot to the channel (/invite @sesbot)",
}


class SlackPoster:
    """Posts, replies and edits alert messages in Slack."""

    def __init__(self, client: WebClient, *, redact: bool = False):
        self.client = client
        self.redact = redact  # SESBOT_REDACT=local: alert channels see j***@example.com
        self._warned_history = False

    def _body(self, message: Message) -> dict[str, Any]:
        body = alert_message(message)
        return redact_message(body) if self.redact else body

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return self.client.api_call(method, json=kwargs)
        except (
            SlackApiError,
            SlackClientError,
            urllib.error.URLError,
            HTTPException,
            OSError,
        ) as exc:
            raise _as_post_error(exc, method) from exc

    def post(self, channel: str, message: Message, thread_ts: str | None = None, mark: Mark | None = None) -> Posted:
        body = self._body(message)
        kwargs: dict[str, Any] = {"channel": channel, "unfurl_links": False, "unfurl_media": False, **body}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if mark is not None:
            payload = {"outbox_id": mark.outbox_id, "instance": mark.instance}
            kwargs["metadata"] = {"event_type": METADATA_EVENT_TYPE, "event_payload": payload}
        response = self._call("chat.postMessage", **kwargs)
        # Slack answers with the channel's ID even when asked by name: updates need the ID.
        return Posted(channel=str(response.get("channel") or channel), ts=str(response["ts"]))

    def find(
        self, channel: str, mark: Mark, thread_ts: str | None = None, after_ts: str | None = None
    ) -> Posted | None:
        method = "conversations.replies" if thread_ts else "conversations.history"
        args: dict[str, Any] = {"channel": channel, "include_all_metadata": True, "limit": FIND_PAGE}
        if thread_ts:
            args["ts"] = thread_ts
        elif after_ts:
            args["oldest"] = after_ts
        for _ in range(FIND_PAGES):
            try:
                response = self.client.api_call(method, http_verb="GET", params=args)
            except SlackApiError as exc:
                data = getattr(exc.response, "data", None)
                error = data.get("error") if isinstance(data, dict) else None
                if error in CANNOT_LOOK:  # cannot look: post (at least once rather than never)
                    if error in HISTORY_HINTS and not self._warned_history:
                        self._warned_history = True
                        log.warning(
                            "cannot read %s's history (%s: %s): a message cut short by a crash may be posted twice",
                            channel,
                            error,
                            HISTORY_HINTS[error],
                        )
                    return None
                raise _as_post_error(exc, method) from exc
            except (SlackClientError, urllib.error.URLError, HTTPException, OSError) as exc:
                raise _as_post_error(exc, method) from exc
            for found in response.get("messages") or []:
                metadata = found.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                carries = (
                    metadata.get("event_type") == METADATA_EVENT_TYPE
                    and payload.get("outbox_id") == mark.outbox_id
                    and payload.get("instance") == mark.instance
                )
                if carries or any(_marked_file(f, mark) for f in found.get("files") or []):
                    return Posted(channel=str(response.get("channel") or channel), ts=str(found["ts"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return None
            args["cursor"] = cursor
        return None

    def update(self, channel: str, ts: str, message: Message) -> None:
        self._call("chat.update", channel=channel, ts=ts, **self._body(message))

    def upload(self, channel: str, thread_ts: str, image: Image, mark: Mark | None = None) -> str:
        """Slack's external upload (`files.getUploadURLExternal`, the bytes POSTed to the URL it gives,
        `files.completeUploadExternal` sharing it in the thread), as `files_upload_v2` does it. A file has no
        message metadata, so `mark` goes in its name (`rate-….o12-3f9c….png`), where `find` looks for it."""
        try:
            response = self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                content=image.data,
                filename=_marked_name(image.filename, mark),
                title=image.title,
                alt_txt=image.alt_text,
                initial_comment=image.caption or None,
            )
        except (SlackApiError, SlackClientError, urllib.error.URLError, HTTPException, OSError) as exc:
            error = _as_post_error(exc, "files.upload")
            if error.reason in UPLOAD_HINTS:
                error.hint = UPLOAD_HINTS[error.reason]
            raise error from exc
        file = response.get("file") or {}
        return str(file.get("id") or "")


def _marked_name(filename: str, mark: Mark | None) -> str:
    """`filename` carrying `mark` before its extension."""
    if mark is None:
        return filename
    stem, dot, ext = filename.rpartition(".")
    return f"{stem}.{mark.token}.{ext}" if dot else f"{filename}.{mark.token}"


def _marked_file(file: dict[str, Any], mark: Mark) -> bool:
    """A file Slack shows in a message was uploaded carrying `mark`."""
    return f".{mark.token}." in str(file.get("name") or "") + "."
