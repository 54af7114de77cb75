"""Everything that decides how SES mail From a domain, sent in one region, authenticates: the identity
(one API call), then at once its DKIM records, its MAIL FROM's MX and that domain's SPF, gathered in a
`RegionAuth` (the DKIM tokens and the MAIL FROM domain are per region), and its part of a finding's data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from bot.checks import CheckContext, RunMemo
from bot.checks.authentication.dkim import Dkim, cached_dkim
from bot.checks.authentication.domains import SES_DOMAIN
from bot.checks.authentication.lookup import parallel
from bot.checks.authentication.mail_from import MailFrom, inspect_mail_from
from bot.checks.authentication.ses_identity import Identity, cached_identity
from bot.checks.authentication.spf import Spf, cached_spf
from bot.deps import Deps
from bot.findings import where


@dataclass
class RegionAuth:
    """Everything that decides how SES mail From `domain` sent in `region` authenticates."""

    region: str | None
    domain: str
    identity: Identity
    dkim: Dkim
    mail_from: MailFrom
    spf: Spf | None  # of the custom MAIL FROM domain; None with the default MAIL FROM
    account: str | None = None  # the SESBOT_ACCOUNTS name, when several accounts are watched

    @property
    def where(self) -> str:
        """The account and region, for a person ("prod · eu-west-1", "eu-west-1")."""
        return where(self.account, self.region)

    @property
    def dkim_aligned(self) -> bool:
        return self.dkim.d_domain != SES_DOMAIN

    def spf_ok(self) -> bool:
        return self.mail_from.in_use and self.spf is not None and self.spf.valid


def inspect_region(deps: Deps, memo: RunMemo, region: str | None, domain: str) -> RegionAuth:
    """The identity first (one API call), then its DKIM records, MAIL FROM MX and SPF at once."""
    ident = cached_identity(deps, memo, region, domain)
    mf_domain = ident.mail_from_domain
    jobs: dict[str, Callable[[], Any]] = {
        "dkim": lambda: cached_dkim(deps, memo, ident),
        "mail_from": lambda: inspect_mail_from(deps, memo, ident),
    }
    if mf_domain:
        jobs["spf"] = lambda: cached_spf(deps, memo, mf_domain)
    done = parallel(jobs)
    return RegionAuth(
        region, domain, ident, done["dkim"], done["mail_from"], done.get("spf"), account=deps.account_name
    )


def every_region(ctx: CheckContext, domain: str) -> list[RegionAuth]:
    """`inspect_region` in every account and region at once (`CheckContext.scopes`), in that order."""
    scopes = ctx.scopes()
    done = parallel({str(i): partial(inspect_region, s.deps, s.memo, s.region, domain) for i, s in enumerate(scopes)})
    return [done[str(i)] for i in range(len(scopes))]


def region_data(ra: RegionAuth) -> dict[str, Any]:
    """One region's identity, DKIM and MAIL FROM, for a finding's JSON data."""
    return {
        "region": ra.region,
        **({"account": ra.account} if ra.account else {}),
        "identity": ra.identity.name,
        "verified": ra.identity.verified if ra.identity.found else None,
        "dkim": {
            "status": ra.dkim.status if ra.identity.found else None,
            "signing_enabled": ra.dkim.signing_enabled if ra.identity.found else None,
            "d": ra.dkim.d_domain,
            "passes": ra.dkim.passes,
            "records": [{"name": r.name, "expected": r.expected, "state": r.state} for r in ra.dkim.records],
        },
        "mail_from": {
            "domain": ra.mail_from.domain,
            "status": ra.mail_from.status,
            "behavior_on_mx_failure": ra.mail_from.behavior if ra.mail_from.domain else None,
            "mx_ok": ra.mail_from.mx_ok,
        },
    }
