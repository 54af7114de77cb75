"""`template <name> [json]`: will this SES template render with this data, and has it failed lately?

SESv2 `TestRenderEmailTemplate` renders the template with the given data (or `{}`) in each configured
region. On success the answer shows the rendered subject and a short excerpt of the text (parsed from
the MIME message SES returns); on failure it names the missing variable SES reports, plus every other
variable the template uses outside `{{#if}}`/`{{#unless}}` blocks that the data lacks (read from
`GetEmailTemplate`, so one try shows them all; `template_references` says what SES documents). A
template that does not exist is answered with the templates that do. The history adds the recent
Rendering Failure events for the template: a templated send gets a MessageId even when rendering fails
later, and only those events tell.
"""

from __future__ import annotations

import difflib
import email
import email.policy
import html
import json
import re
import time
from typing import Any

from bot.aws import describe_error, error_code
from bot.commands import CommandContext, Invocation, command, require_regions
from bot.deps import Deps
from bot.findings import Finding, Report, Severity, could_not_check
from bot.target import UsageError, slack_unescaped

TEMPLATE_DOC = "https://docs.aws.amazon.com/ses/latest/dg/send-personalized-email-api.html"
EVENTS_DOC = "https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html"

RENDERING_TYPES = (
    "RenderingFailure",
    "Rendering Failure",
)  # as stored by bot.events; the raw name has a space
THROTTLED = {"TooManyRequestsException", "ThrottlingException", "Throttling", "RequestLimitExceeded"}
HISTORY_ROWS = 10
EXCERPT_CHARS = 200
MAX_LISTED_TEMPLATES = 30

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MISSING = re.compile(r"Attribute '([^']+)' is not present", re.I)
# Handlebars comments: `{{!-- ... --}}` may hold `}}` (and whole placeholders), `{{! ... }}` may not.
_LONG_COMMENT = re.compile(r"\{\{~?!--.*?--~?\}\}", re.S)
# One mustache: {{name}}, {{{raw}}}, {{~name~}}, {{&raw}}, {{#if x}}, {{else if y}}, {{/if}}, {{! note }}.
_MUSTACHE = re.compile(r"\{\{\{?~?\s*(.*?)\s*~?\}?\}\}", re.S)
# The words of a mustache: strings and (subexpressions) stay whole.
_WORD = re.compile(r'"[^"]*"|\'[^\']*\'|\([^)]*\)|[^\s()]+')
# Names that are Handlebars, not data: built-in helpers, keywords and literals.
_HELPERS = {"if", "unless", "each", "with", "lookup", "log", "else", "this"}
_LITERALS = {"true", "false", "null", "undefined"}
_DOUBLE_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"'})
_TAGS = re.compile(r"<[^>]+>")
_WS = re.compile(r"\s+")


def _not_json(word: str) -> Any:
    raise ValueError(f"{word} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]} is too big a number")
    return value


def _strict_json(raw: str) -> Any:
    # Strict JSON, as SES reads it: no NaN or Infinity, and no number too big to be one.
    return json.loads(raw, parse_constant=_not_json, parse_float=_finite)


def _bad_json(exc: ValueError) -> UsageError:
    detail = f"{exc.msg} at character {exc.pos + 1}" if isinstance(exc, json.JSONDecodeError) else str(exc)
    return UsageError(f'the template data is not valid JSON ({detail}); give an object, like {{"name": "Ana"}}')


def parse_template_args(rest: str, *, slack: bool = False) -> tuple[str, dict[str, Any]]:
    """(template name, rendering data) from what follows `template`; `UsageError` for bad input. With `slack`
    the text came from Slack, whose `&amp;`, `&lt;` and `&gt;` are undone; from a terminal it is read as typed."""
    text = rest.strip()
    if not text:
        raise UsageError('give a template name, like `template welcome {"name": "Ana"}`')
    # The data may follow on the next line (Slack: shift-enter, then a code block), so any whitespace ends the name.
    name, raw = (text.split(None, 1) + [""])[:2]
    name = name.strip("`'\"")
    if not _NAME.match(name):
        raise UsageError(f"`{name[:70]}` is not a template name (letters, digits, _ and -, up to 64 characters)")
    if slack:
        raw = slack_unescaped(raw)
    # People paste JSON in code spans or blocks.
    raw = re.sub(r"^```(?:json)?\s*|\s*```$", "", raw.strip(), flags=re.I).strip("`").strip()
    if not raw:
        return name, {}
    try:
        # Strict JSON first: typographic quotes inside a value ("she said \u201chi\u201d", O\u2019Brien) are data.
        data = _strict_json(raw)
    except ValueError as exc:
        # Slack (and text editors) may have made the JSON's own quotes typographic: straighten the double ones,
        # the only quotes JSON has, and try again. A \u2019 stays as typed.
        straight = raw.translate(_DOUBLE_QUOTES)
        if straight == raw:
            raise _bad_json(exc) from None
        try:
            data = _strict_json(straight)
        except ValueError as exc2:
            raise _bad_json(exc2) from None
    if not isinstance(data, dict):
        raise UsageError('the template data must be a JSON object, like {"name": "Ana"}')
    return name, data


