"""Hostile seeds, gazetteers and layer files: each is refused with one line per problem
(`file:line: entry.field: message`), exit 2, no traceback, and every input byte-identical.

`atlas validate` and `atlas render` read through one function (`atlas.inputs.read_inputs`):
a few cases run `render` too, to show it refuses the same input in the same words, before
writing anything.
"""

from __future__ import annotations

import copy
import json
import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas.cli import cli
from atlas.errors import InputError
from atlas.layers import css_colour, default_layers_dir, load_layer_specs
from atlas.schema import SLUG, matches

from .seedtools import copy_seeds, edit_seed, entry


# --- how each case is set up ----------------------------------------------------------------

def seed_field(kind, ident, field, value, key="id"):
    def change(entries):
        entry(entries, ident, key)[field] = value
    return lambda seeds, layers: edit_seed(seeds, kind, change)


def add_place(**fields):
    def change(entries):
        place = copy.deepcopy(entry(entries, "jinyun-mountain"))
        place.update(id="hostile-place", **fields)
        entries.append(place)
    return lambda seeds, layers: edit_seed(seeds, "places", change)


def gazetteer_field(place, field, value):
    return seed_field("gazetteer", place, field, value, key="place")


def seed_text(name, text):
    return lambda seeds, layers: (seeds / name).write_text(text, encoding="utf-8")


