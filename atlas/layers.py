"""Stage 3: read the declarative layer specs in `layers/` and select and shape their features.

A layer is data plus styling: a GeoDataFrame of flat, typed properties (what the exports write)
and a spec saying how the map draws it. Adding a layer is adding a YAML file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import InputError, Problem
from .model import CITY, LEVELS, Atlas, Designation, Place
from .schema import BOOL, DICT, INT, LIST, NUM, SLUG, STR, Collector, Field, check_entry, matches, one_of
from .yamlio import read_yaml

DRAWS = ("districts", "designations", "places", "metric")
GEOMETRIES = ("point", "district")
FILTERS = ("programme", "level", "batch", "year", "kind", "key")
STYLE_KEYS = ("color", "weight", "fill_color", "fill_opacity", "radius", "dash_array", "by", "bins", "colors")
UNKNOWN = "unknown"  # the colour key for a null batch / year in `style.colors`


def default_layers_dir() -> Path:
    """The bundled layer specs: `layers/` beside the package in a checkout."""
    return Path(__file__).resolve().parent.parent / "layers"


def _bilingual(value: Any) -> str | None:
    if set(value) != {"en", "zh"} or not all(isinstance(v, str) and v.strip() for v in value.values()):
        return "must have non-blank 'en' and 'zh' texts"
    return None


def _filters(value: dict) -> str | None:
    unknown = sorted(set(value) - set(FILTERS), key=str)
    if unknown:
        return f"unknown filter {unknown[0]!r} (known: {', '.join(FILTERS)})"
    return None


def _style(value: dict) -> str | None:
    unknown = sorted(set(value) - set(STYLE_KEYS), key=str)
    return f"unknown style key {unknown[0]!r} (known: {', '.join(STYLE_KEYS)})" if unknown else None


SPEC = {
    "id": Field(STR, check=matches(SLUG, "a lowercase slug")),
    "title": Field(DICT, check=_bilingual),
    "group": Field(DICT, check=_bilingual),
    "draw": Field(STR, check=one_of(DRAWS)),
    "where": Field(DICT, False, _filters),
    "geometry": Field(STR, check=one_of(GEOMETRIES)),
    "style": Field(DICT, check=_style),
    "legend": Field(DICT, check=_bilingual),
    "tooltip": Field(LIST, False),
    "visible": Field(BOOL, False),
    "cluster": Field(BOOL, False),
    "search": Field(BOOL, False),
}


@dataclass(frozen=True)
class LayerSpec:
    """One layer file, checked."""

    id: str
    file: str
    title: Mapping[str, str]
    group: Mapping[str, str]
    draw: str
    geometry: str
    style: Mapping[str, Any]
    legend: Mapping[str, str]
    where: Mapping[str, list] = field(default_factory=dict)  # each value a list of accepted values
    tooltip: tuple[str, ...] = ()
    visible: bool = True
    cluster: bool = False
    search: bool = False


def _style_problems(spec: dict, add) -> None:
    style = spec["style"]
    for key in ("weight", "fill_opacity", "radius"):
        if key in style and (isinstance(style[key], bool) or not isinstance(style[key], NUM) or style[key] < 0):
            add("style", f"style.{key} must be a non-negative number")
    if "bins" in style:
        bins, colors = style["bins"], style.get("colors")
        if not (isinstance(bins, list) and all(isinstance(b, INT) and not isinstance(b, bool) for b in bins)
                and bins == sorted(bins)):
            add("style", "style.bins must be a rising list of integers")
        elif not (isinstance(colors, list) and len(colors) == len(bins)):
            add("style", "style.colors must list one colour per bin")
    elif "by" in style and not isinstance(style.get("colors"), dict):
        add("style", "style.colors must map each value of style.by to a colour")
    if spec["draw"] == "metric" and not (spec.get("where") or {}).get("key"):
        add("where", "a metric layer needs where.key: the figure to draw")
    if spec["draw"] in ("districts",) and spec["geometry"] != "district":
        add("geometry", "a districts layer draws district polygons")


def load_layer_specs(directory: Path | str | None = None, only: tuple[str, ...] = ()) -> list[LayerSpec]:
    """Read every `*.yaml` in `directory` (sorted by file name, which sets the drawing order)."""
    directory = Path(directory) if directory is not None else default_layers_dir()
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise InputError(Problem(str(directory), None, "", "", "no layer files (*.yaml) in this directory"))
    problems: list[Problem] = []
    specs: dict[str, LayerSpec] = {}
    for path in files:
        out = Collector(str(path))
        try:
            data = read_yaml(path)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        name = f"layer[{data.get('id')}]" if isinstance(data, dict) and isinstance(data.get("id"), str) else "layer"
        if not isinstance(data, dict):
            out.add(None, name, "", "must be a mapping of fields")
        elif check_entry(SPEC, data, name, out):
            _style_problems(data, lambda f, m: out.add(data, name, f, m))
            if data["id"] in specs:
                out.add(data, name, "id", f"duplicate layer id (also in {specs[data['id']].file})")
            if not out.problems:
                where = {k: v if isinstance(v, list) else [v] for k, v in (data.get("where") or {}).items()}
                specs[data["id"]] = LayerSpec(
                    file=str(path), tooltip=tuple(data.get("tooltip") or ()), where=where,
                    **{k: v for k, v in data.items() if k not in ("tooltip", "where")})
        problems.extend(out.problems)
    if problems:
        raise InputError(problems)
    unknown = [name for name in only if name not in specs]
    if unknown:
        raise InputError(Problem(str(directory), None, "", "", f"no layer {unknown[0]!r} (have: {', '.join(specs)})"))
    return [s for s in specs.values() if not only or s.id in only]


# --- features -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Layer:
    """A spec with its features: `frame` is a GeoDataFrame (EPSG:4326) of flat typed properties."""

    spec: LayerSpec
    frame: Any


def _matches_where(where: Mapping[str, list], values: Mapping[str, Any]) -> bool:
    return all(values.get(key) in allowed for key, allowed in where.items())


def place_columns(place: Place, atlas: Atlas, located) -> dict[str, Any]:
    """The place fields every point feature carries (DESIGN.md's names); Chongqing as a whole
    (not located: `located` None) has no lon, lat or precision."""
    district = atlas.district_of(place)
    if located is None:
        return {"place_id": place.id, "name_en": place.name_en, "name_zh": place.name_zh, "kind": place.kind,
                "aliases": "; ".join(place.aliases) or None, "district_code": district.code,
                "district_en": district.name_en, "district_zh": district.name_zh,
                "lon": None, "lat": None, "precision": None, "geocoder": None}
    return {
        "place_id": place.id, "name_en": place.name_en, "name_zh": place.name_zh, "kind": place.kind,
        "aliases": "; ".join(place.aliases) or None,
        "district_code": district.code, "district_en": district.name_en, "district_zh": district.name_zh,
        "lon": located.lon, "lat": located.lat, "precision": located.precision, "geocoder": located.method,
    }


def figure_columns(place_id: str, atlas: Atlas) -> dict[str, float]:
    """One column per figure of the place, named with its unit (`area_ha`, `gep_cny`, ...).

    Where a place has the same figure for several years, the latest stated year wins. Only
    achieved figures: a target or plan is not a value the place has (the metrics table has them).
    """
    metrics = sorted((m for m in atlas.metrics_of(place_id) if m.achieved), key=lambda m: (m.year or 0, m.id))
    return {m.field_name: m.base_value for m in metrics}


class PlaceColumns:
    """Every place's `place_columns` and `figure_columns`, worked out once as columns: a large
    atlas has each place in four or five layers, which take their rows from here by position."""

    def __init__(self, atlas: Atlas, located: Mapping[str, Any]):
        import numpy as np

        self.atlas, self.ids = atlas, list(atlas.places)
        ids = self.ids
        self.position = {place_id: i for i, place_id in enumerate(ids)}
        self.frame = typed_frame([place_columns(atlas.places[p], atlas, located.get(p)) for p in ids])
        self.figures: dict[str, Any] = {}  # figure column -> one float per place, NaN where it has none
        for m in sorted(atlas.metrics.values(), key=lambda m: (m.year or 0, m.id)):  # the latest year wins
            if not m.achieved:
                continue
            column = self.figures.get(m.field_name)
            if column is None:
                column = self.figures[m.field_name] = np.full(len(ids), np.nan)
            column[self.position[m.place]] = m.base_value

    def layer_frame(self, ids: list[str], place_ids: list[str], middle: dict[str, list], figures: bool):
        """A layer's frame, rows sorted by id: `id`, the place columns, the `middle` columns, and
        (with `figures`) the figure columns its places have, in the order `figure_columns`
        gives them down the rows."""
        import numpy as np
        import pandas as pd

        order = sorted(range(len(ids)), key=ids.__getitem__)
        rows = np.array([self.position[place_ids[i]] for i in order], dtype=np.int64)
        parts = [pd.DataFrame({"id": np.array([ids[i] for i in order], dtype=object)}),
                 self.frame.take(rows).reset_index(drop=True),
                 typed_frame_from_columns({k: [v[i] for i in order] for k, v in middle.items()})]
        if figures:
            parts.append(pd.DataFrame(self._figures_of(rows)))
        return pd.concat(parts, axis=1)

    def _figures_of(self, rows) -> dict[str, Any]:
        import numpy as np

        first_row, taken = {}, {}
        for name, column in self.figures.items():
            values = column[rows]
            present = ~np.isnan(values)
            if present.any():
                first_row[name], taken[name] = int(present.argmax()), values

        def appearance(name: str) -> tuple[int, int]:
            place_id = self.ids[rows[first_row[name]]]
            return first_row[name], list(figure_columns(place_id, self.atlas)).index(name)
        return {name: taken[name] for name in sorted(taken, key=appearance)}


def designation_columns(d: Designation, atlas: Atlas) -> dict[str, Any]:
    programme = atlas.programmes[d.programme]
    return {
        "designation_id": d.id, "programme": d.programme, "programme_en": programme.name_en,
        "programme_zh": programme.name_zh, "level": d.level, "batch": d.batch, "year": d.year,
        "source_id": d.evidence.source, "sources": "; ".join(d.sources()), "confidence": d.confidence,
    }


def _designation_frame(spec: LayerSpec, atlas: Atlas, columns: PlaceColumns):
    wanted = spec.where.get("programme")
    candidates = atlas.designations.values() if wanted is None else \
        [d for programme in wanted for d in atlas.designations_under(programme)]
    chosen = []
    for d in candidates:
        place = atlas.places[d.place]
        values = {"programme": d.programme, "level": d.level, "batch": d.batch, "year": d.year, "kind": place.kind}
        if not _matches_where(spec.where, values):
            continue
        if spec.geometry == "district" and place.kind not in ("district", "county", "municipality"):
            continue
        if spec.geometry == "point" and place.city_wide:
            continue
        chosen.append(d)
    middle = columns_of([designation_columns(d, atlas) for d in chosen])
    return columns.layer_frame([d.id for d in chosen], [d.place for d in chosen], middle, figures=True)


def _place_frame(spec: LayerSpec, atlas: Atlas, columns: PlaceColumns):
    chosen = [place.id for place in atlas.places.values() if _matches_where(spec.where, {"kind": place.kind})
              and not (spec.geometry == "point" and place.city_wide)]
    held = [atlas.designations_of(place_id) for place_id in chosen]
    middle = {"designations": [len(designations) for designations in held],
              "programmes": ["; ".join(atlas.programmes[d.programme].name_en for d in designations) or None
                             for designations in held]}
    return columns.layer_frame(chosen, chosen, middle, figures=True)


def _metric_frame(spec: LayerSpec, atlas: Atlas, columns: PlaceColumns):
    chosen = [m for m in atlas.metrics.values()  # achieved figures only: a target is not a value to draw
              if m.achieved and _matches_where(spec.where, {"key": m.key, "kind": atlas.places[m.place].kind,
                                                            "year": m.year})
              and not (spec.geometry == "point" and atlas.places[m.place].city_wide)]
    fields = list(dict.fromkeys(m.field_name for m in sorted(chosen, key=lambda m: m.id)))  # as rows run
    middle = {name: [m.base_value if m.field_name == name else None for m in chosen] for name in fields}
    middle.update(unit=[m.base_unit for m in chosen], stated=[m.stated for m in chosen],
                  qualifier=[m.qualifier for m in chosen], year=[m.year for m in chosen],
                  source_id=[m.evidence.source for m in chosen])
    return columns.layer_frame([m.id for m in chosen], [m.place for m in chosen], middle, figures=False)


def district_counts(atlas: Atlas) -> dict[str, dict[str, int]]:
    """Per district code: how many designations its places hold, in all and by level."""
    counts = {code: {"designations": 0, **{f"{level}_designations": 0 for level in LEVELS}}
              for code in atlas.districts}
    for d in atlas.designations.values():
        code = atlas.places[d.place].district
        if code == CITY.code:
            continue
        counts[code]["designations"] += 1
        counts[code][f"{d.level}_designations"] += 1
    return counts


def _district_frame(atlas: Atlas):
    counts = district_counts(atlas)
    return typed_frame([{"id": code, "district_code": code, "name_en": d.name_en, "name_zh": d.name_zh,
                         "kind": d.kind, **counts[code]} for code, d in sorted(atlas.districts.items())])


def build_layer(spec: LayerSpec, atlas: Atlas, columns: PlaceColumns, districts) -> Layer:
    """Select the spec's features; district polygons come from `districts` (full resolution)."""
    import geopandas as gpd
    import pandas as pd

    if spec.draw == "districts":
        frame = _district_frame(atlas)
    elif spec.draw == "designations":
        frame = _designation_frame(spec, atlas, columns)
    elif spec.draw == "places":
        frame = _place_frame(spec, atlas, columns)
    else:
        frame = _metric_frame(spec, atlas, columns)
    if not len(frame):
        frame = pd.DataFrame({"id": pd.Series(dtype="str")})
        geometry = []
    elif spec.geometry == "district":
        shapes = dict(zip(districts["code"], districts.geometry))
        if CITY.code in set(frame["district_code"]):  # Chongqing as a whole: the union of its districts
            shapes[CITY.code] = city_outline(districts)
        geometry = [shapes[code] for code in frame["district_code"]]
    else:
        geometry = gpd.points_from_xy(frame["lon"], frame["lat"])
    return Layer(spec, gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326"))


def city_outline(districts):
    """Chongqing as a whole: the union of the districts' polygons."""
    import shapely

    return shapely.union_all(list(districts.geometry.values))


INTEGER_COLUMNS = ("batch", "year", "designations", "national_designations", "municipal_designations",
                   "international_designations")


def columns_of(rows: list[dict]) -> dict[str, list]:
    """Rows as columns, in the order the keys first appear; None where a row lacks one."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(row)
    return dict(zip(names, (list(cells) for cells in zip(*(tuple(map(row.get, names)) for row in rows)))))


def typed_frame(rows: list[dict]):
    """A DataFrame of `rows`, columns in the order they first appear (see `typed_frame_from_columns`)."""
    return typed_frame_from_columns(columns_of(rows))


def typed_frame_from_columns(columns: Mapping[str, list]):
    """A DataFrame with one type per column: integers stay integers even with nulls
    (`INTEGER_COLUMNS`), other numbers are floats (NaN for none), the rest objects (None).

    Built column by column from plain lists: pandas reading a list of dicts and then checking
    each cell's type took seconds at 100,000 rows."""
    import numpy as np
    import pandas as pd

    typed = {}
    for name, values in columns.items():
        present = [v for v in values if v is not None]
        if name in INTEGER_COLUMNS and all(type(v) is int for v in present):
            typed[name] = pd.array(values, dtype="Int64")
        elif present and all(type(v) in (int, float) for v in present):
            typed[name] = np.array([np.nan if v is None else v for v in values], dtype="float64")
        else:
            typed[name] = pd.Series(values, dtype=object)  # kept as Python strings: no Arrow round trip
    return pd.DataFrame(typed)


def build_layers(specs: list[LayerSpec], atlas: Atlas, columns: PlaceColumns, districts) -> list[Layer]:
    return [build_layer(spec, atlas, columns, districts) for spec in specs]


def plain_values(series) -> list:
    """A column as plain Python values (int, float, str), None where a value is missing: what
    the writers of JSON, CSV and map data take."""
    return series.astype(object).where(series.notna(), None).tolist()


def metric_field(layer: Layer) -> str | None:
    """The column a metric layer draws (its key with the unit suffix, e.g. `good_air_days`)."""
    if layer.spec.draw != "metric":
        return None
    keys = tuple(layer.spec.where["key"])
    return next((c for c in layer.frame.columns if c.startswith(keys)), None)


def largest_value(layer: Layer) -> float | None:
    """The largest figure a metric layer draws: proportional symbols scale to it."""
    field = metric_field(layer)
    if field is None or not len(layer.frame):
        return None
    return float(layer.frame[field].max())


def radius_for(value: float, largest: float, max_radius: float) -> float:
    """Proportional symbol radius: circle area proportional to the value."""
    return max_radius * math.sqrt(max(value, 0.0) / largest) if largest > 0 else 0.0


def colour_for(spec: LayerSpec, properties: Mapping[str, Any]) -> str | None:
    """The fill colour the spec gives this feature: by class bins, by category, or fixed."""
    style = spec.style
    by = style.get("by")
    if by is None:
        return style.get("fill_color", style.get("color"))
    value = properties.get(by)
    if "bins" in style:
        chosen = style["colors"][0]
        for low, colour in zip(style["bins"], style["colors"]):
            if value is not None and value >= low:
                chosen = colour
        return chosen
    colors = style["colors"]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return colors.get(UNKNOWN)
    return colors.get(value, colors.get(str(value), colors.get(UNKNOWN)))


def legend_entries(spec: LayerSpec) -> list[tuple[str, str]]:
    """(label, colour) pairs for the legend of one layer."""
    style = spec.style
    if "bins" in style:
        bins = style["bins"]
        labels = [f"{low}" if high - low == 1 else f"{low}–{high - 1}" for low, high in zip(bins, bins[1:])]
        labels.append(f"{bins[-1]}+")
        return list(zip(labels, style["colors"]))
    if "by" in style:
        return [(str(k), v) for k, v in style["colors"].items()]
    return [("", style.get("fill_color", style.get("color")))]
