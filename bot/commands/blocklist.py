"""`blocklist [ip|domain ...]`: is one of our sending IPs, or our domain, on a DNS blocklist?

With no argument: the account's dedicated IPs, the sending IPs in the history and the sender domain
(`bot.checks.blocklist.default_targets`). Every target is queried on every configured list at once.
"""

from __future__ import annotations

import re

from bot.checks.blocklist import MAX_TARGETS, blocklist_report
from bot.commands import CommandContext, Invocation, command
from bot.findings import Report
from bot.target import UsageError, parse_domain, parse_ip, strip_link_markup

_NUMERIC = re.compile(r"^[\d.]+$")


def parse_targets(args: list[str]) -> list[str]:
    """IPs and domains, normalised and de-duplicated in order; `UsageError` names the first bad one."""
    if len(args) > MAX_TARGETS:
        raise UsageError(f"that is {len(args)} targets; the limit is {MAX_TARGETS} at a time")
    out: list[str] = []
    for arg in args:
        ip = parse_ip(arg)
        if ip is None:
            if _NUMERIC.match(strip_link_markup(arg)):  # 999.1.1.1 is a mistyped IP, not a domain
                raise UsageError(f"`{strip_link_markup(arg)[:60]}` is not an IP address")
            try:
                value = parse_domain(arg)
            except UsageError:
                raise UsageError(
                    f"`{strip_link_markup(arg)[:60]}` is neither an IP address nor a domain; "
                    "try `blocklist 192.0.2.1 example.com`"
                ) from None
        else:
            value = ip
        if value not in out:
            out.append(value)
    return out


@command(
    "blocklist",
    "blocklist [ip|domain ...]",
    "is a sending IP or our domain on a DNS blocklist? (default: dedicated IPs, history IPs, sender domain)",
    "blocklist 192.0.2.1 example.com",
)
def run_blocklist(ctx: CommandContext, inv: Invocation) -> Report:
    return blocklist_report(ctx.deps, parse_targets(inv.args))
