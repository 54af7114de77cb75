"""`compliance [domain]`: does this domain meet Gmail's, Yahoo's and Outlook.com's sender requirements?

Runs the `compliance` suite (`bot.checks.compliance`: SPF, DKIM and its key length, DMARC, one-click
unsubscribe from the mail really sent, the complaint rate, reverse DNS, TLS, bulk-sender volume) on the
given domain, or the configured sender's domain.
"""

from __future__ import annotations

from bot.commands import CommandContext, Invocation, command
from bot.findings import Report
from bot.runner import run_checks
from bot.target import UsageError, parse_domain


@command(
    "compliance",
    "compliance [domain]",
    "does the domain meet Gmail's, Yahoo's and Outlook.com's sender rules? (auth, one-click unsubscribe, spam rate)",
    "compliance example.com",
)
def run_compliance(ctx: CommandContext, inv: Invocation) -> Report:
    if len(inv.args) > 1:
        raise UsageError("give one domain, like `compliance example.com`")
    if inv.args:
        domain = parse_domain(inv.args[0])
    elif ctx.deps.settings.sender_domain:
        domain = ctx.deps.settings.sender_domain
    else:
        raise UsageError("give a domain, like `compliance example.com` (or set SESBOT_SENDER to check yours)")
    report, _ = run_checks(ctx.deps, domain, suite="compliance")
    return report
