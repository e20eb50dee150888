"""Output and file format names, one list each (``shared/spec/cli.md``): every command's
``--format`` takes one of these enums, so typer lists the choices in ``--help`` and
rejects anything else with exit 2."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class OutputFormat(StrEnum):
    """What `metrics`, `winback` and `quote` print (quote: table or json for one change,
    csv or json for a batch)."""

    table = "table"
    json = "json"
    csv = "csv"


# The options the report commands (metrics, movers, experiments) share, with their help.
WarehouseOption = Annotated[Path, typer.Option("--warehouse", help="The warehouse file.")]
TableFormatOption = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")]


def by_option(rows: str):
    """``--by DIM``: split every one of ``rows`` (metric, experiment) by an account
    attribute (metrics.md "Segments")."""
    return Annotated[
        str | None,
        typer.Option(
            "--by",
            metavar="DIM",
            help=f"Split every {rows} by an account attribute: persona, acquisition_source, "
            'segment or country (metrics.md "Segments").',
        ),
    ]


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
