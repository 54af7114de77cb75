"""The few actions that change the AWS account. Off unless `SESBOT_ALLOW_WRITES` is set; each needs a
user in `SESBOT_ADMINS`; each is audited, done or refused. The Slack side adds a confirmation dialog."""

from __future__ import annotations

from dataclasses import dataclass

from bot.aws import describe_error, error_code
from bot.deps import Deps
from bot.settings import Account


class WriteRefused(Exception):
    """Why a write may not happen, as a sentence for the person who asked."""


@dataclass
class WriteResult:
    ok: bool
    message: str


def may_write(deps: Deps, user_id: str | None) -> None:
    """Raise `WriteRefused` unless writes are on and the user is an admin."""
    if not deps.settings.allow_writes:
        raise WriteRefused("Changes to the AWS account are off: an operator can set SESBOT_ALLOW_WRITES=true.")
    if not user_id or user_id not in deps.settings.admins:
        raise WriteRefused("Only sesbot admins (SESBOT_ADMINS) may change the AWS account.")


def may_remove_in(deps: Deps, email: str, region: str, account: str | None) -> Account | None:
    """The configured account a removal acts in (None: the bot's own credentials, when no `SESBOT_ACCOUNTS`
    is set); raise `WriteRefused` when the account or region is not one the bot watches, as from a button
    posted under an older configuration."""
    configured = {a.name: a for a in deps.settings.accounts}
    watched = account in configured if configured else account is None
    if not watched or region not in deps.settings.regions:
        raise WriteRefused(f"This button is from an older setup: run /ses why {email} again.")
    return configured[account] if account is not None else None


def remove_suppressed(
    deps: Deps,
    email: str,
    region: str,
    *,
    account: str | None = None,
    user_id: str | None,
    team_id: str | None = None,
    channel_id: str | None = None,
) -> WriteResult:
    """Delete one address from the account suppression list in one region of one account (`SESBOT_ACCOUNTS`
    by name; None: the bot's own credentials, only when no accounts are set), audited either way. Only an
    account and region the bot is configured to watch: anything else is refused (`may_remove_in`)."""
    where = f"{account} · {region}" if account else region
    action = f"suppression.remove {email} ({where})"
    try:
        may_write(deps, user_id)
        watched = may_remove_in(deps, email, region, account)
    except WriteRefused as exc:
        deps.store.audit(action, False, user_id=user_id, team_id=team_id, channel_id=channel_id, detail=str(exc))
        raise
    view = deps.for_account(watched) if watched is not None else deps
    try:
        view.aws.get("sesv2", region).delete_suppressed_destination(EmailAddress=email)
    except Exception as exc:
        if error_code(exc) == "NotFoundException":
            result = WriteResult(True, f"{email} was not on the suppression list in {where} (nothing to do).")
        else:
            result = WriteResult(False, f"Could not remove {email} in {where}: {describe_error(exc)}")
    else:
        result = WriteResult(True, f"Removed {email} from the account suppression list in {where}.")
    deps.store.audit(action, result.ok, user_id=user_id, team_id=team_id, channel_id=channel_id, detail=result.message)
    return result
