"""How often the bounce classifier agrees with labelled real-world texts, on texts it was and was not tuned on.

Scores ``bot.classify.classify(text).category`` against three labelled sets, each given the text alone
(no status, bounce type or subtype hints):

- providers dev      tests/data/bounces/providers-dev.jsonl: receivers' published error texts and real
                     bounces from issue trackers and open-source bounce handlers (PROVIDERS.md says how it
                     was built and labelled). The rules may be tuned on this part.
- providers holdout  tests/data/bounces/providers-holdout.jsonl: the same kind of texts, split off by
                     sha256(text) % 10 >= 6 and never used to write rules.
- sisimai dev        the dev part of the same labels (sha256 % 10 < 6): rules may be tuned on these.
- sisimai holdout    the held-out part of sisimai's set-of-emails labels (tests/data/bounces), split and
                     mapped to our categories exactly as tests/test_classify.py does. A reply counts as
                     agreeing when it is any of the categories the mapping accepts for sisimai's reason;
                     the tables then count it under the mapping's first (meant) category.

For each set it prints overall agreement, precision / recall / n per expected category, the confusion
matrix (rows = expected, columns = got) and, for the two providers sets, "is this a blocklist" as yes/no
(ip_blocklist or domain_blocklist against everything else). Targets (issue 12): overall >= 0.90, every
category's recall >= 0.80, blocklist precision and recall >= 0.95; each is printed with met / NOT met.
Nothing is asserted.

``--misses dev`` lists the dev texts the classifier gets wrong (expected, got, provider, text). Held-out
misses are listed only when asked for by name (``--misses holdout`` or ``--misses sisimai``): reading
them turns the holdout into a dev set.

    .venv/bin/python benchmarks/classify.py [--sets dev,sisimai-dev,holdout,sisimai] [--misses SET]

Each report also says how many texts the words guess decided (no rule matched; bot/classify/words.py) and how
many of those it got right. ``--train-words`` writes bot/classify/words.json from the two dev sets alone (each
text under the first category it is labelled with); ``--cross-validate-words`` shows, on the dev sets only,
how the guess does on providers it was not trained on (5 folds grouped by provider), for the smoothing and
threshold grid the shipped values were chosen from.

``--sets dev,sisimai-dev`` scores the two dev sets alone: what someone adding rules runs, so that no
held-out figure is seen while the rules are being written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.classify import CATEGORIES, classify, words  # noqa: E402
from bot.classify.engine import normalise  # noqa: E402

DATA = ROOT / "tests" / "data" / "bounces"
PROVIDERS_DEV = DATA / "providers-dev.jsonl"
PROVIDERS_HOLDOUT = DATA / "providers-holdout.jsonl"
SISIMAI_SET_OF_EMAILS = DATA / "sisimai-set-of-emails-p5-labels.jsonl"

TARGET_OVERALL = 0.90
TARGET_RECALL = 0.80
TARGET_BLOCKLIST = 0.95
BLOCKLIST = frozenset({"ip_blocklist", "domain_blocklist"})

# Column headings of the confusion matrix.
SHORT = {
    "ip_blocklist": "ipbl",
    "domain_blocklist": "dombl",
    "reputation": "rep",
    "content": "cont",
    "authentication": "auth",
    "unknown_user": "user",
    "mailbox_full": "full",
    "suppressed": "supp",
    "policy": "pol",
    "message_too_large": "big",
    "dns": "dns",
    "connection": "conn",
    "throttling": "thr",
    "other": "oth",
}

# Copied from tests/test_classify.py (SISIMAI_TO_CATEGORIES; keep the two in step): importing the test
# module would pull in pytest and hypothesis. The first category is the one meant; any other listed
# category is also accepted; None = not a delivery failure, not scored.
SISIMAI_TO_CATEGORIES: dict[str, tuple[str, ...] | None] = {
    "userunknown": ("unknown_user",),
    "hasmoved": ("unknown_user",),
    "suspend": ("unknown_user",),
    "filtered": ("unknown_user", "policy", "content"),
    "mailboxfull": ("mailbox_full",),
    "systemfull": ("mailbox_full", "other"),
    "mesgtoobig": ("message_too_large",),
    "exceedlimit": ("message_too_large",),
    "blocked": ("ip_blocklist", "reputation", "policy"),
    "badreputation": ("reputation",),
    "spamdetected": ("content",),
    "virusdetected": ("content",),
    "contenterror": ("content",),
    "notcompliantrfc": ("content", "policy"),
    "policyviolation": ("policy", "content"),
    "securityerror": ("policy", "authentication", "content", "connection"),
    "authfailure": ("authentication",),
    "requireptr": ("policy",),
    "rejected": ("policy",),
    "norelaying": ("policy",),
    "hostunknown": ("dns",),
    "notaccept": ("dns", "policy", "other"),
    "networkerror": ("dns", "connection"),
    "expired": ("connection", "dns"),
    "toomanyconn": ("throttling", "policy"),
    "speeding": ("throttling",),
    "systemerror": ("other", "connection", "dns"),
    "mailererror": ("other",),
    "onhold": ("other",),
    "syntaxerror": ("other",),
    "feedback": None,
    "delivered": None,
    "undefined": None,
}


@dataclass(frozen=True)
class Case:
    """One labelled text: the categories accepted (the first is the one meant) and where it came from."""

    text: str
    accepted: tuple[str, ...]
    provider: str = ""

    @property
    def expected(self) -> str:
        return self.accepted[0]


@dataclass(frozen=True)
class Scored:
    case: Case
    got: str  # the classifier's category
    rule: str  # which rule decided, when the classifier says so

    @property
    def ok(self) -> bool:
        return self.got in self.case.accepted

    @property
    def counted_as(self) -> str:
        """The column of the confusion matrix: an accepted alternative counts as the meant category."""
        return self.case.expected if self.ok else self.got


def is_dev(text: str) -> bool:
    """The split of tests/test_classify.py and of the providers files: sha256(text) % 10 < 6."""
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % 10 < 6


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def providers(path: Path) -> list[Case]:
    return [Case(r["text"], (r["category"],), r.get("provider", "")) for r in read_jsonl(path)]


def sisimai_split(*, dev: bool) -> list[Case]:
    cases = []
    for r in read_jsonl(SISIMAI_SET_OF_EMAILS):
        accepted = SISIMAI_TO_CATEGORIES.get(r["reason"])
        if accepted is None or is_dev(r["diagnosticcode"]) != dev:
            continue
        cases.append(Case(r["diagnosticcode"], accepted, f"sisimai:{r['reason']}"))
    return cases


def score(cases: list[Case]) -> list[Scored]:
    out = []
    for case in cases:
        result = classify(case.text)
        out.append(Scored(case, result.category, str(getattr(result, "rule", "") or "")))
    return out


def verdict(value: float, target: float) -> str:
    return f"target >= {target:.2f}: {'met' if value >= target else 'NOT met'}"


def ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def report(title: str, scored: list[Scored], *, blocklist: bool) -> None:
    n = len(scored)
    print(f"== {title}: {n} texts")
    if not n:
        print("   (no texts)\n")
        return
    ok = sum(s.ok for s in scored)
    print(f"overall agreement {ok}/{n} = {ratio(ok, n):.3f}   ({verdict(ratio(ok, n), TARGET_OVERALL)})")

    guessed = [s for s in scored if s.rule == words.RULE_ID]
    print(f"  decided by the words guess (no rule matched): {len(guessed)}, right {sum(s.ok for s in guessed)}")

    confusion: Counter[tuple[str, str]] = Counter((s.case.expected, s.counted_as) for s in scored)
    expected_n = Counter(s.case.expected for s in scored)
    got_n = Counter(s.counted_as for s in scored)
    print()
    print(f"  {'category':<18} {'n':>4} {'recall':>7} {'precision':>9}   recall target >= {TARGET_RECALL:.2f}")
    below = []
    for category in CATEGORIES:
        if not expected_n[category] and not got_n[category]:
            continue
        tp = confusion[(category, category)]
        recall = ratio(tp, expected_n[category])
        precision = ratio(tp, got_n[category])
        rec = f"{recall:7.2f}" if expected_n[category] else f"{'-':>7}"
        prec = f"{precision:9.2f}" if got_n[category] else f"{'-':>9}"
        mark = ""
        if expected_n[category]:
            mark = "met" if recall >= TARGET_RECALL else "NOT met"
            if recall < TARGET_RECALL:
                below.append(category)
        print(f"  {category:<18} {expected_n[category]:>4} {rec} {prec}   {mark}")
    print(
        f"  every category's recall >= {TARGET_RECALL:.2f}: "
        + ("met" if not below else f"NOT met ({', '.join(below)})")
    )

    if blocklist:
        tp = sum(1 for s in scored if s.case.expected in BLOCKLIST and s.counted_as in BLOCKLIST)
        said = sum(1 for s in scored if s.counted_as in BLOCKLIST)
        real = sum(1 for s in scored if s.case.expected in BLOCKLIST)
        p, r = ratio(tp, said), ratio(tp, real)
        print()
        print(
            f"  blocklist yes/no: precision {tp}/{said} = {p:.3f} ({verdict(p, TARGET_BLOCKLIST)}), "
            f"recall {tp}/{real} = {r:.3f} ({verdict(r, TARGET_BLOCKLIST)})"
        )

    rows = [c for c in CATEGORIES if expected_n[c]]
    cols = [c for c in CATEGORIES if got_n[c]]
    print()
    print("  confusion matrix (rows = expected, columns = got)")
    print("  " + f"{'':<6}" + "".join(f"{SHORT[c]:>6}" for c in cols))
    for row in rows:
        cells = "".join(f"{(confusion[(row, c)] or '.'):>6}" for c in cols)
        print("  " + f"{SHORT[row]:<6}" + cells)
    print()


def misses(title: str, scored: list[Scored]) -> None:
    wrong = [s for s in scored if not s.ok]
    print(f"== misses in {title}: {len(wrong)}")
    for s in sorted(wrong, key=lambda s: (s.case.expected, s.got, s.case.text)):
        rule = f" [{s.rule}]" if s.rule else ""
        print(f"- expected {s.case.expected}, got {s.got}{rule} ({s.case.provider})")
        print(f"  {s.case.text}")
    print()


def training_cases() -> list[Case]:
    """The texts the words guess learns from: the two dev sets, never a held-out text."""
    return providers(PROVIDERS_DEV) + sisimai_split(dev=True)


def train_words() -> None:
    cases = training_cases()
    doc = words.train(
        ((c.text, normalise(c.text), c.expected) for c in cases),
        about="Counts for bot/classify/words.py, written by benchmarks/classify.py --train-words from "
        "tests/data/bounces/providers-dev.jsonl and the dev half of sisimai's labels. Do not edit.",
    )
    path = ROOT / "bot" / "classify" / words.MODEL_FILE
    path.write_text(words.dumps(doc), encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}: {len(cases)} texts, {len(doc['counts'])} features")


def cross_validate_words(folds: int = 5) -> None:
    """Grouped by provider (a sisimai text is its own group), so each fold's texts come from providers the
    fold's model never saw: how the guess does on wording like the held-out texts', without reading them."""
    cases = training_cases()
    groups = [c.text if c.provider.startswith("sisimai:") else c.provider for c in cases]
    fold = [int(hashlib.sha256(g.encode()).hexdigest(), 16) % folds for g in groups]
    norms = [normalise(c.text) for c in cases]
    # The texts the guess is for: those no rule matches. The rules were written on these very texts, so
    # nearly all of those left are labelled "other", and any guess there is wrong.
    ruleless = [classify(c.text).rule in (None, words.RULE_ID) for c in cases]
    print(f"words guess, {folds}-fold cross-validation grouped by provider on the {len(cases)} dev texts;")
    print(f"after each slash, the same on the {sum(ruleless)} of them no rule matches")
    print("  alpha  temp  log-loss  threshold  given   right     precision  labelled-other-given")
    for alpha in (0.05, 0.1, 0.3):
        for temperature in (1.0, 2.0, 4.0, 6.0, 8.0):
            guesses: list[words.Guess | None] = [None] * len(cases)
            loss = 0.0
            for k in range(folds):
                doc = words.train(
                    ((c.text, n, c.expected) for c, n, f in zip(cases, norms, fold, strict=True) if f != k), about=""
                )
                model = words.Model(doc | {"alpha": alpha, "temperature": temperature})
                for i, f in enumerate(fold):
                    if f == k:
                        guesses[i] = model.guess(norms[i])
                        p = model.posteriors(norms[i])
                        loss -= math.log(max(1e-12, sum(p.get(a, 0.0) for a in cases[i].accepted)))
            for threshold in (0.3, 0.5, 0.8, 0.9, 0.95):
                given = [
                    (c, g, alone)
                    for c, g, alone in zip(cases, guesses, ruleless, strict=True)
                    if g is not None and g.category not in words.NEVER_GUESSED and g.probability >= threshold
                ]
                right = sum(g.category in c.accepted for c, g, _ in given)
                other = sum(c.expected == "other" for c, _, _ in given)
                alone = [(c, g) for c, g, a in given if a]
                a_right = sum(g.category in c.accepted for c, g in alone)
                a_other = sum(c.expected == "other" for c, _ in alone)
                print(
                    f"  {alpha:5} {temperature:5} {loss / len(cases):9.3f} {threshold:10}"
                    f" {len(given):5}/{len(alone):<3} {right:4}/{a_right:<3}"
                    f" {ratio(right, len(given)):6.3f}/{ratio(a_right, len(alone)):.3f} {other:9}/{a_other}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--misses",
        choices=("dev", "sisimai-dev", "holdout", "sisimai"),
        help="list the texts of that set the classifier gets wrong (held-out sets only when named)",
    )
    parser.add_argument(
        "--sets",
        default="dev,sisimai-dev,holdout,sisimai",
        help="comma-separated sets to score (default all; `--sets dev` shows no held-out figure at all)",
    )
    parser.add_argument("--train-words", action="store_true", help="write bot/classify/words.json from the dev sets")
    parser.add_argument(
        "--cross-validate-words", action="store_true", help="the words guess on unseen dev providers, by parameters"
    )
    args = parser.parse_args()
    if args.train_words:
        train_words()
        return
    if args.cross_validate_words:
        cross_validate_words()
        return

    sets = {
        "dev": ("providers dev (rules may be tuned on these)", providers(PROVIDERS_DEV), True),
        "sisimai-dev": ("sisimai set-of-emails dev (rules may be tuned on these)", sisimai_split(dev=True), False),
        "holdout": ("providers holdout (never used to write rules)", providers(PROVIDERS_HOLDOUT), True),
        "sisimai": ("sisimai set-of-emails holdout (never used to write rules)", sisimai_split(dev=False), False),
    }
    wanted = [name.strip() for name in args.sets.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(sets))
    if unknown:
        parser.error(f"unknown set {', '.join(unknown)}: choose from {', '.join(sets)}")
    if args.misses and args.misses not in wanted:
        wanted.append(args.misses)
    sets = {name: sets[name] for name in sets if name in wanted}
    start = time.perf_counter()
    scored = {name: score(cases) for name, (_, cases, _) in sets.items()}
    elapsed = time.perf_counter() - start

    total = sum(len(s) for s in scored.values())
    print(f"bounce classifier agreement: {total} labelled texts scored in {elapsed:.2f} s")
    print("columns: " + ", ".join(f"{SHORT[c]}={c}" for c in CATEGORIES))
    print()
    for name, (title, _, blocklist) in sets.items():
        report(title, scored[name], blocklist=blocklist)
    if args.misses:
        misses(sets[args.misses][0], scored[args.misses])


if __name__ == "__main__":
    main()
