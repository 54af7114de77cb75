"""A pasted bounce as its words read: MIME parts and RFC 2047 encoded words decoded, the returned copy left out.

A bounce pasted from a mail client's "show original" is a MIME message: its reason may be a base64 or
quoted-printable text part, and a reply may quote a Subject-style encoded word (``552 =?UTF-8?B?...?=``).
Read raw, those are letters the classifier cannot read. :func:`bounce_words` gives what `explain` and the
message shortcut classify, in this order:

1. the returned copy of the mail is cut (:func:`~bot.classify.returned.without_returned_message`) before
   anything is decoded, so a base64 body of the mail that bounced is never read as the reason;
2. when a part declares ``Content-Transfer-Encoding: base64`` or ``quoted-printable``, the text is parsed
   with the standard library's ``email`` package and becomes its text parts, decoded (a
   ``multipart/alternative`` by its plain part; a ``message/delivery-status`` part as its fields; a
   returned ``message/rfc822`` or headers part, and anything not text, left out); a paste that starts
   below the message's headers is read by the first boundary line in it;
3. RFC 2047 encoded words are decoded anywhere in the text;
4. the returned copy is cut again: a decoded part may hold one (Gmail's ``----- Original message -----``).

A text with nothing encoded in it comes back as it was. Imports: the standard library and ``bot.classify``.
"""

from __future__ import annotations

import binascii
import email
import email.header
import email.policy
import html
import re
from email.errors import HeaderParseError
from email.message import Message

from bot.classify.returned import without_returned_message

_ENCODED_PART = re.compile(r"^[ \t]*content-transfer-encoding:[ \t]*(?:base64|quoted-printable)\b", re.I | re.M)
# A boundary line with a part's header under it: how a paste that starts below the headers is read.
_BOUNDARY = re.compile(r"^--([^\s\"]{1,70})[ \t]*\n(?=[ \t]*content-[a-z-]+:)", re.I | re.M)
_WORD = r"=\?[^?\s]+\?[BbQq]\?[^?\s]*\?="
_ENCODED_WORDS = re.compile(rf"{_WORD}(?:\s+{_WORD})*")  # the space between two encoded words is not text
_RETURNED = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers", "message/global")
_TAG = re.compile(r"<[^>]*>")


def bounce_words(text: str) -> str:
    """What a pasted bounce says of itself, readable: the copy cut, MIME and RFC 2047 decoded, cut again."""
    text = without_returned_message(text)
    if _ENCODED_PART.search(text):
        text = _decoded_parts(text)
    return without_returned_message(encoded_words_decoded(text))


def encoded_words_decoded(text: str) -> str:
    """`text` with each run of RFC 2047 encoded words (``=?UTF-8?B?...?=``) decoded; a broken one is kept."""
    return _ENCODED_WORDS.sub(_decode_words, text) if "=?" in text else text


def _decode_words(m: re.Match[str]) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(m.group())))
    except (LookupError, UnicodeError, binascii.Error, HeaderParseError, ValueError):
        return m.group()


def _decoded_parts(text: str) -> str:
    msg = email.message_from_string(text, policy=email.policy.compat32)
    head = [f"{name}: {value}" for name, value in msg.items()]
    if not msg.is_multipart() and "content-transfer-encoding" not in msg:
        # Pasted from below the message's headers (or without its Content-Type): read by its first boundary;
        # what comes before it, headers or text, is the preamble.
        boundary = _BOUNDARY.search(text)
        if boundary is None:
            return text
        synthetic = f'Content-Type: multipart/mixed; boundary="{boundary.group(1)}"\n\n{text}'
        msg, head = email.message_from_string(synthetic, policy=email.policy.compat32), []
    out = ["\n".join(head)] if head else []
    if msg.is_multipart() and msg.preamble and msg.preamble.strip():
        out.append(msg.preamble.strip())
    out += _texts(msg)
    return "\n\n".join(out)


def _texts(part: Message) -> list[str]:
    """The readable text of a part: its text parts decoded, in order; what is returned or not text, nothing."""
    kind = part.get_content_type()
    if kind in _RETURNED:
        return []
    if kind == "message/delivery-status":
        fields = part.get_payload()
        if not isinstance(fields, list):
            return [str(fields).strip()]
        blocks = [block for block in fields if isinstance(block, Message)]
        return ["\n".join(f"{name}: {value}" for name, value in block.items()) for block in blocks]
    if part.is_multipart():
        subparts = [p for p in part.get_payload() if isinstance(p, Message)]
        if kind == "multipart/alternative":
            plain = [p for p in subparts if p.get_content_type() == "text/plain"]
            subparts = plain[:1] or subparts[-1:]
        return [t for p in subparts for t in _texts(p)]
    if part.get_content_maintype() != "text":
        return []
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return []
    try:
        body = raw.decode(part.get_content_charset() or "utf-8", "replace")
    except LookupError:
        body = raw.decode("utf-8", "replace")
    if kind == "text/html":
        body = html.unescape(_TAG.sub(" ", body))
    return [body.strip()]
