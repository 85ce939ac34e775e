"""The `atlas` command: one click group; each command lives in its own module under `commands/`.

Commands are imported only when run, so `atlas --help` stays fast.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

import click

from . import __version__

COMMANDS = {
    "validate": "Load and check the seed data; print a summary.",
    "geocode": "Locate every place (WGS84) and check it lies in its district.",
    "render": "Write the offline map and the GeoJSON / GeoPackage / CSV exports.",
    "ingest": "Read a new article into a review file of candidates; --accept merges a reviewed one.",
}


class AtlasClickError(click.ClickException):
    """Prints an `AtlasError` as its own lines, with its own exit code, and no traceback."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error
        self.exit_code = error.exit_code

    def show(self, file=None) -> None:
        for line in self.error.lines():
            click.echo(f"error: {line}", err=True)


class AtlasGroup(click.Group):
    """Loads command modules lazily and turns `AtlasError`s into clean exits."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"atlas.commands.{name}")
        return getattr(module, name)

    def format_commands(self, ctx, formatter):
        rows = [(name, COMMANDS[name]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx):
        from .errors import AtlasError
        from .runtime import collector_paused

        try:
            with collector_paused():
                return super().invoke(ctx)
        except AtlasError as error:
            raise AtlasClickError(error) from None


@click.group(cls=AtlasGroup)
@click.version_option(__version__, prog_name="atlas")
def cli():
    """Chongqing Green Atlas: ecological-civilization zones and 'Two Mountains' bases, mapped.

    \b
    Set up and run on the bundled data:
        atlas validate
        atlas render
    """


def main() -> None:
    """Run the command, then leave without tearing the interpreter down.

    Freeing the state of pandas, GDAL, pyproj and the rest takes a quarter of a second at every
    exit, as long as a small render's own work. Nothing needs it: every file is closed by then,
    so output is flushed and logging shut down here and the process ends with its exit code.
    """
    try:
        cli(prog_name="atlas")
        code = 0
    except SystemExit as done:
        code = done.code
    if isinstance(code, str):  # sys.exit("message"): Python prints it and exits with 1
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach it
            pass
    os._exit(code or 0)


if __name__ == "__main__":
    main()
