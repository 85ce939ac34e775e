"""Hostile input to `atlas ingest`: articles and review files that are not what they claim to be.
Every case asserts the exit code, the message (one line per problem), no traceback, and that every
input (the article or review, and seeds/) is byte-identical afterwards."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from atlas.cli import cli
from atlas.ingest import reading

from .seedtools import copy_seeds
from .shared import ARTICLES

ARTICLE = ARTICLES / "003_c4c8725dee9525af.txt"


def snapshot(*paths: Path) -> dict[str, str]:
    """Every regular file under `paths`, by path, with its bytes' hash and its mode."""
    out = {}
    for path in paths:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for f in files:
            if f.is_file() and not f.is_symlink() and stat.S_ISREG(f.stat().st_mode):
                out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest() + oct(f.stat().st_mode)
    return out


def fails(args: list, *expected: str, code: int = 2, inputs: tuple[Path, ...] = ()) -> list[str]:
    before = snapshot(*inputs)
    result = CliRunner().invoke(cli, ["ingest", *map(str, args)])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (KeyError, TypeError, ValueError))
    lines = result.output.strip().splitlines()
    assert lines and all(line.startswith("error: ") or line.startswith("Usage:") or line.startswith("Try ")
                         or not line.strip() for line in lines), result.output
    assert any(all(e in line for e in expected) for line in lines), result.output
    assert snapshot(*inputs) == before, "inputs must be left byte for byte as they were"
    return lines


@pytest.fixture
def seeds(tmp_path) -> Path:
    seeds = copy_seeds(tmp_path / "seeds")
    for f in seeds.iterdir():
        f.chmod(0o644)
    return seeds


# --- articles --------------------------------------------------------------------------------------

def test_dev_zero_is_refused_though_its_size_reads_as_zero(tmp_path):
    fails(["/dev/zero", "--out", tmp_path / "r.yaml"], "/dev/zero: is not a regular file")
    assert not (tmp_path / "r.yaml").exists()


def test_a_symlink_to_a_device_is_refused(tmp_path):
    link = tmp_path / "article.txt"
    link.symlink_to("/dev/zero")
    fails([link, "--out", tmp_path / "r.yaml"], "is not a regular file")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "article.txt"
    os.mkfifo(fifo)
    run = subprocess.run([sys.executable, "-m", "atlas.cli", "ingest", str(fifo), "--out", str(tmp_path / "r.yaml")],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 2, run.stderr + run.stdout
    assert "is not a regular file" in run.stderr + run.stdout and "Traceback" not in run.stderr
    assert not (tmp_path / "r.yaml").exists()


def test_the_size_cap_holds_while_reading_not_by_stat(tmp_path, monkeypatch):
    """/proc files state a size of 0 and hold more: the cap counts the bytes read."""
    monkeypatch.setattr(reading, "MAX_INPUT_BYTES", 64)
    monkeypatch.setattr(reading.read_capped, "__defaults__", (64,))
    fails(["/proc/self/status", "--out", tmp_path / "r.yaml"], "/proc/self/status: is over 0 MB")


def test_a_sparse_50_mb_file_is_refused(tmp_path):
    article = tmp_path / "huge.txt"
    with article.open("wb") as f:
        f.truncate(50 * 2**20)
    fails([article, "--out", tmp_path / "r.yaml"], "is 52,428,800 bytes; a plain-text article may be at most 5 MB",
          inputs=(article,))


@pytest.mark.parametrize("content, expected", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a binary file (NUL byte at offset 8)"),
    ("重庆市森林覆盖率".encode("gb18030"), "is not valid UTF-8"),
    (b"\xef\xbb\xbf \n\t\n", "is empty"),
])
def test_articles_that_are_not_text(tmp_path, content, expected):
    article = tmp_path / "a.txt"
    article.write_bytes(content)
    fails([article, "--out", tmp_path / "r.yaml"], expected, inputs=(article,))


