"""Where the shared source articles live: `../shared` beside the checkout (CI puts them there too)."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ATLAS_SHARED", REPO.parent / "shared"))
ARTICLES = SHARED / "seeds"
EXTERNAL_FACTS = SHARED / "external-facts.md"


def normalise_space(text: str) -> str:
    """Collapse every run of whitespace to one space, so line breaks never hide a match."""
    return re.sub(r"\s+", " ", text).strip()


@cache
def source_text(path: Path) -> str:
    return normalise_space(path.read_text(encoding="utf-8"))
