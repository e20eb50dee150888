"""The map phase (``sources.map_sources``): landed sources (sources.yml) -> contract-shaped tables (docs/sources.md).

:func:`map_sources` runs each role's shape (billing: ``stripe.map_billing``; events:
``segment.map_events``; crm: ``crm.map_crm``), writes the contract tables they make as
Parquet into a folder of the build's own (with the ``contract`` role's files linked
beside them), and returns a :class:`Mapped`: that folder, which the loader then loads
like any data directory (same checks, same quarantine, either engine), and what the
mapping itself counted and quarantined. After the load, :func:`finish_report` adds the
mapping's quarantine rows and per-source counts to the loader's report (read = accepted +
quarantined still holds per contract table: a row the mapping quarantined counts as read
and quarantined there), and :func:`source_report_rows` gives ``raw.source_report``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .. import contract
from .base import ShapeOutput, SourceCounts
from .config import SOURCE_REPORT_COLUMNS, SourcesConfig, create_source_report
from .landed import empty_quarantine

SOURCE_TABLE = "_source_table"
# Contract tables whose mapped rows each come from one source row: a row the loader
# quarantines moves from "mapped" to "quarantined" in its source table's counts.
# (subscription_changes is rebuilt from several rows: its loader quarantines show in the
# table's own counts.)
REBUILT = ("subscription_changes",)


@dataclass
class Mapped:
    folder: Path  # the contract-shaped folder the loader reads
    quarantine: pl.DataFrame  # the mapping's own quarantine rows
    sources: dict[str, dict[str, SourceCounts]] = field(default_factory=dict)
    shapes: dict[str, str] = field(default_factory=dict)  # source table -> shape
    mapped_tables: tuple[str, ...] = ()


def _run_shape(role: str, shape: str, folder: Path, options: dict, traits) -> ShapeOutput:
    if role == "billing":
        from . import stripe

        return stripe.map_billing(folder, shape, options, traits)
    if role == "events":
        from . import segment  # issue 31

        return segment.map_events(folder, shape, options)
    from . import crm  # issue 31

    return crm.map_crm(folder, shape, options)


def _contract_frame(table: contract.Table, frame: pl.DataFrame) -> pl.DataFrame:
    """The contract's columns (absent ones null, values as text) and ``_source_table``."""
    cols = []
    for c in table.column_names:
        if c in frame.columns:
            cols.append(pl.col(c).cast(pl.String))
        else:
            cols.append(pl.lit(None, dtype=pl.String).alias(c))
    src = (
        pl.col(SOURCE_TABLE).cast(pl.String)
        if SOURCE_TABLE in frame.columns
        else pl.lit(None, dtype=pl.String)
    )
    return frame.select(*cols, src.alias(SOURCE_TABLE))


