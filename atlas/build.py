"""The whole pipeline in one call, for `atlas render` and the benchmarks:
seeds -> load/validate -> geocode -> layers -> render/export, into a staged output directory."""

from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError, RunError

# The most places a render writes the book for unless asked (`book=True`): its index is then
# about 10 MB, about as much as a browser sorts and filters at ease, beside 10,000 pages; at
# 100,000 places the book is 800 MB in 100,000 files and takes longer than everything else.
BOOK_MAX_PLACES = 10_000
PLATE = "atlas.overview:write_overview"  # the printable map's writer, forked before the atlas is loaded


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
                 book: bool | None = None, labels: str = "both") -> Rendered:
    """Build the atlas from `seeds` into `out`, replacing it only once everything is written,
    and only if atlas wrote it (see `output.staged_directory`).

    The writers that need only the located places (tables, the book) start as soon as
    geocoding is done, the GIS exports as soon as the layers are built, each in a process of
    its own beside the map, so a large atlas keeps every core busy. The book (the index, the
    pages, the timeline and the printable map) is written when `book` is True, or when it is
    None and the atlas has at most `BOOK_MAX_PLACES` places, with a warning when it is not.
    `labels` is the language of the QGIS labels: "en", "zh" or "both".

    Priorities: with the book on, the writer the render waits for is the printable map at the
    bundled atlas's size and the pages at larger ones; the tables and the GIS exports yield
    the cores to them and to the map in the main process."""
    from .boundaries import district_boundaries, simplified_boundaries
    from .export import write_geojsons, write_geopackage, write_tables
    from .geocode import geocode_atlas
    from .inputs import read_inputs
    from .layers import PlaceColumns, build_layers, default_layers_dir
    from .load import default_seeds_dir
    from .output import staged_directory
    from .qgis import write_project
    from .render import write_map

    def pages() -> list[Path]:
        from .pages import write_pages  # imported in the writer's own process, as is matplotlib below
        return write_pages(atlas, located, full, stage)

    def overview() -> list[Path]:
        from .overview import write_overview
        return write_overview(atlas, located, web, stage)

    stages = _Stages()
    seeds = Path(seeds) if seeds is not None else default_seeds_dir()
    guarded = {"seeds folder": seeds, "layers folder": layers_dir if layers_dir is not None else default_layers_dir(),
               "geocoder cache": online.cache.path if online is not None else None}
    with (staged_directory(out, guarded) as stage,
          Prepared(PLATE) if book is not False else nullcontext() as plate):
        inputs = read_inputs(seeds, layers_dir, only)  # as `atlas validate` reads them
        atlas, specs = inputs.atlas, inputs.layers
        stages.done("load")
        run = geocode_atlas(atlas, seeds, online, gazetteer=inputs.gazetteer)
        if run.problems:
            raise InputError(run.problems)
        located = run.by_place()
        full = district_boundaries(atlas.districts)
        web = simplified_boundaries(atlas.districts)
        columns = PlaceColumns(atlas, located)
        stages.done("geocode")
        warnings = list(run.warnings)
        small = len(atlas.places) <= BOOK_MAX_PLACES
        if book is None:
            book = small
            if not book:
                warnings.append(f"the book (index, a page per place, timeline, printable map) is left out: "
                                f"{len(atlas.places):,} places is more than {BOOK_MAX_PLACES:,}; --book writes it")
        with Beside(stage) as beside:
            if book:
                beside.start("pages", pages)
                if small:  # pickling a larger atlas to the prepared writer costs more than forking afresh
                    beside.start_prepared("overview", plate, atlas, located, web, stage)
                else:
                    beside.start("overview", overview)
            beside.start("tables", lambda: write_tables(atlas, columns, stage), yielding=True)
            layers = build_layers(specs, atlas, columns, full)
            stages.done("layers")
            beside.start("geojson", lambda: write_geojsons(layers, stage, labels), yielding=True)
            beside.start("geopackage", lambda: [write_geopackage(layers, atlas, stage / "atlas.gpkg", labels),
                                                write_project(layers, atlas, stage / "atlas.qgz", labels)],
                         yielding=True)
            write_map(layers, atlas, web, stage / "atlas.html", tiles, book=book)
            stages.done("map")
            files, seconds = beside.finish()
            stages.done("wait")
            stages.seconds.update(seconds)
    counts = {layer.spec.id: len(layer.frame) for layer in layers}
    written = [Path(name) for name in sorted(["atlas.html", *files])]
    return Rendered(Path(out), written, warnings, counts, stages.seconds)


