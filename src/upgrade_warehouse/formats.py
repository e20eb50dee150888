"""Output and file format names, one list each (``shared/spec/cli.md``): every command's
``--format`` takes one of these enums, so typer lists the choices in ``--help`` and
rejects anything else with exit 2."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum


class OutputFormat(StrEnum):
    """What `metrics`, `winback` and `quote` print (quote: table or json for one change,
    csv or json for a batch)."""

    table = "table"
    json = "json"
    csv = "csv"


class BuildFormat(StrEnum):
    """What `build` prints: the text report or the JSON build report."""

    text = "text"
    json = "json"


class FileFormat(StrEnum):
    """The files `generate` writes."""

    csv = "csv"
    parquet = "parquet"


def format_ts(ts: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` (the build report's as_of)."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts.isoformat(timespec="microseconds" if ts.microsecond else "seconds") + "Z"