def _path(word: str) -> str | None:
    """A top-level data path (`a.b`, `a/b`, `[odd key]`) as a dotted name; None for literals, `this`, `@index`,
    `../x`, hash arguments and subexpressions."""
    if (
        word[:1] in "\"'(@.0123456789-"
        or "=" in word
        or word in _LITERALS
        or word == "this"
        or word.startswith(("this.", "this/"))
    ):
        return None
    return word.replace("/", ".").replace("[", "").replace("]", "") or None


def template_references(content: dict[str, Any]) -> list[tuple[str, bool]]:
    """(data path, optional) for each top-level data reference of a template's Subject/Text/Html, in order.

    What SES documents (the advanced-personalization guide and the SendTemplatedEmail rendering-failure
    article, see TEMPLATE_DOC): a variable the template uses that the data lacks is a Rendering Failure
    (TestRenderEmailTemplate: "Attribute 'x' is not present in the rendering data"), and `{{#if x}}` formats
    the mail differently "if a certain attribute is present", so an absent `x` is fine. SES does not document
    whether a variable inside a block that does not render (`{{#if}}`, `{{else}}`, `{{#unless}}`) must be in
    the data; Handlebars never evaluates it, so it is *optional* here, a guess that is only listed, never called
    missing. The list of an `{{#each}}` and the object of a `{{#with}}` count like a variable; names inside them
    are relative to the item, so they are not counted. Comments are not data, and helpers (`lookup`, `log`)
    are not variables. TestRenderEmailTemplate's own answer always wins over this reading.
    """
    refs: list[tuple[str, bool]] = []
    for part in ("Subject", "Text", "Html"):
        blocks: list[str] = []  # "if" (a condition's block) or "scope" (names relative to an item)
        for m in _MUSTACHE.finditer(_LONG_COMMENT.sub("", content.get(part) or "")):
            body = m.group(1)
            sigil = body[:1] if body[:1] in "!#/^&>*" else ""
            words = _WORD.findall(body[len(sigil) :])
            if sigil in ("!", ">", "*"):  # comment, partial, decorator
                continue
            if sigil == "/":
                if blocks:
                    blocks.pop()
                continue
            scoped, optional = "scope" in blocks, "if" in blocks
            if not words:  # {{^}}, an else
                continue
            head, arg = words[0], (_path(words[1]) if len(words) > 1 else None)
            name: str | None = None  # the data reference this mustache makes, if any
            if sigil == "#":
                if head in ("if", "unless"):
                    name, optional = arg, True
                    blocks.append("if")
                elif head in ("each", "with"):
                    name = arg
                    blocks.append("scope")
                else:  # {{#items}} section, {{#> partial}}, {{#*inline}}, an unknown block helper
                    name, optional = (_path(head) if len(words) == 1 else None), True
                    blocks.append("scope")
            elif sigil == "^":  # {{^x}}: rendered when x is absent or empty, like unless
                name, optional = _path(head), True
                blocks.append("if")
            elif head == "else":  # {{else}}, {{else if y}}
                if len(words) > 2 and words[1] in ("if", "unless"):
                    name, optional = _path(words[2]), True
            elif len(words) == 1 and head not in _HELPERS:  # not a helper call
                name = _path(head)
            if name and not scoped:  # inside an item's scope, names are the item's, not the data's
                refs.append((name, optional))
    return refs


def template_variables(content: dict[str, Any], *, required: bool = False) -> list[str]:
    """Top-level data references of a template, in order of first use; with `required`, only those used
    outside a `{{#if}}`/`{{#unless}}` block (see `template_references`)."""
    refs = template_references(content)
    needed = {name for name, optional in refs if not optional}
    return [name for name in dict.fromkeys(n for n, _ in refs) if not required or name in needed]


def _present(data: Any, dotted: str) -> bool:
    value = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return True


