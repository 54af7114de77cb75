"""Redaction of recipient addresses for messages that a whole channel reads (`SESBOT_REDACT=local`).

>>> redact_addresses("bounced: jane.doe@example.com (550)")
'bounced: j***@example.com (550)'
"""

from __future__ import annotations

import re

_ADDRESS = re.compile(r"(?<![\w.+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63})")


def redact_address(address: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else address


def redact_addresses(text: str) -> str:
    """Every address in the text as `x***@domain`: who it was stays guessable only to those who know."""
    return _ADDRESS.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
