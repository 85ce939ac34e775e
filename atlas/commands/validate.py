"""`atlas validate`: load and check everything a render reads, print what it holds."""

from __future__ import annotations

from pathlib import Path

import click

from ..options import layers_dir_option, seeds_option


@click.command()
@seeds_option
@layers_dir_option
@click.option("--cache", "caches", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Also check this geocode cache (JSON, as --geocoder keeps it); may be repeated.")
def validate(seeds, layers_dir, caches):
    """Check everything `atlas render` reads: the seeds, their gazetteer.yaml, the layer specs
    and any geocode cache given; print a summary.

    Exits 2 with one line per problem (file:line: entry.field: message) when any of them is bad:
    whatever would stop a render stops here first, in the same words.

    \b
    Example:
        atlas validate --seeds my-seeds/ --layers-dir my-layers/
    """
    from ..inputs import read_inputs

    inputs = read_inputs(seeds, layers_dir)
    counts = inputs.atlas.summary()
    click.echo("seeds OK: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    click.echo(f"gazetteer OK: {len(inputs.gazetteer.entries)} entries; "
               f"layers OK: {', '.join(spec.id for spec in inputs.layers)}")
    if caches:
        from ..online import check_caches

        click.echo(check_caches(caches))
