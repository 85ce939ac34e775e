"""The whole pipeline in one call, for `atlas render` and the benchmarks:
seeds -> load/validate -> geocode -> layers -> render/export, into a staged output directory."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .errors import InputError, RunError

T = TypeVar("T")


@dataclass
class Rendered:
    """What a render wrote (paths relative to the output directory) and what it warned about."""

    out: Path
    files: list[Path]
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each stage, in order


class _Stages:
    """Times the pipeline's stages one after another (for --timings and the benchmarks)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def done(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = round(now - self._last, 3)
        self._last = now


def render_atlas(seeds: Path | None = None, out: Path = Path("output"), layers_dir: Path | None = None,
                 only: tuple[str, ...] = (), tiles: tuple[str, ...] = (), online=None,
                 book: bool = True) -> Rendered:
    """Build the atlas from `seeds` into `out`, replacing it only once everything is written.

    `book=False` leaves out the pages and the printable map: with 100,000 places they are
    100,000 files, most of a render's time."""
    from .boundaries import district_boundaries, simplified_boundaries
    from .export import staged_directory, write_gis_exports, write_tables
    from .geocode import geocode_atlas
    from .layers import build_layers, load_layer_specs
    from .load import default_seeds_dir, load_atlas
    from .overview import write_overview
    from .pages import write_pages
    from .render import write_map

    stages = _Stages()
    seeds = Path(seeds) if seeds is not None else default_seeds_dir()
    atlas = load_atlas(seeds)
    specs = load_layer_specs(layers_dir, only)
    stages.done("load")
    run = geocode_atlas(atlas, seeds, online)
    if run.problems:
        raise InputError(run.problems)
    located = run.by_place()
    full = district_boundaries(atlas.districts)
    stages.done("geocode")
    web = simplified_boundaries(atlas.districts)
    layers = build_layers(specs, atlas, located, full)
    stages.done("layers")
    with staged_directory(out) as stage:
        def exports_and_overview() -> tuple[list[Path], dict[str, float]]:
            side = _Stages()
            files = write_gis_exports(layers, atlas, stage)
            side.done("gis exports")
            if book:
                files += write_overview(atlas, located, web, stage)
                side.done("overview")
            return files, side.seconds

        other_half = on_second_core(exports_and_overview)
        written = [write_map(layers, atlas, web, stage / "atlas.html", tiles)]
        stages.done("map")
        written += write_tables(atlas, located, stage)
        stages.done("tables")
        if book:
            written += write_pages(atlas, located, full, stage)
            stages.done("pages")
        files, seconds = other_half()
        written += files
        stages.seconds.update(seconds)
        stages.done("wait")
        written = [p.relative_to(stage) for p in written]
    counts = {layer.spec.id: len(layer.frame) for layer in layers}
    return Rendered(Path(out), sorted(written), run.warnings, counts, stages.seconds)


def on_second_core(work: Callable[[], T]) -> Callable[[], T]:
    """Start `work` in a forked copy of this process and return a function that waits for its
    result (or raises its exception). The render writes its two halves side by side on a
    2-core machine; forking shares the built layers without pickling them. Where there is no
    fork (Windows), `work` runs when its result is asked for.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return work
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send((True, work()))
        except BaseException as exc:  # handed to the parent, which raises it
            send.send((False, exc))

    process = context.Process(target=child, daemon=True)
    process.start()
    send.close()

    def result() -> T:
        try:
            ok, value = receive.recv()
        except EOFError:
            process.join()
            raise RunError(f"the export process died (exit code {process.exitcode})") from None
        finally:
            receive.close()
        process.join()
        if not ok:
            raise value
        return value
    return result
