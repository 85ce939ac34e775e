"""`atlas validate`: load and check the seeds, print what they hold."""

from __future__ import annotations

from pathlib import Path

import click

from ..options import seeds_option


@click.command()
@seeds_option
@click.option("--cache", "caches", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Also check this geocode cache (JSON, as --geocoder keeps it); may be repeated.")
def validate(seeds, caches):
    """Load and check the seed data; print a summary.

    Exits 2 with one line per problem (file:line: entry.field: message) when the seeds are bad.

    \b
    Example:
        atlas validate --seeds my-seeds/
    """
    from ..load import load_atlas

    atlas = load_atlas(seeds)
    counts = atlas.summary()
    click.echo("seeds OK: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    if caches:
        from ..online import check_caches

        click.echo(check_caches(caches))
