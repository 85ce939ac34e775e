"""Errors the CLI turns into one clean line each and an exit code (2 bad input, 1 failed run)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one field of one entry of one file."""

    file: str
    line: int | None
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        target = ".".join(_cut(part, 120) for part in (self.entry, self.field) if part)
        message = _cut(self.message, 1000)
        text = f"{where}: {target}: {message}" if target else f"{where}: {message}"
        return _one_line(text)


def _cut(text: str, most: int) -> str:
    """At most `most` characters of a text from the data (a 1 MB name makes no 1 MB line)."""
    return text if len(text) <= most else text[: most - 1] + "…"


def _one_line(text: str) -> str:
    """Control characters from the data (a newline in an id) shown escaped: one problem, one line."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class AtlasError(Exception):
    """Base class: an error the user can act on, printed without a traceback."""

    exit_code = 1

    def lines(self) -> list[str]:
        return [str(self)]


class InputError(AtlasError):
    """Bad input data: seeds, layer specs, review files."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, (Problem, str)):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class RunError(AtlasError):
    """A run that could not finish for a reason outside the input (e.g. a missing asset)."""

    exit_code = 1
