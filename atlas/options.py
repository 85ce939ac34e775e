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


def _seconds(ctx, param, value):
    if value is not None and not (0 < value <= 24 * 3600):
        raise click.BadParameter(f"{value:g} is not between 0 and 86400 seconds")
    return value


def geocoder_options(command):
    """--geocoder and what goes with it: where answers are kept, and how long asking may take."""
    from .online import DEFAULT_DEADLINE_S, REQUEST_TIMEOUT_S

    for option in reversed((
        click.option("--geocoder", "service", metavar="NAME", default=None,
                     help="Ask this geopy geocoder (e.g. nominatim) about places without a published point, "
                          "falling back to the gazetteer [default: none, offline]."),
        click.option("--geocoder-url", metavar="URL", default=None,
                     help="Base URL of a self-hosted instance of the geocoder (e.g. http://localhost:8080)."),
        click.option("--cache", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="JSON file keeping the geocoder's answers [default: ~/.cache/atlas/geocode-NAME.json]."),
        click.option("--deadline", type=float, default=DEFAULT_DEADLINE_S, show_default=True, callback=_seconds,
                     help="Seconds all online geocoding may take; places not reached use the gazetteer."),
        click.option("--timeout", type=float, default=REQUEST_TIMEOUT_S, show_default=True, callback=_seconds,
                     help="Seconds one request to the geocoder may take."),
    )):
        command = option(command)
    return command


def online_from_options(service, geocoder_url, cache, deadline, timeout):
    """The online geocoder the options ask for, or None; a usage error for options without it."""
    from .online import online_geocoder

    if service is None:
        given = [name for name, value in (("--geocoder-url", geocoder_url), ("--cache", cache)) if value is not None]
        if given:
            raise click.UsageError(f"{', '.join(given)} only applies with --geocoder")
        return None
    return online_geocoder(service, cache, url=geocoder_url, deadline_s=deadline, timeout_s=timeout)
