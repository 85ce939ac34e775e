"""Options shared by the commands, so every command that reads or writes spells them alike."""

from __future__ import annotations

from pathlib import Path

import click

seeds_option = click.option(
    "--seeds",
    "seeds",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of seed YAML files [default: the bundled seeds/].",
)

layers_dir_option = click.option(
    "--layers-dir",
    "layers_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of layer specs [default: the bundled layers/].",
)

out_option = click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),  # checked by atlas.output, which says why a folder is refused
    default=Path("output"),
    show_default=True,
    help="Folder to write into: a new or empty one, or one atlas wrote (it holds .atlas-manifest.json); "
         "replaced whole only once the new output is complete.",
)
