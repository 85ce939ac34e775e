"""`atlas validate` on good and broken seeds: exit codes and one-line messages, never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas.cli import cli
from atlas.errors import InputError
from atlas.load import SEED_FILES, load_atlas

from .seedtools import copy_seeds, edit_seed, entry


def run_validate(seeds: Path):
    return CliRunner().invoke(cli, ["validate", "--seeds", str(seeds)])


def test_bundled_seeds_validate():
    result = run_validate(Path("seeds"))
    assert result.exit_code == 0, result.output
    import yaml  # counted here without the loader: every entry in the files is in the summary

    counts = {kind: len(yaml.safe_load(Path(f"seeds/{kind}.yaml").read_text("utf-8"))[kind])
              for kind in ("places", "designations", "metrics", "sources")}
    assert counts["places"] >= 50 and counts["metrics"] >= 55
    for kind, count in counts.items():
        assert f"{count} {kind}" in result.output


def _set(kind, ident, field, value, key="id"):
    def change(entries):
        entry(entries, ident, key)[field] = value
    return lambda seeds: edit_seed(seeds, kind, change)


def _drop(kind, ident, field):
    def change(entries):
        del entry(entries, ident)[field]
    return lambda seeds: edit_seed(seeds, kind, change)


def _duplicate(kind, ident):
    return lambda seeds: edit_seed(seeds, kind, lambda entries: entries.append(dict(entry(entries, ident))))


def _write(name, data: bytes):
    return lambda seeds: (seeds / name).write_bytes(data)


BROKEN = {
    "malformed-yaml": (_write("places.yaml", b"places:\n  - id: jinyun-mountain\n    name_en: [unclosed\n"),
                       "places.yaml:4: malformed YAML"),
    "missing-field": (_drop("places", "jinyun-mountain", "kind"),
                      "places[jinyun-mountain].kind: missing required field"),
    "wrong-type": (_set("metrics", "wulong-gep", "value", "lots"),
                   "metrics[wulong-gep].value: must be int or float, got str 'lots'"),
    "duplicate-id": (_duplicate("places", "guangyang-island"),
                     "places[guangyang-island].id: duplicate id"),
    "dangling-place": (_set("designations", "wulong-world-natural-heritage", "place", "atlantis"),
                       "designations[wulong-world-natural-heritage].place: unknown place 'atlantis'"),
    "dangling-programme": (_set("designations", "wulong-world-natural-heritage", "programme", "nobel-prize"),
                           "designations[wulong-world-natural-heritage].programme: unknown programme"),
    "dangling-source": (_set("metrics", "wulong-gep", "source", "rumour"),
                        "metrics[wulong-gep].source: unknown source 'rumour'"),
    "unknown-unit": (_set("metrics", "wulong-gep", "unit", "billion zorkmids"),
                     "metrics[wulong-gep].unit: unknown unit 'billion zorkmids'"),
    "batch-0": (_set("designations", "bishan-national-eco-civ-demo", "batch", 0),
                "designations[bishan-national-eco-civ-demo].batch: batch 0 is outside 1..20"),
    "batch-99": (_set("designations", "bishan-national-eco-civ-demo", "batch", 99),
                 "designations[bishan-national-eco-civ-demo].batch: batch 99 is outside 1..20"),
    "year-1800": (_set("metrics", "kaizhou-good-air-days-2023", "year", 1800),
                  "metrics[kaizhou-good-air-days-2023].year: year 1800 is outside 1949..2050"),
    "not-chongqing-code": (_set("places", "guangyang-island", "district", "110101"),
                           "places[guangyang-island].district: '110101' is not a Chongqing district code"),
    "unknown-chongqing-code": (_set("places", "guangyang-island", "district", "500199"),
                               "places[guangyang-island].district: unknown district code '500199'"),
    "unknown-status": (_set("metrics", "wulong-gep", "status", "hoped for"),
                       "metrics[wulong-gep].status: must be one of achieved, target, plan; got 'hoped for'"),
    "city-code-on-a-district": (_set("places", "wulong", "district", "500000"),
                                "places[wulong].district: 500000 is the district of a place of kind 'municipality'"),
    "municipality-in-a-district": (_set("places", "chongqing", "district", "500101"),
                                   "places[chongqing].district: 500000 is the district of a place of kind"),
    "url-without-scheme": (_set("sources", "cri-bishan-first-batch-2017", "url", "cq.cri.cn/chinanews/20170926"),
                           "sources[cri-bishan-first-batch-2017].url: 'cq.cri.cn/chinanews/20170926' is not a URL"),
    "external-without-url-or-note": (_drop("sources", "wulong-news-two-mountains-2018", "note"),
                                     "sources[wulong-news-two-mountains-2018].url: an external source needs the URL"),
    "role-without-evidence": (_drop("places", "fairy-mountain", "evidence"),
                              "places[fairy-mountain].evidence: a role needs its source and evidence"),
    "role-unknown-source": (_set("places", "fairy-mountain", "source", "rumour"),
                            "places[fairy-mountain].source: unknown source 'rumour'"),
    "empty-file": (_write("metrics.yaml", b""), "metrics.yaml: file is empty"),
    "non-utf8": (_write("places.yaml", "places:\n  - id: x\n    name_zh: 缙云山\n".encode("gb18030")),
                 "places.yaml:3: file is not valid UTF-8"),
    "missing-file": (lambda seeds: (seeds / "sources.yaml").unlink(), "sources.yaml: missing seed file"),
    "level-mismatch": (_set("designations", "wulong-world-natural-heritage", "level", "municipal"),
                       "level: 'municipal' does not match programme level 'international'"),
    "stated-mismatch": (_set("metrics", "wulong-gep", "value", 23.93),
                        "metrics[wulong-gep].value: 23.93 billion yuan does not match stated '239.3 billion yuan'"),
    "long-excerpt": (_set("metrics", "wulong-gep", "evidence", "word " * 13),
                     "metrics[wulong-gep].evidence: has 13 words"),
    "unknown-field": (_set("places", "guangyang-island", "colour", "green"),
                      "places[guangyang-island].colour: unknown field"),
    "not-a-list": (_write("places.yaml", b"places: jinyun\n"), "places.yaml:1: places: must be a list"),
    "null-required": (_set("places", "guangyang-island", "name_en", None),
                      "places[guangyang-island].name_en: missing required field"),
    "bool-for-number": (_set("metrics", "wulong-gep", "value", True),
                        "metrics[wulong-gep].value: must be int or float, got bool True"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_seeds_fail_cleanly(case, tmp_path):
    breaker, expected = BROKEN[case]
    seeds = copy_seeds(tmp_path / "seeds")
    breaker(seeds)
    result = run_validate(seeds)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert any(expected in line for line in lines), result.output
    assert all(line.startswith("error: ") for line in lines)


def test_directory_with_no_seed_files(tmp_path):
    result = run_validate(tmp_path)
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {tmp_path}: no seed files (*.yaml) in this directory"


def test_every_problem_is_reported_in_one_run(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    _set("designations", "bishan-national-eco-civ-demo", "batch", 0)(seeds)
    _set("metrics", "kaizhou-good-air-days-2023", "year", 1800)(seeds)
    result = run_validate(seeds)
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 2


XSS_NAMES = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "Mount \"Quote\" 'n' `backtick` ${x}",
]


def test_html_dangerous_names_load_as_plain_text(tmp_path):
    """Escaping is the renderer's job: the loader keeps such names byte for byte."""
    seeds = copy_seeds(tmp_path / "seeds")

    def add(entries):
        for i, name in enumerate(XSS_NAMES):
            entries.append({"id": f"xss-{i}", "name_en": name, "name_zh": name, "aliases": [name],
                            "kind": "park", "district": "500103"})
    edit_seed(seeds, "places", add)
    atlas = load_atlas(seeds)
    for i, name in enumerate(XSS_NAMES):
        place = atlas.places[f"xss-{i}"]
        assert place.name_en == name and place.name_zh == name and place.aliases == (name,)