def seed_sub(name, old, new):
    """Replace the first `old` in the text of a seed file."""
    def change(seeds, layers):
        text = (seeds / name).read_text("utf-8")
        assert old in text
        (seeds / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    return change


def as_json(kind, ident, field, value):
    """The seed file rewritten as JSON (`json` writes NaN and Infinity, which JSON has not)."""
    def change(seeds, layers):
        data = yaml.safe_load((seeds / f"{kind}.yaml").read_text("utf-8"))
        entry(data[kind], ident)[field] = value
        (seeds / f"{kind}.yaml").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return change


def layer_text(text, name="90-hostile.yaml"):
    return lambda seeds, layers: (layers / name).write_text(text, encoding="utf-8")


def layer_field(path, value, name="70-good-air-days.yaml"):
    """Set `path` (e.g. "style.color") in a bundled layer file to `value`."""
    def change(seeds, layers):
        spec = yaml.safe_load((layers / name).read_text("utf-8"))
        *parents, last = path.split(".")
        target = spec
        for part in parents:
            target = target[part]
        target[last] = value
        (layers / name).write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return change


def replace_with(name, make):
    def change(seeds, layers):
        target = (seeds if not name.startswith("layers/") else layers.parent) / name
        target.unlink(missing_ok=True)
        make(target)
    return change


def nested_json(depth):
    return seed_text("places.yaml", '{"places": ' + "[" * depth + "]" * depth + "}")


def alias_bomb(levels=9):
    lines = ["places:", "  - id: bomb", "    name_en: Bomb", "    kind: park", '    district: "500109"',
             '    aliases: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines += [f"  - id: bomb-{i}", "    name_en: Bomb", "    kind: park", '    district: "500109"',
                  f"    aliases: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]"]
    lines += ["  - id: bomb-last", f"    name_en: *a{levels - 1}", "    kind: park", '    district: "500109"']
    return seed_text("places.yaml", "\n".join(lines) + "\n")


GOOD_LAYER = """\
id: hostile
title: {en: Hostile, zh: 敌意}
group: {en: Tests, zh: 测试}
draw: places
geometry: point
style: {color: "#333333", radius: 4}
legend: {en: Place, zh: 地点}
"""


def layer_with(**lines):
    """GOOD_LAYER with some of its lines replaced (or added), as raw YAML text."""
    text = GOOD_LAYER
    for key, value in lines.items():
        old = next((line for line in text.splitlines() if line.startswith(f"{key}:")), None)
        text = text.replace(old, f"{key}: {value}") if old else text + f"{key}: {value}\n"
    return layer_text(text)


# case id: (set-up, command, expected exit code, expected fragment of one line)
CASES = {
    # seeds: structure and size
    "json-nested-100k-deep": (nested_json(100_000), "validate", 2,
                              "places.yaml:1: malformed JSON: depth limit exceeded"),
    "yaml-flow-nested-100k-deep": (seed_text("places.yaml", "places: " + "[" * 100_000 + "]" * 100_000),
                                   "validate", 2, "places.yaml:1: malformed YAML: nested more than 20 levels deep"),
    "yaml-block-nested-50k-deep": (seed_text("places.yaml", "places:\n  " + "- " * 50_000 + "x\n"),
                                   "validate", 2, "places.yaml:2: malformed YAML: nested more than 20 levels deep"),
    "yaml-alias-bomb": (alias_bomb(), "validate", 2,
                        "places.yaml:6: malformed YAML: YAML anchor &a0 refused: anchors and aliases are not accepted"),
    "yaml-alias-merge-key": (seed_text("sources.yaml", "base: &b {kind: article}\nsources:\n  - <<: *b\n    id: x\n"),
                             "validate", 2, "sources.yaml:1: malformed YAML: YAML anchor &b refused"),
    "yaml-duplicate-key": (seed_text("districts.yaml", 'districts:\n  - code: "500101"\n    code: "500102"\n'),
                           "validate", 2, "districts.yaml:3: malformed YAML: key 'code' appears twice"),
    "yaml-5000-digit-number": (seed_sub("designations.yaml", "batch: 1\n", "batch: " + "9" * 5000 + "\n"),
                               "validate", 2, "designations.yaml: malformed YAML: Exceeds the limit"),
    "seed-file-is-dev-zero": (replace_with("metrics.yaml", lambda p: p.symlink_to("/dev/zero")), "validate", 2,
                              "metrics.yaml: not a regular file"),
    "seed-file-is-a-directory": (replace_with("metrics.yaml", lambda p: p.mkdir()), "validate", 2,
                                 "metrics.yaml: not a regular file"),
    "seed-file-over-the-cap": (seed_text("sources.yaml", "# padding\n" * 2_000), "validate-capped", 2,
                               "sources.yaml: file is larger than 4,096 bytes: refused"),
    "1001-aliases": (add_place(aliases=[f"alias {i}" for i in range(1001)]), "validate", 2,
                     "places[hostile-place].aliases: holds 1,001 items; at most 1,000"),
    # seeds: texts and numbers
    "name-of-1-mb": (add_place(name_en="A" * 1_000_000), "validate", 2,
                     "places[hostile-place].name_en: is 1,000,000 characters long; at most 1,000"),
    "nul-in-name": (add_place(name_en="Nul\x00Mountain"), "validate", 2,
                    "places[hostile-place].name_en: holds a control character (U+0000) at character 4"),
    "escape-in-name": (add_place(name_en="Red\x1b[31m"), "validate", 2, "holds a control character (U+001B)"),
    "bidi-override-in-alias": (add_place(aliases=["ok", "evil\u202eman"]), "validate", 2,
                               "places[hostile-place].aliases[1]: holds a control character (U+202E)"),
    "lone-surrogate-in-json": (seed_text("programmes.yaml", '{"programmes": [{"id": "x", "name_en": "\\ud800",'
                                                            ' "level": "national"}]}'),
                               "validate", 2, "programmes.yaml:1: malformed JSON: no low surrogate in string"),
    "id-with-trailing-newline": (seed_field("places", "jinyun-mountain", "id", "jinyun-mountain\n"), "validate", 2,
                                 "places[jinyun-mountain\\n].id: holds a control character (U+000A)"),
    "id-con": (add_place(name_en="Console"), "validate-con", 2,
               "places[con].id: 'con' is a device name on Windows"),
    "id-lpt1": (seed_field("metrics", "wulong-gep", "id", "lpt1"), "validate", 2,
                "metrics[lpt1].id: 'lpt1' is a device name on Windows"),
    "id-of-101-characters": (seed_field("sources", "carbon-credit-cq-named-zones-bases", "id", "a" * 101), "validate",
                             2, "id: is 101 characters long; an id has at most 100"),
    "name-formula-equals": (add_place(name_en='=HYPERLINK("http://evil","click")'), "validate", 2,
                            "places[hostile-place].name_en: starts with '=', which a spreadsheet reads as a formula"),
    "name-formula-at": (add_place(name_zh="@SUM(1+1)"), "validate", 2, "name_zh: starts with '@'"),
    "stated-formula-minus": (seed_field("metrics", "wulong-gep", "stated", "-2+3+cmd|' /C calc'!A0"), "validate", 2,
                             "metrics[wulong-gep].stated: starts with '-', which a spreadsheet reads as a formula"),
    "value-infinite": (seed_field("metrics", "wulong-gep", "value", float("inf")), "validate", 2,
                       "metrics[wulong-gep].value: must be a finite number, got inf"),
    "json-nan": (as_json("metrics", "wulong-gep", "value", float("nan")), "validate", 2,
                 "metrics[wulong-gep].value: must be int or float, got str 'NaN'"),
    "value-nan": (seed_field("metrics", "wulong-gep", "value", float("nan")), "validate", 2,
                  "metrics[wulong-gep].value: must be a finite number, got nan"),
    # gazetteer
    "gazetteer-longitude-500": (gazetteer_field("damian-mountain-area", "lon", 500), "validate", 2,
                                "gazetteer[damian-mountain-area].lon: 500 is outside Chongqing"),
    "gazetteer-tolerance-infinite": (gazetteer_field("damian-mountain-area", "tolerance_m", float("inf")), "validate",
                                     2, "gazetteer[damian-mountain-area].tolerance_m: must be a finite number"),
    "gazetteer-nul-in-source": (gazetteer_field("damian-mountain-area", "coord_source", "map\x00"), "validate", 2,
                                "gazetteer[damian-mountain-area].coord_source: holds a control character (U+0000)"),
    "gazetteer-is-a-fifo": (replace_with("gazetteer.yaml", lambda p: os.mkfifo(p)), "validate-subprocess", 2,
                            "gazetteer.yaml: not a regular file"),
    "gazetteer-anchor": (seed_text("gazetteer.yaml", "gazetteer:\n  - &g {place: x}\n  - *g\n"), "validate", 2,
                         "gazetteer.yaml:2: malformed YAML: YAML anchor &g refused"),
    # layers
    "layer-colour-named-red": (layer_field("style.color", "red"), "validate", 0, "layers OK"),
    "layer-colour-unknown-name": (layer_field("style.color", "reddish"), "validate", 2,
                                  "layer[good-air-days].style.color: 'reddish' is not a CSS colour"),
    "layer-colour-script": (layer_field("style.fill_color", "#5f6b6d</script><script>alert(1)</script>"), "render",
                            2, "layer[good-air-days].style.fill_color: '#5f6b6d</script><script>alert(1)</script>'"
                               " is not a CSS colour"),
    "layer-colour-number": (layer_field("style.color", 255), "validate", 2,
                            "style.color: int 255 is not a CSS colour"),
    "layer-where-mapping": (layer_field("where.key", {"a": 1}), "render", 2,
                            "layer[good-air-days].where.key: must be a text, got dict {'a': 1}"),
    "layer-where-year-text": (layer_field("where", {"programme": ["national-two-mountains-base"], "year": "2019"},
                                          "30-national-two-mountains-bases.yaml"), "validate", 2,
                              "where.year: must be a whole number (or null for unknown), got str '2019'"),
    "layer-where-filter-not-drawn": (layer_with(where="{programme: [x]}"), "validate", 2,
                                     "layer[hostile].where.programme: a places layer filters by kind, not by programme"),
    "layer-tooltip-mapping": (layer_field("tooltip", [{"name_en": "x"}]), "validate", 2,
                              "layer[good-air-days].tooltip[0]: must name a column of the features"),
    "layer-opacity-above-1": (layer_field("style.fill_opacity", 1.5), "validate", 2,
                              "style.fill_opacity: 1.5 is outside 0..1"),
    "layer-radius-negative": (layer_field("style.radius", -1), "validate", 2, "style.radius: -1 is outside 0..100"),
    "layer-weight-text": (layer_field("style.weight", "thick"), "validate", 2,
                          "style.weight: must be a number from 0 to 20, got str 'thick'"),
    "layer-bins-falling": (layer_field("style.bins", [0, 4, 2], "10-districts.yaml"), "validate", 2,
                           "layer[districts].style.bins: must rise from each boundary to the next"),
    "layer-bins-infinite": (layer_field("style.bins", [0, 1, 2, 4, float("inf")], "10-districts.yaml"), "validate",
                            2, "layer[districts].style.bins[4]: must be a finite number, got inf"),
    "layer-unknown-style-key": (layer_field("style.glow", 1), "validate", 2,
                                "layer[good-air-days].style.glow: unknown style key"),
    "layer-unknown-field": (layer_with(onload="alert(1)"), "validate", 2, "layer[hostile].onload: unknown field"),
    "layer-title-control-character": (layer_with(title='{en: "Bell\\a", zh: 铃}'), "validate", 2,
                                      "layer[hostile].title.en: holds a control character (U+0007)"),
    "layer-title-too-long": (layer_with(title="{en: " + "T" * 201 + ", zh: 长}"), "validate", 2,
                             "layer[hostile].title.en: is 201 characters long; at most 200"),
    "layer-id-aux": (layer_with(id="aux"), "validate", 2, "layer[aux].id: 'aux' is a device name on Windows"),
    "layer-cluster-on-districts": (layer_with(geometry="district", cluster="true"), "validate", 2,
                                   "layer[hostile].cluster: cluster applies to point layers only"),
    "layer-alias": (layer_text(GOOD_LAYER.replace("title: {", "title: &t {").replace("legend: {en: Place, zh: 地点}",
                                                                                         "legend: *t")),
                    "validate", 2, "90-hostile.yaml:2: malformed YAML: YAML anchor &t refused"),
    "layer-file-over-256-kb": (layer_text(GOOD_LAYER + "# padding\n" * 30_000), "validate", 2,
                               "90-hostile.yaml: file is larger than 262,144 bytes: refused"),
    "layer-file-is-a-fifo": (replace_with("layers/90-fifo.yaml", lambda p: os.mkfifo(p)), "validate-subprocess", 2,
                             "90-fifo.yaml: not a regular file"),
}


# --- running a case -------------------------------------------------------------------------

def snapshot(*folders: Path) -> dict[str, object]:
    """Every entry under the folders: a regular file's bytes, a link's target, a FIFO's kind."""
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                found[str(path)] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                found[str(path)] = path.read_bytes()
            else:
                found[str(path)] = ("kind", stat.S_IFMT(info.st_mode), info.st_mode)
    return found


def _run(command: str, seeds: Path, layers: Path, out: Path, monkeypatch) -> tuple[int, str]:
    args = ["--seeds", str(seeds), "--layers-dir", str(layers)]
    if command == "validate-subprocess":  # a FIFO would hang a run in this process, were it opened blocking
        done = subprocess.run([sys.executable, "-m", "atlas.cli", "validate", *args], capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)
        return done.returncode, done.stdout + done.stderr
    if command == "validate-capped":
        monkeypatch.setattr("atlas.yamlio.SEED_FILE_MAX", 4096)
    if command == "render":
        args = ["render", *args, "--out", str(out), "--no-book"]
    else:
        args = ["validate", *args]
    result = CliRunner().invoke(cli, args)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input(case, tmp_path, monkeypatch):
    setup, command, code, fragment = CASES[case]
    seeds = copy_seeds(tmp_path / "seeds")
    layers = tmp_path / "layers"
    layers.mkdir()
    for spec in default_layers_dir().glob("*.yaml"):
        (layers / spec.name).write_bytes(spec.read_bytes())
    setup(seeds, layers)
    if command == "validate-con":  # the hostile place takes the id con
        edit_seed(seeds, "places", lambda entries: entry(entries, "hostile-place").update(id="con"))
        command = "validate"
    before = snapshot(seeds, layers)
    out = tmp_path / "out"
    started = time.monotonic()
    exit_code, output = _run(command, seeds, layers, out, monkeypatch)
    assert time.monotonic() - started < 60, "a hostile input must be refused quickly"
    assert exit_code == code, output
    assert "Traceback" not in output
    lines = output.strip().splitlines()
    assert any(fragment in line for line in lines), output
    if code == 2:
        assert all(line.startswith("error: ") for line in lines), output
        assert all(len(line) < 2_000 for line in lines), "a problem is one short line, whatever the input's size"
    assert snapshot(seeds, layers) == before, "inputs must be byte-identical afterwards"
    assert not out.exists(), "a refused render writes nothing"


def test_render_and_validate_refuse_alike(tmp_path):
    """One code path: render's problems are validate's, word for word."""
    seeds = copy_seeds(tmp_path / "seeds")
    layers = tmp_path / "layers"
    layers.mkdir()
    layer_text(GOOD_LAYER.replace('"#333333"', "blurple").replace("radius: 4", "radius: 400"))(seeds, layers)
    gazetteer_field("damian-mountain-area", "lon", 500)(seeds, layers)
    args = ["--seeds", str(seeds), "--layers-dir", str(layers)]
    validated = CliRunner().invoke(cli, ["validate", *args])
    rendered = CliRunner().invoke(cli, ["render", *args, "--out", str(tmp_path / "out")])
    assert validated.exit_code == rendered.exit_code == 2
    assert validated.output == rendered.output
    assert len(validated.output.splitlines()) == 3, validated.output  # the gazetteer's and the layer's two


def test_named_colours_are_normalised_for_every_reader():
    assert css_colour("red") == ("#ff0000", None)
    assert css_colour(" RebeccaPurple ") == ("#663399", None)
    assert css_colour("#ABC") == ("#aabbcc", None)
    assert css_colour("#abcf") == ("#aabbcc", None)  # opaque: the alpha is dropped
    assert css_colour("#11223380") == ("#11223380", None)
    for bad in ("#12345", "rgb(1,2,3)", "red; x", "#ff0000</script>", "", None, 7, ["red"]):
        assert css_colour(bad)[0] is None


def test_a_layer_coloured_red_renders_and_exports(tmp_path):
    """Found in the issue: `red` raised in the QGIS style writer. Normalised, every writer reads it."""
    layers = tmp_path / "layers"
    layers.mkdir()
    layer_text(GOOD_LAYER.replace('"#333333"', "red"))(None, layers)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["render", "--layers-dir", str(layers), "--out", str(out), "--no-book"])
    assert result.exit_code == 0, result.output
    assert "#ff0000" in (out / "atlas.html").read_text("utf-8")


