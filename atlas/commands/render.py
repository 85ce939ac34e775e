"""`atlas render`: the main job, the layered offline map and the QGIS-ready exports."""

from __future__ import annotations

from pathlib import Path

import click

from ..build import BOOK_MAX_PLACES, render_atlas
from ..options import geocoder_options, layers_dir_option, online_from_options, out_option, seeds_option
from ..qml import LABELS
from ..render import TILES

TILE_CHOICES = tuple(TILES)


@click.command()
@seeds_option
@out_option
@layers_dir_option
@click.option("--layers", "only", metavar="ID[,ID...]", default="",
              help="Only these layers (comma-separated ids) [default: all].")
@click.option("--tiles", metavar="NAME[,NAME...]", default="",
              help=f"Add online tile layers ({', '.join(TILE_CHOICES)}); they fail quietly offline "
                   "[default: none; the map needs no tiles].")
@geocoder_options
@click.option("--book/--no-book", default=None,
              help=f"Write the index, a page per place, the timeline and the printable map "
                   f"[default: when the atlas has at most {BOOK_MAX_PLACES:,} places].")
@click.option("--labels", type=click.Choice(LABELS), default="both", show_default=True,
              help="Language of the labels in the QGIS styles and project: English, Chinese or both.")
@click.option("--timings", is_flag=True, help="Print how long each stage took (to stderr).")
def render(seeds, out, layers_dir, only, tiles, service, geocoder_url, cache, deadline, timeout, book, labels,
           timings):
    """Write the atlas: output/atlas.html (works offline), GeoJSON, GeoPackage, CSV, and the
    book (index.html, a page per place, timeline.html, atlas.png / atlas.svg).

    The old output directory stays whole until the new one is complete. --out takes a new or
    empty folder, or one atlas wrote (it holds .atlas-manifest.json); any other is refused.

    \b
    Examples:
        atlas render
        atlas render --out build/ --layers districts,national-two-mountains-bases
        atlas render --seeds national-seeds/ --no-book --timings
        atlas render --tiles osm --geocoder nominatim --cache geocode.json
        atlas render --labels zh
    """
    tile_names = tuple(t for t in tiles.split(",") if t)
    unknown = [t for t in tile_names if t not in TILE_CHOICES]
    if unknown:
        raise click.BadParameter(f"unknown tile layer {unknown[0]!r} (choose from {', '.join(TILE_CHOICES)})",
                                 param_hint="--tiles")
    online = online_from_options(service, geocoder_url, cache, deadline, timeout)
    result = render_atlas(seeds, out, layers_dir, tuple(n for n in only.split(",") if n), tile_names, online,
                          book, labels)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    layers = ", ".join(f"{name} {n}" for name, n in result.counts.items())
    click.echo(f"wrote {len(result.files)} files to {result.out}/ ({layers})")
    if timings:
        click.echo("timings: " + ", ".join(f"{stage} {s:.2f} s" for stage, s in result.seconds.items()), err=True)