# --- property test: random mutations never crash the loader with anything but InputError ---

VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
    st.text(max_size=30), st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from(["500109", "jinyun-mountain", "national", "hectare", "7,600 hectares", "billion yuan"]),
)


@st.composite
def mutations(draw):
    kind = draw(st.sampled_from(SEED_FILES))
    action = draw(st.sampled_from(["set", "delete", "duplicate", "truncate", "garble"]))
    return kind, action, draw(st.integers(0, 10**6)), draw(st.text(max_size=12)), draw(VALUES), draw(st.binary(max_size=8))


def _mutate(seeds: Path, mutation) -> None:
    kind, action, index, field_name, value, noise = mutation
    path = seeds / f"{kind}.yaml"
    if action in ("truncate", "garble"):
        raw = path.read_bytes()
        cut = index % (len(raw) + 1)
        path.write_bytes(raw[:cut] + (noise if action == "garble" else b"") + (raw[cut:] if action == "garble" else b""))
        return
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))[kind]
        target = entries[index % len(entries)]
        target.keys()
    except Exception:  # an earlier mutation already broke the file's shape: leave it broken
        return
    data = {kind: entries}
    if action == "duplicate":
        entries.append(dict(target))
    elif action == "delete":
        if target:
            target.pop(sorted(target, key=str)[index % len(target)])
    else:
        fields = sorted(target, key=str) + [field_name]
        target[fields[index % len(fields)]] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutations(), min_size=1, max_size=3))
