"""Real exports: landed sources mapped to the raw contract (docs/sources.md).

The map phase lives in :mod:`.phase` (``map_sources``, ``finish_duckdb``, ...), re-exported
here lazily: a build without ``sources.yml`` imports neither polars nor the shapes.
"""

from __future__ import annotations

_PHASE = (
    "Mapped",
    "map_sources",
    "finish_duckdb",
    "finish_spark",
    "finish_report",
    "attribute_loader_quarantine",
    "source_report_rows",
    "counts_dict",
)


def __getattr__(name: str):
    if name in _PHASE:
        from . import phase

        return getattr(phase, name)
    raise AttributeError(name)