def test_a_100000_line_article_is_read(tmp_path):
    """Linear time: see benchmarks/ingest_score.py for the seconds it takes."""
    article = tmp_path / "log.txt"
    article.write_text("\n".join(f"line {i} of a log, Wulong District" + (f" planted {i} mu." if i % 100 == 0 else "")
                                  for i in range(100_000)), "utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(article), "--out", str(tmp_path / "r.yaml")])
    assert result.exit_code == 0, result.output
    assert len(yaml.load((tmp_path / "r.yaml").read_text("utf-8"), Loader=yaml.CSafeLoader)["metrics"]) == 1000


# --- review files ------------------------------------------------------------------------------------

def write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


NEW_METRIC = """\
metrics:
  - id: wulong-test
    status: new
    place: wulong
    key: KEY
    value: 5
    unit: mu
    stated: 5 mu
    source: ichongqing-qianjiang-xiushan-wulong
    evidence: 5 mu
"""


@pytest.mark.parametrize("text, expected", [
    (NEW_METRIC.replace("value: 5", "value: {a: {b: 1}}").replace("KEY", "area"),
     ("metrics[wulong-test].value: must be a single value, not a mapping",)),
    (NEW_METRIC.replace("place: wulong", "place: [wulong, fuling]").replace("KEY", "area"),
     ("metrics[wulong-test].place: must be a single value, not a list",)),
    (NEW_METRIC.replace("status: new", "status: [new]").replace("KEY", "area"), ("metrics[wulong-test].status: must be one of",)),
    (NEW_METRIC.replace("id: wulong-test", "id: {x: 1}").replace("KEY", "area"), ("metrics[0].id",)),
    (NEW_METRIC.replace("KEY", "needs_name_waste"), ("metrics[wulong-test].key", "is a placeholder")),
    (NEW_METRIC.replace("value: 5", "value: 5\n    colour: red").replace("KEY", "area"),
     ("metrics[wulong-test].colour: is not a field of a review entry",)),
    ("- just\n- a list\n", ("expected top-level lists",)),
    ("metrics: {a: 1}\n", ("metrics: must be a list of entries",)),
    ("metrics:\n  - a string\n", ("metrics[0]: must be a mapping of fields",)),
    ("metrics: [\n", ("malformed YAML",)),
    ("? [a, b]\n: c\n", ("malformed YAML",)),
    ("a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nmetrics:\n  - {id: m, status: new, "
     "place: wulong, value: [*b, *b, *b, *b, *b, *b, *b, *b]}\n", ("YAML anchor &a refused",)),
    ("metrics:\n  - {id: m, status: new, place: wulong, key: area, value: &b [[[1]]], unit: [*b, *b]}\n",
     ("YAML anchor &b refused",)),
    ("", ("file is empty",)),
])
def test_misshapen_review_entries_are_one_line_each(tmp_path, seeds, text, expected):
    review = write(tmp_path / "r.yaml", text)
    fails(["--accept", review, "--seeds", seeds], *expected, inputs=(review, seeds))


def test_a_new_place_reusing_a_name_is_refused_though_it_would_validate(tmp_path, seeds):
    """Render looks places up by name; two places of one name would validate, then never render."""
    review = write(tmp_path / "r.yaml", """\
places:
  - id: wulong-again
    status: new
    name_en: Wulong
    kind: scenic area
    district: "500156"
""")
    fails(["--accept", review, "--seeds", seeds], str(review), "places[wulong-again]", "also names place 'wulong'",
          inputs=(review, seeds))


def test_dev_zero_as_a_review_is_refused(seeds):
    fails(["--accept", "/dev/zero", "--seeds", seeds], "/dev/zero: is not a regular file", inputs=(seeds,))


def test_a_review_over_the_cap_is_refused(tmp_path, seeds, monkeypatch):
    from atlas.ingest import accept

    monkeypatch.setattr(accept, "MAX_REVIEW_BYTES", 1000)
    review = write(tmp_path / "r.yaml", "metrics: []\n" + "# padding\n" * 200)
    fails(["--accept", review, "--seeds", seeds], "is 2,012 bytes; a review file may be at most 0 MB",
          inputs=(review, seeds))


def test_seed_files_keep_their_mode_after_accept(tmp_path, seeds):
    review = write(tmp_path / "r.yaml", NEW_METRIC.replace("KEY", "area").replace("evidence: 5 mu", 'evidence: "Wulong"')
                   .replace("stated: 5 mu", 'stated: "5 mu"'))
    (seeds / "metrics.yaml").chmod(0o640)
    result = CliRunner().invoke(cli, ["ingest", "--accept", str(review), "--seeds", str(seeds)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((seeds / "metrics.yaml").stat().st_mode) == 0o640
    assert "wulong-test" in (seeds / "metrics.yaml").read_text("utf-8")


# --- fuzzing: any review file merges or fails with one line per problem ----------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10, 3000), st.floats(allow_nan=True),
                     st.text(max_size=12), st.sampled_from(["wulong", "500156", "mu", "area", "new", "known",
                                                            "target", "5 mu", "national-wetland-park"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                              max_size=3), max_leaves=6)
_FIELDS = st.sampled_from(["id", "status", "place", "key", "value", "unit", "stated", "source", "evidence", "name_en",
                           "kind", "district", "programme", "level", "batch", "year", "qualifier", "aliases", "x"])
_ENTRY = st.dictionaries(_FIELDS, _VALUES, max_size=8) | _VALUES
_REVIEW = st.dictionaries(st.sampled_from(["sources", "places", "designations", "metrics", "other"]),
                          st.lists(_ENTRY, max_size=3) | _VALUES, max_size=4) | _VALUES


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(review=_REVIEW)
def test_any_review_file_merges_or_fails_cleanly(tmp_path_factory, review):
    tmp = tmp_path_factory.mktemp("fuzz")
    seeds = copy_seeds(tmp / "seeds")
    path = tmp / "r.yaml"
    path.write_text(yaml.safe_dump(review, allow_unicode=True), "utf-8")
    before = snapshot(seeds)
    result = CliRunner().invoke(cli, ["ingest", "--accept", str(path), "--seeds", str(seeds)])
    assert result.exit_code in (0, 2), result.output + repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert all(line.startswith("error: ") for line in result.output.strip().splitlines()), result.output
        assert snapshot(seeds) == before
