"""`atlas geocode`: put every place on the map and check each lies in its district."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..options import seeds_option

_COLUMNS = (("id", 34), ("name", 40), ("lon", 11), ("lat", 10), ("method", 10), ("precision", 9))


def _row(cells) -> str:
    *fixed, last = cells
    return "  ".join(str(c)[:w].ljust(w) for c, (_, w) in zip(fixed, _COLUMNS)) + "  " + last


def _check(found) -> str:
    if found.inside_district:
        return f"ok: in {found.district_code}"
    verdict = "ok" if found.ok else "FAIL"
    return f"{verdict}: {found.distance_to_district_m:,.0f} m outside {found.district_code} (tolerance {found.tolerance_m:g} m)"


@click.command()
@seeds_option
@click.option("--geocoder", "service", metavar="NAME", default=None,
              help="Ask this geopy geocoder first (e.g. nominatim), falling back to the gazetteer "
                   "[default: none, offline].")
@click.option("--cache", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSON file keeping the online geocoder's answers "
                   "[default: ~/.cache/atlas/geocode-NAME.json].")
def geocode(seeds, service, cache):
    """Locate every place (WGS84) and check it lies inside its district.

    Offline by default, from seeds/gazetteer.yaml and the district boundaries. With --geocoder,
    an online answer that times out, fails, finds nothing or lands outside the place's district
    falls back to the gazetteer with a warning. Exits 2 if any place lies outside its district.

    \b
    Examples:
        atlas geocode
        atlas geocode --geocoder nominatim --cache geocode-cache.json
    """
    from ..errors import InputError
    from ..geocode import geocode_atlas, online_geocoder
    from ..load import default_seeds_dir, load_atlas

    if cache is not None and service is None:
        raise click.UsageError("--cache only applies with --geocoder")
    atlas = load_atlas(seeds)
    online = online_geocoder(service, cache) if service else None
    seeds = seeds or default_seeds_dir()
    if online is None:
        run = geocode_atlas(atlas, seeds)
    else:
        with click.progressbar(length=len(atlas.places), label=f"geocoding with {service}",
                               file=sys.stderr) as bar:
            run = geocode_atlas(atlas, seeds, online, progress=bar.update)
    click.echo(_row([name for name, _ in _COLUMNS] + ["district check"]))
    for found in run.located:
        click.echo(_row((found.place_id, atlas.places[found.place_id].name_en, f"{found.lon:.6f}",
                         f"{found.lat:.6f}", found.method, found.precision, _check(found))))
    for warning in run.warnings:
        click.echo(f"warning: {warning}", err=True)
    if run.problems:
        raise InputError(run.problems)
    click.echo(f"{len(run.located)} places located, all inside their districts")
