"""Stage 3: read the declarative layer specs in `layers/` and select and shape their features.

A layer is data plus styling: a GeoDataFrame of flat, typed properties (what the exports write)
and a spec saying how the map draws it. Adding a layer is adding a YAML file.

Layer files come from anywhere (mail, a cloned repository): every value is checked against a
strict schema before anything is drawn, and colours are normalised to lowercase hex, so the
map, the QGIS styles and the legend all read one notation.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import InputError, Problem
from .load import BATCHES, KEY, PLACE_KINDS, YEARS
from .model import CITY, LEVELS, Atlas, Designation, Place
from .schema import (BOOL, DICT, LIST, SLUG, STR, Collector, Field, check_entry, file_name_problem, matches,
                     one_of, short, type_name)
from .yamlio import Node, read_yaml

DRAWS = ("districts", "designations", "places", "metric")
GEOMETRIES = ("point", "district")
FILTERS = ("programme", "level", "batch", "year", "kind", "key")
# The filters each kind of layer applies: any other would match none of its features.
DRAW_FILTERS = {"districts": (), "designations": ("programme", "level", "batch", "year", "kind"),
                "places": ("kind",), "metric": ("key", "kind", "year")}
STYLE_KEYS = ("color", "weight", "fill_color", "fill_opacity", "radius", "dash_array", "by", "bins", "colors")
STYLE_RANGES = {"weight": (0, 20), "radius": (0, 100), "fill_opacity": (0, 1)}  # pixels, pixels, a share
UNKNOWN = "unknown"  # the colour key for a null batch / year in `style.colors`
LAYER_FILE_MAX = 256 * 1024  # bytes in one layer file; the bundled ones hold about 1 KB
LAYER_FILES_MAX = 200  # layer files in one directory: more is no map anyone can read
LABEL_MAX = 200  # characters in a title, group or legend text
BINS_MAX = 20
TOOLTIP_MAX = 20
COLUMN = re.compile(r"[a-z][a-z0-9_]{0,63}")  # a feature column, as `tooltip` and `style.by` name them
HEX_COLOUR = re.compile(r"#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})")
DASHES = re.compile(r"\d{1,3}(?:\.\d{1,2})?(?:[ ,]+\d{1,3}(?:\.\d{1,2})?){0,7}")  # SVG stroke-dasharray


def default_layers_dir() -> Path:
    """The bundled layer specs: `layers/` beside the package in a checkout."""
    return Path(__file__).resolve().parent.parent / "layers"


def css_colour(value: Any) -> tuple[str | None, str | None]:
    """A CSS colour as `#rrggbb` (or `#rrggbbaa` when not opaque), and None; or None and why not.

    Accepts hex (#rgb, #rgba, #rrggbb, #rrggbbaa) and the 148 CSS colour names (`red`,
    `rebeccapurple`), the forms every consumer of the atlas's colours reads alike."""
    text = value.strip().lower() if isinstance(value, str) and len(value) <= 40 else None
    if text is not None and HEX_COLOUR.fullmatch(text):
        digits = text[1:] if len(text) > 5 else "".join(c * 2 for c in text[1:])
        return "#" + (digits[:6] if digits[6:] == "ff" else digits), None
    if text is not None and text.isascii() and text.isalpha():
        from matplotlib.colors import CSS4_COLORS  # imported only when a name is used

        if text in CSS4_COLORS:
            return CSS4_COLORS[text].lower(), None
    got = short(value) if isinstance(value, str) else f"{type_name(value)} {short(value)}"
    return None, f"{got} is not a CSS colour (#rgb, #rrggbb, #rrggbbaa, or a name such as red)"


