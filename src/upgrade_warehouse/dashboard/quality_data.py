"""The Data quality page's queries: load and source reports, quarantine, expectations, docs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .marts import Ref, _cache, _df, has_table

# ------------------------------------------------------------------------ data quality


@_cache
def load_report(ref: Ref) -> pd.DataFrame:
    return _df(
        ref,
        """
        select table_name, is_loaded as loaded, replace(load_status, '_', ' ') as status,
               source_file, rows_read, rows_accepted, rows_quarantined, accepted_share
        from marts.fct_load_report
        """,
    )


@_cache
def source_report(ref: Ref) -> pd.DataFrame | None:
    """marts.fct_source_report: per landed source table of a build from sources.yml,
    rows read, mapped, skipped by rule and quarantined by reason (None when the
    warehouse predates it; empty for a contract-shaped data directory)."""
    if not has_table(ref, "marts.fct_source_report"):
        return None
    frame = _df(
        ref,
        """
        select table_name, source_table, source_shape, rows_read, rows_mapped,
               rows_skipped, rows_quarantined, skipped_by_rule, quarantined_by_reason
        from marts.fct_source_report
        order by table_name, source_table
        """,
    )

    def by_key(text) -> str:
        counts = json.loads(text) if isinstance(text, str) and text else {}
        return ", ".join(f"{k} {v:,}" for k, v in counts.items())

    frame["skipped_by_rule"] = frame["skipped_by_rule"].map(by_key)
    frame["quarantined_by_reason"] = frame["quarantined_by_reason"].map(by_key)
    return frame


@_cache
def quarantine_by_reason(ref: Ref) -> pd.DataFrame:
    return _df(
        ref,
        """
        select table_name, reason_code, coalesce(reason_column, '') as reason_column,
               count(*) as rows
        from marts.fct_quarantined_rows
        group by all
        order by table_name, rows desc, reason_code, reason_column
        """,
    )


@_cache
def quarantine_by_table_and_reason(ref: Ref) -> pd.DataFrame:
    return _df(
        ref,
        """
        select table_name, reason_code, count(*) as rows
        from marts.fct_quarantined_rows
        group by all
        order by table_name, reason_code
        """,
    )


@_cache
def quarantined_rows(
    ref: Ref, table: str | None, reason: str | None, limit: int = 200
) -> pd.DataFrame:
    return _df(
        ref,
        """
        select table_name, source_file, source_row_number as row_number, reason_code,
               reason_column, raw_row
        from marts.fct_quarantined_rows
        where coalesce(table_name = $table, true) and coalesce(reason_code = $reason, true)
        order by table_name, source_row_number
        limit $limit
        """,
        {"table": table, "reason": reason, "limit": int(limit)},
    )


def _of_expectations(ref: Ref, sql: str) -> pd.DataFrame | None:
    """``sql`` over quality.expectation_results; None when the warehouse has no
    expectations yet."""
    if not has_table(ref, "quality.expectation_results"):
        return None
    return _df(ref, sql)


@_cache
def expectation_results(ref: Ref) -> pd.DataFrame | None:
    """quality.expectation_results (None when the warehouse has no expectations yet)."""
    return _of_expectations(
        ref,
        """
        select *
        from quality.expectation_results
        order by success, severity, suite, expectation
        """,
    )


@_cache
def expectation_summary(ref: Ref) -> pd.DataFrame | None:
    """Expectations and how many passed, by suite and severity (None: no expectations yet)."""
    return _of_expectations(
        ref,
        """
        select suite, severity, count(*) as expectations,
               count(*) filter (where coalesce(success, false)) as passed,
               count(*) filter (where not coalesce(success, false)) as failed
        from quality.expectation_results
        group by all
        order by suite, severity
        """,
    )


def data_docs_path_expected(ref: Ref) -> Path:
    """Where ``build`` writes the Data Docs: ``<warehouse dir>/<stem>_data_docs/index.html``
    (paths.docs_folder)."""
    from ..paths import docs_folder

    return docs_folder(Path(ref.path)) / "index.html"


def dbt_docs_url() -> str:
    """Where ``upgrade-warehouse docs`` serves dbt's docs site by default."""
    from ..docs_site import DEFAULT_DOCS_PORT

    return f"http://127.0.0.1:{DEFAULT_DOCS_PORT}/"


def data_docs_path(ref: Ref) -> Path | None:
    """The Data Docs index when it exists."""
    path = data_docs_path_expected(ref)
    return path if path.is_file() else None
