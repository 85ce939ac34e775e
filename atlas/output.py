"""The output folder of `atlas render --out DIR`: written beside DIR, swapped in whole, and
never put over anything atlas did not write.

Every output holds `.atlas-manifest.json`, the sorted list of the files atlas wrote into it.
DIR is replaced only when it is missing, empty, or holds nothing but what its manifest lists;
any other folder, the working folder, a folder holding (or inside) an input, a symbolic link
to any of these and a mount point are refused before anything is written (`OutputRefused`,
exit code 2). A lock file beside DIR keeps a second render out while one writes it; staging
folders a killed render left behind are removed by the next. A full or read-only disk, or a
SIGTERM / SIGINT / SIGHUP, ends the render with one line (`RunError`, exit code 1), DIR as it
was and no staging folder left.
"""

from __future__ import annotations

import errno
import glob
import json
import os
import re
import secrets
import shutil
import signal
import stat
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from .errors import AtlasError, RunError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; renders into one folder are not kept apart there
    fcntl = None

MANIFEST = ".atlas-manifest.json"
STAGING_MARK = ".atlas-staging"  # in a staging folder until it is complete: proof atlas made it
MANIFEST_MAX_BYTES = 64 * 2**20  # a book of 100,000 places lists about 5 MB of paths
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name))
# Errors from the disk that reach us as text rather than an OSError (GDAL and SQLite in pyogrio).
DISK_ERRORS = ("No space left on device", "database or disk is full", "Disk quota exceeded",
               "Read-only file system", "Input/output error")


class OutputRefused(AtlasError):
    """`--out` names a folder atlas may not replace: nothing was written."""

    exit_code = 2


class Interrupted(BaseException):
    """A stop signal arrived mid-render. A BaseException, as KeyboardInterrupt is, so that no
    `except Exception` on the way swallows it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)


def manifest_bytes(files: list[str]) -> bytes:
    """The manifest of an output holding `files` (relative POSIX paths): sorted, no timestamps."""
    return (json.dumps({"files": sorted(files), "written_by": "atlas render"}, ensure_ascii=False, indent=1)
            + "\n").encode("utf-8")


def listed_files(folder: Path) -> frozenset[str] | None:
    """The files `folder`'s manifest lists, or None if it has none atlas could have written."""
    try:
        with open(folder / MANIFEST, "rb") as handle:
            text = handle.read(MANIFEST_MAX_BYTES + 1)
        data = json.loads(text) if len(text) <= MANIFEST_MAX_BYTES else None
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return frozenset(files)


def listed_folders(listed: frozenset[str]) -> set[str]:
    """Every folder above a listed file ("places", "places/maps")."""
    folders: set[str] = set()
    for name in listed:  # string cuts, not PurePosixPath: ten times faster at 100,000 files
        cut = name.rfind("/")
        while cut > 0 and name[:cut] not in folders:
            folders.add(name[:cut])
            cut = name.rfind("/", 0, cut)
    return folders


def unlisted(folder: Path, listed: frozenset[str]) -> list[str]:
    """Everything in `folder` its manifest does not account for, as relative paths (folders
    with a trailing '/'): files it does not list, symbolic links, folders holding no listed file."""
    folders = listed_folders(listed)
    found, pending = [], [""]
    while pending:
        prefix = pending.pop()
        with os.scandir(folder / prefix) as entries:
            for entry in entries:
                name = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    if name in folders:
                        pending.append(name + "/")
                    else:
                        found.append(name + "/")
                elif not (name in listed and entry.is_file(follow_symlinks=False)) and name not in (MANIFEST, STAGING_MARK):
                    found.append(name)
    return sorted(found)


def written_by_atlas(folder: Path) -> bool:
    """Whether `folder` holds only what its manifest lists (or is a staging folder atlas made)."""
    if (folder / STAGING_MARK).is_file():
        return True
    listed = listed_files(folder)
    return listed is not None and not unlisted(folder, listed)


