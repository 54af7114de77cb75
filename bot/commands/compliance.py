"""`compliance [domain]`: does this domain meet Gmail's, Yahoo's and Outlook.com's sender requirements?

Runs the `compliance` suite (`bot.checks.compliance`: SPF, DKIM and its key length, DMARC, one-click
unsubscribe from the mail really sent, the complaint rate, reverse DNS, TLS, bulk-sender volume) on the
given domain, or the configured sender's domain.
"""

from __future__ import annotations

from bot.commands import CommandContext, Invocation, command
from bot.commands.domain import domain_argument
from bot.findings import Report
from bot.runner import run_checks


@command(
    "compliance",
    "compliance [domain]",
    "does the domain meet Gmail's, Yahoo's and Outlook.com's sender rules? (auth, one-click unsubscribe, spam rate)",
    "compliance example.com",
)
def run_compliance(ctx: CommandContext, inv: Invocation) -> Report:
    report, _ = run_checks(ctx.deps, domain_argument(ctx, inv), suite="compliance")
    return report
