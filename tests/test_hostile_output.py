"""Hostile `--out` targets, leftovers, modes, full and read-only disks and stop signals.

`atlas render --out DIR` may replace only what atlas wrote. Every refusal exits 2 with one
line; every failure of the environment exits 1 with one line; neither leaves a traceback, a
staging folder or a changed byte, mode or link anywhere in the test's folder (`tree`).
The full and read-only disks are small tmpfs mounts, made only as root (as CI runs).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from atlas.cli import cli
from atlas.layers import default_layers_dir
from atlas.output import MANIFEST, STAGING_MARK, manifest_bytes
from tests.seedtools import copy_seeds
from tests.shared import ARTICLES

NO_BOOK = "--no-book"  # the book is not what is tested here, and the cases stay fast


def render(*args: str):
    return CliRunner().invoke(cli, ["render", NO_BOOK, *args])


def tree(root: Path) -> dict[str, tuple]:
    """Every path under `root` (itself included): its kind, mode and bytes or link target."""
    found = {".": ("dir", stat.S_IMODE(root.lstat().st_mode))}
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            path = Path(folder, name)
            mode = stat.S_IMODE(path.lstat().st_mode)
            if path.is_symlink():
                found[str(path.relative_to(root))] = ("link", os.readlink(path), mode)
            elif path.is_dir():
                found[str(path.relative_to(root))] = ("dir", mode)
            elif not path.is_file():  # a FIFO: reading it would wait for a writer
                found[str(path.relative_to(root))] = ("special", stat.S_IFMT(path.lstat().st_mode), mode)
            else:
                found[str(path.relative_to(root))] = ("file", path.read_bytes(), mode)
    return found


def assert_failed(result, code: int, *fragments: str) -> str:
    """Exit `code`, one line saying `fragments`, no traceback; the line."""
    output = result.output
    assert result.exit_code == code, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and len(output.strip().splitlines()) == 1, output
    assert "Traceback" not in output
    for fragment in fragments:
        assert fragment in errors[0], output
    return errors[0]


def assert_exit(result, code: int) -> None:
    assert result.exit_code == code, result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """An output atlas wrote (no book), copied by the cases that need one."""
    out = tmp_path_factory.mktemp("built") / "output"
    result = render("--out", str(out))
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def output(built, tmp_path) -> Path:
    """A copy of an output atlas wrote, at tmp_path/output."""
    return Path(shutil.copytree(built, tmp_path / "output", symlinks=True))


def refuse(tmp_path: Path, args: list[str], code: int, *fragments: str) -> str:
    """Render with `args`, expecting a refusal: nothing under tmp_path changes."""
    before = tree(tmp_path)
    result = render(*args)
    assert_exit(result, code)
    line = assert_failed(result, code, *fragments)
    assert tree(tmp_path) == before
    return line


# --- folders atlas did not write ------------------------------------------------------------

def test_a_folder_of_the_users_is_refused(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work", encoding="utf-8")
    refuse(tmp_path, ["--out", str(mine)], 2, f"--out {mine}: is a folder atlas did not write", MANIFEST)


def test_the_working_folder_is_refused(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    refuse(tmp_path, ["--out", "."], 2, "--out .: is the working folder")


def test_a_folder_above_the_working_folder_is_refused(tmp_path, monkeypatch):
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    refuse(tmp_path, ["--out", ".."], 2, "--out ..: holds the working folder")


def test_the_seeds_folder_is_refused(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    refuse(tmp_path, ["--seeds", str(seeds), "--out", str(seeds)], 2, "is the seeds folder")


def test_a_folder_holding_the_seeds_is_refused(tmp_path):
    seeds = copy_seeds(tmp_path / "project" / "seeds")
    refuse(tmp_path, ["--seeds", str(seeds), "--out", str(tmp_path / "project")], 2, "holds the seeds folder")


def test_the_bundled_seeds_and_layers_are_kept_from_any_render(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    layers = default_layers_dir()
    before = tree(layers)
    refuse(tmp_path, ["--out", str(layers)], 2, "is the layers folder")
    refuse(tmp_path, ["--out", str(layers.parent)], 2, "holds the seeds folder")
    assert tree(layers) == before


def test_a_folder_inside_the_seeds_is_refused(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    refuse(tmp_path, ["--seeds", str(seeds), "--out", str(seeds / "output")], 2, "lies inside the seeds folder")


def test_the_layers_folder_is_refused(tmp_path):
    layers = Path(shutil.copytree(default_layers_dir(), tmp_path / "layers"))
    refuse(tmp_path, ["--layers-dir", str(layers), "--out", str(layers)], 2, "is the layers folder")


def test_a_shipped_link_to_the_parent_is_refused(tmp_path, monkeypatch):
    """A cloned repository ships `output -> ..`: a plain render must not empty its parent."""
    repo = tmp_path / "clone"
    seeds = copy_seeds(repo / "seeds")
    (repo / "output").symlink_to("..")
    monkeypatch.chdir(repo)
    refuse(tmp_path, ["--seeds", str(seeds)], 2, "--out output: holds the working folder")


def test_a_link_to_a_folder_of_the_users_is_refused(tmp_path):
    mine = tmp_path / "photos"
    mine.mkdir()
    (mine / "a.jpg").write_bytes(b"\xff\xd8 not much of a photo")
    (tmp_path / "output").symlink_to(mine)
    refuse(tmp_path, ["--out", str(tmp_path / "output")], 2, f"is a symbolic link to {mine}, a folder atlas did not write")


def test_a_dangling_link_is_refused(tmp_path):
    (tmp_path / "output").symlink_to(tmp_path / "nowhere")
    refuse(tmp_path, ["--out", str(tmp_path / "output")], 2, "is a symbolic link to", "which does not exist")


def test_a_loop_of_links_is_refused(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    refuse(tmp_path, ["--out", str(tmp_path / "a")], 2, "loop of symbolic links")


def test_a_path_below_a_file_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    refuse(tmp_path, ["--out", str(tmp_path / "notes.txt" / "output")], 2,
           f"lies below {tmp_path / 'notes.txt'}, which is a file, not a folder")


def test_a_file_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    refuse(tmp_path, ["--out", str(tmp_path / "notes.txt")], 2, "is a file, not a folder")


def test_a_file_added_to_an_output_is_refused(tmp_path, output):
    """The choice: an output holding a file atlas did not write is refused, not merged."""
    (output / "notes.txt").write_text("my notes on the map", encoding="utf-8")
    (output / "geojson" / "mine.geojson").write_text("{}", encoding="utf-8")
    refuse(tmp_path, ["--out", str(output)], 2, f"{output / 'geojson/mine.geojson'} (and 1 more) was not written by atlas")


def test_a_folder_or_link_added_to_an_output_is_refused(tmp_path, output):
    (output / "drafts").mkdir()
    refuse(tmp_path, ["--out", str(output)], 2, f"{output / 'drafts/'} was not written by atlas")
    (output / "drafts").rmdir()
    (output / "places.csv").unlink()
    (output / "places.csv").symlink_to(tmp_path / "elsewhere.csv")  # listed name, but a link
    refuse(tmp_path, ["--out", str(output)], 2, "places.csv was not written by atlas")


@pytest.mark.parametrize("manifest", [b"", b"{not json", b'{"files": "atlas.html"}', b"[1, 2]",
                                      b'{"files": [1]}'])
def test_a_manifest_atlas_could_not_have_written_is_refused(tmp_path, output, manifest):
    (output / MANIFEST).write_bytes(manifest)
    refuse(tmp_path, ["--out", str(output)], 2, "a folder atlas did not write")


def test_an_output_holding_the_geocoder_cache_is_refused(tmp_path, output):
    """Refused before any geocoding (nothing is asked of the network): the cache would be
    written into the output and lost with it."""
    refuse(tmp_path, ["--geocoder", "nominatim", "--cache", str(output / "cache.json"), "--out", str(output)], 2,
           "holds the geocoder cache")


def test_the_root_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = render("--out", "/")
    assert_failed(result, 2, "--out /: holds the working folder")


# --- what is allowed ------------------------------------------------------------------------

def test_an_empty_folder_is_written_and_keeps_its_mode(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    out.chmod(0o750)
    assert_exit(render("--out", str(out)), 0)
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    assert (out / "atlas.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]  # no lock, no staging left


def test_an_output_is_replaced_keeping_its_mode_and_the_manifest_is_stable(tmp_path, output, built):
    output.chmod(0o700)
    (output / "atlas.html").write_text("edited by hand", encoding="utf-8")  # a listed file: atlas's to replace
    (output / "places.csv").unlink()  # a listed file gone: nothing lost
    assert_exit(render("--out", str(output)), 0)
    assert stat.S_IMODE(output.stat().st_mode) == 0o700
    assert tree(output)[MANIFEST] == tree(built)[MANIFEST]
    listed = json.loads((output / MANIFEST).read_text("utf-8"))["files"]
    on_disk = sorted(str(p.relative_to(output)) for p in output.rglob("*") if p.is_file() and p.name != MANIFEST)
    assert listed == on_disk and "atlas.html" in listed and STAGING_MARK not in listed
    assert (output / MANIFEST).read_bytes() == manifest_bytes(on_disk)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output"]


def test_a_new_output_follows_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        assert_exit(render("--out", str(tmp_path / "a" / "output")), 0)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a" / "output").stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "a" / "output" / "atlas.html").stat().st_mode) == 0o640


def test_a_link_to_an_output_replaces_its_target_and_stays_a_link(tmp_path, output):
    link = tmp_path / "latest"
    link.symlink_to(output)
    assert_exit(render("--out", str(link)), 0)
    assert link.is_symlink() and os.readlink(link) == str(output)
    assert (output / MANIFEST).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "output"]


def test_folders_made_for_a_failed_render_are_removed(tmp_path):
    result = render("--layers", "nope", "--out", str(tmp_path / "new" / "deep" / "output"))
    assert_failed(result, 2, "nope")
    assert list(tmp_path.iterdir()) == []


# --- leftovers and concurrent renders -------------------------------------------------------

def test_staging_folders_of_a_killed_render_are_removed_by_the_next(tmp_path, output):
    stale = tmp_path / ".output.new-0badf00d"
    (stale / "geojson").mkdir(parents=True)
    (stale / STAGING_MARK).write_text("", encoding="utf-8")
    (stale / "geojson" / "districts.geojson").write_bytes(b"x" * 1000)
    aside = Path(shutil.copytree(output, tmp_path / ".output.old-0badf00d"))  # killed mid-swap
    mine = tmp_path / ".output.new-0123abcd"  # named alike, but nothing proves atlas made it
    mine.mkdir()
    (mine / "keep.txt").write_text("mine", encoding="utf-8")
    other = tmp_path / ".output.new-0badf00d.new-0badf00d"  # the staging folder of an output "output.new-0badf00d"
    other.mkdir()
    (other / STAGING_MARK).write_text("", encoding="utf-8")
    assert_exit(render("--out", str(output)), 0)
    assert not stale.exists() and not aside.exists()
    assert (mine / "keep.txt").read_text("utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == [mine.name, other.name, "output"]


def test_a_second_render_into_a_locked_output_fails_at_once(tmp_path, output):
    """The choice: the second render does not wait; it says who holds the output."""
    with open(tmp_path / ".output.lock", "w", encoding="ascii") as lock:
        lock.write("4242\n")
        lock.flush()
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        before = tree(tmp_path)
        started = time.perf_counter()
        result = render("--out", str(output))
        assert_failed(result, 1, f"--out {output}: another atlas render (process 4242) is writing it")
        assert time.perf_counter() - started < 5
        assert tree(tmp_path) == before


@pytest.mark.parametrize("planted", ["link", "fifo"])
def test_a_lock_file_planted_beside_the_output_is_refused(tmp_path, output, planted):
    """A link named like the lock file would have it truncate its target; a FIFO would hang."""
    lock = tmp_path / ".output.lock"
    if planted == "link":
        (tmp_path / "precious.txt").write_text("do not truncate", encoding="utf-8")
        lock.symlink_to(tmp_path / "precious.txt")
    else:
        os.mkfifo(lock)
    refuse(tmp_path, ["--out", str(output)], 2, f"{lock} is not a lock file atlas made")


def test_the_folder_changing_during_a_render_is_caught_before_the_swap(tmp_path, output, monkeypatch):
    import atlas.render

    before = tree(output)
    write_map = atlas.render.write_map

    def and_a_user_saves_notes(*args, **kwargs):
        (output / "geojson" / "notes.txt").write_text("saved while atlas rendered", encoding="utf-8")
        return write_map(*args, **kwargs)
    monkeypatch.setattr(atlas.render, "write_map", and_a_user_saves_notes)
    result = render("--out", str(output))
    assert_failed(result, 2, "geojson/notes.txt was not written by atlas")
    (output / "geojson" / "notes.txt").unlink()
    assert tree(output) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output"]


def test_a_disk_error_reported_as_text_by_a_writer_is_one_line(tmp_path, output, monkeypatch):
    """GDAL reports a full disk while writing the GeoPackage (in a forked writer) as text."""
    import atlas.export
    from pyogrio.errors import DataLayerError

    def full(*args, **kwargs):
        raise DataLayerError("sqlite3_exec(COMMIT) failed: database or disk is full")
    monkeypatch.setattr(atlas.export, "write_geopackage", full)
    before = tree(tmp_path)
    result = render("--out", str(output))
    assert_failed(result, 1, f"could not write {output}: database or disk is full; {output} is left as it was")
    assert tree(tmp_path) == before


# --- full and read-only disks (tmpfs, as root) ----------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """Mount a tmpfs of the given size at tmp_path/disk; unmounted afterwards."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    mounted = []

    def mount(size: str, *options: str) -> Path:
        disk = tmp_path / "disk"
        disk.mkdir(exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs",
                               str(disk)], capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(disk)
        return disk
    yield mount
    for disk in mounted:
        subprocess.run(["umount", str(disk)], check=True)


