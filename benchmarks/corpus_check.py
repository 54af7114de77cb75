"""Check candidate bounce texts against every corpus file by hash only, before they join providers-dev.jsonl.

    .venv/bin/python benchmarks/corpus_check.py CANDIDATES.jsonl KEPT.jsonl

Each line of CANDIDATES is a corpus record (``text``, ``category``, ``provider``, ``source``, optional ``note``;
tests/data/bounces/PROVIDERS.md). Writes to KEPT only the candidates that fall on the dev side of the split
(sha256(text) % 10 < 6, as benchmarks/classify.py and tests/test_classify.py split) and are not duplicates --
exact, with addresses and numbers normalised, or letters alone -- of a text in any corpus file (the holdout
included) or of an earlier candidate. Prints counts only: a candidate on the holdout side is dropped unread
(added nowhere: it was collected with the rules in view), and no corpus text is ever printed.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "bounces"
REQUIRED = ("text", "category", "provider", "source")


def dev_side(text: str) -> bool:
    """The split of the corpus files: sha256(text) % 10 < 6 is dev."""
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % 10 < 6


def keys(text: str) -> set[str]:
    """Hashes of a text as written (whitespace and case aside), with addresses and numbers normalised, and of
    its letters alone (when there are enough of them to mean something)."""
    plain = " ".join(text.lower().split())
    normalised = re.sub(r"\d+", "0", re.sub(r"\S+@\S+", "@", plain))
    letters = re.sub(r"[^a-z]", "", plain)
    forms = {"e:" + plain, "n:" + normalised}
    if len(letters) >= 12:
        forms.add("l:" + letters)
    return {hashlib.sha256(form.encode()).hexdigest() for form in forms}


def corpus_keys() -> set[str]:
    out: set[str] = set()
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                text = record.get("text") or record.get("diagnosticcode") or ""
                if text:
                    out |= keys(text)
    return out


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: benchmarks/corpus_check.py CANDIDATES.jsonl KEPT.jsonl")
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    known = corpus_keys()
    kept: list[dict[str, str]] = []
    holdout = duplicates = malformed = 0
    for line in source.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            ok = isinstance(record, dict) and all(isinstance(record.get(k), str) and record[k] for k in REQUIRED)
        except json.JSONDecodeError:
            ok = False
        if not ok:
            malformed += 1
            continue
        if not dev_side(record["text"]):
            holdout += 1
            continue
        k = keys(record["text"])
        if k & known:
            duplicates += 1
            continue
        known |= k
        kept.append(record)
    target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
    print(f"{source}: kept {len(kept)}, holdout side dropped {holdout}, duplicates {duplicates}, malformed {malformed}")


if __name__ == "__main__":
    main()
