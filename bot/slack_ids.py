"""Slack's user and user-group ids: the one pattern every module checks them with.

An id the bot puts in a mention must be one of these and nothing else, so that text from a note, a
bounce or a setting can never become markup.
"""

from __future__ import annotations

import re

# U... (a user), W... (an Enterprise Grid user); S... is a user group. The same body follows either letter.
_BODY = r"[A-Z0-9]{2,20}"
USER_ID = rf"[UW]{_BODY}"
USER_ID_RE = re.compile(rf"^{USER_ID}$")
USER_OR_GROUP_ID_RE = re.compile(rf"^[UWS]{_BODY}$")
# C... (a channel), G... (a private channel of old), D... (a direct message); T... a workspace (team).
CHANNEL_ID_RE = re.compile(rf"^[CGD]{_BODY}$")
GROUP_ID_RE = re.compile(rf"^S{_BODY}$")
TEAM_ID_RE = re.compile(rf"^[TE]{_BODY}$")


def slack_user(user_id: object) -> str | None:
    """`user_id` when it is a Slack user id, else None (never text that could be a mention or markup)."""
    return user_id if isinstance(user_id, str) and USER_ID_RE.match(user_id) else None


def slack_user_or_group(who: object) -> str | None:
    """`who` when it is a Slack user or user-group id, else None."""
    return who if isinstance(who, str) and USER_OR_GROUP_ID_RE.match(who) else None
