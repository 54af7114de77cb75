"""Terminal rendering of reports and answers (the CLI's text output; `--json` bypasses this).

Remote text (bounce diagnostics, banners) is printed as data: control characters are made visible so
a hostile diagnostic cannot rewrite the terminal, and so are the invisible characters that reorder or hide
text (`visible`), so `https://\\u202emoc.nozama.swa\\u202c/` cannot pass for aws.amazon.com.
"""

from __future__ import annotations

import re

from bot.findings import Answer, Finding, Report, Severity

# C0 but tab and newline, DEL, and all of C1 (U+0080-U+009F: CSI, OSC, DCS, ST... start or end sequences).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi controls (embeddings, overrides, isolates, marks) and zero-width characters: they reorder or hide what
# is shown, so a hostile text could make `moc.nozama.swa` read as aws.amazon.com.
_INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060\ufeff]")


def visible(text: str) -> str:
    r"""`text` with bidi controls and zero-width characters shown as `\u202e`-style text (Slack's `escape`
    and the terminal's `clean` both use it).

    >>> visible("https://\u202emoc.nozama.swa\u202c/")
    'https://\\u202emoc.nozama.swa\\u202c/'
    """
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def clean(text: object, limit: int = 2000) -> str:
    s = visible(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text)))
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _finding(f: Finding, indent: str = "  ") -> list[str]:
    where = f" ({f.where})" if f.where else ""
    lines = [f"[{f.severity.tag}] {f.check}{where}: {clean(f.summary)}"]
    lines += [f"{indent}- {clean(e)}" for e in f.evidence]
    if f.fix:
        lines.append(f"{indent}fix: {clean(f.fix)}")
    return lines


def render_report(report: Report) -> str:
    verdict = report.verdict
    problems = [f for f in report.problems if f is not verdict]
    title = {
        "why": "Diagnosis",
        "domain": "Domain check",
        "blocklist": "Blocklist check",
        "smtp": "SMTP check",
    }
    head = f"{title.get(report.kind, report.kind.title())} for {clean(report.target)}"
    out = [f"{head}  ({report.elapsed_ms} ms)", ""]
    if verdict:
        out.append("Most likely cause:")
        out += ["  " + line for line in _finding(verdict, indent="    ")]
    else:
        out.append("Nothing wrong found.")
    if problems:
        out += ["", "Other problems:"]
        for f in problems:
            out += ["  " + line for line in _finding(f, indent="    ")]
    passed = report.passed
    if passed:
        out += ["", "Passed / for information:"]
        for f in passed:
            where = f" ({f.where})" if f.where else ""
            out.append(f"  [{f.severity.tag}] {f.check}{where}: {clean(f.summary)}")
            if f.severity == Severity.INFO or report.kind != "why":
                out += [f"      - {clean(e)}" for e in f.evidence]
    return "\n".join(out)


def render_answer(answer: Answer) -> str:
    if answer.text:
        return "\n".join(clean(line) for line in answer.text.rstrip("\n").split("\n"))
    out = [clean(answer.title)]
    for heading, lines in answer.sections:
        out.append("")
        if heading:
            out.append(f"{clean(heading)}:")
        out += [f"  {clean(line)}" for line in lines]
    return "\n".join(out)


def render(result: Report | Answer) -> str:
    return render_report(result) if isinstance(result, Report) else render_answer(result)
