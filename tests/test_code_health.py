"""Rules of the code base that a linter cannot state on its own (STYLE.md)."""

import ast
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
# Why an import may stand inside a function (ruff PLC0415, STYLE.md "Layers"): the few reasons there are.
INLINE_IMPORT_REASONS = {
    "tasks are a leaf layer (STYLE.md)",  # tasks import nothing of ours at module level: services import tasks
    "this module loads before Django's app registry",  # mls/celery.py, loaded by mls/__init__.py
    "models must be loaded first",  # AppConfig.ready
    "allauth imports this form at settings load",
    "settings module must be set first",  # manage.py
    "after the environment is set",  # bench/: Django is configured by the benchmark
    "only benchmarks that own a database need it",
}
SEE_ABOVE = "see above"
NOQA = re.compile(r"#\s*noqa:\s*PLC0415(?:\s+-\s+(?P<reason>.+?))?\s*$")


def _inline_imports() -> list[tuple[str, int, str | None]]:
    """(file, line, stated reason) of every `noqa: PLC0415` in the files git tracks."""
    listed = subprocess.run(
        ["git", "grep", "-n", "noqa: PLC0415", "--", "*.py"],  # noqa: S607 (git on PATH)
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = []
    for hit in listed.splitlines():
        path, number, text = hit.split(":", 2)
        if match := NOQA.search(text):
            found.append((path, int(number), match["reason"]))
    return found


def test_every_inline_import_states_one_of_the_known_reasons():
    imports = _inline_imports()
    first_reason_at: dict[str, int] = {}
    for path, number, reason in imports:
        if reason in INLINE_IMPORT_REASONS:
            first_reason_at.setdefault(path, number)

    unexplained = [
        f"{path}:{number}: {reason!r}"
        for path, number, reason in imports
        if reason not in INLINE_IMPORT_REASONS
        and not (reason == SEE_ABOVE and first_reason_at.get(path, number) < number)
    ]

    assert unexplained == []
    assert len(imports) > 30  # the grep found the code base's inline imports


# scheduling/imports/ along its sections, in the order they may import each other (each only those before it).
IMPORT_MODULES = ("rows", "lookups", "references", "sheets", "records", "reading", "writing")


def _package_imports(path: Path) -> set[str]:
    """The modules of scheduling/imports/ that `path` imports, relatively or by name ("__init__": the package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        names = {alias.name for alias in node.names}
        if node.level == 1:
            found |= {node.module} if node.module else names
        elif node.module == "scheduling.imports" or (node.module == "scheduling" and "imports" in names):
            found |= {"__init__"} | (names & set(IMPORT_MODULES))
        elif (node.module or "").startswith("scheduling.imports."):
            found.add(node.module.removeprefix("scheduling.imports."))
    return found


def test_the_import_modules_import_only_the_modules_above_them():
    package = ROOT / "scheduling" / "imports"

    upward = {
        name: sorted(_package_imports(package / f"{name}.py") - set(IMPORT_MODULES[:position]))
        for position, name in enumerate(IMPORT_MODULES)
    }

    assert sorted(path.stem for path in package.glob("*.py")) == sorted([*IMPORT_MODULES, "__init__"])
    assert {name: imported for name, imported in upward.items() if imported} == {}
