"""The read-only warehouse reader: every read of a published warehouse goes through here.

Used by the ``metrics`` command, the dashboard's data layer, the what-if baseline and
the quality gate. A connection is a fresh in-memory DuckDB with the warehouse file
attached read-only, closed when the ``with`` block ends:

- nothing is ever locked, so ``build`` can publish a new file while readers read;
- not ``duckdb.connect(path)``: DuckDB shares one database instance per path inside a
  process, so while any connection to an old file is open a new ``connect`` would still
  read the replaced file after a publish. An attach always opens the file that is at the
  path now.

It also reads what every reader needs: the build (``marts.dim_build``), the metric
catalog (``reference.metric_catalog``: ids, sections, units, directions, labels) and the
segments (``marts.dim_segments``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from .errors import UserError

# Units whose value is an object keyed by step, method or reason.
KEYED_UNITS = ("rate_by_key", "count_by_key")
COUNT_UNITS = ("count", "count_by_key")
RATE_UNITS = ("rate", "rate_by_key")


@dataclass(frozen=True)
class Metric:
    """One row of the metric catalog seed."""

    metric_id: str
    section: str
    unit: str
    label: str
    direction: str = "neutral"  # higher, lower or neutral: which way is good news
    grain: str = ""
    definition: str = ""

    @property
    def keyed(self) -> bool:
        return self.unit in KEYED_UNITS

    @property
    def is_rate(self) -> bool:
        return self.unit in RATE_UNITS


@dataclass(frozen=True)
class Build:
    as_of: datetime
    reporting_currency: str
    parameters: dict


@contextmanager
def connect(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection to the warehouse at ``path``.

    Relations are named as in the warehouse (``marts.fct_monthly_metrics``). Raises
    :class:`UserError` when there is no warehouse there or it cannot be opened.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(
            f"no warehouse at {path}: run `upgrade-warehouse build` first "
            "(or pass --warehouse PATH)"
        )
    con = duckdb.connect(":memory:")
    try:
        quoted = str(path).replace("'", "''")
        try:
            con.execute(f"attach '{quoted}' as warehouse (read_only)")
        except duckdb.Error as exc:
            raise UserError(f"{path}: cannot open the warehouse: {_first_line(exc)}") from None
        con.execute("use warehouse")
        yield con
    finally:
        con.close()


def relations(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Every ``schema.table`` of the warehouse."""
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_catalog = current_database()"
    ).fetchall()
    return frozenset(r[0] for r in rows)


# Relations this version of the readers needs: a warehouse built by an older version
# lacks some of them and has to be rebuilt.
REQUIRED = (
    "marts.dim_build",
    "marts.dim_segments",
    "marts.fct_monthly_metrics",
    "marts.fct_monthly_metrics_by_segment",
    "marts.fct_monthly_metric_breakdowns_by_segment",
)


def check_version(con: duckdb.DuckDBPyConnection, path: str | Path) -> None:
    """A UserError unless the file is a warehouse this version reads: a DuckDB file of
    something else, or one whose catalog cannot be read, is named as such."""
    try:
        present = relations(con)
        if "marts.dim_build" in present:
            con.execute("select as_of from marts.dim_build limit 1").fetchall()
    except duckdb.Error as exc:
        raise UserError(f"{path}: cannot read the warehouse: {_first_line(exc)}") from None
    if "marts.dim_build" not in present and "raw.build_info" not in present:
        raise UserError(
            f"{path}: a DuckDB file, but not a warehouse of upgrade-warehouse (no "
            "marts.dim_build): pass the --warehouse that `upgrade-warehouse build` wrote"
        )
    missing = [r for r in REQUIRED if r not in present]
    if missing:
        raise UserError(
            f"{path} was built by an older version of upgrade-warehouse (it has no "
            f"{', '.join(missing)}): run `upgrade-warehouse build` again"
        )


def check(path: str | Path) -> None:
    """Open the warehouse at ``path`` and check it is one this version reads: what every
    command that serves or reads a warehouse does before any work (a text file, an empty
    or truncated file, a DuckDB file of something else: one UserError naming the file)."""
    with connect(path) as con:
        check_version(con, path)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_build(con: duckdb.DuckDBPyConnection) -> Build:
    as_of, currency, parameters_json = con.execute(
        "select as_of, reporting_currency, parameters_json from marts.dim_build"
    ).fetchone()
    return Build(as_of, currency, json.loads(parameters_json))


# The catalog section of the experiment metrics (metrics.md "Experiments"): they have their
# own marts and command, not a column of the monthly metrics.
EXPERIMENTS_SECTION = "experiments"


def read_catalog(con: duckdb.DuckDBPyConnection, section: str | None = None) -> list[Metric]:
    """The metric catalog in catalog order (the seed's row order): the monthly metrics,
    or with ``section`` only that section's (e.g. ``experiments``)."""
    if section is None:
        where, args = "where section <> $section", {"section": EXPERIMENTS_SECTION}
    else:
        where, args = "where section = $section", {"section": section}
    rows = con.execute(
        "select metric_id, section, unit, label, direction, grain, definition "
        f"from reference.metric_catalog {where}",
        args,
    ).fetchall()
    return [Metric(*row) for row in rows]


# The account attributes of metrics.md "Segments" (the dbt macro segment_dimensions()):
# what --by accepts even when the warehouse has no account, so no segment row.
SEGMENT_DIMENSIONS = ("persona", "acquisition_source", "segment", "country")


def read_dimensions(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The account attributes a metric can be split by (metrics.md "Segments"): those of
    the warehouse's segments, or the spec's four when it has no accepted account (then
    splitting by one gives no segment, not an error)."""
    rows = con.execute(
        "select distinct segment_dimension, dimension_order from marts.dim_segments "
        "where segment_dimension <> 'all' order by dimension_order"
    ).fetchall()
    return [r[0] for r in rows] or list(SEGMENT_DIMENSIONS)


def read_segments(con: duckdb.DuckDBPyConnection, dimension: str) -> list[tuple[str | None, int]]:
    """(value, accounts) of each segment of ``dimension``: by value, null last."""
    return con.execute(
        "select segment_value, accounts from marts.dim_segments "
        "where segment_dimension = $dimension order by segment_value nulls last",
        {"dimension": dimension},
    ).fetchall()