def _size_of(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_a_full_disk_keeps_the_old_output_whole(small_disk, built):
    """The old output fits on the disk, a second copy beside it does not."""
    disk = small_disk(f"{(_size_of(built) * 3 // 2) // 1024}k")
    output = Path(shutil.copytree(built, disk / "output"))
    before = tree(disk)
    result = render("--out", str(output))
    assert_failed(result, 1, f"could not write {output}", "No space left on device",
                  f"{output} is left as it was")
    assert tree(disk) == before


def test_a_full_disk_leaves_nothing_behind(small_disk):
    disk = small_disk("256k")
    result = render("--out", str(disk / "output"))
    assert_failed(result, 1, "No space left on device", "nothing was written to")
    assert list(disk.iterdir()) == []


def test_a_read_only_disk_is_one_line(small_disk, built):
    disk = small_disk("16m")
    output = Path(shutil.copytree(built, disk / "output"))
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    before = tree(disk)
    result = render("--out", str(output))
    assert_failed(result, 1, "Read-only file system", f"{output} is left as it was")
    assert tree(disk) == before


def test_a_bind_mounted_output_is_one_line(tmp_path, output):
    """A bind mount on the same disk is no mount point to `os.path.ismount`: the swap fails."""
    if os.geteuid() != 0:
        pytest.skip("bind mounts need root (CI runs as root)")
    if subprocess.run(["mount", "--bind", str(output), str(output)], capture_output=True).returncode:
        pytest.skip("cannot bind-mount here")
    try:
        before = tree(tmp_path)
        result = render("--out", str(output))
        assert_failed(result, 1, "Device or resource busy", f"{output} is left as it was")
        assert tree(tmp_path) == before
    finally:
        subprocess.run(["umount", str(output)], check=True)


def test_the_root_of_a_mounted_disk_is_refused(small_disk):
    disk = small_disk("16m")
    refuse(disk, ["--out", str(disk)], 2, f"--out {disk}: is a mount point", f"--out {disk / 'atlas'}")


# --- stop signals (the writers are forked processes) ----------------------------------------

def _render_until_writing(output: Path, **options) -> subprocess.Popen:
    """Start a render into `output` and return once its writers have begun to write."""
    process = subprocess.Popen([sys.executable, "-m", "atlas.cli", "render", "--out", str(output)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        stages = list(output.parent.glob(f".{output.name}.new-*"))
        if any(p.name not in (STAGING_MARK,) for stage in stages for p in stage.iterdir()):
            return process
        time.sleep(0.01)
    process.kill()
    pytest.fail(f"the render never started writing: {process.communicate()}")


def _running(pid: int) -> bool:
    """Whether process `pid` is alive (not gone, not a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children_of(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(status.parent.name))
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_stop_signal_mid_render_keeps_the_old_output_and_leaves_no_staging(tmp_path, output, signum):
    before = tree(tmp_path)
    process = _render_until_writing(output)
    children = _children_of(process.pid)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    assert stdout == "" and stderr.strip() == (f"error: stopped by {signum.name}; {output} is left as it was")
    assert tree(tmp_path) == before
    assert [pid for pid in children if _running(pid)] == []  # the writers went too


def test_ctrl_c_to_the_whole_process_group_is_one_line(tmp_path, output):
    """A terminal's Ctrl-C reaches the forked writers too."""
    before = tree(tmp_path)
    process = _render_until_writing(output, start_new_session=True)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith("error: ") and f"{output} is left as it was" in stderr
    assert tree(tmp_path) == before


def test_a_killed_render_is_cleaned_up_by_the_next(tmp_path, output):
    process = _render_until_writing(output)
    children = _children_of(process.pid)
    process.kill()
    process.wait()
    for pid in children:  # orphaned writers finish on their own; till then they hold the lock
        while _running(pid):
            time.sleep(0.05)
    assert [p.name for p in tmp_path.glob(".output.new-*")]  # the kill left its staging folder
    assert_exit(render("--out", str(output)), 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output"]


# --- atlas ingest --out: a review file, never an input ----------------------------------------

@pytest.fixture
def article(tmp_path) -> Path:
    source = ARTICLES / "003_c4c8725dee9525af.txt"
    if not source.exists():
        pytest.skip(f"no shared articles at {ARTICLES}")
    return Path(shutil.copy(source, tmp_path / "report.txt"))


def test_ingest_never_writes_its_review_over_the_article(tmp_path, article):
    before = tree(tmp_path)
    result = CliRunner().invoke(cli, ["ingest", str(article), "--out", str(article), "--force"])
    assert_failed(result, 2, f"--out {article}: is the article {article}")
    assert tree(tmp_path) == before


def test_ingest_never_writes_its_review_into_the_seeds(tmp_path, article):
    seeds = copy_seeds(tmp_path / "seeds")
    before = tree(tmp_path)
    result = CliRunner().invoke(cli, ["ingest", str(article), "--seeds", str(seeds),
                                      "--out", str(seeds / "places.yaml"), "--force"])
    assert_failed(result, 2, "lies inside the seeds folder")
    assert tree(tmp_path) == before


def test_ingest_on_a_read_only_disk_is_one_line(small_disk, article):
    disk = small_disk("1m")
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    result = CliRunner().invoke(cli, ["ingest", str(article), "--out", str(disk / "report.review.yaml")])
    assert_failed(result, 1, "Read-only file system", "nothing was changed")
    assert list(disk.iterdir()) == []
