"""`atlas render`: the main job, the layered offline map and the QGIS-ready exports."""

from __future__ import annotations

from pathlib import Path

import click

from ..build import BOOK_MAX_PLACES, render_atlas
from ..options import out_option, seeds_option
from ..qml import LABELS
from ..render import TILES

TILE_CHOICES = tuple(TILES)


@click.command()
@seeds_option
@out_option
@click.option("--layers-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory of layer specs [default: the bundled layers/].")
@click.option("--layers", "only", metavar="ID[,ID...]", default="",
              help="Only these layers (comma-separated ids) [default: all].")
@click.option("--tiles", metavar="NAME[,NAME...]", default="",
              help=f"Add online tile layers ({', '.join(TILE_CHOICES)}); they fail quietly offline "
                   "[default: none; the map needs no tiles].")
@click.option("--geocoder", "service", metavar="NAME", default=None,
              help="Ask this geopy geocoder first (e.g. nominatim), falling back to the gazetteer.")
@click.option("--cache", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSON file keeping the online geocoder's answers.")
@click.option("--book/--no-book", default=None,
              help=f"Write the index, a page per place, the timeline and the printable map "
                   f"[default: when the atlas has at most {BOOK_MAX_PLACES:,} places].")
@click.option("--labels", type=click.Choice(LABELS), default="both", show_default=True,
              help="Language of the labels in the QGIS styles and project: English, Chinese or both.")
@click.option("--timings", is_flag=True, help="Print how long each stage took (to stderr).")
def render(seeds, out, layers_dir, only, tiles, service, cache, book, labels, timings):
    """Write the atlas: output/atlas.html (works offline), GeoJSON, GeoPackage, CSV, and the
    book (index.html, a page per place, timeline.html, atlas.png / atlas.svg).

    The old output directory stays whole until the new one is complete.

    \b
    Examples:
        atlas render
        atlas render --out build/ --layers districts,national-two-mountains-bases
        atlas render --seeds national-seeds/ --no-book --timings
        atlas render --tiles osm --geocoder nominatim --cache geocode.json
        atlas render --labels zh
    """
    from ..geocode import online_geocoder

    tile_names = tuple(t for t in tiles.split(",") if t)
    unknown = [t for t in tile_names if t not in TILE_CHOICES]
    if unknown:
        raise click.BadParameter(f"unknown tile layer {unknown[0]!r} (choose from {', '.join(TILE_CHOICES)})",
                                 param_hint="--tiles")
    online = online_geocoder(service, cache) if service else None
    result = render_atlas(seeds, out, layers_dir, tuple(n for n in only.split(",") if n), tile_names, online,
                          book, labels)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    layers = ", ".join(f"{name} {n}" for name, n in result.counts.items())
    click.echo(f"wrote {len(result.files)} files to {result.out}/ ({layers})")
    if timings:
        click.echo("timings: " + ", ".join(f"{stage} {s:.2f} s" for stage, s in result.seconds.items()), err=True)
