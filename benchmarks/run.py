"""`atlas render` beside `GeoDataFrame.explore()` of the same layers, in one run.

    pip install -e ".[bench]"                 # mapclassify, which explore() needs
    python benchmarks/run.py                  # Chongqing, 10k and 100k synthetic places
    python benchmarks/run.py --sizes 10000 --runs 1

For each data set: wall time and peak memory of the whole process, the time of the map step
alone (atlas: building and writing atlas.html; explore: explore() and save()), the HTML bytes,
and the time until the page is interactive in headless Chromium (offline; explore's page gets
its Leaflet inlined the way atlas does, or it would not load offline at all). Then the floor:
a bare interpreter, the libraries' import time, `atlas --help`, and the JSON bytes of the
coordinates alone. Prints a table and writes it to benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from benchmarks.synthetic import write_seeds  # noqa: E402

LIBRARIES = "import click, folium, geopandas, jinja2, matplotlib, pint, pyogrio, pyproj, shapely, yaml"


# Runs a command and prints its peak memory and CPU seconds: a small process of its own, because
# a child's peak counts the memory of whatever process started it (Linux keeps the high-water
# mark across exec), and this script grows to hundreds of MB.
PEAK = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(u.ru_maxrss, u.ru_utime + u.ru_stime, file=sys.stderr); sys.exit(code)")


def measure_peak(command: list[str]) -> dict:
    """Run a command to its end: wall seconds, peak resident memory (MB) of its largest process
    (the kernel's accounting), CPU seconds of all its processes, and what it printed."""
    start = time.perf_counter()
    process = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True, cwd=REPO, text=True)
    wall = time.perf_counter() - start
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr[-2000:]}")
    stderr, _, usage = process.stderr.rstrip("\n").rpartition("\n")
    peak, cpu = usage.split()
    return {"wall": wall, "peak_mb": int(peak) / 1024, "cpu": float(cpu), "stdout": process.stdout, "stderr": stderr}


def median_of(runs: int, command: list[str]) -> dict:
    """Median wall time and peak memory over `runs` runs, after one warm-up run."""
    measure_peak(command)
    results = [measure_peak(command) for _ in range(runs)]
    return {"wall": statistics.median(r["wall"] for r in results),
            "peak_mb": statistics.median(r["peak_mb"] for r in results),
            "cpu": statistics.median(r["cpu"] for r in results),
            "last": results[-1]}


def atlas_render(seeds: Path | None, out: Path, runs: int, *extra: str) -> dict:
    command = [sys.executable, "-m", "atlas.cli", "render", "--out", str(out), "--timings", *extra]
    if seeds is not None:
        command += ["--seeds", str(seeds)]
    result = median_of(runs, command)
    line = next(l for l in result["last"]["stderr"].splitlines() if l.startswith("timings: "))
    stages = {part.rsplit(" ", 2)[0]: float(part.rsplit(" ", 2)[1]) for part in line[9:].split(", ")}
    return {**result, "stages": stages, "html": out / "atlas.html"}


def explore(seeds: Path | None, out: Path, runs: int) -> dict:
    command = [sys.executable, str(HERE / "explore.py"), str(out)] + ([str(seeds)] if seeds else [])
    result = median_of(runs, command)
    return {**result, "stages": json.loads(result["last"]["stdout"]), "html": out / "explore.html",
            "offline_html": out / "explore-offline.html"}


def interactive_seconds(html: Path) -> float:
    """Seconds from navigation until the page has run its scripts and painted, in headless
    Chromium with the network blocked (tests/browser.py's driver)."""
    from tests.browser import make_driver

    with tempfile.TemporaryDirectory() as profile:
        driver = make_driver(Path(profile))
        try:
            driver.set_page_load_timeout(120)
            driver.get(html.as_uri())
            return driver.execute_async_script("""
                const done = arguments[arguments.length - 1];
                requestAnimationFrame(() => requestAnimationFrame(
                    () => done((performance.now()) / 1000)));
            """)
        finally:
            driver.quit()


def floor(runs: int) -> dict:
    def wall(command):
        return median_of(runs, command)["wall"]
    return {"python": wall([sys.executable, "-c", "pass"]),
            "imports": wall([sys.executable, "-c", LIBRARIES]),
            "help": wall([sys.executable, "-m", "atlas.cli", "--help"])}


def coordinate_bytes(seeds: Path | None) -> dict:
    """The JSON bytes of the coordinates alone, at the map's precision: the least any map of
    these points and districts could weigh."""
    from atlas.boundaries import simplified_boundaries
    from atlas.geocode import geocode_atlas
    from atlas.load import default_seeds_dir, load_atlas
    from atlas.render import POINT_DECIMALS, encode_shape

    seeds = seeds or default_seeds_dir()
    atlas = load_atlas(seeds)
    located = geocode_atlas(atlas, seeds).by_place()
    points = sum(len(json.dumps([round(l.lon, POINT_DECIMALS), round(l.lat, POINT_DECIMALS)], separators=(",", ":")))
                 for l in located.values())
    web = simplified_boundaries(atlas.districts)
    shapes = len(json.dumps({c: encode_shape(g) for c, g in zip(web["code"], web.geometry)}, separators=(",", ":")))
    return {"points": points, "districts": shapes}


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "–"


