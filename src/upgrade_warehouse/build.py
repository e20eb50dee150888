"""`upgrade-warehouse build`: the command. Its options and their validation, the checks
of the input files before anything is written (load errors stop here), the build lock,
then the pipeline (:mod:`upgrade_warehouse.pipeline`: map -> load -> transform ->
win-back -> gate -> publish) on the chosen engine (:mod:`upgrade_warehouse.engines`),
then the report (text or JSON).

Where the new warehouse is written while it is built, and how a failed, interrupted or
killed build leaves the serving file untouched: :mod:`upgrade_warehouse.workspace`.
``UPGRADE_WAREHOUSE_PROFILE=file.json`` writes where the time went (phases, loader per
table and pass, dbt per node).
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import duckdb
import typer

from . import loader
from .engines.duckdb import DuckDBEngine
from .errors import BuildFailed, UserError
from .formats import BuildFormat, format_ts
from .params import Parameters, parse_vars, var_help
from .paths import DEFAULT_WAREHOUSE, project_dir
from .pipeline import BuildResult, run
from .progress import Progress
from .sources.config import SourcesConfig, find_sources_file, load_config
from .workspace import build_lock, check_target, remove_stale_temp


class Engine(StrEnum):
    """Where the models run (cli.md `build --engine`)."""

    duckdb = "duckdb"
    spark = "spark"


def resolve_sources(
    data_dir: Path, sources_file: Path | None, params: Parameters
) -> SourcesConfig | None:
    """sources.yml (``--sources`` or in the data directory), validated, or None."""
    path = find_sources_file(data_dir, sources_file)
    if path is None:
        return None
    cfg = load_config(path, params.reporting_currency)
    if cfg.contract_tables:
        with duckdb.connect() as probe:
            loader.check_headers(
                probe,
                [
                    loader.SourceFile(t, cfg.contract_tables.get(t.name))
                    for t in loader.contract.TABLES
                ],
            )
    return cfg


def build(
    data_dir: Path,
    warehouse: Path,
    params: Parameters,
    progress: Progress,
    engine: Engine = Engine.duckdb,
    spark_master: str | None = None,
    sources_file: Path | None = None,
) -> BuildResult:
    warehouse = warehouse.resolve()
    started = time.monotonic()
    check_target(warehouse)
    cfg = resolve_sources(data_dir, sources_file, params)  # sources.yml: docs/sources.md
    if cfg is None:
        sources = loader.discover(data_dir)
        with duckdb.connect() as probe:  # load errors are found before anything is written
            loader.check_headers(probe, sources)
        unread = loader.unread_files(data_dir)  # named in the report's warnings
    else:  # the contract role's files (the mapped ones are written by the build: Parquet)
        sources = [
            loader.SourceFile(t, cfg.contract_tables.get(t.name)) for t in loader.contract.TABLES
        ]
        unread = []
    if engine is Engine.spark:  # docs/spark.md
        from .engines.spark import SparkEngine

        runner = SparkEngine(spark_master)
    else:
        runner = DuckDBEngine()
    runner.check(sources)
    with build_lock(warehouse) as remove_lock_file:
        remove_stale_temp()
        result = run(data_dir, warehouse, params, progress, started, runner, remove_lock_file, cfg)
    result.warnings[:0] = unread
    return result


# The demo data set `build` uses without --data-dir: a few thousand accounts, 13 months.
DEMO_ACCOUNTS = 3000
DEMO_MONTHS = 13
DEMO_SEED = 42
# A small share of bad rows (docs/generator.md "Bad rows"), so that the demo's Data
# quality page shows quarantined rows; the valid rows are the same without them.
DEMO_BAD_ROW_RATE = 0.01


def default_data_dir(progress: Progress) -> Path:
    """The generated demo data set under data/demo (generated once, then reused)."""
    from .generator import GENERATOR_VERSION, GeneratorConfig, generate

    out = project_dir() / "data" / "demo"
    cfg = GeneratorConfig(
        accounts=DEMO_ACCOUNTS, months=DEMO_MONTHS, seed=DEMO_SEED, bad_row_rate=DEMO_BAD_ROW_RATE
    ).validate()
    manifest = out / "manifest.json"
    if manifest.is_file():
        # Regenerated when the parameters or the generator's version changed.
        written = json.loads(manifest.read_text())
        params = written.get("parameters", {})
        if (
            params.get("accounts"),
            params.get("months"),
            params.get("seed"),
            params.get("bad_row_rate"),
            written.get("generator_version"),
        ) == (DEMO_ACCOUNTS, DEMO_MONTHS, DEMO_SEED, DEMO_BAD_ROW_RATE, GENERATOR_VERSION):
            return out
    progress.update(f"generating the demo data set ({DEMO_ACCOUNTS} accounts) in {out}")
    generate(out, cfg, progress.update)
    return out


def build_command(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Directory of raw exports (default: the demo data set)."),
    ] = None,
    warehouse: Annotated[
        Path, typer.Option("--warehouse", help="Where to publish the DuckDB warehouse.")
    ] = DEFAULT_WAREHOUSE,
    var: Annotated[
        list[str] | None,
        typer.Option("--var", help=var_help()),
    ] = None,
    output_format: Annotated[
        BuildFormat, typer.Option("--format", help="The report: text or json.")
    ] = BuildFormat.text,
    engine: Annotated[
        Engine, typer.Option("--engine", help="DuckDB or Apache Spark (cli.md).")
    ] = Engine.duckdb,
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="Spark master URL for --engine spark (default: local[*], or the profile's).",
        ),
    ] = None,
    sources: Annotated[
        Path | None,
        typer.Option(
            "--sources",
            help="sources.yml naming landed Stripe/Segment/CRM tables (docs/sources.md); "
            "default: DATA_DIR/sources.yml when present.",
        ),
    ] = None,
) -> None:
    """Load raw exports, quarantine bad rows, run the dbt models and tests, publish atomically."""
    json_mode = output_format is BuildFormat.json
    try:
        if spark_master is not None and engine is not Engine.spark:
            raise UserError("--spark-master needs --engine spark")
        params = parse_vars(var or [])
        with Progress(enabled=True) as progress:
            if data_dir is None and sources is not None:
                data_dir = sources.resolve().parent
            result = build(
                data_dir or default_data_dir(progress),
                warehouse,
                params,
                progress,
                engine=engine,
                spark_master=spark_master,
                sources_file=sources,
            )
    except (UserError, BuildFailed) as exc:
        if json_mode:
            print(json.dumps({"status": "error", "error": str(exc)}))
        if isinstance(exc, BuildFailed):
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(1) from None
        raise
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if json_mode:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print_report(result)


def print_sources(console, tables: dict[str, dict]) -> None:
    """Per source table of a build from sources.yml: read, mapped, skipped by rule and
    quarantined by reason (sources.md "What the build reports")."""
    from rich.table import Table

    rows = [(name, src, c) for name, t in tables.items() for src, c in t.get("sources", {}).items()]
    if not rows:
        return
    table = Table(title="Sources (sources.yml)")
    for col in ("table", "source table", "read", "mapped", "skipped", "quarantined"):
        table.add_column(col, justify="right" if col in ("read", "mapped") else "left")
    for name, src, c in rows:
        skipped = ", ".join(f"{r} {n:,}" for r, n in c["skipped"].items()) or "0"
        quarantined = ", ".join(f"{r} {n:,}" for r, n in c["quarantined_by_reason"].items()) or "0"
        table.add_row(name, src, f"{c['read']:,}", f"{c['mapped']:,}", skipped, quarantined)
    console.print(table)


def print_report(result: BuildResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"Published {result.warehouse} (as_of {format_ts(result.as_of)})")
    for col in ("table", "read", "accepted", "quarantined", "by reason"):
        table.add_column(
            col, justify="right" if col in ("read", "accepted", "quarantined") else "left"
        )
    for name, t in result.tables.items():
        reasons = ", ".join(f"{r} {n:,}" for r, n in t["quarantined_by_reason"].items())
        table.add_row(
            name, f"{t['read']:,}", f"{t['accepted']:,}", f"{t['quarantined']:,}", reasons
        )
    console.print(table)
    print_sources(console, result.tables)
    e = result.expectations
    console.print(
        f"Data expectations: {e['passed']} passed, {e['failed']} failed"
        + (
            f" (warnings only; Data Docs: {result.data_docs})"
            if e["failed"]
            else f" (Data Docs: {result.data_docs})"
        )
    )
    for warning in result.warnings:  # also on stderr
        # soft_wrap: a path is never broken across lines (a reader searches for it)
        console.print(f"Warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    quarantined = sum(t["quarantined"] for t in result.tables.values())
    if quarantined:
        console.print(
            f"{quarantined:,} rows quarantined: see table raw.quarantine in the warehouse "
            "(each with its reason and the row as it came)."
        )
