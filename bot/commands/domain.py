"""`domain [domain]`: will mail from this domain authenticate and reach inboxes?

Runs the `domain` suite (`bot.checks.authentication`: SES identity, DKIM records, MAIL FROM, SPF, DMARC
and alignment, the domain's own MX) on the given domain, or the configured sender's domain.
"""

from __future__ import annotations

from bot.commands import CommandContext, Invocation, command
from bot.findings import Report
from bot.runner import run_checks
from bot.target import UsageError, parse_domain


@command(
    "domain",
    "domain [domain]",
    "will mail from this domain pass SPF, DKIM and DMARC? (SES identity, DNS records, alignment)",
    "domain example.com",
)
def run_domain(ctx: CommandContext, inv: Invocation) -> Report:
    if len(inv.args) > 1:
        raise UsageError("give one domain, like `domain example.com`")
    if inv.args:
        domain = parse_domain(inv.args[0])
    elif ctx.deps.settings.sender_domain:
        domain = ctx.deps.settings.sender_domain
    else:
        raise UsageError("give a domain, like `domain example.com` (or set SESBOT_SENDER to check yours)")
    # One memo for the run: the suite's checks share the identity and DNS answers instead of re-asking.
    report, _ = run_checks(ctx.deps, domain, suite="domain")
    return report