def test_slug_check_refuses_a_final_newline():
    """`$` matches before a final newline; the slug pattern ends in \\Z and `matches` uses fullmatch."""
    assert SLUG.match("jinyun-mountain\n") is None
    assert matches(SLUG, "a slug")("jinyun-mountain\n") is not None
    assert matches(SLUG, "a slug")("jinyun-mountain") is None


# --- property test: any layer spec loads, or fails with InputError lines, never otherwise ---

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.sampled_from(["red", "#abc", "#5f6b6d", "point", "district", "places", "metric",
                                           "designations", "batch", "level", "good_air_days", "6 4", "unknown"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.one_of(st.text(max_size=8), st.integers()),
                                                                      inner, max_size=4)), max_leaves=12)
PATHS = st.sampled_from(["id", "title", "title.en", "title.zh", "group", "group.fr", "draw", "where",
                         "where.programme", "where.key", "where.year", "where.kind", "geometry", "style",
                         "style.color", "style.fill_color", "style.weight", "style.radius", "style.fill_opacity",
                         "style.dash_array", "style.by", "style.bins", "style.colors", "style.colors.3", "legend",
                         "tooltip", "visible", "cluster", "search", "extra"])


def _set(spec: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    target = spec
    for part in parents:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[last] = value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(p.name for p in default_layers_dir().glob("*.yaml"))),
       st.lists(st.tuples(PATHS, VALUES), min_size=1, max_size=4), st.integers(0, 10**6), st.binary(max_size=6))
def test_random_layer_specs_fail_only_with_clean_errors(name, changes, cut, noise):
    spec = yaml.safe_load((default_layers_dir() / name).read_text("utf-8"))
    for path, value in changes:
        _set(spec, path, copy.deepcopy(value))
    text = yaml.safe_dump(spec, allow_unicode=True).encode("utf-8")
    if cut % 4 == 0:  # sometimes garbled bytes too
        at = cut % (len(text) + 1)
        text = text[:at] + noise + text[at:]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / name).write_bytes(text)
        try:
            specs = load_layer_specs(tmp)
        except InputError as error:
            assert error.lines() and all("\n" not in line for line in error.lines())
        else:
            for loaded in specs:
                for key in ("color", "fill_color"):
                    assert key not in loaded.style or css_colour(loaded.style[key]) == (loaded.style[key], None)
