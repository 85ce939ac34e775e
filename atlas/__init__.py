"""Chongqing Green Atlas: curated designations and figures, geocoded and mapped.

The pipeline reads left to right: seeds -> load/validate -> geocode -> layers -> render/export.
"""

__version__ = "0.1.0"