def map_sources(cfg: SourcesConfig, out: Path, on_step=None) -> Mapped:
    """Run every role's shape; write the contract tables into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    options = dict(cfg.options)
    if cfg.plans_overlay is not None:
        options["_plans_overlay"] = str(cfg.plans_overlay)
    outputs: list[tuple[str, str, ShapeOutput]] = []
    traits = None
    for role in ("events", "crm", "billing"):  # events first: billing reads group traits
        if role not in cfg.roles:
            continue
        r = cfg.roles[role]
        if on_step:
            on_step(f"{role}: {r.shape}")
        result = _run_shape(role, r.shape, r.path, options, traits)
        if role == "events":
            traits = result.group_traits
        outputs.append((role, r.shape, result))
    mapped = Mapped(folder=out, quarantine=empty_quarantine())
    quarantines = []
    names = []
    for _, shape, result in outputs:
        for table_name, frame in result.tables.items():
            table = contract.TABLES[[t.name for t in contract.TABLES].index(table_name)]
            _contract_frame(table, frame).write_parquet(out / f"{table_name}.parquet")
            names.append(table_name)
        for table_name, by_source in result.sources.items():
            mapped.sources.setdefault(table_name, {}).update(by_source)
            for source_table in by_source:
                mapped.shapes[source_table] = shape
        if result.quarantine is not None and result.quarantine.height:
            quarantines.append(result.quarantine)
    # A table a shape provides but had no file for: its source rows were all skipped or
    # none existed; the loader sees it as absent (or, when required, an empty table).
    for role, shape, _ in outputs:
        from .config import SHAPES

        for table_name in SHAPES[role][shape]:
            path = out / f"{table_name}.parquet"
            table = contract.TABLES[[t.name for t in contract.TABLES].index(table_name)]
            if not path.exists() and table.required:
                _contract_frame(table, pl.DataFrame()).write_parquet(path)
                names.append(table_name)
    for file in cfg.contract_tables.values():
        os.symlink(file, out / file.name)
    if quarantines:
        mapped.quarantine = pl.concat(quarantines, how="vertical_relaxed")
    mapped.mapped_tables = tuple(dict.fromkeys(names))
    return mapped


def counts_dict(c: SourceCounts) -> dict:
    return {
        "read": c.read,
        "mapped": c.mapped,
        "skipped": dict(sorted(c.skipped.items())),
        "quarantined": c.quarantined,
        "quarantined_by_reason": dict(sorted(c.quarantined_by_reason.items())),
    }


def attribute_loader_quarantine(mapped: Mapped, loader_rows: list[tuple[str, int, str]]) -> None:
    """Rows the mapping made and the loader quarantined ((table, row number, reason)):
    moved from mapped to quarantined in their source table's counts."""
    if not loader_rows:
        return
    q = pl.DataFrame(
        loader_rows, schema={"table": pl.String, "row": pl.Int64, "reason": pl.String}, orient="row"
    )
    for table_name in q["table"].unique().to_list():
        if table_name in REBUILT or table_name not in mapped.sources:
            continue
        path = mapped.folder / f"{table_name}.parquet"
        if not path.is_file() or path.is_symlink():
            continue
        origin = pl.read_parquet(path, columns=[SOURCE_TABLE]).with_row_index("row", offset=1)
        hits = (
            q.filter(pl.col("table") == table_name)
            .join(origin.with_columns(pl.col("row").cast(pl.Int64)), on="row", how="left")
            .group_by(SOURCE_TABLE, "reason")
            .len()
        )
        for source_table, reason, n in hits.iter_rows():
            counts = mapped.sources[table_name].get(source_table)
            if counts is None:
                continue
            counts.mapped -= n
            counts.quarantined_by_reason[reason] = counts.quarantined_by_reason.get(reason, 0) + n


def finish_report(mapped: Mapped, tables: dict[str, dict]) -> list[tuple]:
    """Add the mapping's quarantines and per-source counts to the loader's report
    (``tables``, changed in place); returns the ``raw.load_report`` rows to update:
    (table_name, source_file, rows_read, rows_quarantined)."""
    updates = []
    for table_name, by_source in mapped.sources.items():
        entry = tables.get(table_name)
        if entry is None:
            continue
        extra: dict[str, int] = {}
        for source_table in by_source:
            q = mapped.quarantine.filter(pl.col("table_name") == source_table)
            for reason, n in q.group_by("reason_code").len().iter_rows():
                extra[reason] = extra.get(reason, 0) + n
        n_extra = sum(extra.values())
        entry["read"] += n_extra
        entry["quarantined"] += n_extra
        by_reason = dict(entry["quarantined_by_reason"])
        for reason, n in extra.items():
            by_reason[reason] = by_reason.get(reason, 0) + n
        entry["quarantined_by_reason"] = dict(sorted(by_reason.items()))
        entry["sources"] = {name: counts_dict(c) for name, c in by_source.items()}
        shapes = sorted({mapped.shapes[s] for s in by_source})
        source_file = f"{', '.join(shapes)}: {', '.join(by_source)}"
        updates.append((table_name, source_file, entry["read"], entry["quarantined"]))
    return updates


def source_report_rows(mapped: Mapped | None) -> list[tuple]:
    """``raw.source_report``: one row per (contract table, source table)."""
    if mapped is None:
        return []
    rows = []
    for table_name, by_source in mapped.sources.items():
        for source_table, c in by_source.items():
            rows.append(
                (
                    table_name,
                    source_table,
                    mapped.shapes.get(source_table),
                    c.read,
                    c.mapped,
                    sum(c.skipped.values()),
                    c.quarantined,
                    json.dumps(dict(sorted(c.skipped.items()))),
                    json.dumps(dict(sorted(c.quarantined_by_reason.items()))),
                )
            )
    return rows


