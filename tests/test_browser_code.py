"""The map's own browser code (atlas/js/): linted with the eslint pinned in js/dev/package-lock.json,
and its pure functions tested with node's own test runner, so the one test command covers both."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ESLINT = REPO / "js" / "dev" / "node_modules" / ".bin" / "eslint"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed (it comes with npm, which the install needs too)")
    return node


def test_browser_code_passes_eslint():
    if not ESLINT.is_file():
        if os.environ.get("CI"):
            pytest.fail("CI needs eslint: .ci/run runs `npm ci --prefix js/dev`")
        pytest.skip("eslint not installed: `npm ci --prefix js/dev`")
    result = subprocess.run([str(ESLINT), "--config", "js/dev/eslint.config.cjs", "--max-warnings", "0", "atlas/js"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_browser_code_unit_tests_pass_in_node():
    result = subprocess.run([_node(), "--test", "atlas/js/test/"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout and "# pass 0" not in result.stdout


def test_browser_code_ships_in_the_package():
    from atlas.plugins import JS_DIR, JS_FILES

    assert all((JS_DIR / name).is_file() for name in (*JS_FILES, "atlas.css"))
