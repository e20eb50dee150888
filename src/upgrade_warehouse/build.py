"""`upgrade-warehouse build`: load, model, test and publish the warehouse atomically.

The phases, in order (each shows its progress, rate and ETA on stderr):

1. check the input files (load errors stop here, before anything is written);
2. load: parse, check and quarantine every table into ``raw.*`` (loader.py);
3. dbt: seeds, models and data tests, in this process (dbt_runner.py);
4. expectations: the Great Expectations gate (quality.py), in a worker process started
   at the beginning so that its import overlaps the load and dbt;
5. publish: one ``os.replace`` of the new file over the serving one.

The new warehouse is written into a hidden folder beside the serving file
(``.<name>.building-<pid>/warehouse.duckdb``; DuckDB spills to ``warehouse.duckdb.tmp``
there). It replaces the serving file (one rename, same file system) only after every
phase passed. Readers of the serving file
never see a half-built state; a failed or interrupted build (SIGTERM, SIGINT) removes its
files; a killed one (SIGKILL) leaves them for the next build to remove.

Memory: DuckDB is limited to ``UPGRADE_WAREHOUSE_MEMORY_LIMIT`` (default 40% of the
machine's memory) and spills to ``UPGRADE_WAREHOUSE_TEMP_DIR`` (default: beside the
warehouse) beyond it.
``UPGRADE_WAREHOUSE_PROFILE=file.json`` writes where the time went (phases, loader per
table and pass, dbt per node).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import duckdb
import typer

from . import loader, quality, winback
from .dbt_runner import DbtFailed, run_dbt_build
from .errors import UserError
from .formats import BuildFormat
from .params import Parameters, parse_vars, var_help
from .paths import DEFAULT_WAREHOUSE, project_dir
from .progress import Progress
from .sources.config import SourcesConfig, create_source_report, find_sources_file, load_config

LARGE_INPUT_ROWS = 25_000_000  # from here dbt runs one model at a time (DuckDBSettings)
DEFAULT_MEMORY_LIMIT = "40%"  # of the machine's memory: room for dbt, GX, the OS, readers


class Engine(StrEnum):
    """Where the models run (cli.md `build --engine`)."""

    duckdb = "duckdb"
    spark = "spark"


class BuildFailed(Exception):
    """The build ran but a model or test failed (exit 1; the serving warehouse is kept)."""


class BuildLocked(BuildFailed):
    """Another build of the same warehouse is running (exit 1, nothing done)."""


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
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts.isoformat(timespec="microseconds" if ts.microsecond else "seconds") + "Z"


# ----------------------------------------------------------------------------- files

BUILDING_FILE = "warehouse.duckdb"  # inside the build's own folder; always this name


def building_dir(target: Path) -> Path:
    """This build's folder beside the warehouse: ``.<name>.building-<pid>``."""
    return target.with_name(f".{target.name}.building-{os.getpid()}")


def building_path(target: Path) -> Path:
    """The new warehouse file while it is built. Its name never changes (only its folder
    does), so dbt sees the same profile on every build and its cached parse stays valid."""
    return building_dir(target) / BUILDING_FILE


def remove_stale_builds(target: Path) -> None:
    """Delete leftovers of builds that were killed (their process is gone). This
    process's own folder is left alone (the Spark phases call this once the map phase
    has written into it; ``Building`` empties its own folder itself)."""
    for path in target.parent.glob(f".{target.name}.building-*"):
        pid_text = path.name.split(".building-")[1].split(".")[0]
        if pid_text.isdigit() and (int(pid_text) == os.getpid() or _pid_alive(int(pid_text))):
            continue
        _remove_path(path)


def remove_stale_temp() -> None:
    """Delete the temporary dbt and Great Expectations folders (``uw-dbt-<pid>-*``,
    ``uw-gx-<pid>-*``) of builds that were killed (their process is gone)."""
    for path in Path(tempfile.gettempdir()).glob("uw-[dg][bx]*-*"):
        parts = path.name.split("-")
        if len(parts) >= 4 and parts[1] in ("dbt", "gx") and parts[2].isdigit():
            pid = int(parts[2])
            if pid != os.getpid() and not _pid_alive(pid):
                shutil.rmtree(path, ignore_errors=True)


