"""The whole pipeline in one call, for `atlas render` and the benchmarks:
seeds -> load/validate -> geocode -> layers -> render/export, into a staged output directory."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError, RunError


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

    The writers that need only the located places (tables, the book) start as soon as
    geocoding is done, the GIS exports as soon as the layers are built, each in a process of
    its own beside the map, so a large atlas keeps every core busy. `book=False` leaves out
    the pages and the printable map."""
    from .boundaries import district_boundaries, simplified_boundaries
    from .export import staged_directory, write_geojsons, write_geopackage, write_tables
    from .geocode import geocode_atlas
    from .layers import PlaceColumns, build_layers, load_layer_specs
    from .load import default_seeds_dir, load_atlas
    from .render import write_map

    def pages() -> list[Path]:
        from .pages import write_pages  # imported in the writer's own process, as is matplotlib below
        return write_pages(atlas, located, full, stage)

    def overview(kind: str) -> Callable[[], list[Path]]:
        def write() -> list[Path]:
            from .overview import write_overview
            return write_overview(atlas, located, web, stage, (kind,))
        return write

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
    web = simplified_boundaries(atlas.districts)
    columns = PlaceColumns(atlas, located)
    stages.done("geocode")
    with staged_directory(out) as stage, Beside(stage) as beside:
        if book:  # the longest first
            beside.start("pages", pages)
            beside.start("overview png", overview("png"))
            beside.start("overview svg", overview("svg"))
        beside.start("tables", lambda: write_tables(atlas, columns, stage), yielding=True)  # done long before
        layers = build_layers(specs, atlas, columns, full)
        stages.done("layers")
        beside.start("geojson", lambda: write_geojsons(layers, stage))
        beside.start("geopackage", lambda: [write_geopackage(layers, atlas, stage / "atlas.gpkg")])
        write_map(layers, atlas, web, stage / "atlas.html", tiles)
        stages.done("map")
        files, seconds = beside.finish()
        stages.done("wait")
        stages.seconds.update(seconds)
    counts = {layer.spec.id: len(layer.frame) for layer in layers}
    written = [Path(name) for name in sorted(["atlas.html", *files])]
    return Rendered(Path(out), written, run.warnings, counts, stages.seconds)


class Beside:
    """Writers forked off to run beside the main process, each writing into `root` and
    returning the paths it wrote.

    Forking shares the built atlas and layers without pickling them; the operating system
    spreads the processes over the cores. `finish` waits for all of them and raises the first
    failure; leaving the `with` block early (an error in the main process) stops them, so none
    writes on into a staging directory that is being removed. Where there is no fork
    (Windows), each writer runs when `finish` asks for it.
    """

    def __init__(self, root: Path):
        self._prefix = len(str(root)) + 1
        self._jobs: list[tuple[str, Callable[[], tuple[list[str], float]]]] = []
        self._processes: list = []

    def __enter__(self) -> Beside:
        return self

    def __exit__(self, kind, error, trace) -> None:
        for process in self._processes:
            if process.is_alive():
                process.terminate()
            process.join()

    def start(self, name: str, work: Callable[[], list[Path]], *, yielding: bool = False) -> None:
        """Fork `work` off now. A `yielding` writer, one with time to spare, runs at a lower
        priority so that the writers the render waits for get the cores first."""
        def timed() -> tuple[list[str], float]:
            """The paths relative to `root`, as strings: a book of 100,000 pages sends them
            through a pipe, where Path objects cost a second."""
            start = time.perf_counter()
            paths = [str(path)[self._prefix:] for path in work()]
            return paths, round(time.perf_counter() - start, 3)

        if "fork" not in multiprocessing.get_all_start_methods():
            self._jobs.append((name, timed))
            return
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)

        def child() -> None:
            if yielding:
                os.nice(10)
            try:
                send.send((True, timed()))
            except BaseException as exc:  # handed to the parent, which raises it
                send.send((False, exc))

        process = context.Process(target=child, daemon=True)
        process.start()
        send.close()
        self._processes.append(process)

        def result() -> tuple[list[str], float]:
            try:
                ok, value = receive.recv()
            except EOFError:
                process.join()
                raise RunError(f"the {name} process died (exit code {process.exitcode})") from None
            finally:
                receive.close()
            process.join()
            if not ok:
                raise value
            return value
        self._jobs.append((name, result))

    def finish(self) -> tuple[list[str], dict[str, float]]:
        """Every writer's paths relative to `root`, and its seconds by name."""
        files, seconds, failure = [], {}, None
        for name, result in self._jobs:
            try:
                paths, seconds[name] = result()
                files += paths
            except BaseException as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        return files, seconds