SPEC = {
    "id": Field(STR, check=matches(SLUG, "a lowercase slug")),
    "title": Field(DICT),
    "group": Field(DICT),
    "draw": Field(STR, check=one_of(DRAWS)),
    "where": Field(DICT, False),
    "geometry": Field(STR, check=one_of(GEOMETRIES)),
    "style": Field(DICT),
    "legend": Field(DICT),
    "tooltip": Field(LIST, False),
    "visible": Field(BOOL, False),
    "cluster": Field(BOOL, False),
    "search": Field(BOOL, False),
}


@dataclass(frozen=True)
class LayerSpec:
    """One layer file, checked: colours are `#rrggbb` (`#rrggbbaa`), `where` maps a filter to the
    values it accepts."""

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


Add = Callable[..., None]  # add(path, message, node=None, key=None): one problem at a dotted path


def _label(data: Node, key: str, add: Add) -> dict[str, str]:
    value = data[key]
    for lang in sorted(set(value) - {"en", "zh"}, key=str):
        add(f"{key}.{short(lang).strip(chr(39))}", "unknown language (a text has 'en' and 'zh')", value, lang)
    for lang in ("en", "zh"):
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            add(f"{key}.{lang}", f"must be a non-blank text, got {short(text)}", value, lang)
        elif len(text) > LABEL_MAX:
            add(f"{key}.{lang}", f"is {len(text):,} characters long; at most {LABEL_MAX}", value, lang)
    return {"en": value.get("en"), "zh": value.get("zh")}


def _filter_value_problem(key: str, value: Any) -> str | None:
    if key in ("batch", "year"):
        if value is None or type(value) is int:
            low, high = BATCHES if key == "batch" else YEARS
            return None if value is None or low <= value <= high else f"{key} {value} is outside {low}..{high}"
        return f"must be a whole number (or null for unknown), got {type_name(value)} {short(value)}"
    if type(value) is not str:
        return f"must be a text, got {type_name(value)} {short(value)}"
    if key == "level":
        return one_of(LEVELS)(value)
    if key == "kind":
        return one_of(PLACE_KINDS)(value)
    return matches(SLUG if key == "programme" else KEY, "a programme id" if key == "programme" else "a figure key")(value)


def _where(data: Node, add: Add) -> dict[str, list]:
    where, allowed, out = data.get("where") or {}, DRAW_FILTERS.get(data["draw"], ()), {}
    for key, raw in where.items():
        path = f"where.{short(key).strip(chr(39))}"
        if key not in FILTERS:
            add(path, f"unknown filter (known: {', '.join(FILTERS)})", where, key)
            continue
        if key not in allowed:
            add(path, f"a {data['draw']} layer filters by {', '.join(allowed) or 'nothing'}, not by {key}", where, key)
            continue
        values = raw if isinstance(raw, list) else [raw]
        if not values:
            add(path, "must hold at least one value", where, key)
        for i, value in enumerate(values):
            message = _filter_value_problem(key, value)
            if message:
                add(path if values is not raw else f"{path}[{i}]", message, where, key)
        out[key] = list(values)
    if data["draw"] == "metric" and not where.get("key"):
        add("where", "a metric layer needs where.key: the figure to draw")
    return out


def _number(style: Node, key: str, add: Add) -> None:
    value, (low, high) = style[key], STYLE_RANGES[key]
    if type(value) not in (int, float):
        add(f"style.{key}", f"must be a number from {low} to {high}, got {type_name(value)} {short(value)}",
            style, key)
    elif not low <= value <= high:  # NaN fails here too
        add(f"style.{key}", f"{value} is outside {low}..{high}", style, key)


def _colours(style: Node, add: Add) -> Any:
    """`style.colors` normalised: a list (one per bin) or a mapping (one per value of `by`)."""
    colors, bins = style["colors"], style.get("bins")
    if bins is not None:
        if not isinstance(colors, list) or (isinstance(bins, list) and len(colors) != len(bins)):
            add("style.colors", "must list one colour per bin", style, "colors")
            return None
        items = list(enumerate(colors))
    elif not isinstance(colors, dict):
        add("style.colors", "must map each value of style.by to a colour", style, "colors")
        return None
    else:
        items = list(colors.items())
        for value in colors:
            if value is None or type(value) not in (str, int):
                add("style.colors", f"{short(value)} is not a value of a column (a text or whole number)",
                    style, "colors")
    normal = {}
    for at, colour in items:
        normal[at], why = css_colour(colour)
        if why:
            add(f"style.colors[{short(at)}]", why, style, "colors")
    return list(normal.values()) if bins is not None else normal


