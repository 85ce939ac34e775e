"""The whole pipeline in one call, for `atlas render` and the benchmarks:
seeds -> load/validate -> geocode -> layers -> render/export, into a staged output directory."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError

log = logging.getLogger(__name__)


@dataclass
class Rendered:
    """What a render wrote (paths relative to the output directory) and what it warned about."""

    out: Path
    files: list[Path]
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def render_atlas(seeds: Path | None = None, out: Path = Path("output"), layers_dir: Path | None = None,
                 only: tuple[str, ...] = (), tiles: tuple[str, ...] = (), online=None) -> Rendered:
    """Build the atlas from `seeds` into `out`, replacing it only once everything is written."""
    from .boundaries import district_boundaries, simplified_boundaries
    from .export import staged_directory, write_exports
    from .geocode import geocode_atlas
    from .layers import build_layers, load_layer_specs
    from .load import default_seeds_dir, load_atlas
    from .overview import write_overview
    from .pages import write_pages
    from .render import write_map

    seeds = Path(seeds) if seeds is not None else default_seeds_dir()
    atlas = load_atlas(seeds)
    specs = load_layer_specs(layers_dir, only)
    run = geocode_atlas(atlas, seeds, online)
    if run.problems:
        raise InputError(run.problems)
    located = run.by_place()
    full = district_boundaries(atlas.districts)
    layers = build_layers(specs, atlas, located, full)
    with staged_directory(out) as stage:
        written = [write_map(layers, atlas, simplified_boundaries(atlas.districts), stage / "atlas.html", tiles)]
        written += write_exports(layers, atlas, located, stage)
        written += write_pages(atlas, located, full, stage)
        written += write_overview(atlas, located, simplified_boundaries(atlas.districts), stage)
        files = [p.relative_to(stage) for p in written]
    counts = {layer.spec.id: len(layer.frame) for layer in layers}
    return Rendered(Path(out), files, run.warnings, counts)
