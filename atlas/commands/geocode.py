"""`atlas geocode`: put every place on the map and check each lies in its district; propose online
coordinates for review, and merge a reviewed proposal file into the gazetteer."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..options import geocoder_options, online_from_options, seeds_option

_COLUMNS = (("id", 34), ("name", 40), ("lon", 11), ("lat", 10), ("method", 10), ("precision", 9))
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
DEFAULT_REVIEW = Path("gazetteer.review.yaml")


def _row(cells) -> str:
    *fixed, last = cells
    return "  ".join(str(c)[:w].ljust(w) for c, (_, w) in zip(fixed, _COLUMNS)) + "  " + last


def _check(found) -> str:
    if found.inside_district:
        return f"ok: in {found.district_code}"
    verdict = "ok" if found.ok else "FAIL"
    return f"{verdict}: {found.distance_to_district_m:,.0f} m outside {found.district_code} (tolerance {found.tolerance_m:g} m)"


def _progress(label: str, length: int):
    return click.progressbar(length=length, label=label, file=sys.stderr)


@click.command()
@seeds_option
@geocoder_options
@click.option("--propose", is_flag=True,
              help="Write a review file of the coordinates --geocoder finds for places without a published "
                   "point, instead of the table.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"Review file --propose writes [default: {DEFAULT_REVIEW} in the current directory].")
@click.option("--force", is_flag=True, help="Replace an existing review file (and the edits made in it).")
@click.option("--accept", "review", type=_FILE, default=None,
              help="Merge a reviewed --propose file into gazetteer.yaml, if every point lies in its district "
                   "and the result validates.")
def geocode(seeds, service, geocoder_url, cache, deadline, timeout, propose, out, force, review):
    """Locate every place (WGS84) and check it lies inside its district.

    Offline by default, from seeds/gazetteer.yaml and the district boundaries. With --geocoder,
    places without a published point are asked about online (curated points never are); an
    answer that times out, fails, finds nothing or lands outside the place's district falls back
    to the gazetteer with one warning line. Exits 2 if any place lies outside its district.

    \b
    Examples:
        atlas geocode
        atlas geocode --geocoder nominatim --cache geocode-cache.json
        atlas geocode --geocoder nominatim --propose --out proposals.yaml
        atlas geocode --accept proposals.yaml
    """
    from ..errors import InputError

    if review is not None:
        given = (("--geocoder", service), ("--geocoder-url", geocoder_url), ("--cache", cache),
                 ("--propose", propose), ("--out", out), ("--force", force))
        if extra := [flag for flag, value in given if value]:
            raise click.UsageError(f"{', '.join(extra)}: --accept asks no geocoder and writes only gazetteer.yaml")
        _accept(review, seeds)
        return
    if (out is not None or force) and not propose:
        raise click.UsageError("--out and --force only apply with --propose")
    if propose and service is None:
        raise click.UsageError("--propose needs --geocoder (e.g. --geocoder nominatim)")
    online = online_from_options(service, geocoder_url, cache, deadline, timeout)
    if propose:
        _propose(seeds, online, out or DEFAULT_REVIEW, force)
        return
    from ..geocode import geocode_atlas
    from ..load import default_seeds_dir, load_atlas

    atlas = load_atlas(seeds)
    seeds = seeds or default_seeds_dir()
    if online is None:
        run = geocode_atlas(atlas, seeds)
    else:
        with _progress(f"geocoding with {service}", len(atlas.places)) as bar:
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


def _propose(seeds, online, out: Path, force: bool) -> None:
    from ..boundaries import district_boundaries
    from ..geocode import GAZETTEER_FILE, GazetteerGeocoder, load_gazetteer
    from ..georeview import propose, review_yaml
    from ..ingest import write_files
    from ..load import default_seeds_dir, load_atlas

    if out.exists() and not force:
        raise click.ClickException(f"{out} exists (it may hold review edits); pass --force to replace it")
    atlas = load_atlas(seeds)
    gazetteer = load_gazetteer((seeds or default_seeds_dir()) / GAZETTEER_FILE, atlas.places)
    proposed = propose(GazetteerGeocoder(atlas, gazetteer, district_boundaries(atlas.districts)), online)
    for warning in proposed.warnings:
        click.echo(f"warning: {warning}", err=True)
    write_files({out: review_yaml(proposed, online.service)})
    click.echo(f"wrote {out}: {len(proposed.entries)} proposed coordinates "
               f"({len(proposed.warnings)} places without one)")
    if proposed.entries:
        click.echo(f"check each against the map and its source, then: atlas geocode --accept {out}")


def _accept(review: Path, seeds) -> None:
    from ..georeview import accept_proposals

    merged = accept_proposals(review, seeds)
    if not merged.places:
        click.echo("no proposals to merge; gazetteer.yaml unchanged")
        return
    click.echo(f"merged {len(merged.places)} coordinates into gazetteer.yaml ({', '.join(merged.places)}); "
               "the gazetteer validates")
