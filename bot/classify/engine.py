"""Classify one bounce, delivery-delay or SES error text: the rules applied, the result worded, memoised.

This module's one job: turn a diagnostic string (a bounce ``diagnosticCode``, a delay's
``diagnosticCode``, or an error pasted from the SES API / SMTP interface), plus the structured
hints SES gives alongside it, into a :class:`Classification` -- a category from
:data:`CATEGORIES`, the blocklist named in the text (canonical name and delisting URL), a
one-sentence summary and what to do next.  The rules and the wording are data (rules.toml,
wording.toml, read at import by :mod:`bot.classify.data`); this module applies them.  It is pure
(no I/O after import), and memoises on the input tuple with a bounded LRU cache, because it runs on
the ingest hot path.

How a text is classified
------------------------
1. ``bounce_subtype`` ``OnAccountSuppressionList`` / ``Suppressed`` -> ``suppressed`` always (SES
   never attempted delivery, whatever the text says).
2. The text (lower-cased, whitespace collapsed, cut to its head and tail past 4 kB, in one spelling
   and a multi-line reply joined: :func:`normalise`) goes through the rules of rules.toml -- words
   first, codes only to break ties or when there are no words.
   The rules come in four tiers, listed in that order in the file and tried in that order:
   specific wording (including the codes receivers publish with a fixed meaning, "[TSS04]",
   "S3150", "RP-001", "BL000000"); decisive enhanced status codes ``x.y.z``
   found in the text or passed as ``status``; generic wording ("denied", "timed out", "spam"),
   which a decisive code outranks; catch-all codes (any x.7.x is policy).  Within a tier the first
   rule in file order with a matching pattern wins.  :mod:`bot.classify.index` skips the patterns a
   text cannot match, without changing the answer.
3. A blocklist *named* in the text beats every structured hint.  Otherwise a decisive hint beats
   the text: ``bounce_subtype`` MailboxFull -> ``mailbox_full``, MessageTooLarge ->
   ``message_too_large``, ContentRejected / AttachmentRejected -> ``content``, NoEmail ->
   ``unknown_user``; ``delay_type`` MailboxFull -> ``mailbox_full``, SpamDetected -> ``content``,
   TransientCommunicationFailure -> ``connection``, BYOIPHostNameLookupUnavailable -> ``dns``,
   InternalFailure -> ``other``, SendingDeferral -> ``throttling``.  Generic hints (General,
   Undetermined, RecipientServerError, values we do not know) defer to the text.  ``delay_type``
   IPFailure ("the receiver blocked or throttled the sending IP") gives ``ip_blocklist`` unless
   the text names a more specific sender-side cause (throttling, reputation, policy such as
   missing reverse DNS, authentication, the DNSBL-resolver trap).
4. When no rule matched and no SES field decided, the text would be ``other``. Its words are compared with
   those of the labelled dev texts first (:mod:`bot.classify.words`, naive Bayes): a category they are
   clearly like is given as a guess (rule ``words``, confidence ``low``, the words that weighed most named
   in the summary); one they point to less surely is named as a lead (:attr:`Classification.lead`) in an
   answer that stays ``other``; otherwise it is plain ``other``.

Which rule decided, and how sure
--------------------------------
Every result says which rule decided (:attr:`Classification.rule`): the ``id`` of a rules.toml
entry, ``hint.subtype.<value>`` / ``hint.delay.<value>`` when an SES field decided on its own, ``words``
for a guess from the words, or None when nothing matched.  Ids are stable: the ingest stores them with
each event (events.rule).
:attr:`Classification.confidence` is ``"high"`` for specific wording (or a decisive SES field,
alone or agreeing with the text), ``"medium"`` for a decision by status code, by generic wording
or by the IPFailure guess, and ``"low"`` for a guess from the words and for ``other`` -- wording neither
a rule nor the words guess knows stays ``other`` with low confidence rather than getting a wrong class.

SES's own errors and the category they map to
---------------------------------------------
These come from the client -> SES hop, not from a receiving server, and get SES-specific
summaries and fixes (sandbox, quotas, paused sending, SMTP credentials ...):

==================================================================  ================
Error text                                                          Category
==================================================================  ================
``MessageRejected: Email address is not verified ...`` / sandbox     ``policy``
``Throttling`` / ``454 Throttling failure: Maximum sending rate ...``  ``throttling``
``Daily message quota exceeded``, ``LimitExceededException``          ``throttling``
``TooManyRequestsException``, ``421 Too many concurrent SMTP ...``    ``throttling``
``AccountSendingPausedException``, ``SendingPausedException``         ``policy``
``ConfigurationSetSendingPausedException``                            ``policy``
``AccountSuspendedException``                                         ``policy``
``535 Authentication Credentials Invalid`` (SMTP credentials)         ``authentication``
``not authorized to perform ses:SendRawEmail`` (IAM)                  ``authentication``
``MailFromDomainNotVerifiedException``                                ``authentication``
``TemplateDoesNotExist``, rendering failures                          ``other``
``ConfigurationSetDoesNotExist``                                      ``other``
``451 Timeout waiting for data from client``                          ``connection``
a timeout talking to ``email-smtp.<region>.amazonaws.com``            ``connection``
reject reason ``Bad content`` (virus)                                 ``content``
``InvalidParameterValue: Missing final '@domain'``                    ``unknown_user``
"... on the suppression list for your account"                        ``suppressed``
==================================================================  ================

Traps (from the DNS-blocklist notes): "blocked using zen.spamhaus.org ... open resolver" (or
``127.255.255.25x``, ``returnc/pub``, a list's "Query Refused") is the receiver's own broken DNSBL
lookup -> ``dns``, never ``ip_blocklist``; greylisting that names a zone ("grey.rbl") is
``throttling``; "Missing reverse DNS" is ``policy``; "banned content" is ``content``; SES's mailbox
simulator's "user unknown ( blacklisted address: ... )" is ``unknown_user``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

from bot.classify import data, index, words
from bot.classify.blocklists import BLOCKLISTS, EXTRACTORS
from bot.classify.data import Found, Rule

CATEGORIES: tuple[str, ...] = (
    "ip_blocklist",
    "domain_blocklist",
    "reputation",
    "content",
    "authentication",
    "unknown_user",
    "mailbox_full",
    "suppressed",
    "policy",
    "message_too_large",
    "dns",
    "connection",
    "throttling",
    "other",
)

# Texts longer than this are cut to their head and tail: real diagnostics are well under 2 kB,
# and the cap keeps a pathological 40 kB paste from costing more than a normal bounce, and the
# cache's memory bounded (at most _CACHE_SIZE keys of at most ~_MAX_CHARS characters).
_MAX_CHARS = 4096
_HEAD_CHARS = 3072
_CACHE_SIZE = 8192


@dataclass(frozen=True)
class Classification:
    """The cause of one failed delivery or send, as a person should read it."""

    category: str
    blocklist: str | None
    summary: str
    fix: str
    delist_url: str | None = None
    # Which rule decided: a rules.toml id, "hint.<field>.<value>" when a structured SES field decided,
    # "words" for a guess from the words (bot.classify.words), None when nothing matched (category "other").
    rule: str | None = None
    # "high": specific wording (or a decisive SES field); "medium": a status code, generic wording
    # or a guess from a field; "low": a guess from the words, or category "other" -- nothing said what went
    # wrong.
    confidence: str = "low"
    # With category "other": the category the reply's words point to, as a lead (bot.classify.words), if any.
    lead: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {
            "category": self.category,
            "blocklist": self.blocklist,
            "summary": self.summary,
            "fix": self.fix,
            "rule": self.rule,
            "confidence": self.confidence,
        }
        if self.delist_url:
            out["delist_url"] = self.delist_url
        if self.lead:
            out["lead"] = self.lead
        return out


# Structured hints that decide the category on their own (the text only refines the wording).
_SUBTYPE_DECISIVE: dict[str, tuple[str, str]] = {
    "mailboxfull": ("mailbox_full", "mailbox_full"),
    "messagetoolarge": ("message_too_large", "message_too_large"),
    "contentrejected": ("content", "content"),
    "attachmentrejected": ("content", "attachment"),
    "noemail": ("unknown_user", "unknown_user"),
}
_SUPPRESSED_SUBTYPES = frozenset({"onaccountsuppressionlist", "suppressed"})
_DELAY_DECISIVE: dict[str, tuple[str, str]] = {
    "mailboxfull": ("mailbox_full", "mailbox_full"),
    "spamdetected": ("content", "content"),
    "transientcommunicationfailure": ("connection", "connection"),
    "byoiphostnamelookupunavailable": ("dns", "byoip"),
    "internalfailure": ("other", "ses_internal"),
    "sendingdeferral": ("throttling", "ses_deferral"),
}
# With IPFailure, text that names one of these sender-side causes is more precise than "blocked".
_IPFAILURE_TEXT_WINS = frozenset(
    {"ip_blocklist", "domain_blocklist", "reputation", "throttling", "policy", "dns", "authentication"}
)

# --------------------------------------------------------------------------------------------
# The data: wording, then the rules (whose kinds must have wording), then their index
# --------------------------------------------------------------------------------------------

# Kinds this module words itself, besides every category and the kinds the rules name.
_ENGINE_KINDS = (
    "ip_blocklist_unnamed",
    "domain_blocklist_unnamed",
    "shared_ip_listing",  # not a result: the shared-IP advice the blocklist check gives (`wording`)
    "ipfailure",
    "recipient_server",
    "empty",
    "words",
    "words_lead",
    *(kind for _, kind in (*_SUBTYPE_DECISIVE.values(), *_DELAY_DECISIVE.values())),
)
# The {fields} filled per result (see _make and _make_static); any other kind's wording has none.
_PLACEHOLDERS = {
    "ip_blocklist": ("bl",),
    "domain_blocklist": ("bl",),
    "ses_unverified": ("region", "ids"),
    "words": ("category", "evidence"),
    "words_lead": ("category", "evidence", "percent"),
}

# kind -> (summary, fix)
_MESSAGES: dict[str, tuple[str, str]] = data.load_wording(
    data.read("wording.toml"), required=(*CATEGORIES, *_ENGINE_KINDS), placeholders=_PLACEHOLDERS
)
_RULES: tuple[Rule, ...] = data.load_rules(
    data.read("rules.toml"), categories=CATEGORIES, kinds=_MESSAGES, extractors=EXTRACTORS, blocklists=BLOCKLISTS
)
_INDEX = index.build(_RULES)
_ALTS, _GATES_RE, _GATE_MASK, _ALWAYS_MASK, _OTHER_GATES_RE = _INDEX

# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------

# x.y.z with class 2/4/5, not part of an IP address or a longer dotted number.
# (The look-behind sits after the first character so the scan can skip to a 2, 4 or 5.)
_CODE_RE = re.compile(r"[245](?<![\w.][245])\.\d{1,3}\.\d{1,3}(?![\w]|\.\d)")


def _codes(text: str, status: str) -> str:
    """Space-separated enhanced status codes from the text, then the ``status`` hint."""
    found = _CODE_RE.findall(text)
    if status:
        found.extend(_CODE_RE.findall(status.strip().lower()))
    return " " + " ".join(found) + " " if found else ""


def _cut(text: str) -> str:
    if len(text) > _MAX_CHARS:
        return text[:_HEAD_CHARS] + " ... " + text[-(_MAX_CHARS - _HEAD_CHARS) :]
    return text


#: Invisible characters: zero-width space, non-joiner and joiner, word joiner, byte-order mark, soft hyphen.
#: Text copied from a web page or a mail client carries them inside words (and addresses: bot.target).
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")
# Typographic quotes as plain ones (pasted text, and some receivers curl the apostrophe of "doesn't"), and
# no invisible characters.
_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'} | dict.fromkeys(INVISIBLE))
# A continuation line's reply code, with its enhanced code: "550-5.7.1 " / "550-" (RFC 5321 4.2: every line
# of a multi-line reply but the last has a hyphen after the code).
_CONTINUATION_RE = re.compile(r"(?:^|(?<=[\s;:(\"'\[]))([245]\d\d)-(?:([245]\.\d{1,3}\.\d{1,3}) |(?!\d))")


# One spelling for what receivers write several ways, so a rule needs only that one: "doesn't" / "doesnt"
# -> "does not", "can't" / "cant" / "can not" -> "cannot", "won't" -> "will not", "mail box" -> "mailbox".
_SPELLINGS_RE = re.compile(
    r"\b(?:(can|won|shan|ain)'?t\b|(\w+)n't\b"
    r"|(does|is|do|did|was|were|are|has|have|had|could|would|should|must|need|might)nt\b"
    r"|(can) not\b|(?<![\w-])(mail) (box))"
)
_IRREGULAR = {"can": "cannot", "won": "will not", "shan": "shall not", "ain": "is not"}


def _spelling(m: re.Match[str]) -> str:
    irregular, word, bare, can, mail, box = m.groups()
    if irregular:
        return _IRREGULAR[irregular]
    if word or bare:
        return f"{word or bare} not"
    return "cannot" if can else mail + box


def normalise(text: str) -> str:
    """Lower case, one space between words, plain quotes, no invisible characters, one spelling of
    contractions (:data:`_SPELLINGS_RE`; the rules are written in that spelling, which
    tests/test_classify_invariance.py checks), and a multi-line reply joined into one: the reply code a
    receiver repeats at the head of each line ("550-5.7.1 [...] is not 550-5.7.1 authorized") would
    otherwise split the very phrases the rules look for."""
    norm = " ".join(_cut(text).translate(_PLAIN).split()).lower()
    norm = _SPELLINGS_RE.sub(_spelling, norm)
    pos = 0
    while (first := _CONTINUATION_RE.search(norm, pos)) is not None:  # each multi-line reply in the text
        code, enhanced = first.groups()
        head, tail = norm[: first.end()], norm[first.end() :]
        if enhanced:  # the later lines' "550-5.7.1 " (or a bare "550-") and the last line's "550 5.7.1 "
            e = re.escape(enhanced)
            repeat = rf"(?<=\s){code}(?:-(?:{e}(?:\s|$))?|\s{e}(?:\s|$))"
        else:  # the later lines' "550-" and the last line's "550 "
            repeat = rf"(?<=\s){code}[ -](?=\S)"
        norm = head + re.sub(repeat, "", tail)
        pos = first.end()
    return norm


def _match_text(norm: str, codes: str) -> tuple[Rule, Found | None] | None:
    """The first rule (in table order, which is tier order: data.load_rules checks it) that matches."""
    mask = _ALWAYS_MASK
    gates = set(_GATES_RE.findall(norm))
    if _OTHER_GATES_RE is not None and not norm.isascii():
        gates.update(_OTHER_GATES_RE.findall(norm))
    for gate in gates:
        mask |= _GATE_MASK[gate]
    while mask:
        low = mask & -mask
        mask ^= low
        alt = _ALTS[low.bit_length() - 1]
        rule = alt.rule
        hay = codes if rule.on == "codes" else norm
        if hay and alt.regex.search(hay):
            found = None
            if rule.extract is not None:
                # A code rule (Microsoft 5.7.6xx) still takes the list's name from the text if any.
                found = rule.extract(norm) or (rule.extract(codes) if rule.on == "codes" else None)
            return rule, found
    return None


# --------------------------------------------------------------------------------------------
# What a person reads
# --------------------------------------------------------------------------------------------

_REGION_RE = re.compile(r"in region ([A-Za-z]{2}(?:-gov)?-[A-Za-z]+-\d)")
_IDS_RE = re.compile(r"failed the check in region [^:]*:\s*(.{1,300})$", re.S)


def _confidence(category: str, rule: Rule | None) -> str:
    if category == "other":
        return "low"
    return "high" if rule is not None and rule.tier == 0 else "medium"


def _make(
    category: str,
    kind: str,
    found: Found | None = None,
    raw: str = "",
    rule: str | None = None,
    confidence: str = "low",
) -> Classification:
    if kind == "ses_unverified":
        region_m = _REGION_RE.search(raw)
        ids_m = _IDS_RE.search(raw)
        summary, fix = _MESSAGES[kind]
        summary = summary.format(
            region=f" in region {region_m.group(1).lower()}" if region_m else "",
            ids=f" ({ids_m.group(1).strip().rstrip('.')})" if ids_m else "",
        )
        return Classification(category, None, summary, fix, rule=rule, confidence=confidence)
    return _make_static(category, kind, found, rule, confidence)


def _from_rule(rule: Rule, found: Found | None, raw: str) -> Classification:
    return _make(rule.category, rule.kind, found, raw, rule.id, _confidence(rule.category, rule))


def _from_hint(category: str, kind: str, rule: str, confidence: str) -> Classification:
    return _make(category, kind, rule=rule, confidence="low" if category == "other" else confidence)


def _guess_fields(guess: words.Guess) -> dict[str, str]:
    """The {fields} of the words' wording (``words``, ``words_lead``) for a guess."""
    return {
        "category": guess.category.replace("_", " "),
        "evidence": f" ({', '.join(repr(w) for w in guess.words)})" if guess.words else "",
        "percent": f"{guess.probability:.0%}",
    }


