"""`smtp [region] [port[/tls]]`: can this machine reach SES's SMTP endpoint, and where does it fail?

Probes `email-smtp.<region>.amazonaws.com` (or `SESBOT_SMTP_HOST`) on 587, 465, 25, 2587 and 2465 at
once, or only the port given. A port outside SES's five is probed with STARTTLS unless written
`<port>/tls` (implicit TLS on any port; `/ssl` and `/implicit` say the same, `/starttls` the opposite),
for a tunnel or a relay that listens elsewhere. A STARTTLS port that stays silent is tried with TLS
too, and the answer says when it speaks implicit TLS.
"""

from __future__ import annotations

import re
import time

from bot.commands import CommandContext, Invocation, command
from bot.findings import Report
from bot.settings import REGION_RE
from bot.smtp_probe import (
    IMPLICIT,
    SES_ENDPOINTS,
    STARTTLS,
    Endpoint,
    endpoint_for,
    explain,
    probe,
    ses_smtp_host,
)
from bot.target import UsageError

_PORT = re.compile(r"^(\d{1,5})(?:/(tls|ssl|implicit|starttls))?$", re.I)


def parse_args(args: list[str], default_region: str | None) -> tuple[str | None, list[Endpoint]]:
    """(region, endpoints) from the command's words, in any order; `UsageError` for anything else."""
    region: str | None = None
    port: Endpoint | None = None
    for raw in args:
        word = raw.strip().lower()
        m = _PORT.match(word)
        if REGION_RE.match(word):
            if region:
                raise UsageError("give one region at most, like `smtp eu-west-1 587`")
            region = word
        elif m:
            number = int(m.group(1))
            if not 0 < number < 65536:
                raise UsageError(f"`{raw[:20]}` is not a port number (1-65535)")
            if port:
                raise UsageError("give one port at most, or none to probe 587, 465, 25, 2587 and 2465")
            mode = m.group(2)
            tls = None if mode is None else (STARTTLS if mode == "starttls" else IMPLICIT)
            port = endpoint_for(number, tls)
        else:
            raise UsageError(
                f"`{raw[:40]}` is neither a region (like eu-west-1) nor a port (like 587); usage: smtp [region] [port]"
            )
    return region or default_region, [port] if port else list(SES_ENDPOINTS)


@command(
    "smtp",
    "smtp [region] [port[/tls]]",
    "can we reach SES's SMTP endpoint (TCP, TLS, certificate, AUTH), port by port; "
    "PORT/tls for implicit TLS (TLS from the first byte) on any port, like 8465/tls",
    "smtp eu-west-1 587",
)
def run_smtp(ctx: CommandContext, inv: Invocation) -> Report:
    settings = ctx.deps.settings
    region, endpoints = parse_args(inv.args, settings.regions[0] if settings.regions else None)
    if not region and not settings.smtp_host:
        raise UsageError("give a region, like `smtp eu-west-1`, or set AWS_REGION")
    host = settings.smtp_host or ses_smtp_host(region or "")
    started = time.perf_counter()
    result = probe(
        host,
        endpoints,
        server_name=host,
        timeout=settings.smtp_timeout,
        ca_file=settings.smtp_ca_file,
        username=settings.smtp_username,
        password=settings.smtp_password,
    )
    target = host if len(endpoints) > 1 else f"{host}:{endpoints[0].port}{_mode_shown(endpoints[0])}"
    return Report(
        target=target,
        findings=explain(result, region),
        kind="smtp",
        region=region,
        elapsed_ms=int((time.perf_counter() - started) * 1000),
    )


def _mode_shown(endpoint: Endpoint) -> str:
    """ "/tls" or "/starttls" when the port is probed in the mode it was asked for, not its usual one."""
    usual = endpoint_for(endpoint.port).tls
    if endpoint.tls == usual:
        return ""
    return "/tls" if endpoint.tls == IMPLICIT else "/starttls"
