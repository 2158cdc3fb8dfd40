"""The house style, checked where CI runs: ruff-clean and formatted code, and types mypy agrees with."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "src", "tests", "benchmarks", "scripts"),
        ("ruff", "format", "--check", "src", "tests", "benchmarks", "scripts"),
    ],
    ids=["lint", "format"],
)
def test_ruff_finds_nothing(command):
    done = _run(*command)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_mypy_agrees_with_the_annotations():
    done = _run("mypy")  # files and settings from pyproject.toml
    assert done.returncode == 0, done.stdout + done.stderr