def _from_words(guess: words.Guess) -> Classification:
    """A guess from the words (no rule matched): the category's own wording, said to be a guess."""
    base = _make_static(guess.category, guess.category, None, words.RULE_ID, "low")
    lead, tail = _MESSAGES["words"]
    return replace(base, summary=f"{lead.format(**_guess_fields(guess))} {base.summary}", fix=f"{base.fix} {tail}")


def _with_lead(result: Classification, guess: words.Guess) -> Classification:
    """An ``other`` answer naming the category the words point to, as a lead: the category stays ``other``."""
    summary, fix = (text.format(**_guess_fields(guess)) for text in _MESSAGES["words_lead"])
    return replace(result, summary=f"{result.summary} {summary}", fix=f"{result.fix} {fix}", lead=guess.category)


@functools.lru_cache(maxsize=1024)
def _make_static(
    category: str, kind: str, found: Found | None, rule: str | None = None, confidence: str = "low"
) -> Classification:
    """The wording of a result; shared (it is immutable) by every text with the same verdict."""
    bl_name, url = found if found else (None, None)
    if kind in ("ip_blocklist", "domain_blocklist") and not bl_name:
        kind += "_unnamed"
    summary, fix = _MESSAGES.get(kind, _MESSAGES[category])
    if bl_name:
        entry = next((b for b in BLOCKLISTS if b.name == bl_name), None)
        summary = summary.format(bl=bl_name)
        fix = (entry.fix if entry and entry.fix else fix).format(bl=bl_name)
        note = entry.note if entry else ""
        if url:
            fix += f" Delisting / lookup: {url}"
        if note:
            fix += " " + note
    return Classification(category, bl_name, summary, fix, url, rule, confidence)


