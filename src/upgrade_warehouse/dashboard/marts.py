"""Reading the marts: the read-only cached query helpers, the warehouse's facts and segments.

The dashboard's data access is this module and one ``*_data`` module per page family
(all the SQL of the dashboard); :mod:`.data` re-exports them for the pages.

- Every query goes through the read-only warehouse reader (:mod:`upgrade_warehouse.warehouse`):
  a short-lived connection to the file attached read-only, closed before the query
  returns. ``build`` publishes a new warehouse with an atomic rename: a reader keeps the
  file it opened, the next query opens the new one; nothing is ever locked.
- Only marts and seeds are read (never a ``raw.*`` relation), and no metric is computed
  here: rates, shares, percentiles and all-months totals come from dbt. Queries select,
  filter and (for plain lists) count; the segment counts behind a rate come with it.
  The one exception, the Funnel's month range, adds the marts' counts and the counts
  behind each rate up over the months (:mod:`.funnel_data` says how).
- Queries are parameterized (``$name``); identifiers (a segment dimension, an upsell
  play) are checked against the warehouse's own list before they are used.
- Results are cached with ``st.cache_data`` for a short ttl, keyed by the warehouse's
  :class:`Ref` (path + modification time + size + inode), so a newly published
  warehouse is read on the next page load, whatever the ttl.
- Optional inputs: :func:`loaded_tables` says which source tables were loaded and
  :func:`has_table` whether a relation exists (marts and checks built by newer
  versions), so the pages can show an empty state instead of failing.

Months are passed as ``YYYY-MM`` text; ``None`` = all months (the all-months rows of
the marts, whose month is null). A segment is a :class:`Segment`: ``ALL`` (every
account) or (dimension, value), value ``None`` = the accounts without a value.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import streamlit as st

from .. import warehouse
from ..errors import UserError
from ..metrics import number, read_metrics
from ..paths import DEFAULT_WAREHOUSE, project_dir
from .config import load_config

WAREHOUSE_ENV = "UPGRADE_WAREHOUSE_DASHBOARD_WAREHOUSE"

try:
    TTL = load_config().cache_ttl_seconds
except UserError:  # a broken config is reported by the app; the cache still works
    TTL = 60

_cache = st.cache_data(ttl=TTL, max_entries=256, show_spinner=False)


class Ref(NamedTuple):
    """One published version of the warehouse file (the cache key of every query)."""

    path: str
    mtime_ns: int
    size: int
    inode: int


class Segment(NamedTuple):
    """A set of accounts: ``ALL``, or those with ``value`` in attribute ``dimension``."""

    dimension: str
    value: str | None

    @property
    def label(self) -> str:
        if self.dimension == "all":
            return "All accounts"
        return "(none)" if self.value is None else str(self.value)


ALL = Segment("all", "all")


class WarehouseMissing(UserError):
    pass


def warehouse_path() -> Path:
    """The warehouse the dashboard serves (``$UPGRADE_WAREHOUSE_DASHBOARD_WAREHOUSE``)."""
    override = os.environ.get(WAREHOUSE_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return (project_dir() / DEFAULT_WAREHOUSE).resolve()


def current(path: Path | None = None) -> Ref:
    """The warehouse file as it is now (re-read on every page run: a cheap ``stat``)."""
    path = Path(path) if path is not None else warehouse_path()
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise WarehouseMissing(
            f"no warehouse at {path}: run `upgrade-warehouse build` first"
        ) from None
    return Ref(str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)


def _df(ref: Ref, sql: str, params: dict | None = None) -> pd.DataFrame:
    with warehouse.connect(ref.path) as con:
        return con.execute(sql, params or {}).df()


def _records(ref: Ref, sql: str, params: dict | None = None) -> list[dict]:
    """Rows as dicts, nulls as None (not NaN)."""
    with warehouse.connect(ref.path) as con:
        cursor = con.execute(sql, params or {})
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def _month_param(month: str | None) -> str | None:
    """``YYYY-MM`` -> the first day, for ``cast($month as date)`` (None = all months)."""
    if month is None:
        return None
    datetime.strptime(month, "%Y-%m")  # raises on anything else
    return f"{month}-01"


# The period filter of a mart with all-months rows (month null): one month, or all.
PERIOD = "month is not distinct from cast($month as date)"
ALL_ACCOUNTS = "segment_dimension = 'all'"


def _segments_filter(segments: tuple[Segment, ...], params: dict, prefix: str = "") -> str:
    """``(segment_dimension, segment_value)`` is one of ``segments`` (null-safe)."""
    if not segments:
        return "false"
    parts = []
    for i, segment in enumerate(segments):
        params[f"sd{i}"], params[f"sv{i}"] = segment.dimension, segment.value
        parts.append(
            f"({prefix}segment_dimension = $sd{i} and "
            f"{prefix}segment_value is not distinct from $sv{i})"
        )
    return "(" + " or ".join(parts) + ")"


def _accounts_of(ref: Ref, segment: Segment, params: dict, column: str = "account_id") -> str:
    """``column`` is an account of ``segment`` (true for all accounts)."""
    if segment.dimension == "all":
        return "true"
    if segment.dimension not in segment_dimensions(ref):  # an identifier: checked first
        raise ValueError(f"unknown segment dimension {segment.dimension!r}")
    name = f"account_value{len(params)}"
    params[name] = segment.value
    return (
        f"{column} in (select account_id from marts.dim_accounts "
        f"where {segment.dimension} is not distinct from ${name})"
    )


# ------------------------------------------------------------------------- the warehouse


@_cache
def relations(ref: Ref) -> frozenset[str]:
    """Every ``schema.table`` in the warehouse."""
    with warehouse.connect(ref.path) as con:
        return warehouse.relations(con)


def has_table(ref: Ref, name: str) -> bool:
    return name in relations(ref)


def missing_marts(ref: Ref) -> list[str]:
    """Marts this dashboard needs that the warehouse lacks (built by an older version)."""
    return [r for r in warehouse.REQUIRED if not has_table(ref, r)]


@_cache
def build_info(ref: Ref) -> dict:
    with warehouse.connect(ref.path) as con:
        build = warehouse.read_build(con)
    return {
        "as_of": build.as_of,
        "reporting_currency": build.reporting_currency,
        "parameters": build.parameters,
        "published_at": datetime.fromtimestamp(ref.mtime_ns / 1e9).astimezone(),
    }


@_cache
def has_accounts(ref: Ref) -> bool:
    """Whether the warehouse has an accepted account (else every page about accounts has
    nothing to show: app.py says so)."""
    with warehouse.connect(ref.path) as con:
        return con.execute("select exists (select 1 from marts.dim_accounts)").fetchone()[0]


@_cache
def loaded_tables(ref: Ref) -> dict[str, bool]:
    """Source table -> whether a file was loaded for it."""
    with warehouse.connect(ref.path) as con:
        rows = con.execute("select table_name, is_loaded from marts.fct_load_report").fetchall()
    return {name: bool(loaded) for name, loaded in rows}


@_cache
def metrics(ref: Ref) -> dict:
    """The ``metrics --format json`` object (the very same function computes it)."""
    return read_metrics(Path(ref.path))


@_cache
def metric_catalog(ref: Ref) -> pd.DataFrame:
    """metric_id, section, unit, direction, grain, label, definition, in catalog order."""
    with warehouse.connect(ref.path) as con:
        catalog = warehouse.read_catalog(con)
    return pd.DataFrame([m.__dict__ for m in catalog])


# ---------------------------------------------------------------------------- segments


@_cache
def segment_dimensions(ref: Ref) -> list[str]:
    """The account attributes to segment by (persona, acquisition_source, ...)."""
    with warehouse.connect(ref.path) as con:
        return warehouse.read_dimensions(con)


@_cache
def segment_values(ref: Ref, dimension: str) -> list[tuple[str | None, int]]:
    """(value, accounts) of each segment of ``dimension``, by value, none last."""
    with warehouse.connect(ref.path) as con:
        return warehouse.read_segments(con, dimension)


@_cache
def segment_metrics(ref: Ref, segments: tuple[Segment, ...]) -> list[dict]:
    """Every row of ``fct_monthly_metrics_by_segment`` of these segments: each metric id
    (catalog units applied as in ``metrics``), the counts behind each rate
    (``<id>__numerator``, ``<id>__denominator``), ``month`` as YYYY-MM (None = all months)
    and ``segment`` (the :class:`Segment`)."""
    params: dict = {}
    rows = _records(
        ref,
        f"""
        select strftime(month, '%Y-%m') as month_label, *
        from marts.fct_monthly_metrics_by_segment
        where {_segments_filter(segments, params)}
        order by month nulls last
        """,
        params,
    )
    units = {m["metric_id"]: m["unit"] for m in metric_catalog(ref).to_dict("records")}
    out = []
    for row in rows:
        values = {k: number(v, units[k]) if k in units else v for k, v in row.items()}
        values["month"] = row["month_label"]
        values["segment"] = Segment(row["segment_dimension"], row["segment_value"])
        del values["month_label"]
        out.append(values)
    return out


@_cache
def segment_breakdowns(ref: Ref, segments: tuple[Segment, ...]) -> list[dict]:
    """The keyed metrics of these segments, every period: month (YYYY-MM, None = all
    months), metric_id, breakdown_key, metric_value, metric_numerator,
    metric_denominator, segment."""
    params: dict = {}
    rows = _records(
        ref,
        f"""
        select strftime(month, '%Y-%m') as month, segment_dimension, segment_value,
               metric_id, breakdown_key, breakdown_order,
               metric_value, metric_numerator, metric_denominator
        from marts.fct_monthly_metric_breakdowns_by_segment
        where {_segments_filter(segments, params)}
        order by month nulls last, metric_id, breakdown_order, breakdown_key
        """,
        params,
    )
    for row in rows:
        row["segment"] = Segment(row.pop("segment_dimension"), row.pop("segment_value"))
    return rows
