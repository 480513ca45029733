"""Rules of the code base that a linter cannot state on its own (STYLE.md)."""

import ast
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from mls.celery import app

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


def _imported_modules(path: Path) -> list[str]:
    """Every module `path` imports, at the top or inside a function (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package if node.level else ""
            found.append(".".join(part for part in (base, node.module) if part))
    return found


def test_tenancy_core_does_not_import_vendors():
    """`vendors` builds on the tenancy core (its suppliers and instructors belong to an `mls.Provider`), never the
    other way round: one direction keeps the apps separable and their migrations ordered."""
    modules = sorted((ROOT / "mls").rglob("*.py"))

    imports_of_vendors = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in modules
        for module in _imported_modules(path)
        if module == "vendors" or module.startswith("vendors.")
    ]

    assert imports_of_vendors == []
    assert len(modules) > 50  # the scan found the package, migrations included


MAX_DOMAIN_MODULE_LINES = 600
# An app's services and selectors, as one module or a package of them, and the import sections.
DOMAIN_MODULES = ("*/services.py", "*/services/*.py", "*/selectors.py", "*/selectors/*.py", "scheduling/imports/*.py")


def _domain_modules() -> list[Path]:
    return sorted(path for pattern in DOMAIN_MODULES for path in ROOT.glob(pattern))


def test_no_domain_module_grows_past_the_size_of_one_readable_file():
    """The services, selectors and import packages are split along their sections so each module can be read whole;
    one that outgrows the limit wants splitting again, not a higher limit."""
    modules = _domain_modules()

    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in modules
        if (lines := len(path.read_text().splitlines())) > MAX_DOMAIN_MODULE_LINES
    }

    assert too_long == {}
    assert len(modules) > 30  # the glob found the scheduling, engagements and mls services and the imports
    assert {ROOT / "slas" / "services.py", ROOT / "reporting" / "selectors" / "sla.py"} <= set(modules)


def test_the_modules_of_a_services_package_import_each_other_without_cycles():
    """A module of `<app>/services/` may use another's functions (or `_common`), never one that uses it back:
    the order keeps each module readable on its own and the package importable in any order."""
    cycles, uses = [], 0
    for package in sorted(ROOT.glob("*/services")):
        dotted = f"{package.parent.name}.services"
        graph = {
            path.stem: {
                module.removeprefix(f"{dotted}.")
                for module in _imported_modules(path)
                if module.startswith(f"{dotted}.")
            }
            for path in package.glob("*.py")
            if path.stem != "__init__"
        }
        cycles += [f"{dotted}.{module}" for module in graph if _reaches(graph, module, module, set())]
        uses += sum(len(imported) for imported in graph.values())

    assert cycles == []
    assert uses > 10  # the scan found the modules' imports of each other


def _reaches(graph: dict[str, set[str]], start: str, goal: str, seen: set[str]) -> bool:
    for module in graph[start] - seen:
        seen.add(module)
        if module == goal or _reaches(graph, module, goal, seen):
            return True
    return False


def _declared_tasks() -> dict[str, str | None]:
    """{module.function: its `name=`} of every `@app.task` in the apps' tasks.py (None: named automatically)."""
    declared = {}
    for path in sorted(ROOT.glob("*/tasks.py")):
        module = f"{path.parent.name}.tasks"
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                call = decorator if isinstance(decorator, ast.Call) else None
                target = call.func if call else decorator
                if ast.unparse(target) != "app.task":
                    continue
                names = [kw.value.value for kw in (call.keywords if call else []) if kw.arg == "name"]
                declared[f"{module}.{node.name}"] = names[0] if names else None
    return declared


def test_every_task_is_named_explicitly_after_where_it_was_defined():
    """Queued messages and beat entries refer to a task by name: an explicit one keeps them valid when the
    function moves to another module."""
    declared = _declared_tasks()

    assert {function: name for function, name in declared.items() if name != function} == {}
    assert len(declared) > 15  # the scan found the apps' tasks


def test_registered_tasks_and_beat_schedule_use_the_declared_names():
    app.loader.import_default_modules()
    # Tasks the test suite itself registers (tests/…) are not the app's: an xdist worker may have imported them.
    ours = {name for name in app.tasks if not name.startswith(("celery.", "tests."))}
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert ours == set(_declared_tasks())
    assert scheduled - ours == set()
