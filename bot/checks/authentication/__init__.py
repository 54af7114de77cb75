"""Sender-domain email authentication: will SES mail from this domain pass SPF, DKIM and DMARC?

This package looks at a sender domain the way a receiving mail server does, through the SES identity
that sends for it (per region: the DKIM tokens and the MAIL FROM domain are per region) and through DNS,
and says what puts its mail in the spam folder or gets it rejected. Two reports use it:

* the `why` suite's **`sender.authentication`** (per region, `sender`): one finding condensing all of
  it, worst cause first;
* the **`domain`** suite (`domain_suite`), run by the ``domain <domain>`` command, one finding per
  question:

  ==================  ==========  ================================================================
  check id            per region  question
  ==================  ==========  ================================================================
  ``domain.identity``   yes       is the domain (or a parent domain) an SES identity, verified?
                                  (verification status and its error type)
  ``domain.dkim``       yes       is DKIM signing on and ``SUCCESS``, and does each Easy DKIM
                                  token's CNAME ``<token>._domainkey.<domain>`` point at
                                  ``<token>.dkim.amazonses.com`` (missing or wrong target named)?
  ``domain.mail_from``  yes       custom MAIL FROM: its status, behaviour on MX failure, and its MX
                                  ``10 feedback-smtp.<region>.amazonses.com``
  ``domain.spf``        no        SPF of each MAIL FROM domain: present, exactly one record,
                                  includes amazonses.com, at most 10 DNS lookups (following
                                  include/redirect), no ``+all``, at most 2 void lookups; with
                                  the default MAIL FROM, that SES's own SPF applies and cannot align
  ``domain.dmarc``      no        DMARC at ``_dmarc.<domain>`` or the organizational domain:
                                  syntax, p/sp, pct, rua, and whether SES mail aligns (DKIM d= vs
                                  From under adkim; SPF only with a custom MAIL FROM under aspf)
  ``domain.mx``         no        can the domain receive mail itself (MX, null MX, implicit MX)?
  ==================  ==========  ================================================================

Its modules, in the manner of checkdmarc (a module per record, each with its lookup, parse, verdicts
and evidence; the shared helpers apart), from the bottom up:

* `domains` (organizational and parent domains, from the Public Suffix List), `lookup` (our DNS
  questions, shared per run), `checkdmarc_dns` (checkdmarc kept on our resolver, its DNS cache off),
  `issues` (a verdict, and many verdicts as one finding);
* `ses_identity`, `dkim`, `mail_from`, `spf`, `dmarc`, `mx`: one record (or SES setting) each;
* `region` (one region's identity, DKIM, MAIL FROM and SPF together), `alignment` (does SES mail pass
  DMARC, and why not);
* the checks: `sender` and `domain_suite`, the only modules that register checks.

Records are judged to the letter of RFC 7208 (every SPF term checked, wherever it stands; checkdmarc counts
the lookups) and RFC 7489 (the DMARC record is parsed here: an invalid tag other than `p` is discarded and
the rest applies). Finding the records is done here too, so that a DNS timeout is told apart from a missing
record, and so that the organizational domain comes from the Public Suffix List, as receivers do.

What it may import: the engine (``bot.*``: `bot.checks`, `bot.deps`, `bot.findings`, `bot.aws`,
`bot.dnsq`), checkdmarc, dnspython and publicsuffixlist; never ``handlers`` (Slack) or ``bot.commands``.
Importing the package registers every check (``bot.checks.all`` lists it; the registry ranks its
submodules as this package).
"""

import warnings

# checkdmarc imports dns.dnssec, which imports dnspython's DSA support, and cryptography 51 deprecates DSA
# with a warning printed at that import, so on every `sesbot` run. Neither DNSSEC validation nor DSA is
# used here; the warning is dnspython's to act on, so it is hidden for that one module and message only.
warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"dns\.dnssecalgs\.dsa")

# Registering the checks, in the order the single module registered them: sender.authentication first.
# isort: off
from bot.checks.authentication import sender  # noqa: E402, F401
from bot.checks.authentication import domain_suite  # noqa: E402, F401
# isort: on