def _bins_problem(bins: Any) -> str | None:
    if not isinstance(bins, list) or not bins:
        return "must be a list of class boundaries, e.g. [0, 1, 2, 4]"
    if len(bins) > BINS_MAX:
        return f"holds {len(bins)} classes; at most {BINS_MAX}"
    if not all(type(b) in (int, float) and math.isfinite(b) for b in bins):
        return f"must hold finite numbers only, got {short(bins)}"
    if any(low >= high for low, high in zip(bins, bins[1:])):
        return f"must rise from each boundary to the next, got {short(bins)}"
    return None


def _style(data: Node, add: Add) -> dict[str, Any]:
    style, out = data["style"], {}
    for key, value in style.items():
        path = f"style.{short(key).strip(chr(39))}"
        if key not in STYLE_KEYS:
            add(path, f"unknown style key (known: {', '.join(STYLE_KEYS)})", style, key)
        elif key in ("color", "fill_color"):
            out[key], why = css_colour(value)
            if why:
                add(path, why, style, key)
        elif key in STYLE_RANGES:
            _number(style, key, add)
        elif key == "dash_array" and not (isinstance(value, str) and DASHES.fullmatch(value)):
            add(path, f"must be dash and gap lengths in pixels, e.g. \"6 4\"; got {short(value)}", style, key)
        elif key == "by" and not (isinstance(value, str) and COLUMN.fullmatch(value)):
            add(path, f"must name a column of the features (e.g. batch, level); got {short(value)}", style, key)
        elif key == "bins" and _bins_problem(value):
            add(path, _bins_problem(value), style, key)
        out.setdefault(key, value)
    if "by" in style:
        if "colors" not in style:
            add("style.colors", "style.by needs style.colors: a colour per value, or per bin with style.bins",
                style, "by")
        else:
            out["colors"] = _colours(style, add)
    elif "bins" in style or "colors" in style:
        add("style.by", "style.bins and style.colors colour features by a column: name it in style.by",
            style, "bins" if "bins" in style else "colors")
    if not {"color", "fill_color", "colors"} & style.keys():
        add("style", "needs a colour: style.color, style.fill_color or style.colors")
    return out


def _tooltip(data: Node, add: Add) -> tuple[str, ...]:
    fields = data.get("tooltip") or []
    if len(fields) > TOOLTIP_MAX:
        add("tooltip", f"lists {len(fields)} fields; at most {TOOLTIP_MAX}")
    for i, name in enumerate(fields):
        if not (isinstance(name, str) and COLUMN.fullmatch(name)):
            add(f"tooltip[{i}]", f"must name a column of the features (e.g. name_en), got "
                                 f"{type_name(name)} {short(name)}")
        elif name in fields[:i]:
            add(f"tooltip[{i}]", f"{name!r} is listed twice")
    return tuple(fields)


