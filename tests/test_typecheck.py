"""The package (examples included) type-checks clean under mypy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import actorgraph

pytest.importorskip("mypy", reason="mypy comes with the dev extra")


def test_mypy_finds_no_errors_in_the_package() -> None:
    root = Path(actorgraph.__file__).parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "actorgraph"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
