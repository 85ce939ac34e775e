"""README.md and CI agree: `.ci/run` runs exactly the test command README.md gives."""

from __future__ import annotations

import re

from tests.shared import REPO


def readme_commands() -> list[str]:
    block = re.search(r"## Set-up on a fresh machine.*?```sh\n(.*?)```", (REPO / "README.md").read_text("utf-8"), re.S)
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_gives_two_setup_commands():
    install_and_render, tests = readme_commands()
    assert install_and_render.endswith("atlas render") and install_and_render.startswith("pip install")
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command():
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text("utf-8").splitlines()]
    assert readme_commands()[1] in ci_lines
