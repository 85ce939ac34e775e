"""The baseline: what a user without atlas would type, `GeoDataFrame.explore()`, on the same
layers `atlas render` draws. Prints its stage times as JSON.

    python benchmarks/explore.py OUT_DIR [SEEDS_DIR]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

start = time.perf_counter()
from atlas.assets import save_offline  # noqa: E402
from atlas.boundaries import district_boundaries  # noqa: E402
from atlas.geocode import geocode_atlas  # noqa: E402
from atlas.layers import PlaceColumns, build_layers, load_layer_specs  # noqa: E402
from atlas.load import default_seeds_dir, load_atlas  # noqa: E402


def main() -> None:
    out = Path(sys.argv[1])
    seeds = Path(sys.argv[2]) if len(sys.argv) > 2 else default_seeds_dir()
    out.mkdir(parents=True, exist_ok=True)
    atlas = load_atlas(seeds)
    located = geocode_atlas(atlas, seeds).by_place()
    layers = build_layers(load_layer_specs(), atlas, PlaceColumns(atlas, located), district_boundaries(atlas.districts))
    prepared = time.perf_counter()
    explore_all(layers).save(out / "explore.html")
    explored = time.perf_counter()
    save_offline(explore_all(layers), out / "explore-offline.html")  # for the browser timing only
    print(json.dumps({"prepare": round(prepared - start, 3), "explore": round(explored - prepared, 3)}))


def explore_all(layers):
    """One folium map with every non-empty layer, as `explore(m=...)` chains them."""
    m = None
    for layer in layers:
        if len(layer.frame):
            m = layer.frame.explore(m=m, name=layer.spec.id)
    return m


if __name__ == "__main__":
    main()
