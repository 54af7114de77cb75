"""Which configured account (`SESBOT_ACCOUNTS`) an SES event belongs to: the one that sent the mail.

Each stored event keeps its sending account id (`mail.sendingAccountId`, else its source ARN's). An event
belongs to the account whose role is in that AWS account; an event from an account not listed belongs to
the one account without a role (the default credentials'), when there is exactly one, else to none ('').
With no accounts configured every event is the one account's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.settings import Settings


def _unlisted_account(settings: Settings) -> str:
    """Whose an event from an account not in `SESBOT_ACCOUNTS` is: the one account without a role (the
    default credentials'), when there is exactly one; else '' (no account named)."""
    roleless = [a.name for a in settings.accounts if not a.account_id]
    return roleless[0] if len(roleless) == 1 else ""


def sending_account(settings: Settings) -> Callable[[str | None], str]:
    """The `SESBOT_ACCOUNTS` name of the account an event was sent from (its `account_id`): the account whose
    role is in that account, else `_unlisted_account`."""
    by_id = {a.account_id: a.name for a in settings.accounts if a.account_id}
    fallback = _unlisted_account(settings)
    return lambda account_id: by_id.get(account_id or "", fallback)


def events_of_account(settings: Settings, account: str) -> tuple[str, list[Any]]:
    """A condition on `events` (and its parameters) picking the events `sending_account` gives to
    `account`: every event with no accounts configured."""
    if not settings.accounts:
        return "1", []
    ids = {a.name: a.account_id for a in settings.accounts if a.account_id}
    if account in ids:
        return "account_id = ?", [ids[account]]
    if account != _unlisted_account(settings):
        return "0", []
    known = list(ids.values())
    if not known:
        return "1", []
    return f"(account_id IS NULL OR account_id NOT IN ({', '.join('?' for _ in known)}))", known