def check_target(warehouse: Path) -> None:
    """The warehouse path must be a file we can write beside: a load error otherwise,
    found before anything is read or written (docs/security.md)."""
    if warehouse.is_dir():
        raise UserError(
            f"--warehouse {warehouse}: is a directory (give the path of a .duckdb file)"
        )
    if warehouse.exists() and not warehouse.is_file():
        raise UserError(f"--warehouse {warehouse}: not a regular file")
    try:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"--warehouse {warehouse}: cannot create its folder {warehouse.parent} ({exc.strerror})"
        ) from None
    if not os.access(warehouse.parent, os.W_OK | os.X_OK):
        raise UserError(f"--warehouse {warehouse}: its folder {warehouse.parent} is not writable")


@contextlib.contextmanager
def build_lock(warehouse: Path):
    """One build per warehouse at a time: an exclusive ``fcntl`` lock on
    ``.<name>.lock`` beside it, held for the whole build. A second build exits at once
    (exit 1) naming the process that holds it; the lock goes with the process, even on a
    SIGKILL, so a killed build never blocks the next one.

    The holder removes the file when it is done (still holding the lock); a build that
    locked a file which is no longer at the path (removed meanwhile) tries again, so two
    builds never hold locks on two different files."""
    path = warehouse.with_name(f".{warehouse.name}.lock")
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UserError(
                f"--warehouse {warehouse}: cannot create {path} ({exc.strerror})"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise BuildLocked(
                f"another build of {warehouse} is running (pid {holder}); the serving "
                "warehouse was not touched: try again when it ends"
            ) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)

    def remove_file() -> None:  # also run on SIGTERM/SIGINT, which leave with os._exit
        with contextlib.suppress(OSError):
            os.unlink(path)

    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield remove_file
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_path(path: Path) -> None:
    """A file, or a folder with what it holds (and the spill folder a link points to)."""
    if path.is_dir() and not path.is_symlink():
        for link in path.glob("*.tmp"):
            if link.is_symlink():
                shutil.rmtree(link.resolve(), ignore_errors=True)
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@dataclass
class DuckDBSettings:
    """Memory limit and spill folder of every DuckDB connection of the build.

    DuckDB spills to ``<database>.tmp``: in the build's folder, or, with
    ``UPGRADE_WAREHOUSE_TEMP_DIR``, a link there to a folder made under that directory.
    """

    memory_limit: str
    temp_directory: Path
    dbt_threads: int = 2

    def size_for(self, rows: int) -> None:
        """dbt's threads for an input of ``rows`` rows. Small inputs: two models at a
        time overlap dbt's Python work per node with DuckDB's (15% faster at golden
        size). Large inputs: one model at a time; DuckDB already runs each query on
        every core, and two large aggregations side by side ran out of memory at 100M
        events (int_winback__event_days and __user_days). UPGRADE_WAREHOUSE_DBT_THREADS
        overrides both."""
        chosen = os.environ.get("UPGRADE_WAREHOUSE_DBT_THREADS")
        if chosen and chosen.isdigit() and int(chosen) > 0:
            self.dbt_threads = int(chosen)
        else:
            self.dbt_threads = 1 if rows >= LARGE_INPUT_ROWS else 2

    @classmethod
    def prepare(cls, building: Path) -> DuckDBSettings:
        spill = building.with_name(building.name + ".tmp")
        base = os.environ.get("UPGRADE_WAREHOUSE_TEMP_DIR")
        if base:
            Path(base).mkdir(parents=True, exist_ok=True)
            target = tempfile.mkdtemp(prefix=f"upgrade-warehouse-{os.getpid()}-", dir=base)
            spill.symlink_to(target, target_is_directory=True)
        return cls(
            memory_limit=os.environ.get("UPGRADE_WAREHOUSE_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
            temp_directory=spill,
        )

    def apply(self, con: duckdb.DuckDBPyConnection) -> None:
        try:
            con.execute(f"set memory_limit = '{self.memory_limit}'")
        except duckdb.Error:
            raise UserError(
                f"UPGRADE_WAREHOUSE_MEMORY_LIMIT={self.memory_limit!r} is not a DuckDB memory "
                "limit (e.g. 8GB or 40%)"
            ) from None
        con.execute(f"set temp_directory = {loader.lit(str(self.temp_directory))}")

    def env(self) -> dict[str, str]:
        """The same for dbt's connection: profiles.yml reads the memory limit and the
        threads; DuckDB's default spill folder for the file is ``<file>.tmp`` already."""
        return {
            "UPGRADE_WAREHOUSE_MEMORY_LIMIT": self.memory_limit,
            "UPGRADE_WAREHOUSE_DBT_THREADS": str(self.dbt_threads),
        }


class Building:
    """The new warehouse while it is built, in its own folder beside the serving file.

    The folder is removed when the build fails or gets SIGTERM or SIGINT; after a
    SIGKILL the next build removes it (its process is gone).
    """

    def __init__(self, warehouse: Path) -> None:
        self.warehouse = warehouse
        self.dir = building_dir(warehouse)
        self.path = building_path(warehouse)
        self.on_signal: list = []  # callables run before exiting on a signal

    def __enter__(self) -> Building:
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_builds(self.warehouse)
        _remove_path(self.dir)
        self.dir.mkdir()
        self._previous = {
            s: signal.signal(s, self._exit_on_signal) for s in (signal.SIGTERM, signal.SIGINT)
        }
        return self

    def _exit_on_signal(self, signum, frame) -> None:
        # dbt may be mid-query in another thread: remove the files (an open file can be
        # unlinked) and leave at once, without unwinding through dbt.
        for stop in self.on_signal:
            with contextlib.suppress(Exception):
                stop()
        _remove_path(self.dir)
        print("interrupted: the serving warehouse was not replaced", file=sys.stderr)
        os._exit(128 + signum)

    def publish(self) -> None:
        with duckdb.connect(str(self.path)) as con:
            con.execute("checkpoint")
        os.replace(self.path, self.warehouse)

    def __exit__(self, exc_type, exc, tb) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        _remove_path(self.dir)


# ----------------------------------------------------------------------------- phases


def resolve_as_of(
    params: Parameters, data_dir: Path, from_data: Callable[[], datetime | None]
) -> tuple[Parameters, bool]:
    """(the parameters with as_of set, whether it came from the data): an explicit
    ``--var as_of`` is the user's choice; otherwise ``from_data()`` computes it from the
    loaded rows (either engine). UserError when there is nothing to compute it from."""
    if params.as_of is not None:
        return params, False
    as_of = from_data()
    if as_of is None:
        raise UserError(
            f"{data_dir}: product_events and subscription_changes have no accepted "
            "rows, so as_of cannot be computed; pass --var as_of=..."
        )
    return params.with_as_of(as_of), True


def load_phase(
    data_dir: Path,
    building: Path,
    params: Parameters,
    settings: DuckDBSettings,
    progress: Progress,
    profile: dict,
    mapped=None,
) -> tuple[dict[str, dict], Parameters]:
    """Load every table into ``raw.*``, compute as_of, write ``raw.build_info``.
    ``mapped``: the map phase's result (sources.yml), whose folder is ``data_dir``."""
    with duckdb.connect(str(building)) as con:
        settings.apply(con)
        phase = progress.phase("load", loader.input_rows(con, loader.discover(data_dir)), "rows")
        tables = loader.load_data_dir(data_dir, con, progress=phase, profile=profile["load"])
        if mapped is not None:
            from .sources import finish_duckdb

            finish_duckdb(con, tables, mapped)
        else:
            create_source_report(con)
        settings.size_for(sum(t["read"] for t in tables.values()))
        params, from_data = resolve_as_of(params, data_dir, lambda: loader.compute_as_of(con))
        as_of = params.as_of
        con.execute(
            "create table raw.build_info as select ? as as_of, ? as reporting_currency, "
            "? as parameters_json, ? as as_of_from_data",
            [
                as_of,
                params.reporting_currency,
                json.dumps(params.as_json(), sort_keys=True),
                from_data,
            ],
        )
        quarantined = sum(t["quarantined"] for t in tables.values())
        phase.finish(f"{quarantined:,} rows quarantined")
    return tables, params


def map_phase(cfg: SourcesConfig, building_folder: Path, progress: Progress):
    """Map the landed sources of sources.yml into a contract-shaped folder of the build's
    own (``mapped/``), which the load phase then reads (docs/sources.md)."""
    from .sources import map_sources

    roles = list(cfg.roles)
    phase = progress.phase("map", len(roles), "sources")
    done = [0]

    def on_step(detail: str) -> None:
        phase.set(done[0], detail)
        done[0] += 1

    mapped = map_sources(cfg, building_folder / "mapped", on_step=on_step)
    phase.set(len(roles))
    quarantined = mapped.quarantine.height
    phase.finish(f"{quarantined:,} source rows quarantined by the mapping")
    return mapped


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


def dbt_vars(params: Parameters) -> dict:
    """The variables dbt gets: all but as_of, which the models read from raw.build_info
    (so that dbt's cached parse stays valid from one as_of to the next)."""
    return {k: v for k, v in params.dbt_vars().items() if k != "as_of"}


def dbt_phase(
    building: Path,
    params: Parameters,
    settings: DuckDBSettings | None,
    progress: Progress,
    profile: dict,
    target: str = "duckdb",
) -> None:
    """``dbt build`` against the new file: seeds, models, data tests. as_of is read from
    raw.build_info (not passed as a variable, so dbt's cached parse stays valid).
    ``target="spark"``: in this process's Spark session instead (spark/build.py)."""
    phase = progress.phase("dbt", None, "nodes")

    def on_node(done: int, total: int, name: str) -> None:
        if total and phase.total != total:
            phase.set_total(total)
        phase.set(done, name)

    try:
        run = run_dbt_build(
            building,
            dbt_vars(params),
            on_node,
            env=settings.env() if settings else None,
            target=target,
        )
    except DbtFailed as exc:
        raise BuildFailed(
            f"dbt build failed; the serving warehouse was not replaced.\n{exc}"
        ) from None
    profile["dbt_nodes"] = [
        {"node": node, "status": status, "seconds": round(seconds, 3)}
        for node, status, seconds in sorted(run.nodes, key=lambda n: -n[2])
    ]
    profile["dbt_parse_cache_hit"] = run.cache_hit
    profile["dbt_seconds"] = {k: round(v, 3) for k, v in run.seconds.items()}
    phase.finish("parse cache hit" if run.cache_hit else "parsed (cached for the next build)")


def winback_phase(building: Path, params, progress: Progress) -> None:
    """Train, validate and score the win-back model (docs/winback.md); the amount is
    the accounts scored."""
    phase = progress.phase("win-back", None, "accounts")
    result = winback.train_and_score(building, params, lambda step: phase.set(0, step))
    phase.set_total(result.scores.height)  # finish() reports the total as done
    phase.finish(f"model: {result.model_kind}")


def expectations_phase(
    building: Path,
    warehouse: Path,
    worker: quality.GateWorker,
    progress: Progress,
) -> quality.GateResult:
    """The publish gate: blocking failures stop the build; results are stored in the new
    file (``quality.expectation_results``)."""
    phase = progress.phase("expectations", len(quality.load_suites()), "suites")
    gate = worker.validate(building)  # the worker renders the Data Docs meanwhile
    phase.set(phase.total or 0)
    quality.store_results(building, gate)
    if gate.blocking_failures:
        gate.docs_dir = worker.docs()
        docs = quality.publish_docs(gate, quality.docs_folder(warehouse, failed=True))
        lines = [
            f"- {o.suite}: {o.expectation} on {o.column} ({o.details})"
            for o in gate.blocking_failures
        ]
        raise BuildFailed(
            f"{len(lines)} blocking data expectation(s) failed; the serving warehouse was "
            f"not replaced (Data Docs: {docs}).\n" + "\n".join(lines)
        )
    phase.finish(f"{gate.passed} passed, {gate.failed} failed")
    return gate


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
        from .spark import build as spark_build
        from .spark import loader as spark_loader

        spark_loader.check_readable(sources)
        spark_build.check_available()
    with build_lock(warehouse) as remove_lock_file:
        remove_stale_temp()
        result = _build(
            data_dir,
            warehouse,
            params,
            progress,
            started,
            remove_lock_file,
            engine,
            spark_master,
            cfg,
        )
    result.warnings[:0] = unread
    return result


def _build(
    data_dir: Path,
    warehouse: Path,
    params: Parameters,
    progress: Progress,
    started: float,
    remove_lock_file=None,
    engine: Engine = Engine.duckdb,
    spark_master: str | None = None,
    cfg: SourcesConfig | None = None,
) -> BuildResult:
    profile: dict = {"load": {}}
    worker = quality.GateWorker()  # prepares Great Expectations while we load and run dbt
    # Importing dbt and scikit-learn costs seconds of Python; the loader's queries leave
    # the interpreter free (DuckDB and Spark release it), so do it meanwhile.
    threading.Thread(
        target=_import_ahead, args=(engine,), name=IMPORT_AHEAD_THREAD, daemon=True
    ).start()
    try:
        with Building(warehouse) as new:
            new.on_signal.append(worker.kill)
            if remove_lock_file is not None:
                new.on_signal.append(remove_lock_file)
            mapped = map_phase(cfg, new.dir, progress) if cfg is not None else None
            if mapped is not None:
                data_dir = mapped.folder  # both engines load the same mapped tables
            if engine is Engine.spark:  # load and dbt on Spark, marts into new.path
                from .spark import build as spark_build

                tables, params = spark_build.spark_phases(
                    new, data_dir, params, progress, profile, master=spark_master, mapped=mapped
                )
            else:
                settings = DuckDBSettings.prepare(new.path)
                tables, params = load_phase(
                    data_dir, new.path, params, settings, progress, profile, mapped=mapped
                )
                dbt_phase(new.path, params, settings, progress, profile)
            winback_phase(new.path, params, progress)
            gate = expectations_phase(new.path, warehouse, worker, progress)
            progress.update("publishing")
            if engine == Engine.spark:
                spark_build.publish(new)  # the Parquet folder, then the file
            else:
                new.publish()
        gate.docs_dir = worker.docs()
        docs_target = quality.docs_folder(warehouse)
        docs = quality.publish_docs(gate, docs_target)
    finally:
        worker.close()
    _write_profile(profile, progress, time.monotonic() - started)
    warnings = [
        f"data expectation failed (not blocking): {o.suite}: {o.expectation} on "
        f"{o.column} ({o.details})"
        for o in gate.warnings
    ]
    if docs is None and quality.foreign_folder(docs_target):
        warnings.append(
            f"Data Docs not written: {docs_target} exists and was not created by "
            "upgrade-warehouse (left as it is)"
        )
    return BuildResult(
        warehouse,
        params.as_of,
        tables,
        {"passed": gate.passed, "failed": gate.failed},
        warnings=warnings,
        data_docs=docs,
    )


IMPORT_AHEAD_THREAD = "import-ahead"


def imports_under_way() -> bool:
    """Whether the thread importing ahead (below) is still at it."""
    return any(t.name == IMPORT_AHEAD_THREAD and t.is_alive() for t in threading.enumerate())


def _import_ahead(engine: Engine = Engine.duckdb) -> None:
    """Import dbt and build the JSON schemas it validates the project and the profile
    with (cached per class; a third of a second of CPU) ahead of the dbt phase, then
    what the win-back training imports (scikit-learn: 2 s of CPU)."""
    import importlib

    with contextlib.suppress(Exception):  # the real import, later, reports any problem
        for module in ("dbt.cli.main", f"dbt.adapters.{engine.value}"):
            importlib.import_module(module)
        from dbt.contracts.project import PackageConfig, ProfileConfig, Project, ProjectFlags

        if engine == Engine.spark:
            from dbt.adapters.spark.connections import SparkCredentials as Credentials
        else:
            from dbt.adapters.duckdb.credentials import DuckDBCredentials as Credentials
        for contract in (Project, ProjectFlags, PackageConfig, ProfileConfig, Credentials):
            contract.json_schema()
    with contextlib.suppress(Exception):
        winback.import_ahead()


def _write_profile(profile: dict, progress: Progress, total: float) -> None:
    path = os.environ.get("UPGRADE_WAREHOUSE_PROFILE")
    if not path:
        return
    out = {
        "total_seconds": round(total, 3),
        "cpu_seconds": round(time.process_time(), 3),
        "phases": [
            {
                "phase": p.name,
                "seconds": round(p.seconds, 3),
                "cpu_seconds": round(p.cpu_seconds, 3),
                "amount": p.amount,
                "unit": p.unit,
            }
            for p in progress.phases
        ],
        **profile,
    }
    Path(path).write_text(json.dumps(out, indent=2) + "\n")


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
