"""Domain names as DMARC sees them: the organizational domain of a name (RFC 7489: one label below its
public suffix, from the Public Suffix List bundled with ``publicsuffixlist``, so offline, as receivers do)
and the chain of parent domains from a name down to it; plus ``amazonses.com``, the domain SES sends
and signs as when a domain's own identity, DKIM or MAIL FROM does not apply."""

from __future__ import annotations

from functools import cache

from publicsuffixlist import PublicSuffixList

SES_DOMAIN = "amazonses.com"  # SES's default MAIL FROM (SPF), DKIM d= without Easy DKIM, and its SPF include


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package: offline


def org_domain(domain: str) -> str:
    """The organizational domain (RFC 7489: one label below the public suffix), from the Public Suffix List.

    >>> org_domain("mail.example.co.uk")
    'example.co.uk'
    """
    domain = domain.lower().rstrip(".")
    return _psl().privatesuffix(domain) or domain


def parent_domains(domain: str) -> list[str]:
    """`domain` and each parent down to its organizational domain: mail.example.com, example.com."""
    org = org_domain(domain)
    out = [domain]
    while out[-1] != org and "." in out[-1]:
        out.append(out[-1].split(".", 1)[1])
    return out
