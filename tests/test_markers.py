"""Every test module says which layer it tests (STYLE.md): `scripts/test --fast` and `-m unit` select by it."""

import importlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

TESTS = Path(__file__).resolve().parent
LAYERS = {"unit", "integration", "e2e"}


def _layers(module_name: str) -> list[str]:
    marks = getattr(importlib.import_module(module_name), "pytestmark", [])
    return sorted({mark.name for mark in (marks if isinstance(marks, list) else [marks])} & LAYERS)


def test_every_test_module_declares_exactly_one_layer():
    modules = [
        ".".join(("tests", *path.relative_to(TESTS).with_suffix("").parts)) for path in sorted(TESTS.rglob("test_*.py"))
    ]

    layers = {name: _layers(name) for name in modules}

    assert {name: found for name, found in layers.items() if len(found) != 1} == {}
    assert len(modules) > 80  # the walk found the suite, not an empty directory