# --------------------------------------------------------------------------------------------
# The verdict
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _classify(text: str, status: str, bounce_type: str, bounce_subtype: str, delay_type: str) -> Classification:
    subtype = bounce_subtype.strip().lower()
    delay = delay_type.strip().lower()
    if subtype in _SUPPRESSED_SUBTYPES:
        return _from_hint("suppressed", "suppressed", f"hint.subtype.{subtype}", "high")

    norm = normalise(text)
    codes = _codes(norm, status)
    hit = _match_text(norm, codes) if (norm or codes) else None
    from_text: Classification | None = None
    if hit is not None:
        rule, found = hit
        from_text = _from_rule(rule, found, text)
        if found is not None and rule.category in ("ip_blocklist", "domain_blocklist"):
            return from_text  # a named list beats every structured hint

    decisive = _SUBTYPE_DECISIVE.get(subtype)
    hint = f"hint.subtype.{subtype}"
    if decisive is None:
        decisive = _DELAY_DECISIVE.get(delay)
        hint = f"hint.delay.{delay}"
    if decisive is not None:
        category, kind = decisive
        if from_text is not None and from_text.category == category and kind == category:
            # Same verdict; the text's wording is more specific, and SES's field makes it sure.
            return replace(from_text, confidence="high") if category != "other" else from_text
        return _from_hint(category, kind, hint, "high")
    if delay == "ipfailure":
        if from_text is not None and from_text.category in _IPFAILURE_TEXT_WINS:
            return from_text
        # "Blocked or throttled": SES's field does not say which, so this is a guess.
        return _from_hint("ip_blocklist", "ipfailure", "hint.delay.ipfailure", "medium")
    if from_text is not None:
        return from_text
    guess = words.model().judge(norm) if norm else None
    if guess is not None and guess.sure:
        return _from_words(guess)
    if delay == "recipientservererror":
        result = _from_hint("other", "recipient_server", "hint.delay.recipientservererror", "low")
    elif not norm:
        kind = f"empty_{bounce_type.strip().lower()}"
        return _make("other", kind if kind in _MESSAGES else "empty")
    else:
        result = _make("other", "other")
    return _with_lead(result, guess) if guess is not None else result


def classify(
    text: str | None,
    *,
    status: str | None = None,
    bounce_type: str | None = None,
    bounce_subtype: str | None = None,
    delay_type: str | None = None,
) -> Classification:
    """Classify a bounce / delay diagnostic or a pasted SES error.

    ``text`` is the diagnostic text; ``status`` the enhanced status code SES reports beside it;
    ``bounce_type`` / ``bounce_subtype`` / ``delay_type`` the structured fields of the event.
    Deterministic and memoised (bounded LRU) on the whole input tuple.
    """
    return _classify(_cut(text or ""), (status or "")[:64], bounce_type or "", bounce_subtype or "", delay_type or "")


def cache_info() -> functools._CacheInfo:
    """Hit/miss statistics of the memoisation cache."""
    return _classify.cache_info()


def wording(kind: str) -> tuple[str, str]:
    """(summary, fix) of a kind of wording.toml without placeholders, for the checks that give the
    classifier's advice outside a classification ("shared_ip_listing")."""
    return _MESSAGES[kind]


def cache_clear() -> None:
    """Empty the memoisation cache (tests and benchmarks)."""
    _classify.cache_clear()