def finish_duckdb(con, tables: dict[str, dict], mapped: Mapped | None) -> None:
    """After the DuckDB load: the mapping's quarantine rows into ``raw.quarantine``, the
    counts into the report and ``raw.load_report``, and ``raw.source_report``."""
    create_source_report(con)
    if mapped is None:
        return
    names = [t for t in mapped.sources if t in tables]
    if names:
        marks = ", ".join("?" for _ in names)
        loader_rows = con.execute(
            f"select table_name, row_number, reason_code from raw.quarantine "
            f"where table_name in ({marks})",
            names,
        ).fetchall()
        attribute_loader_quarantine(mapped, loader_rows)
    if mapped.quarantine.height:
        frame = mapped.quarantine  # noqa: F841 - read by DuckDB's replacement scan
        con.execute(
            "insert into raw.quarantine select table_name, source_file, row_number, "
            "reason_code, reason_column, raw_row from frame"
        )
    for table_name, source_file, n_read, n_quarantined in finish_report(mapped, tables):
        con.execute(
            "update raw.load_report set loaded = true, source_file = ?, rows_read = ?, "
            "rows_quarantined = ? where table_name = ?",
            [source_file, n_read, n_quarantined, table_name],
        )
    rows = source_report_rows(mapped)
    if rows:
        marks = ", ".join("?" for _ in SOURCE_REPORT_COLUMNS)
        con.executemany(f"insert into raw.source_report values ({marks})", rows)


def _spark_columns() -> str:
    return ", ".join(f"{n} {'string' if t == 'varchar' else t}" for n, t in SOURCE_REPORT_COLUMNS)


def finish_spark(spark, tables: dict[str, dict], mapped: Mapped | None) -> None:
    """:func:`finish_duckdb` for the Spark load (spark/loader.py's views): the mapping's
    quarantine rows are added to ``raw.quarantine``, the counts to ``raw.load_report``."""
    from ..spark.loader import LOAD_REPORT_COLUMNS, _values

    if mapped is None:
        spark.sql("create view raw.source_report as " + _values([], _spark_columns()))
        return
    names = [t for t in mapped.sources if t in tables]
    if names:
        in_list = ", ".join("'" + n.replace("'", "''") + "'" for n in names)
        loader_rows = [
            (r.table_name, r.row_number, r.reason_code)
            for r in spark.sql(
                "select table_name, row_number, reason_code from raw.quarantine "
                f"where table_name in ({in_list})"
            ).collect()
        ]
        attribute_loader_quarantine(mapped, loader_rows)
    if mapped.quarantine.height:
        path = mapped.folder / "_mapping_quarantine"
        path.mkdir()
        mapped.quarantine.write_parquet(path / "part-0.parquet")
        location = str(path).replace("'", "''")
        spark.sql(f"create table raw.mapping_quarantine using parquet location '{location}'")
        spark.sql("alter view raw.quarantine rename to raw.loader_quarantine")
        spark.sql(
            "create view raw.quarantine as select * from raw.loader_quarantine union all "
            "select table_name, source_file, row_number, reason_code, reason_column, raw_row "
            "from raw.mapping_quarantine"
        )
    updates = {t: (f, r, q) for t, f, r, q in finish_report(mapped, tables)}
    rows = []
    for r in spark.sql("select * from raw.load_report").collect():
        row = tuple(r)
        if row[0] in updates:
            source_file, n_read, n_quarantined = updates[row[0]]
            row = (row[0], True, source_file, n_read, row[4], n_quarantined)
        rows.append(row)
    spark.sql("alter view raw.load_report rename to raw.loader_load_report")
    spark.sql("create view raw.load_report as " + _values(rows, LOAD_REPORT_COLUMNS))
    spark.sql(
        "create view raw.source_report as " + _values(source_report_rows(mapped), _spark_columns())
    )