class Target:
    """Where `--out` leads, checked before anything is written (see `check`)."""

    def __init__(self, given: Path, inputs: Mapping[str, Path | None]):
        self.given = Path(given)
        self.path = Path(os.path.realpath(self.given))  # every symbolic link on the way followed
        self.link = os.path.islink(self.given)
        self.inputs = {label: Path(os.path.realpath(path)) for label, path in inputs.items() if path is not None}

    @property
    def parent(self) -> Path:
        return self.path.parent

    def beside(self, kind: str) -> Path:
        """A path beside the output, hidden, named after it: `.output.lock`, `.output.new-...`."""
        return self.parent / f".{self.path.name}.{kind}"

    def refuse(self, why: str) -> OutputRefused:
        return OutputRefused(f"--out {self.given}: {why}")

    def check(self) -> None:
        """Refuse any target that is not a folder atlas may write: see the module's docstring."""
        path = self.path
        if os.path.islink(path):
            raise self.refuse("is a loop of symbolic links")
        if self.link and not path.exists():
            raise self.refuse(f"is a symbolic link to {path}, which does not exist; give a real folder")
        existing = next(p for p in (path, *path.parents) if os.path.lexists(p))
        if not existing.is_dir():
            what = "is a file" if existing == path else f"lies below {existing}, which is a file"
            raise self.refuse(f"{what}, not a folder")
        here = Path(os.path.realpath(os.getcwd()))
        if path == here or path in here.parents:
            raise self.refuse(f"{'is' if path == here else 'holds'} the working folder; give a new folder, "
                              "e.g. --out output")
        if clash := _clash(path, self.inputs):
            raise self.refuse(clash)
        if path.exists() and os.path.ismount(path):
            raise self.refuse(f"is a mount point, which cannot be replaced; give a folder inside it, "
                              f"e.g. --out {self.given / 'atlas'}")

    def check_contents(self) -> None:
        """Refuse a folder holding anything atlas did not write there."""
        self.folders: set[str] = set()
        self.stamps = self._stamps()
        if self.stamps is None or not any(os.scandir(self.path)):
            return
        link = f"is a symbolic link to {self.path}, " if self.link else ""
        listed = listed_files(self.path)
        if listed is None:
            raise self.refuse(f"{link or 'is '}a folder atlas did not write (not empty, no {MANIFEST}); give a "
                              "new or empty folder, or delete this one if an older atlas wrote it")
        if foreign := unlisted(self.path, listed):
            more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
            link = f"is a symbolic link to {self.path}, in which " if self.link else ""
            raise self.refuse(f"{link}{(self.path if link else self.given) / foreign[0]}{more} was not written "
                              "by atlas; move it out of the folder, or give a new or empty folder")
        self.folders = listed_folders(listed)
        self.stamps = self._stamps()

    def changed(self) -> bool:
        """Whether an entry was added, removed or renamed in the folder or a folder in it since
        `check_contents`, as their modification times tell: a few `stat`s, not a walk."""
        return self._stamps() != self.stamps

    def _stamps(self) -> dict[str, int] | None:
        if not self.path.is_dir():
            return None
        stamps = {}
        for name in ("", *self.folders):
            with suppress(FileNotFoundError):
                stamps[name] = os.stat(self.path / name).st_mtime_ns
        return stamps


def _clash(path: Path, inputs: Mapping[str, Path]) -> str | None:
    """Why `path` (real) may not be written, given the real paths of the inputs, if it may not."""
    for label, kept in inputs.items():
        if path == kept or path in kept.parents:
            return f"{'is' if path == kept else 'holds'} the {label} {kept}; give another path"
        if kept in path.parents:
            return f"lies inside the {label} {kept}; give a path outside it"
    return None


def check_output_file(out: Path, inputs: Mapping[str, Path | None]) -> None:
    """Refuse an output file (`atlas ingest --out`) that is, or lies inside, one of `inputs`,
    even with --force: that replaces a review file, never an article or a seed file."""
    real = {label: Path(os.path.realpath(path)) for label, path in inputs.items() if path is not None}
    if clash := _clash(Path(os.path.realpath(out)), real):
        raise OutputRefused(f"--out {out}: {clash}")


@contextmanager
def staged_directory(out: Path, inputs: Mapping[str, Path | None] | None = None) -> Iterator[Path]:
    """Yield a fresh staging folder beside `out` to write into; when the block ends, it gets
    its manifest and replaces `out` whole (two renames on one file system), keeping the mode
    of the folder it replaces (a new one follows the umask).

    `inputs` ({"seeds folder": path, ...}) are what `out` may neither be, hold, nor lie in.
    Everything about `out` is checked before the block starts, under a lock held to the end.
    Until the swap the old `out` stays whole; a failure or stop signal removes the staging folder.
    """
    target = Target(out, inputs or {})
    target.check()
    created = _missing_parents(target.parent)
    stage = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _Stops() as stops, _locked(target):
            target.check_contents()
            _remove_stale(target)
            stage = _new_stage(target)
            try:
                yield stage
                if stops.stopped is not None:  # a stop swallowed where it landed (a fork hook) still stops the swap
                    raise Interrupted(stops.stopped)
                with stops.held():
                    _commit(stage, target)
            except BaseException:
                with stops.held():
                    _remove(stage)
                raise
    except BaseException as exc:
        for folder in created:
            with suppress(OSError):
                folder.rmdir()
        if (error := _as_run_error(exc, target, stage)) is None:
            raise
        raise error from None


def _missing_parents(folder: Path) -> list[Path]:
    """The folders `mkdir(parents=True)` would create for `folder`, deepest first."""
    return [p for p in (folder, *folder.parents) if not os.path.lexists(p)]


