"""The house rules, checked on the source: who may import whom, and one id per check."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bot.checks.all  # noqa: F401  (every check registered)
from bot.checks import CheckContext, DuplicateCheck, check
from bot.findings import Finding, Severity

ROOT = Path(__file__).resolve().parent.parent

# package -> top-level modules it must never import
FORBIDDEN = {
    "bot": {"handlers", "sesbot", "peers", "slack_sdk", "slack_bolt"},
    "handlers": {"sesbot", "peers"},
}


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (lazy imports inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_it_must_not(package):
    offenders = sorted(
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / package).rglob("*.py")
        for module in imports_of(path)
        if module.split(".")[0] in FORBIDDEN[package]
    )
    assert offenders == []


def test_every_package_says_what_lives_there_and_what_it_may_import():
    packages = [p.parent for p in ROOT.glob("*/__init__.py") if p.parent.name in ("bot", "handlers", "peers", "sesbot")]
    packages += [p.parent for p in (ROOT / "bot").rglob("__init__.py") if p.parent != ROOT / "bot"]
    missing = []
    for package in packages:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
        if "import" not in doc.lower():
            missing.append(str(package.relative_to(ROOT)))
    assert missing == []


def test_a_second_check_with_a_taken_id_is_refused():
    def impostor(ctx: CheckContext) -> Finding:
        return ctx.finding(Severity.OK, "never registered")

    with pytest.raises(DuplicateCheck, match="'recipient.suppressed' is already registered by bot.checks.suppression"):
        check("recipient.suppressed")(impostor)


def test_no_function_in_a_check_module_repeats_a_registered_id_as_a_literal():
    from bot.checks import REGISTRY

    ids = {c.id for c in REGISTRY}
    repeated = []
    for path in (ROOT / "bot" / "checks").rglob("*.py"):
        for fn in ast.walk(ast.parse(path.read_text())):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            in_decorators = {id(n) for d in fn.decorator_list for n in ast.walk(d)}
            for node in ast.walk(fn):
                if isinstance(node, ast.Constant) and node.value in ids and id(node) not in in_decorators:
                    repeated.append(f"{path.relative_to(ROOT)}:{node.lineno} {fn.name}: {node.value!r}")
    assert repeated == []