def _excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = _WS.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def parse_rendered(rendered: str) -> dict[str, Any]:
    """Subject, parts and a text excerpt of the MIME message TestRenderEmailTemplate returns."""
    msg = email.message_from_string(rendered, policy=email.policy.default)
    parts = []
    text_body = html_body = None
    for part in msg.walk():
        if part.is_multipart():
            continue
        content = part.get_content()
        ctype = part.get_content_type()
        parts.append({"type": ctype, "chars": len(content) if isinstance(content, str) else len(content or b"")})
        if ctype == "text/plain" and text_body is None:
            text_body = content
        elif ctype == "text/html" and html_body is None:
            html_body = content
    if text_body is not None:
        excerpt = _excerpt(text_body)
    elif html_body is not None:
        excerpt = _excerpt(html.unescape(_TAGS.sub(" ", html_body)))
    else:
        excerpt = ""
    return {"subject": str(msg.get("Subject", "")), "parts": parts, "excerpt": excerpt}


def _list_templates(client: Any) -> list[str]:
    names: list[str] = []
    token = None
    for _ in range(10):  # 1,000 templates are plenty to show; SES allows 20,000
        kwargs: dict[str, Any] = {"PageSize": 100}
        if token:
            kwargs["NextToken"] = token
        page = client.list_email_templates(**kwargs)
        names += [t["TemplateName"] for t in page.get("TemplatesMetadata", [])]
        token = page.get("NextToken")
        if not token:
            break
    return names


def _not_found(client: Any, name: str, region: str) -> Finding:
    check = "template.render"
    try:
        names = _list_templates(client)
    except Exception as exc:  # the listing only helps; its failure must not hide the answer
        return Finding(
            check,
            Severity.ERROR,
            f"There is no template named '{name}' in {region}",
            [f"could not list the templates that exist: {describe_error(exc)}"],
            "Check the name (template names are case-sensitive) and the region.",
            region=region,
            data={"found": False, "templates": None},
        )
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    close += [n for n in names if n.lower() == name.lower() and n not in close]
    evidence = [
        f"templates in {region} ({len(names)}): "
        + (
            ", ".join(names[:MAX_LISTED_TEMPLATES]) + (" ..." if len(names) > MAX_LISTED_TEMPLATES else "")
            if names
            else "none"
        )
    ]
    hint = f"Did you mean {', '.join(close)}? " if close else ""
    return Finding(
        check,
        Severity.ERROR,
        f"There is no template named '{name}' in {region}",
        evidence,
        f"{hint}Template names are case-sensitive and templates exist per region; a send naming a missing "
        f"template fails with TemplateDoesNotExist. {TEMPLATE_DOC}",
        region=region,
        data={"found": False, "templates": names, "did_you_mean": close},
    )


