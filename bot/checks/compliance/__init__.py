"""Bulk-sender readiness: the big receivers' sender requirements (Gmail, Yahoo, Outlook.com), checked from
DNS, SES and the mail actually sent. The ``compliance`` suite (``compliance [domain]``) has one check per
requirement; `why` reads `requirements.rejection_for` to name the requirement a receiver's rejection
(5.7.26, 5.7.515, Yahoo's 5.7.9 ...) says failed.

  ==========================  =====================================================================
  check id                    requirement (who: see ``requirements.toml``)
  ==========================  =====================================================================
  ``compliance.spf``          SPF passes for the MAIL FROM SES uses
  ``compliance.dkim``         DKIM signs with the From domain; key at least 1,024 bits (2,048 advised)
  ``compliance.dmarc``        DMARC with at least p=none, and SES mail aligned via DKIM or SPF
  ``compliance.unsubscribe``  one-click unsubscribe (RFC 8058) on marketing mail, from the header sample
  ``compliance.complaints``   spam-complaint rate under 0.3 % (0.1 % advised), with its denominator
  ``compliance.reverse_dns``  forward-confirmed reverse DNS for dedicated IPs (per region)
  ``compliance.tls``          TLS in transit (SES always offers it)
  ``compliance.bulk_volume``  5,000 a day to a receiver's users makes a bulk sender
  ==========================  =====================================================================

Modules: `requirements` (the data file, loaded and matched), `unsubscribe` (judging the header sample),
`suite` (the checks; the only module that registers any).

What it may import: the engine (``bot.*``: `bot.checks`, its `authentication` package for the identity, DNS
and DMARC lookups, `bot.history`, `bot.findings`, `bot.aws`) and dnspython; never ``handlers`` (Slack) or
``bot.commands``. `bot.checks.recipient_history` imports `requirements` to name a failed requirement.
"""

from bot.checks.compliance import suite  # noqa: F401
