"""Helpers for tests that need a private, editable copy of the bundled seeds."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from atlas.load import default_seeds_dir


class _PlainDumper(yaml.SafeDumper):
    """Writes a value shared by two entries out twice: atlas refuses YAML anchors and aliases."""

    def ignore_aliases(self, data):
        return True


def copy_seeds(dest: Path) -> Path:
    """Copy the bundled seeds into `dest` (created) and return it."""
    shutil.copytree(default_seeds_dir(), dest, dirs_exist_ok=True)
    return dest


def edit_seed(seeds: Path, kind: str, change) -> None:
    """Load `seeds/<kind>.yaml`, let `change(entries)` mutate its list, write it back."""
    path = seeds / f"{kind}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data[kind])
    path.write_text(yaml.dump(data, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False), encoding="utf-8")


def entry(entries: list, ident: str, key: str = "id") -> dict:
    return next(e for e in entries if e[key] == ident)