def test_random_mutations_fail_only_with_clean_errors(batch):
    with tempfile.TemporaryDirectory() as tmp:
        seeds = copy_seeds(Path(tmp) / "seeds")
        for mutation in batch:
            _mutate(seeds, mutation)
        try:
            load_atlas(seeds)
        except InputError as error:
            assert error.lines() and all("\n" not in line for line in error.lines())


def test_control_characters_in_data_stay_on_one_line(tmp_path):
    """Found by the property test: an id holding a newline must not split its problem in two."""
    seeds = copy_seeds(tmp_path / "seeds")
    edit_seed(seeds, "sources", lambda entries: entries[1].update(id="bad\nid"))
    result = run_validate(seeds)
    assert result.exit_code == 2
    assert any("sources[bad\\nid].id" in line for line in result.output.splitlines())


def test_json_seed_files_load_like_yaml(tmp_path):
    """A seed file written as JSON (YAML too) goes to the fast JSON parser: same atlas, and
    problems still name file, entry and field (without a line: JSON's parser gives none)."""
    import json

    seeds = copy_seeds(tmp_path / "seeds")
    for kind in ("places", "metrics"):
        data = yaml.safe_load((seeds / f"{kind}.yaml").read_text(encoding="utf-8"))
        (seeds / f"{kind}.yaml").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert load_atlas(seeds) == load_atlas()
    metrics = json.loads((seeds / "metrics.yaml").read_text(encoding="utf-8"))
    metrics["metrics"][0]["unit"] = "parsecs of yuan"
    (seeds / "metrics.yaml").write_text(json.dumps(metrics), encoding="utf-8")
    result = run_validate(seeds)
    assert result.exit_code == 2
    assert f"metrics.yaml: metrics[{metrics['metrics'][0]['id']}].unit: unknown unit" in result.output


def test_the_installed_command_exits_with_its_code_and_all_its_output(tmp_path):
    """`main` leaves without interpreter teardown: what it printed must still all arrive, with
    the command's exit code."""
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "atlas.cli", "validate"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith(f"seeds OK: {len(load_atlas().places)} places"), ok
    bad = subprocess.run([sys.executable, "-m", "atlas.cli", "validate", "--seeds", str(tmp_path / "none")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().endswith("seeds directory does not exist"), bad
    usage = subprocess.run([sys.executable, "-m", "atlas.cli", "nonsense"], capture_output=True, text=True)
    assert usage.returncode == 2 and "No such command 'nonsense'" in usage.stderr
