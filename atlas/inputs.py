"""Everything a render reads, read and checked in one call: the seeds, their gazetteer and the
layer specs. `atlas render` and `atlas validate` both go through `read_inputs`, so whatever
would stop a render stops `validate` first, in the same words, and every problem of every
file is listed in one run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .geocode import GAZETTEER_FILE, Gazetteer, load_gazetteer
from .layers import LayerSpec, load_layer_specs
from .load import default_seeds_dir, load_atlas
from .model import Atlas


@dataclass(frozen=True)
class Inputs:
    atlas: Atlas
    gazetteer: Gazetteer
    layers: list[LayerSpec]


def read_inputs(seeds: Path | str | None = None, layers_dir: Path | str | None = None,
                only: tuple[str, ...] = ()) -> Inputs:
    """Load and check the seeds, `<seeds>/gazetteer.yaml` (once the places it locates are known)
    and the layers; raise one `InputError` with the problems of all of them."""
    seeds = Path(seeds) if seeds is not None else default_seeds_dir()
    problems = []
    atlas = gazetteer = layers = None
    try:
        atlas = load_atlas(seeds)
        gazetteer = load_gazetteer(seeds / GAZETTEER_FILE, atlas.places)
    except InputError as exc:
        problems.extend(exc.problems)
    try:
        layers = load_layer_specs(layers_dir, only)
    except InputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return Inputs(atlas, gazetteer, layers)
