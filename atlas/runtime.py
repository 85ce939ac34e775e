"""Process-wide settings the commands and the large writers share."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a while.

    A render builds millions of small objects (100,000 places) and frees next to none in
    reference cycles; each full collection would walk them all again, a third of a large
    render's time and two thirds of the book's. Reference counting still frees the rest."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
