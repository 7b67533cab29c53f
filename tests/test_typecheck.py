"""The package (examples included) type-checks clean under mypy, and the user-style code
in ``tests/typing/`` (a typed StateGraph, the functional API, Command/Send, prebuilt)
type-checks clean under mypy and pyright: ``compile()`` returns
``CompiledStateGraph[State, Context, Input, Output]`` and ``invoke``/``stream`` carry it.
The modules are real programs too: each runs."""

from __future__ import annotations

import importlib.util
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import actorgraph

pytest.importorskip("mypy", reason="mypy comes with the dev extra")

ROOT = Path(actorgraph.__file__).parent.parent
TYPING = ROOT / "tests" / "typing"
MODULES = sorted(TYPING.glob("*.py"))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_mypy_finds_no_errors_in_the_package_and_the_user_style_modules() -> None:
    assert MODULES, "tests/typing/ holds no module"
    result = _run("-m", "mypy", "--no-incremental", "actorgraph", *(str(m.relative_to(ROOT)) for m in MODULES))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_pyright_finds_no_errors_in_the_user_style_modules() -> None:
    if importlib.util.find_spec("pyright") is None:
        message = "pyright comes with the dev extra (pip install -e '.[dev]')"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    result = _run("-m", "pyright", "--pythonpath", sys.executable, *(str(m.relative_to(ROOT)) for m in MODULES))
    ran = " errors, " in result.stdout or " error, " in result.stdout  # its summary line
    if not ran:
        # pyright could not run at all (its node download failed, say)
        message = f"pyright could not run: {result.stdout[-2000:]}{result.stderr[-2000:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.stem)
def test_each_user_style_module_runs(module: Path) -> None:
    runpy.run_path(str(module), run_name="typing_example")