def read_layer_spec(path: Path) -> tuple[LayerSpec | None, list[Problem]]:
    """One layer file, checked field by field: the spec, or None and every problem found."""
    label = str(path)
    try:
        data = read_yaml(path, label, LAYER_FILE_MAX)
    except InputError as exc:
        return None, exc.problems
    ident = data.get("id") if isinstance(data, dict) else None
    name = f"layer[{ident}]" if isinstance(ident, str) and SLUG.fullmatch(ident) else "layer"
    out = Collector(label)
    if not isinstance(data, dict):
        out.add(None, name, "", f"must be a mapping of fields, got {type(data).__name__}")
        return None, out.problems
    if not check_entry(SPEC, data, name, out):
        return None, out.problems

    def add(path: str, message: str, node: Any = None, key: Any = None) -> None:
        line = node.line_of(key) if isinstance(node, Node) else data.line_of(path.split(".")[0].split("[")[0])
        out.problems.append(Problem(label, line, name, path, message))

    unfit = file_name_problem(data["id"])
    if unfit:
        add("id", unfit)
    labels = {key: _label(data, key, add) for key in ("title", "group", "legend")}
    where, style, tooltip = _where(data, add), _style(data, add), _tooltip(data, add)
    if data["draw"] == "districts" and data["geometry"] != "district":
        add("geometry", "a districts layer draws district polygons")
    for key in ("cluster", "search"):
        if data.get(key) and data["geometry"] != "point":
            add(key, f"{key} applies to point layers only")
    if out.problems:
        return None, out.problems
    flags = {key: data[key] for key in ("visible", "cluster", "search") if key in data}
    return LayerSpec(data["id"], label, draw=data["draw"], geometry=data["geometry"], style=style, where=where,
                     tooltip=tooltip, **labels, **flags), []


