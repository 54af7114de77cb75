"""A pasted bounce message without the message it returns: what `explain` and the message shortcut classify.

A whole bounce, as a mail client shows it, ends with a copy of the mail that bounced (its headers, often its
body). Mail sent through SES carries a DKIM-Signature, an Authentication-Results header may follow, and the
body may say anything, so the copy must not be read as the reason: the text from the first line that starts
the returned message on is left out. A paste that *starts* with such a line (someone pasted only the copy) is
kept whole. The MIME headers just above a returned ``message/rfc822`` part (its boundary line,
Content-Description) go with it.

The lines that start a returned message, by the MTA that writes them:

- Gmail: ``----- Original message -----``;
- Microsoft 365 / Exchange NDRs: ``Original message headers:``;
- sendmail: ``----- Original message follows -----`` (and ``----- Message header follows -----``);
- qmail: ``--- Below this line is a copy of the message.``;
- Exim: ``------ This is a copy of the message, including all the headers. ------`` (and ``... its headers``);
- any RFC 3464 report: the part ``Content-Type: message/rfc822`` or ``text/rfc822-headers``.

Imports: the standard library only.
"""

from __future__ import annotations

import re

_STARTS = re.compile(
    r"^[ \t>]*(?:"
    r"-{2,} ?original message(?: follows)? ?-*"
    r"|-{2,} ?message header(?:s)? follows? ?-*"
    r"|original message headers:"
    r"|-{2,} ?below this line is a copy of the message"
    r"|-{2,} ?this is a copy of (?:the|your) message"
    r"|content-type: ?(?:message/rfc822|text/rfc822-headers)\b"
    r")",
    re.I | re.M,
)
# MIME part headers (and the boundary) that belong to the returned part, just above its Content-Type line.
_PART_HEADER = re.compile(r"^[ \t>]*(?:--\S+|content-[a-z-]+:.*)$", re.I)


def without_returned_message(text: str) -> str:
    """`text` up to the returned copy of the mail, if it holds one after some text of its own."""
    m = _STARTS.search(text)
    if m is None or not text[: m.start()].strip():
        return text
    lines = text[: m.start()].rstrip("\n").split("\n")
    if m.group().lstrip(" \t>").lower().startswith("content-type"):
        while lines and (_PART_HEADER.match(lines[-1]) or not lines[-1].strip()):
            lines.pop()
    kept = "\n".join(lines).rstrip()
    return kept or text