@contextmanager
def _locked(target: Target) -> Iterator[None]:
    """Hold an exclusive lock on `.NAME.lock` beside the output, or refuse at once if another
    render holds it. The file goes when the lock does; one made anew meanwhile is locked anew."""
    if fcntl is None:
        yield
        return
    path = target.beside("lock")
    planted = target.refuse(f"{path} is not a lock file atlas made (a link or a special file); remove it")
    while True:
        try:  # never through a link, never blocking on a FIFO
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o666)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENXIO):
                raise planted from None
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise planted
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            holder = holder if holder.isdigit() else ""
            os.close(fd)
            raise RunError(f"--out {target.given}: another atlas render{f' (process {holder})' if holder else ''} "
                           "is writing it; wait for it to finish, or give another --out") from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the file was removed by the render that held it: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield
    finally:
        with suppress(OSError):
            os.unlink(path)
        os.close(fd)


class _Stops:
    """Stop signals raised as `Interrupted` in the rendering process, so its cleanup runs;
    held back while the output is swapped in or a staging folder removed. A forked writer that
    gets one dies of it, as it would without this handler."""

    def __init__(self):
        self.owner = os.getpid()
        self.holding = False
        self.stopped: int | None = None  # remembered: a signal raised inside a fork hook is swallowed there
        self.previous: dict[int, object] = {}

    def __enter__(self) -> _Stops:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                if signal.getsignal(signum) is not signal.SIG_IGN:  # under nohup, SIGHUP stays ignored
                    self.previous[signum] = signal.signal(signum, self._stop)
        return self

    def __exit__(self, kind, error, trace) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def _stop(self, signum, frame) -> None:
        if os.getpid() != self.owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self.stopped = signum
        if not self.holding:
            raise Interrupted(signum)

    @contextmanager
    def held(self) -> Iterator[None]:
        self.holding = True
        try:
            yield
        finally:
            self.holding = False


def _remove_stale(target: Target) -> None:
    """Remove the staging folders (`.NAME.new-*`) and set-aside old outputs (`.NAME.old-*`) a
    killed render left beside the output. Called under the lock, so none is a running render's;
    only folders atlas can prove it made go."""
    ours = re.compile(rf"\.{re.escape(target.path.name)}\.(new|old)-[0-9a-f]{{8}}")  # not another output's
    for leftover in target.parent.glob(f".{glob.escape(target.path.name)}.*"):
        if (ours.fullmatch(leftover.name) and leftover.is_dir() and not leftover.is_symlink()
                and written_by_atlas(leftover)):
            _remove(leftover)


def _new_stage(target: Target) -> Path:
    """An empty staging folder beside the output (its mode from the umask), marked as atlas's."""
    while True:
        stage = target.beside(f"new-{secrets.token_hex(4)}")
        try:
            stage.mkdir()
            break
        except FileExistsError:
            continue
    (stage / STAGING_MARK).write_bytes(b"a staging folder of atlas render; the next render removes it\n")
    return stage


def _commit(stage: Path, target: Target) -> None:
    """Write the manifest, then swap the staging folder in for the output."""
    files = []
    for root, _, names in os.walk(stage):
        prefix = Path(root).relative_to(stage).as_posix()
        files += [name if prefix == "." else f"{prefix}/{name}" for name in names if name != STAGING_MARK]
    (stage / MANIFEST).write_bytes(manifest_bytes(files))
    if target.changed():  # during the render
        target.check_contents()
    out = target.path
    old = None
    if out.exists():
        os.chmod(stage, stat.S_IMODE(out.stat().st_mode))
        old = target.beside(f"old-{stage.name.rsplit('-', 1)[-1]}")
        os.replace(out, old)
    try:
        os.replace(stage, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
        raise
    (out / STAGING_MARK).unlink()
    if old is not None:
        _remove(old)


def _remove(folder: Path) -> None:
    """Remove a staging folder or old output, its proof of origin last, so one half removed by
    a kill is still recognised (and removed) by the next render."""
    if not folder.exists():
        return
    proof = [folder / STAGING_MARK, folder / MANIFEST]
    with os.scandir(folder) as entries:
        for entry in entries:
            path = Path(entry.path)
            if path in proof:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
    for path in proof:
        path.unlink(missing_ok=True)
    folder.rmdir()


def _as_run_error(exc: BaseException, target: Target, stage: Path | None) -> RunError | None:
    """A stop signal, a full or read-only disk or another failure of the system as one line;
    None for anything else (a bug keeps its traceback)."""
    if isinstance(exc, AtlasError):
        return None
    kept = (f"{target.given} is left as it was" if target.path.exists()
            else f"nothing was written to {target.given}")
    if isinstance(exc, (Interrupted, KeyboardInterrupt)):
        name = exc.args[0] if isinstance(exc, Interrupted) else "SIGINT"
        return RunError(f"stopped by {name}; {kept}")
    if isinstance(exc, OSError) and exc.errno is not None:
        where = str(exc.filename or target.given)
        if stage is not None and where.startswith(str(stage)):
            where = str(target.given) + where[len(str(stage)):]
        ours = where.startswith((str(target.given), str(target.parent)))
        return RunError(f"{'could not write ' if ours else ''}{where}: {exc.strerror}; {kept}")
    problem = next((problem for problem in DISK_ERRORS if problem in str(exc)), None)
    return RunError(f"could not write {target.given}: {problem}; {kept}") if problem else None
