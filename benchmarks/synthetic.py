"""Deterministic synthetic seeds at any size: N places spread over Chongqing's 38 districts,
each with one designation and one figure, in the shape of the bundled seeds/ (written as
JSON, which is YAML too).

    python benchmarks/synthetic.py 100000 /tmp/seeds-100k
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import shapely

from atlas.boundaries import district_boundaries
from atlas.load import default_seeds_dir, load_atlas

KINDS = ("village", "park", "mountain", "river basin", "reservoir", "wetland park")
PROGRAMMES = (("municipal-two-mountains-base", "municipal"), ("national-two-mountains-base", "national"),
              ("national-nature-reserve", "national"), ("municipal-eco-civ-demo-zone", "municipal"))
SEED = 20261125


def _points(districts, codes: list[str], n: int, rng: np.random.Generator) -> np.ndarray:
    """n points, the i-th inside district codes[i % len(codes)], by rejection sampling."""
    shapes = dict(zip(districts["code"], districts.geometry))
    out = np.empty((n, 2))
    for k, code in enumerate(codes):
        wanted = len(range(k, n, len(codes)))
        shape = shapes[code]
        minx, miny, maxx, maxy = shape.bounds
        found = np.empty((0, 2))
        while len(found) < wanted:
            xy = rng.uniform((minx, miny), (maxx, maxy), size=(max(64, 3 * wanted), 2))
            found = np.vstack([found, xy[shapely.contains_xy(shape, xy[:, 0], xy[:, 1])]])
        out[k::len(codes)] = found[:wanted]
    return out


def write_seeds(n: int, dest: Path) -> Path:
    """Write a seeds directory with n places (plus the bundled districts, programmes, sources)."""
    bundled = default_seeds_dir()
    atlas = load_atlas(bundled)
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("districts", "programmes", "sources"):
        shutil.copyfile(bundled / f"{name}.yaml", dest / f"{name}.yaml")
    codes = sorted(atlas.districts)
    source = sorted(s.id for s in atlas.sources.values() if s.kind == "article")[0]
    rng = np.random.default_rng(SEED)
    xy = _points(district_boundaries(atlas.districts), codes, n, rng)
    entries: dict[str, list[dict]] = {"places": [], "gazetteer": [], "designations": [], "metrics": []}
    for i in range(n):
        pid, code = f"p{i:06d}", codes[i % len(codes)]
        programme, level = PROGRAMMES[i % len(PROGRAMMES)]
        days = 250 + i % 110
        entries["places"].append({"id": pid, "name_en": f"Synthetic place {i}", "name_zh": f"合成地点{i}",
                                  "aliases": [f"Place {i}"], "kind": KINDS[i % len(KINDS)], "district": code})
        entries["gazetteer"].append({"place": pid, "lon": round(float(xy[i, 0]), 6), "lat": round(float(xy[i, 1]), 6),
                                     "precision": "site", "coord_source": "synthetic"})
        entries["designations"].append({"id": f"{pid}-d", "place": pid, "programme": programme, "level": level,
                                        "batch": None if i % 5 == 0 else 1 + i % 7,
                                        "year": None if i % 7 == 0 else 2017 + i % 8,
                                        "source": source, "evidence": "synthetic"})
        entries["metrics"].append({"id": f"{pid}-m", "place": pid, "key": "good_air_days", "value": days,
                                   "unit": "day", "stated": f"{days} days", "year": 2023, "source": source,
                                   "evidence": "synthetic"})
    for name, rows in entries.items():  # JSON, which is YAML too and loads far faster
        text = json.dumps({name: rows}, ensure_ascii=False, indent=0)
        (dest / f"{name}.yaml").write_text(text + "\n", encoding="utf-8")
    return dest


if __name__ == "__main__":
    write_seeds(int(sys.argv[1]), Path(sys.argv[2]))