@contextmanager
def _stops_blocked():
    """Stop signals held back while a writer is forked: one landing in the fork hooks would be
    swallowed there. Pending, it arrives once unblocked, where the render's handler sees it."""
    from .output import STOP_SIGNALS

    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _unblock_stops() -> None:
    """In a forked writer: take the stop signals `_stops_blocked` held back, as any process would."""
    from .output import STOP_SIGNALS

    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _forking():
    """The fork context, or None where there is no fork (Windows): there, writers run inline."""
    return multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None


def _timed(work: Callable[[], list[Path]], prefix: int) -> tuple[list[str], float]:
    """The paths `work` wrote, relative to the output root (`prefix` characters cut), as
    strings: a book of 100,000 pages sends them through a pipe, where Path objects cost a
    second. And the seconds it took."""
    start = time.perf_counter()
    paths = [str(path)[prefix:] for path in work()]
    return paths, round(time.perf_counter() - start, 3)


def _reply(send, work: Callable[[], tuple[list[str], float]]) -> None:
    """In a writer's process: its result, or its failure for the parent to raise."""
    try:
        send.send((True, work()))
    except BaseException as exc:
        send.send((False, exc))


class Prepared:
    """A writer forked before its inputs exist, so that it imports what it needs (`function`,
    as "module:name") while the main process imports, loads and geocodes: for the bundled
    atlas, matplotlib's import is a third of the printable map's time, and the map is the
    writer the render waits for. `Beside.start_prepared` hands it its arguments, pickled through
    a pipe; one never handed them (the book was left out) is stopped when the `with` block
    ends."""

    def __init__(self, function: str):
        self.function = function
        self.process = None
        context = _forking()
        if context is None:
            return
        self._receive_work, self._send_work = context.Pipe(duplex=False)
        self.receive, send = context.Pipe(duplex=False)

        def child() -> None:
            _unblock_stops()
            self._send_work.close()  # or the pipe never reads as closed when the parent closes its end
            with suppress(Exception):  # an import that fails here fails again below, reported as the writer's error
                _resolve(function)
            try:
                prefix, args = self._receive_work.recv()
            except EOFError:  # never handed its work
                return
            _reply(send, lambda: _timed(lambda: _resolve(function)(*args), prefix))

        self.process = context.Process(target=child, daemon=True)
        with _stops_blocked():
            self.process.start()
        self._receive_work.close()
        send.close()

    def hand(self, prefix: int, args: tuple) -> None:
        """Send the writer its arguments, and how many characters of its paths to cut."""
        self._send_work.send((prefix, args))

    def __enter__(self) -> Prepared:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if self.process is not None:
            self._send_work.close()
            if self.process.is_alive() and kind is not None:
                self.process.terminate()
            self.process.join()


def _resolve(function: str) -> Callable:
    """The function named "module:name", importing its module if need be."""
    module, _, name = function.partition(":")
    return getattr(importlib.import_module(module), name)


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
        context = _forking()
        if context is None:
            self._jobs.append((name, lambda: _timed(work, self._prefix)))
            return
        receive, send = context.Pipe(duplex=False)

        def child() -> None:
            _unblock_stops()
            if yielding:
                os.nice(10)
            _reply(send, lambda: _timed(work, self._prefix))

        process = context.Process(target=child, daemon=True)
        with _stops_blocked():
            process.start()
        send.close()
        self._collect(name, process, receive)

    def start_prepared(self, name: str, writer: Prepared, *args) -> None:
        """Hand a prepared writer its arguments; it then runs as one started here."""
        if writer.process is None:
            self._jobs.append((name, lambda: _timed(lambda: _resolve(writer.function)(*args), self._prefix)))
            return
        writer.hand(self._prefix, args)
        self._collect(name, writer.process, writer.receive)

    def _collect(self, name: str, process, receive) -> None:
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
        """Every writer's paths relative to `root`, and its seconds by name. A writer's failure
        is raised once all have finished; a stop signal (KeyboardInterrupt) at once."""
        files, seconds, failure = [], {}, None
        for name, result in self._jobs:
            try:
                paths, seconds[name] = result()
                files += paths
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        return files, seconds
