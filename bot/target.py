"""Targets: turning what a person typed into an email address, a domain or an IP.

Chat apps write links in angle brackets: Slack rewrites `user@example.com` as
`<mailto:user@example.com|user@example.com>` and `example.com` as `<http://example.com|example.com>`, and the
same text pasted into a terminal carries them too; `strip_link_markup` reads both, once, for every command.

    >>> parse_email("<mailto:Jo@Example.COM|Jo@Example.COM>")
    'Jo@example.com'
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import idna

from bot.classify.engine import INVISIBLE
from bot.settings import DOMAIN_RE, EMAIL_RE, REGION_RE

MAX_ARG = 320  # the longest legal address is 254; anything past this is not an address


class UsageError(ValueError):
    """A one-line message for the person who typed the command."""


_CHAT_LINK = re.compile(r"^<(?:mailto:|https?://)?([^|>]*)(?:\|([^>]*))?>$")


def shown(value: str, limit: int = 80) -> str:
    """What the person typed, safe to quote back in a one-line message."""
    flat = re.sub(r"[\x00-\x1f\x7f`]+", " ", value).strip()
    return flat[:limit] + ("…" if len(flat) > limit else "")


def whole_number(text: str) -> int | None:
    """`text` as a whole number written in ASCII digits, else None (`str.isdigit` also takes "²", which `int`
    refuses)."""
    return int(text) if text.isascii() and text.isdigit() else None


def slack_unescaped(text: str) -> str:
    """Text as typed: Slack sends `&`, `<` and `>` in message and slash-command text as `&amp;`, `&lt;` and
    `&gt;` (`&amp;` undone last, so a typed `&lt;`, sent as `&amp;lt;`, stays `&lt;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def strip_link_markup(arg: str) -> str:
    """The text of a chat-style link (`<mailto:a@b|a@b>`, `<http://x|x>`), without surrounding punctuation.

    Slack sends `&`, `<` and `>` typed in a command as `&amp;`, `&lt;` and `&gt;`: they are undone first, so a
    pasted `<id@email.amazonses.com>` (around Slack's own link of it, or not) reads as typed.
    """
    arg = slack_unescaped(arg.strip())
    if arg.startswith("<<") and arg.endswith(">>"):  # `<` + Slack's link + `>`
        arg = arg[1:-1]
    m = _CHAT_LINK.match(arg)
    if m:
        arg = m.group(2) or m.group(1)
    arg = re.sub(r"^mailto:", "", arg, flags=re.I)
    return arg.strip().strip("\"'`,;()[]").rstrip("/")


_VISIBLE = str.maketrans(dict.fromkeys(INVISIBLE))


def invisible_in(text: str) -> list[str]:
    """The invisible characters in `text` (`INVISIBLE`: a zero-width space, a soft hyphen...), as code points
    (`U+200B`), each once, in the order written."""
    return list(dict.fromkeys(f"U+{ord(c):04X}" for c in text if c in INVISIBLE))


def visible(text: str) -> str:
    """`text` without its invisible characters: `jane\u200b@example.net` pasted from a web page is
    `jane@example.net`, the address it looks like, never a different one."""
    return text.translate(_VISIBLE)


def parse_email(arg: str) -> str:
    """A normalised address (invisible characters removed, domain lower-cased, local part kept) or
    `UsageError`."""
    arg = visible(arg or "")
    if not arg or not arg.strip():
        raise UsageError("give an email address, like `why user@example.com`")
    if len(arg) > MAX_ARG:
        raise UsageError(f"that is {len(arg)} characters, too long for an email address (max 254)")
    local, at, domain = strip_link_markup(arg).rpartition("@")
    value = f"{local}{at}{ascii_domain(domain)}"
    if not EMAIL_RE.match(value) or len(value) > 254:
        raise UsageError(f"`{shown(value)}` is not an email address; try `why user@example.com`")
    return value


def ascii_domain(domain: str) -> str:
    """A domain as DNS and SES know it: lower-cased, without the root's trailing dot, an internationalised
    name in its ASCII form (`bücher.de` -> `xn--bcher-kva.de`); left as it is when it cannot be one.

    The ASCII form is IDNA 2008 with the UTS #46 mapping, as registries and browsers write it: `faß.de` is
    `xn--fa-hia.de`, not `fass.de` (Python's own "idna" codec is IDNA 2003, which maps ß, ς and the
    zero-width joiner away and so names a different domain)."""
    domain = domain.lower().rstrip(".")
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except UnicodeError:  # idna.IDNAError is one
        return domain


def parse_domain(arg: str) -> str:
    if not arg or not arg.strip():
        raise UsageError("give a domain, like `example.com`")
    if len(arg) > MAX_ARG:
        raise UsageError("that is too long for a domain name (max 253 characters)")
    value = strip_link_markup(arg)
    if "@" in value:
        value = value.rpartition("@")[2]
    value = ascii_domain(value)
    if not DOMAIN_RE.match(value):
        raise UsageError(f"`{shown(value)}` is not a domain name; try `example.com`")
    return value


def parse_ip(arg: str) -> str | None:
    """The address, normalised; None if `arg` is not an IP address. `UsageError` for an IPv6 address with a
    zone (`fe80::1%eth0`): a zone names an interface of one host, nothing a DNS query can ask about."""
    try:
        addr = ipaddress.ip_address(strip_link_markup(arg))
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.scope_id:
        bare = str(addr).partition("%")[0]
        raise UsageError(f"`{shown(str(addr))}` has an interface zone (%{shown(addr.scope_id)}); try `{bare}`")
    return str(addr)


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()


# -- `why` targets: an address, @domain, or an SES message id ------------------------------------------

# An SES MessageId as SendEmail returns it and events carry it: 16 hex digits, a UUID, a 6-digit suffix
# (`010001812a3b4c5d-6e7f8a9b-0c1d-2e3f-4a5b-6c7d8e9f0a1b-000000`). The first group is any 16 letters or
# digits because the AWS documentation's own examples start with "EXAMPLE".
SES_MESSAGE_ID_RE = re.compile(
    r"^[0-9A-Za-z]{16}-[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}-\d{6}$"
)
# The domain of the SMTP Message-ID header SES writes: `<id@email.amazonses.com>`, `<id@eu-west-1.amazonses.com>`.
_SES_MAIL_DOMAIN = re.compile(r"^(?:email|(?P<region>[a-z0-9-]+))\.amazonses\.com$")
WHY_FORMS = "`why user@example.com`, `why @example.com` or `why 010001812a3b4c5d-…-000000` (an SES message id)"


@dataclass(frozen=True)
class WhyTarget:
    """One thing `why` can diagnose: `kind` "email", "domain" or "message"; `value` the address, "@domain"
    or the message id; `region` the region an SMTP-form message id names (`...@eu-west-1.amazonses.com`);
    `removed` the invisible characters taken out of the target as typed (`U+200B`), for the answer to say."""

    kind: str
    value: str
    region: str | None = None
    removed: tuple[str, ...] = ()  # the invisible characters taken out of what was typed (`invisible_in`)


def parse_message_id(arg: str) -> WhyTarget | None:
    """An SES message id, bare or in its SMTP form (`<id@email.amazonses.com>`); None if it is not one.

    >>> parse_message_id("<010001812a3b4c5d-6e7f8a9b-0c1d-2e3f-4a5b-6c7d8e9f0a1b-000000@eu-west-1.amazonses.com>")
    WhyTarget(kind='message', value='010001812a3b4c5d-6e7f8a9b-0c1d-2e3f-4a5b-6c7d8e9f0a1b-000000', region='eu-west-1')
    """
    if not arg or len(arg) > MAX_ARG:
        return None
    value = strip_link_markup(arg).strip("<>")
    region = None
    if "@" in value:
        local, _, domain = value.rpartition("@")
        m = _SES_MAIL_DOMAIN.match(domain.lower().rstrip("."))
        if not m:
            return None
        value = local
        found = m.group("region")
        region = found if found and REGION_RE.match(found) else None
    if not SES_MESSAGE_ID_RE.match(value):
        return None
    # SES writes ids in lower-case hex; the documentation's "EXAMPLE..." ids keep their case.
    if re.fullmatch(r"[0-9A-Fa-f-]+", value[:16] + value[16:].replace("-", "")):
        value = value.lower()
    return WhyTarget("message", value, region)


def parse_why_target(arg: str) -> WhyTarget:
    """What `why` was given: an email address, `@domain` or an SES message id; else `UsageError`.

    >>> parse_why_target("@Outlook.com")
    WhyTarget(kind='domain', value='@outlook.com', region=None)
    """
    removed = tuple(invisible_in(arg or ""))
    arg = visible(arg or "")
    if not arg or not arg.strip():
        raise UsageError(f"give an email address, @domain or SES message id, like {WHY_FORMS}")
    if len(arg) > MAX_ARG:
        raise UsageError(f"that is {len(arg)} characters, too long for an email address (max 254)")
    message = parse_message_id(arg)
    if message is not None:
        return message
    value = strip_link_markup(arg)
    if value.startswith("@"):
        # Slack may turn `@outlook.com` into `@<http://outlook.com|outlook.com>`.
        domain = ascii_domain(strip_link_markup(value[1:]))
        if DOMAIN_RE.match(domain) and "@" not in domain:
            return WhyTarget("domain", f"@{domain}", removed=removed)
    elif "@" in value:
        try:
            return WhyTarget("email", parse_email(value), removed=removed)
        except UsageError:
            pass
    raise UsageError(f"`{shown(value)}` is not an email address, @domain or SES message id; try {WHY_FORMS}")
