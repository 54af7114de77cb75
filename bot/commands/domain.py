"""`domain [domain]`: will mail from this domain authenticate and reach inboxes?

Runs the `domain` suite (`bot.checks.authentication`: SES identity, DKIM records, MAIL FROM, SPF, DMARC
and alignment, the domain's own MX) on the given domain, or the configured sender's domain.
"""

from __future__ import annotations

from bot.commands import CommandContext, Invocation, command
from bot.findings import Report
from bot.runner import run_checks
from bot.target import UsageError, parse_domain


def domain_argument(ctx: CommandContext, inv: Invocation) -> str:
    """The one domain a command takes (`domain`, `compliance`), or the configured sender's domain."""
    if len(inv.args) > 1:
        raise UsageError(f"give one domain, like `{inv.name} example.com`")
    if inv.args:
        return parse_domain(inv.args[0])
    if ctx.deps.settings.sender_domain:
        return ctx.deps.settings.sender_domain
    raise UsageError(f"give a domain, like `{inv.name} example.com` (or set SESBOT_SENDER to check yours)")


@command(
    "domain",
    "domain [domain]",
    "will mail from this domain pass SPF, DKIM and DMARC? (SES identity, DNS records, alignment)",
    "domain example.com",
)
def run_domain(ctx: CommandContext, inv: Invocation) -> Report:
    domain = domain_argument(ctx, inv)
    # One memo for the run: the suite's checks share the identity and DNS answers instead of re-asking.
    report, _ = run_checks(ctx.deps, domain, suite="domain")
    return report
