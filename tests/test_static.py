"""Static checks that CI runs with the tests: ruff over the project, mypy over the whole package, and
no eval/exec anywhere in the package (pages served by Voila are open to whoever can reach them)."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_ruff_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "flowviz", "tests", "benchmarks"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean_on_the_package() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_eval_or_exec_in_the_package() -> None:
    pattern = re.compile(r"(^|[^_.a-zA-Z])(eval|exec)\(")
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in (ROOT / "flowviz").rglob("*.py")
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not hits, hits