def _missing_variables(client: Any, name: str, data: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(every variable the template uses, the required ones absent from the data, the optional ones absent),
    or ([], [], []) when the template cannot be read."""
    try:
        content = client.get_email_template(TemplateName=name).get("TemplateContent") or {}
    except Exception:  # the render's own message already names one variable
        return [], [], []
    used, required = template_variables(content), set(template_variables(content, required=True))
    absent = [v for v in used if not _present(data, v)]
    return used, [v for v in absent if v in required], [v for v in absent if v not in required]


def render_in_region(deps: Deps, name: str, data: dict[str, Any], region: str) -> Finding:
    """`TestRenderEmailTemplate` in one region, as a finding."""
    check = "template.render"
    client = deps.aws.get("sesv2", region)
    keys = ", ".join(sorted(data)) or "none"
    try:
        rendered = client.test_render_email_template(TemplateName=name, TemplateData=json.dumps(data))[
            "RenderedTemplate"
        ]
    except Exception as exc:
        code = error_code(exc)
        if code in ("NotFoundException", "TemplateDoesNotExist"):
            return _not_found(client, name, region)
        if code in THROTTLED:
            return Finding(
                check,
                Severity.WARNING,
                "SES renders test templates at most once a second: try again in a second",
                [f"{code}: {describe_error(exc)}"],
                "Run the command again in a second.",
                region=region,
                data={"throttled": True},
            )
        if code in ("BadRequestException", "MissingRenderingAttribute", "InvalidRenderingParameter"):
            message = (getattr(exc, "response", {}).get("Error", {}).get("Message") or "").strip()
            reported = _MISSING.findall(message)
            used, absent, optional = _missing_variables(client, name, data)
            missing = list(dict.fromkeys(reported + absent))  # SES's own answer first: it wins
            optional = [v for v in optional if v not in missing]
            evidence = [f"SES: {message or code}", f"data keys given: {keys}"]
            if used:
                evidence.append(f"variables the template uses: {', '.join(used)}")
            if optional:
                evidence.append(
                    f"absent but used only in {{{{#if}}}}/{{{{#unless}}}} blocks (probably needed only when the "
                    f"block renders; SES does not document it): {', '.join(optional)}"
                )
            if missing:
                quoted = ", ".join(f"'{v}'" for v in missing)
                summary = f"Template '{name}' does not render: {quoted} missing from the data"
                fix = (
                    f"Add {quoted} to the template data: every {{{{variable}}}} the template uses outside an "
                    "{{#if}}/{{#unless}} block must be present. A send with data like this still gets a "
                    f"MessageId, but the mail is never delivered; only a Rendering Failure event tells. {TEMPLATE_DOC}"
                )
            else:
                summary = f"Template '{name}' does not render: {message or code}"
                fix = f"Fix the template or the data as SES says. {TEMPLATE_DOC}"
            return Finding(
                check,
                Severity.ERROR,
                summary,
                evidence,
                fix,
                region=region,
                data={"rendered": False, "missing": missing, "used": used, "error": message or code},
            )
        return could_not_check(check, describe_error(exc), region)

    parsed = parse_rendered(rendered)
    used, _, _ = _missing_variables(client, name, data)
    evidence = [f"subject: {parsed['subject']}"]
    evidence += [f"{p['type']} part: {p['chars']} characters" for p in parsed["parts"]]
    if parsed["excerpt"]:
        evidence.append(f"text: {parsed['excerpt']}")
    evidence.append(f"data keys given: {keys}")
    return Finding(
        check,
        Severity.OK,
        f"Template '{name}' renders: subject \u201c{_excerpt(parsed['subject'], 120)}\u201d",
        evidence,
        "",
        region=region,
        data={"rendered": True, **parsed, "used": used},
    )


def rendering_history(deps: Deps, name: str) -> Finding:
    """The recent Rendering Failure events for the template, from the store."""
    marks = ", ".join("?" for _ in RENDERING_TYPES)
    where = f"type IN ({marks}) AND template = ?"
    params = [*RENDERING_TYPES, name]
    rows = deps.store.query(
        f"SELECT timestamp, recipient, reason, region, message_id FROM events WHERE {where} "
        "ORDER BY timestamp DESC LIMIT ?",
        [*params, HISTORY_ROWS],
    )
    total = deps.store.query(f"SELECT COUNT(*) AS n FROM events WHERE {where}", params)[0]["n"]
    check = "template.history"
    if not rows:
        return Finding(
            check,
            Severity.OK,
            f"No Rendering Failure events recorded for '{name}'",
            [
                "The bot only sees rendering failures when a configuration set publishes RENDERING_FAILURE "
                "events to it (see `setup`)."
            ],
            data={"count": 0, "events": []},
        )
    reasons = list(dict.fromkeys(r["reason"] for r in rows if r["reason"]))
    evidence = [
        f"{r['timestamp']}"
        + (f" to {r['recipient']}" if r["recipient"] else "")
        + f": {r['reason'] or 'no reason given'}"
        for r in rows
    ]
    if total > len(rows):
        evidence.append(f"... and {total - len(rows)} earlier")
    missing = list(dict.fromkeys(v for reason in reasons for v in _MISSING.findall(reason)))
    about = f": {', '.join(repr(v) for v in missing)} missing" if missing else (f": {reasons[0]}" if reasons else "")
    return Finding(
        check,
        Severity.WARNING,
        f"{total} Rendering Failure event{'s' if total != 1 else ''} for '{name}', "
        f"the last at {rows[0]['timestamp']}{about}",
        evidence,
        "These sends got a MessageId but were never delivered. Fix the data the sending code passes (or the "
        f"template), then resend to the recipients above. {EVENTS_DOC}",
        data={"count": total, "missing": missing, "events": rows},
    )


@command(
    "template",
    "template <name> [json]",
    "will this SES template render with this data, and has it failed lately",
    'template welcome {"name": "Ana"}',
)
def run_template(ctx: CommandContext, inv: Invocation) -> Report:
    name, data = parse_template_args(inv.rest, slack=ctx.via == "slack")
    deps = ctx.deps
    regions = require_regions(deps.settings)
    started = time.perf_counter()
    findings = []
    for view in deps.accounts():  # each account has its own templates
        for region in regions:
            finding = render_in_region(view, name, data, region)
            finding.account = view.account_name
            findings.append(finding)
    findings.append(rendering_history(deps, name))
    return Report(
        target=name,
        findings=findings,
        kind="template",
        region=",".join(regions),
        elapsed_ms=int((time.perf_counter() - started) * 1000),
    )