def load_layer_specs(directory: Path | str | None = None, only: tuple[str, ...] = ()) -> list[LayerSpec]:
    """Read every `*.yaml` in `directory` (sorted by file name, which sets the drawing order)."""
    directory = Path(directory) if directory is not None else default_layers_dir()
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise InputError(Problem(str(directory), None, "", "", "no layer files (*.yaml) in this directory"))
    if len(files) > LAYER_FILES_MAX:
        raise InputError(Problem(str(directory), None, "", "",
                                 f"{len(files):,} layer files; a map has at most {LAYER_FILES_MAX}"))
    problems: list[Problem] = []
    specs: dict[str, LayerSpec] = {}
    for path in files:
        spec, found = read_layer_spec(path)
        problems.extend(found)
        if spec is not None and spec.id in specs:
            problems.append(Problem(spec.file, None, f"layer[{spec.id}]", "id",
                                    f"duplicate layer id (also in {specs[spec.id].file})"))
        elif spec is not None:
            specs[spec.id] = spec
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
                "aliases": list(place.aliases) or None, "district_code": district.code,
                "district_en": district.name_en, "district_zh": district.name_zh,
                "lon": None, "lat": None, "precision": None, "geocoder": None}
    return {
        "place_id": place.id, "name_en": place.name_en, "name_zh": place.name_zh, "kind": place.kind,
        "aliases": list(place.aliases) or None,
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
        for name, column in self.figures.items():
            self.figures[name] = whole_numbers(name, column)

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
        import pandas as pd

        first_row, taken = {}, {}
        for name, column in self.figures.items():
            values = column[rows]
            present = np.asarray(~pd.isna(values))
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
        "source_id": d.evidence.source, "sources": list(d.sources()), "confidence": d.confidence,
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
    return columns.layer_frame(chosen, chosen, held_columns(atlas, chosen), figures=True)


def held_columns(atlas: Atlas, place_ids: list[str]) -> dict[str, list]:
    """What each place holds: its number of designations and the programmes (ids) they are under."""
    held = [atlas.designations_of(place_id) for place_id in place_ids]
    return {"designations": [len(designations) for designations in held],
            "programmes": [list(dict.fromkeys(d.programme for d in designations)) or None for designations in held]}


def _metric_frame(spec: LayerSpec, atlas: Atlas, columns: PlaceColumns):
    chosen = [m for m in atlas.metrics.values()  # achieved figures only: a target is not a value to draw
              if m.achieved and _matches_where(spec.where, {"key": m.key, "kind": atlas.places[m.place].kind,
                                                            "year": m.year})
              and not (spec.geometry == "point" and atlas.places[m.place].city_wide)]
    fields = list(dict.fromkeys(m.field_name for m in sorted(chosen, key=lambda m: m.id)))  # as rows run
    middle = {"metric_id": [m.id for m in chosen],
              **{name: [m.base_value if m.field_name == name else None for m in chosen] for name in fields}}
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


EQUAL_AREA_CRS = "ESRI:102025"  # Asia North Albers Equal Area Conic: shapes bend, areas stay true


def district_areas_km2(districts) -> dict[str, float]:
    """Each district's area in km² as computed from its boundary in an equal-area projection
    (WDPA's GIS_AREA), to 0.001 km²."""
    areas = districts.geometry.to_crs(EQUAL_AREA_CRS).area / 1e6
    return {code: round(float(area), 3) for code, area in zip(districts["code"], areas)}


def build_layer(spec: LayerSpec, atlas: Atlas, columns: PlaceColumns, districts,
                areas: Mapping[str, float] | None = None) -> Layer:
    """Select the spec's features; district polygons come from `districts` (full resolution),
    with their computed area (`areas`, else worked out here) as `gis_area_km2`."""
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
            frame = frame.drop(columns=[name for name in ("aliases", "programmes")  # lists with no value:
                                        if name in frame and frame[name].isna().all()])  # no type to carry
        geometry = [shapes[code] for code in frame["district_code"]]
        areas = dict(areas if areas is not None else district_areas_km2(districts))
        areas.setdefault(CITY.code, sum(areas.values()))  # the city's outline covers them all
        frame["gis_area_km2"] = [areas[code] for code in frame["district_code"]]
    else:
        geometry = gpd.points_from_xy(frame["lon"], frame["lat"])
    return Layer(spec, gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326"))


def city_outline(districts):
    """Chongqing as a whole: the union of the districts' polygons. The districts tile the city
    edge to edge (a valid coverage), which GEOS merges along the shared edges several times
    faster than a general union, with the same result; the general union is the fallback
    should a boundary release ever overlap or leave gaps."""
    import shapely

    polygons = list(districts.geometry.values)
    if shapely.coverage_is_valid(polygons):
        return shapely.coverage_union_all(polygons)
    return shapely.union_all(polygons)


INTEGER_COLUMNS = ("batch", "year", "designations", "national_designations", "municipal_designations",
                   "international_designations")
INTEGER_UNITS = ("_days", "_count")  # figures counted in whole days or things: integers where every value is whole


def whole_numbers(name: str, values):
    """A float column of figures as nullable integers when its unit counts (`INTEGER_UNITS`) and
    every value is whole; otherwise as it is."""
    import numpy as np
    import pandas as pd

    values = np.asarray(values, dtype="float64")
    present = values[~np.isnan(values)]
    if name.endswith(INTEGER_UNITS) and (np.mod(present, 1) == 0).all():
        return pd.Series(values).astype("Int64").array
    return values


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
            typed[name] = whole_numbers(name, [np.nan if v is None else v for v in values])
        else:
            typed[name] = pd.Series(values, dtype=object)  # kept as Python strings: no Arrow round trip
    return pd.DataFrame(typed)


def build_layers(specs: list[LayerSpec], atlas: Atlas, columns: PlaceColumns, districts) -> list[Layer]:
    areas = district_areas_km2(districts) if any(spec.geometry == "district" for spec in specs) else {}
    return [build_layer(spec, atlas, columns, districts, areas) for spec in specs]


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
        labels = [f"{low:g}–<{high:g}" if float in (type(low), type(high)) else f"{low}" if high - low == 1
                  else f"{low}–{high - 1}" for low, high in zip(bins, bins[1:])]
        labels.append(f"{bins[-1]:g}+")
        return list(zip(labels, style["colors"]))
    if "by" in style:
        return [(str(k), v) for k, v in style["colors"].items()]
    return [("", style.get("fill_color", style.get("color")))]
