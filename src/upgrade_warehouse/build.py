"""`upgrade-warehouse build`: load, model, test and publish the warehouse atomically.

The new warehouse is written to a hidden file beside the serving one
(``.<name>.building-<pid>.duckdb``) and moved over it with one ``os.replace`` only
after the loader, every dbt model and test passed. Readers of the serving file never
see a half-built state, and a failed, interrupted or killed build leaves the serving
file untouched (a killed build's leftover is removed by the next build).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import typer

from . import loader, quality, winback
from .errors import UserError
from .params import Parameters, parse_vars
from .paths import DEFAULT_WAREHOUSE, project_dir
from .progress import Progress


MEMORY_LIMIT = "60%"  # of this machine's memory, for the loader and dbt (profiles.yml)


class BuildFailed(Exception):
    """The build ran but a model or test failed (exit 1; the serving warehouse is kept)."""


@dataclass
class BuildResult:
    warehouse: Path
    as_of: datetime
    tables: dict[str, dict]
    expectations: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    data_docs: Path | None = None

    def to_json(self) -> dict:
        return {
            "status": "ok",
            "warehouse": str(self.warehouse),
            "as_of": format_ts(self.as_of),
            "tables": self.tables,
            "expectations": self.expectations,
        }


def format_ts(ts: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(timezone.utc).replace(tzinfo=None)
    return ts.isoformat(timespec="microseconds" if ts.microsecond else "seconds") + "Z"


def building_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.building-{os.getpid()}.duckdb")


def remove_stale_builds(target: Path) -> None:
    """Delete leftovers of builds that were killed (their process is gone)."""
    for path in target.parent.glob(f".{target.name}.building-*.duckdb*"):
        pid_text = path.name.split(".building-")[1].split(".")[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and _pid_alive(int(pid_text)):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def run_dbt(db_path: Path, params: Parameters, progress: Progress) -> None:
    """``dbt build`` (seeds, models, tests) against ``db_path``; raise BuildFailed on failure."""
    project = project_dir()
    dbt = Path(sys.executable).with_name("dbt")
    with tempfile.TemporaryDirectory(prefix="uw-dbt-") as tmp:
        cmd = [
            str(dbt), "build",
            "--project-dir", str(project),
            "--profiles-dir", str(project),
            "--target-path", str(Path(tmp) / "target"),
            "--log-path", str(Path(tmp) / "logs"),
            "--vars", json.dumps(params.dbt_vars()),
            "--log-format", "json",
            "--no-use-colors",
            "--no-partial-parse",
        ]
        env = {
            **os.environ,
            "UPGRADE_WAREHOUSE_DB": str(db_path),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DBT_NO_VERSION_CHECK": "True",
        }
        errors: list[str] = []
        done = 0
        proc = subprocess.Popen(
            cmd, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                errors.append(line.rstrip())
                continue
            info = event.get("info", {})
            name = info.get("name", "")
            if name in ("LogModelResult", "LogTestResult", "LogSeedResult"):
                done += 1
                node = event.get("data", {}).get("node_info", {}).get("node_name", "")
                progress.update(f"dbt: {done} models and tests done ({node})")
            if info.get("level") == "error":
                errors.append(info.get("msg", "").strip())
        rc = proc.wait()
        if rc != 0:
            detail = "\n".join(e for e in errors if e)[-4000:] or f"dbt exited with code {rc}"
            raise BuildFailed(f"dbt build failed; the serving warehouse was not replaced.\n{detail}")


def build(
    data_dir: Path,
    warehouse: Path,
    params: Parameters,
    progress: Progress,
) -> BuildResult:
    warehouse = warehouse.resolve()
    # Load errors are found before anything is written.
    with duckdb.connect() as probe:
        loader.check_headers(probe, loader.discover(data_dir))

    warehouse.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(warehouse)
    new = building_path(warehouse)
    _remove(new)

    def _cleanup_on_signal(signum, frame):  # noqa: ARG001
        _remove(new)
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _cleanup_on_signal)
    try:
        with duckdb.connect(str(new)) as con:
            # Leave room for the dashboard and the OS; DuckDB spills to disk beyond this.
            con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
            tables = loader.load_data_dir(data_dir, con, progress=progress.update)
            as_of = params.as_of or loader.compute_as_of(con)
            if as_of is None:
                raise UserError(
                    f"{data_dir}: product_events and subscription_changes have no accepted "
                    "rows, so as_of cannot be computed; pass --var as_of=..."
                )
            params = params.with_as_of(as_of)
            con.execute(
                "create table raw.build_info as select ? as as_of, ? as reporting_currency, "
                "? as parameters_json",
                [as_of, params.reporting_currency, json.dumps(params.as_json(), sort_keys=True)],
            )
        # Great Expectations takes seconds to import: do it while dbt runs.
        gx_import = threading.Thread(target=_import_great_expectations, daemon=True)
        gx_import.start()
        progress.update("running dbt models and tests")
        run_dbt(new, params, progress)
        winback.train_and_score(new, params, progress.update)  # docs/winback.md
        progress.update("checking data expectations")
        gx_import.join()
        gate = quality.run_gate(new)
        quality.store_results(new, gate)
        if gate.blocking_failures:
            docs = quality.publish_docs(gate, warehouse.parent / "data_docs_failed")
            lines = [f"- {o.suite}: {o.expectation} on {o.column} ({o.details})"
                     for o in gate.blocking_failures]
            raise BuildFailed(
                f"{len(lines)} blocking data expectation(s) failed; the serving warehouse was "
                f"not replaced (Data Docs: {docs}).\n" + "\n".join(lines)
            )
        with duckdb.connect(str(new)) as con:
            con.execute("checkpoint")
        progress.update("publishing")
        os.replace(new, warehouse)
        docs = quality.publish_docs(gate, warehouse.parent / "data_docs")
    except BaseException:
        _remove(new)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    return BuildResult(
        warehouse, as_of, tables, {"passed": gate.passed, "failed": gate.failed},
        warnings=[f"{o.suite}: {o.expectation} on {o.column} ({o.details})" for o in gate.warnings],
        data_docs=docs,
    )


def _import_great_expectations() -> None:
    with contextlib.suppress(Exception):
        import great_expectations  # noqa: F401


# The demo data set `build` uses without --data-dir: a few thousand accounts, 13 months.
DEMO_ACCOUNTS = 3000
DEMO_MONTHS = 13
DEMO_SEED = 42


def default_data_dir(progress: Progress) -> Path:
    """The generated demo data set under data/demo (generated once, then reused)."""
    from .generator import GeneratorConfig, generate

    out = project_dir() / "data" / "demo"
    cfg = GeneratorConfig(accounts=DEMO_ACCOUNTS, months=DEMO_MONTHS, seed=DEMO_SEED).validate()
    manifest = out / "manifest.json"
    if manifest.is_file():
        params = json.loads(manifest.read_text()).get("parameters", {})
        if (params.get("accounts"), params.get("months"), params.get("seed")) == (
            DEMO_ACCOUNTS, DEMO_MONTHS, DEMO_SEED
        ):
            return out
    progress.update(f"generating the demo data set ({DEMO_ACCOUNTS} accounts) in {out}")
    generate(out, cfg, progress.update)
    return out


def build_command(
    data_dir: Path = typer.Option(
        None, "--data-dir", help="Directory of raw exports (default: the demo data set)."
    ),
    warehouse: Path = typer.Option(
        DEFAULT_WAREHOUSE, "--warehouse", help="Where to publish the DuckDB warehouse."
    ),
    var: list[str] = typer.Option(
        [], "--var", help="Metric parameter NAME=VALUE (lists comma separated). Repeatable."
    ),
    output_format: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Load raw exports, quarantine bad rows, run the dbt models and tests, publish atomically."""
    if output_format not in ("text", "json"):
        raise UserError(f"--format must be text or json, not {output_format!r}")
    json_mode = output_format == "json"
    try:
        params = parse_vars(var)
        with Progress(enabled=True) as progress:
            result = build(data_dir or default_data_dir(progress), warehouse, params, progress)
    except (UserError, BuildFailed) as exc:
        if json_mode:
            print(json.dumps({"status": "error", "error": str(exc)}))
        if isinstance(exc, BuildFailed):
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(1) from None
        raise
    for warning in result.warnings:
        print(f"warning: data expectation failed (not blocking): {warning}", file=sys.stderr)
    if json_mode:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print_report(result)


def print_report(result: BuildResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"Published {result.warehouse} (as_of {format_ts(result.as_of)})")
    for col in ("table", "read", "accepted", "quarantined", "by reason"):
        table.add_column(col, justify="right" if col in ("read", "accepted", "quarantined") else "left")
    for name, t in result.tables.items():
        reasons = ", ".join(f"{r} {n:,}" for r, n in t["quarantined_by_reason"].items())
        table.add_row(name, f"{t['read']:,}", f"{t['accepted']:,}", f"{t['quarantined']:,}", reasons)
    console.print(table)
    e = result.expectations
    console.print(
        f"Data expectations: {e['passed']} passed, {e['failed']} failed"
        + (f" (warnings only; Data Docs: {result.data_docs})" if e["failed"] else
           f" (Data Docs: {result.data_docs})")
    )
    quarantined = sum(t["quarantined"] for t in result.tables.values())
    if quarantined:
        console.print(
            f"{quarantined:,} rows quarantined: see table raw.quarantine in the warehouse "
            "(each with its reason and the row as it came)."
        )