def table(results: list[dict], base: dict) -> str:
    rows = ["| data | measure | atlas | explore | atlas / explore |", "|---|---|---:|---:|---:|"]
    for r in results:
        a, e = r["atlas"], r["explore"]
        map_a, map_e = a["stages"]["map"], e["stages"]["explore"]
        own = a["wall"] - base["imports"]
        other = "without the book (`--no-book`)" if r["book"] else "with the book (`--book`)"
        rows += [
            f"| {r['name']} | whole process ({'with' if r['book'] else 'without'} the book, the default), s | "
            f"{a['wall']:.2f} | {e['wall']:.2f} | {ratio(a['wall'], e['wall'])} |",
            f"| | own time (whole - imports {base['imports']:.2f} s), s | {own:.2f} | {e['wall'] - base['imports']:.2f} | "
            f"{ratio(own, e['wall'] - base['imports'])} |",
            f"| | CPU, all processes, s | {a['cpu']:.2f} | {e['cpu']:.2f} | {ratio(a['cpu'], e['cpu'])} |",
            f"| | whole process {other}, s | {r['other']['wall']:.2f} | {e['wall']:.2f} | "
            f"{ratio(r['other']['wall'], e['wall'])} |",
            f"| | CPU {other}, s | {r['other']['cpu']:.2f} | {e['cpu']:.2f} | {ratio(r['other']['cpu'], e['cpu'])} |",
            f"| | peak memory {other}, MB | {r['other']['peak_mb']:.0f} | {e['peak_mb']:.0f} | "
            f"{ratio(r['other']['peak_mb'], e['peak_mb'])} |",
            f"| | map step, s | {map_a:.2f} | {map_e:.2f} | {ratio(map_a, map_e)} |",
            f"| | peak memory, MB | {a['peak_mb']:.0f} | {e['peak_mb']:.0f} | {ratio(a['peak_mb'], e['peak_mb'])} |",
            f"| | HTML, MB | {r['html_a'] / 1e6:.3f} | {r['html_e'] / 1e6:.3f} | {ratio(r['html_a'], r['html_e'])} |",
            f"| | interactive in Chromium, s | {r['ui_a']:.2f} | {r['ui_e']:.2f} | {ratio(r['ui_a'], r['ui_e'])} |",
            f"| | atlas stages, s | {', '.join(f'{k} {v:.2f}' for k, v in a['stages'].items())} | | |",
            f"| | coordinates alone (points / districts), MB | {r['coords']['points'] / 1e6:.3f} / "
            f"{r['coords']['districts'] / 1e6:.3f} | | |",
        ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="synthetic sizes, comma-separated ('' for none)")
    parser.add_argument("--runs", type=int, default=3, help="counted runs per command (after one warm-up)")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args()
    base = floor(args.runs)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sets = [("Chongqing (bundled seeds)", None)]
        for n in (int(s) for s in args.sizes.split(",") if s):
            sets.append((f"synthetic {n:,} places", write_seeds(n, tmp / f"seeds-{n}")))
        for name, seeds in sets:
            print(f"measuring {name} ...", file=sys.stderr)
            work = tmp / name.split()[0]
            a = atlas_render(seeds, work / "atlas", args.runs)
            book = (work / "atlas" / "index.html").exists()  # by default, only up to a size
            other = atlas_render(seeds, work / "atlas-other", args.runs, "--no-book" if book else "--book")
            e = explore(seeds, work / "explore", args.runs)
            results.append({"name": name, "atlas": a, "book": book, "other": other, "explore": e,
                            "html_a": a["html"].stat().st_size, "html_e": e["html"].stat().st_size,
                            "ui_a": interactive_seconds(a["html"]), "ui_e": interactive_seconds(e["offline_html"]),
                            "coords": coordinate_bytes(seeds)})
    text = "\n".join([
        "# Benchmarks: `atlas render` beside `GeoDataFrame.explore()`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"median of {args.runs} runs after a warm-up. Made by `python benchmarks/run.py`.",
        "explore() maps the same layers (the GeoDataFrames atlas builds, full-resolution districts),",
        "one `explore(m=...)` per layer, and loads Leaflet from CDNs; atlas also writes the GeoJSON,",
        "GeoPackage, CSV and book files in its whole-process time, each writer in a process forked",
        "beside the map (peak memory is that of the largest process; CPU is summed over all of them).",
        "The book is written by default up to 10,000 places; each size is also rendered the other way.",
        "",
        table(results, base),
        "",
        f"Floor: bare interpreter {base['python']:.3f} s; importing the libraries {base['imports']:.2f} s; "
        f"`atlas --help` {base['help']:.3f} s.",
        "",
    ])
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
