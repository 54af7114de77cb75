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

from bot.settings import DOMAIN_RE, EMAIL_RE

MAX_ARG = 320  # the longest legal address is 254; anything past this is not an address


class UsageError(ValueError):
    """A one-line message for the person who typed the command."""


_CHAT_LINK = re.compile(r"^<(?:mailto:|https?://)?([^|>]*)(?:\|([^>]*))?>$")


def shown(value: str, limit: int = 80) -> str:
    """What the person typed, safe to quote back in a one-line message."""
    flat = re.sub(r"[\x00-\x1f\x7f`]+", " ", value).strip()
    return flat[:limit] + ("…" if len(flat) > limit else "")


def strip_link_markup(arg: str) -> str:
    """The text of a chat-style link (`<mailto:a@b|a@b>`, `<http://x|x>`), without surrounding punctuation."""
    arg = arg.strip()
    m = _CHAT_LINK.match(arg)
    if m:
        arg = m.group(2) or m.group(1)
    arg = re.sub(r"^mailto:", "", arg, flags=re.I)
    return arg.strip().strip("\"'`,;()[]").rstrip("/")


def parse_email(arg: str) -> str:
    """A normalised address (domain lower-cased, local part kept) or `UsageError`."""
    if not arg or not arg.strip():
        raise UsageError("give an email address, like `why user@example.com`")
    if len(arg) > MAX_ARG:
        raise UsageError(f"that is {len(arg)} characters, too long for an email address (max 254)")
    value = strip_link_markup(arg)
    if not EMAIL_RE.match(value) or len(value) > 254:
        raise UsageError(f"`{shown(value)}` is not an email address; try `why user@example.com`")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower().rstrip('.')}"


def parse_domain(arg: str) -> str:
    if not arg or not arg.strip():
        raise UsageError("give a domain, like `example.com`")
    if len(arg) > MAX_ARG:
        raise UsageError("that is too long for a domain name (max 253 characters)")
    value = strip_link_markup(arg)
    if "@" in value:
        value = value.rpartition("@")[2]
    value = value.lower().rstrip(".")
    if not DOMAIN_RE.match(value):
        raise UsageError(f"`{shown(value)}` is not a domain name; try `example.com`")
    return value


def parse_ip(arg: str) -> str | None:
    try:
        return str(ipaddress.ip_address(strip_link_markup(arg)))
    except ValueError:
        return None


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()
