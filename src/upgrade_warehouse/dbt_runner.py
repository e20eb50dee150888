"""``dbt build`` in this process (dbt's programmatic ``dbtRunner``), with a parse cache.

Running dbt in-process saves a Python start and dbt's imports on every build, and lets
the build follow each node through dbt's event callbacks (progress with an ETA) and read
per-node timings from the result.

Parsing the project (~230 nodes) costs seconds of CPU, and so does reading dbt's own
``partial_parse.msgpack`` back. The cache folder (``$UPGRADE_WAREHOUSE_CACHE_DIR``, else
``$XDG_CACHE_HOME/upgrade-warehouse``, else ``~/.cache/upgrade-warehouse``) keeps:

- ``manifest-<key>.pickle``: the parsed project, handed to ``dbtRunner(manifest=...)`` so
  that dbt does not parse at all. The key covers everything the parse depends on: the
  project's path, the target (DuckDB or Spark), the dbt, adapter and Python versions, the
  variables passed, the profile's connection values and the content of every project file (models, macros,
  seeds, tests, ``dbt_project.yml``, ``profiles.yml``). Any change to the project gives a
  new key, so a stale parse is never used; older entries are pruned.
- ``partial_parse-<key>.msgpack``: dbt's partial parsing state, keyed without the file
  contents, so that after a change dbt re-parses only the files that changed (dbt
  compares their checksums itself).

Nothing in a parse depends on which warehouse is built: dbt connects to the new file by
a fixed name from the build's own folder (see build.py), so two warehouses share the
cache. Each build reads cache files whole and writes them with an atomic rename, so
concurrent builds never see a half-written file; a cache file that cannot be read is
ignored (dbt parses).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import pickle
import platform
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .paths import project_dir

CACHE_ENTRIES_KEPT = 8  # of each kind
# Project files whose content decides the parse (test-paths of dbt_project.yml included).
PROJECT_GLOBS = (
    "dbt_project.yml",
    "profiles.yml",
    "models/**/*",
    "macros/**/*",
    "seeds/**/*",
    "tests/dbt/**/*",
)
# Events that end a node (seed, model, data test).
NODE_RESULT_EVENTS = ("LogSeedResult", "LogModelResult", "LogTestResult")


class DbtFailed(Exception):
    """dbt ran but a node failed, or the project does not compile."""


@dataclass
class DbtRun:
    """What the build keeps of a dbt run: per-node seconds (the profile) and the cache use."""

    nodes: list[tuple[str, str, float]] = field(default_factory=list)  # (id, status, s)
    cache_hit: bool = False
    # Seconds spent: importing dbt, reading or making the parse, until the first node
    # finished, and in dbt's build command in all.
    seconds: dict[str, float] = field(default_factory=dict)


def cache_dir() -> Path:
    base = os.environ.get("UPGRADE_WAREHOUSE_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "upgrade-warehouse"


def _versions(target: str = "duckdb") -> str:
    from importlib.metadata import version

    adapter = f"dbt-{target}"  # the profile's outputs are named after their adapter
    return f"{version('dbt-core')}\0{version(adapter)}\0{platform.python_version()}"


def cache_keys(
    project: Path, dbt_vars: dict, profile_env: dict[str, str], target: str = "duckdb"
) -> tuple[str, str]:
    """(key of the parsed project, key of dbt's partial parsing state)."""
    base = hashlib.sha256()
    base.update(f"{project.resolve()}\0{target}\0{_versions(target)}\0".encode())
    base.update(json.dumps([dbt_vars, profile_env], sort_keys=True).encode())
    partial_key = base.hexdigest()[:24]
    full = base.copy()
    files = sorted({p for pattern in PROJECT_GLOBS for p in project.glob(pattern) if p.is_file()})
    for path in files:
        full.update(b"\0" + str(path.relative_to(project)).encode() + b"\0")
        full.update(path.read_bytes())
    return full.hexdigest()[:24], partial_key


def _write_atomically(data: bytes, path: Path) -> None:
    """Best effort: a cache that cannot be written only costs the next build a parse."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        kind = path.name.split("-")[0]
        entries = sorted(
            path.parent.glob(f"{kind}-*"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for old in entries[CACHE_ENTRIES_KEPT:]:
            old.unlink(missing_ok=True)


def _load_manifest(path: Path):
    """The cached parsed project, or None. (Pickled as its dataclass fields: dbt's own
    ``Manifest.__reduce_ex__`` does not restore its lookups correctly.)"""
    if not path.is_file():
        return None
    try:
        from dbt.contracts.graph.manifest import Manifest

        return Manifest(**pickle.loads(path.read_bytes()))
    except Exception:
        return None


def _dump_manifest(manifest) -> bytes:
    fields = {
        f.name: getattr(manifest, f.name)
        for f in dataclasses.fields(manifest)
        if not f.name.startswith("_")
    }
    return pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL)


def _close_duckdb() -> None:
    """Close dbt's DuckDB connection now: the build reopens the file right after."""
    from dbt.adapters.factory import reset_adapters

    with contextlib.suppress(Exception):
        reset_adapters()
    with contextlib.suppress(Exception):
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
        DuckDBConnectionManager._ENV = None


def _quick_behavior_flag_source() -> None:
    """dbt_common names the module that declared an adapter's behavior flag (for the
    message when the flag is off) with ``inspect.stack()``, which reads the source file
    of every frame on the stack, for each of the adapter's flags: 0.6 s of CPU per build.
    The frames' own globals give the same module name without reading any file.
    Replaced once, in this process; left alone if dbt_common no longer has the method."""
    import sys

    from dbt_common import behavior_flags

    rendered = behavior_flags.BehaviorFlagRendered
    if getattr(rendered, "_quick_source", False) or not hasattr(rendered, "_default_source"):
        return

    def default_source() -> str:
        frame = sys._getframe(1)
        while frame is not None:
            name = frame.f_globals.get("__name__")
            if name and name != behavior_flags.__name__:
                return name
            frame = frame.f_back
        return "Unknown"

    rendered._default_source = staticmethod(default_source)
    rendered._quick_source = True


def common_args(work_dir: Path, dbt_vars: dict, output: str = "duckdb") -> list[str]:
    """The options of every dbt command we run: the profile's output (``duckdb`` or
    ``spark``), the project and profile of this repository, target and logs in
    ``work_dir``, the variables, no log output."""
    project = project_dir()
    return [
        "--target",
        output,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
        "--vars",
        json.dumps(dbt_vars, sort_keys=True),
        "--log-level",
        "none",
        "--log-level-file",
        "none",
        "--no-use-colors",
    ]


def dbt_vars(params) -> dict:
    """The variables dbt gets from the build's :class:`~upgrade_warehouse.params.Parameters`:
    all but as_of, which the models read from raw.build_info (so that dbt's cached parse
    stays valid from one as_of to the next)."""
    return {k: v for k, v in params.dbt_vars().items() if k != "as_of"}


def run_dbt_build(
    db_path: Path,
    dbt_vars: dict,
    on_node: Callable[[int, int, str], None],
    env: dict[str, str] | None = None,
    target: str = "duckdb",
) -> DbtRun:
    """``dbt build`` (seeds, models, data tests) into ``db_path``; raise DbtFailed.

    ``on_node(done, total, name)`` is called as nodes finish. Unit tests are not run here:
    their inputs are fixed, so they say nothing about the data (dbt's advice is to run
    them in development and CI): ``make test`` runs them (tests/test_dbt_unit_tests.py).
    ``env``: environment variables the profile reads (the DuckDB memory limit).
    ``target``: the profile's output, ``duckdb`` or ``spark`` (dbt-spark's ``session``
    method: dbt runs in this process's Spark session, which the Spark build started).
    """
    started = time.monotonic()
    from dbt.cli.main import dbtRunner

    _quick_behavior_flag_source()
    run = DbtRun()
    run.seconds["import"] = time.monotonic() - started
    output = target  # `target` below is dbt's target folder
    manifest_file, partial_file = _prepare(db_path, dbt_vars, env, output)
    state = {"total": 0, "done": 0}

    def callback(event) -> None:
        name = event.info.name
        if name == "LogStartLine":
            state["total"] = max(state["total"], int(event.data.total))
        elif name in NODE_RESULT_EVENTS:
            state["done"] += 1
            run.seconds.setdefault("first_node", time.monotonic() - started)
            on_node(state["done"], state["total"], event.data.node_info.node_name)

    with (
        tempfile.TemporaryDirectory(prefix=f"uw-dbt-{os.getpid()}-") as tmp,
        contextlib.chdir(db_path.parent),
    ):
        target = Path(tmp) / "target"
        common = common_args(Path(tmp), dbt_vars, output)
        try:
            manifest = _PARSED.pop(manifest_file, None)  # parsed ahead: not a cache hit
            if manifest is None:
                manifest = _load_manifest(manifest_file)
                run.cache_hit = manifest is not None
            if manifest is None:
                manifest = _parse(dbtRunner, common, target, partial_file)
                _write_atomically(_dump_manifest(manifest), manifest_file)
            run.seconds["parse"] = time.monotonic() - started - run.seconds["import"]
            result = dbtRunner(manifest=manifest, callbacks=[callback]).invoke(
                [
                    "build",
                    *common,
                    "--exclude-resource-type",
                    "unit_test",
                    "--no-write-json",
                ]
            )
        finally:
            if output == "duckdb":
                _close_duckdb()
        run.seconds["total"] = time.monotonic() - started

    if result.result is not None and hasattr(result.result, "results"):
        for r in result.result.results:
            run.nodes.append((r.node.unique_id, str(r.status), float(r.execution_time or 0)))
    if not result.success:
        raise DbtFailed(_failure_detail(result))
    return run


def _prepare(db_path: Path, dbt_vars: dict, env: dict[str, str] | None, output: str):
    """Set the environment the profile reads; return this parse's cache files."""
    # dbt connects by the file's name from its folder, so the profile's values are the
    # same for every build (dbt keys its own parse state on them).
    profile_env = {"UPGRADE_WAREHOUSE_DB": db_path.name, **(env or {})}
    os.environ.update(
        {
            **profile_env,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DBT_NO_VERSION_CHECK": "True",
        }
    )
    full_key, partial_key = cache_keys(project_dir(), dbt_vars, profile_env, output)
    folder = cache_dir() / "dbt"
    return folder / f"manifest-{full_key}.pickle", folder / f"partial_parse-{partial_key}.msgpack"


# Parses made ahead by parse_ahead, by cache file, for the run_dbt_build that follows.
_PARSED: dict[Path, object] = {}


def parse_ahead(
    db_path: Path, dbt_vars: dict, env: dict[str, str] | None = None, target: str = "duckdb"
) -> threading.Thread:
    """Start parsing the project for a later :func:`run_dbt_build` with the same
    arguments, in a thread, unless the parse is cached; join the thread before that
    call. A build with other work before dbt (the Spark engine starts a JVM and loads
    on it, the Python side mostly waiting) saves the parse's seconds of CPU on the way
    (a first build, or the first after a change). A parse that fails is left to
    run_dbt_build, which parses again and reports it."""
    manifest_file, partial_file = _prepare(db_path, dbt_vars, env, target)  # this thread

    def parse() -> None:
        if manifest_file.is_file():
            return
        from dbt.cli.main import dbtRunner  # imported in the thread too (seconds)

        with tempfile.TemporaryDirectory(prefix=f"uw-dbt-{os.getpid()}-") as tmp:
            common = common_args(Path(tmp), dbt_vars, target)
            with contextlib.suppress(Exception):
                manifest = _parse(dbtRunner, common, Path(tmp) / "target", partial_file)
                _write_atomically(_dump_manifest(manifest), manifest_file)
                _PARSED[manifest_file] = manifest

    thread = threading.Thread(target=parse, name="dbt-parse", daemon=True)
    thread.start()
    return thread


def _parse(dbt_runner, common: list[str], target: Path, partial_file: Path):
    """Parse the project (partially, from dbt's cached state when there is one)."""
    target.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        shutil.copyfile(partial_file, target / "partial_parse.msgpack")
    result = dbt_runner().invoke(["parse", *common, "--partial-parse", "--no-write-json"])
    if not result.success:
        raise DbtFailed(_failure_detail(result))
    with contextlib.suppress(OSError):
        _write_atomically((target / "partial_parse.msgpack").read_bytes(), partial_file)
    return result.result


def _failure_detail(result) -> str:
    if result.exception is not None:
        return str(result.exception).strip()
    lines = []
    for r in getattr(result.result, "results", None) or []:
        if str(r.status) in ("error", "fail", "runtime error"):
            message = (r.message or "").strip()
            lines.append(f"{r.node.name} ({r.node.resource_type}): {message}")
    return "\n".join(lines) or "dbt build failed"
