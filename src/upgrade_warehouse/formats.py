"""Output and file format names, one list each (``shared/spec/cli.md``): every command's
``--format`` takes one of these enums, so typer lists the choices in ``--help`` and
rejects anything else with exit 2."""

from __future__ import annotations

import math
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


# The options the commands share, with their help (--warehouse: the report commands,
# winback, review-pack, dashboard).
WarehouseOption = Annotated[Path, typer.Option("--warehouse", help="The warehouse file.")]
TableFormatOption = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")]


def port_option(help: str):
    """``--port N``, 1 to 65535, with what the command serves there."""
    return Annotated[int, typer.Option("--port", min=1, max=65535, help=help)]


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


# ----------------------------------------------------------------------------- numbers


# Duration units of the catalog, in seconds.
DURATION_SECONDS = {"seconds": 1, "hours": 3600, "days": 86400}


def duration_unit(seconds: float) -> tuple[float, str]:
    """The unit people read a duration in, the one rule for the page, the CSV, the Excel
    workbook and the CLI: (size of the unit in seconds, suffix) among s, min, h and d,
    the first whose one-decimal value stays under the next unit's size (9.7 min, not
    0.2 h; 59.96 s would round to 60.0 s, so it reads 1.0 min)."""
    magnitude = abs(seconds)
    for size, next_size, suffix in ((1, 60, "s"), (60, 3600, "min"), (3600, 86400, "h")):
        if round(magnitude / size, 1) < next_size / size:
            return size, suffix
    return 86400, "d"


def format_duration(seconds: float) -> str:
    """A duration in the unit people read it in: 0.8 s, 12.5 min, 3.2 h, 4.1 d (one
    decimal, :func:`duration_unit`)."""
    size, suffix = duration_unit(seconds)
    return f"{seconds / size:,.1f} {suffix}"


def format_probability(p: float | None) -> str:
    """A probability (a win-back score, a chance to beat control, a calibration bin) as
    people read it, the one rule everywhere: a percent with one decimal like a rate
    (12.3%), "–" for none."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return f"{p:.1%}"


def format_p_value(p: float | None) -> str:
    """A test's p-value: three decimals (0.012), "< 0.001" below that, "–" for none."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
