"""Shared pieces of the benchmarks: cached data sets, the floor, measured builds.

- ``dataset(events=...)`` generates a Parquet data set of about that many product events
  under ``data/bench/`` once and reuses it while the generator's code is unchanged (the
  directory name carries a hash of ``src/upgrade_warehouse/generator``).
- ``floor(data_dir)``: DuckDB creating a table from each file in a new database file plus
  one GROUP BY (on the table's key, the check any loader must make) per table, in a
  fresh process: the least any build of these files can cost.
- ``measured(cmd)``: wall time and peak memory of a command and all its descendants
  together (the sum of their resident set sizes, polled from /proc every 0.1 s).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CLI = str(BIN / "upgrade-warehouse")
DATA = ROOT / "data" / "bench"
RESULTS = ROOT / "bench" / "results"


def cli_args(command: str, *args: str, **options) -> list[str]:
    """The argv of ``upgrade-warehouse COMMAND ARGS --option value ...``: each keyword is
    an option (``data_dir`` -> ``--data-dir``) given as text, ``True`` a flag alone."""
    argv = [CLI, command, *args]
    for name, value in options.items():
        argv.append("--" + name.replace("_", "-"))
        if value is not True:
            argv.append(str(value))
    return argv


def generator_arguments(
    ap: argparse.ArgumentParser, *, accounts: int, fmt: str, bad_row_rate: float
) -> None:
    """A benchmark's options for the data set it generates (``generate``'s own), with its
    defaults: --accounts, --months (13), --format, --bad-row-rate."""
    ap.add_argument("--accounts", type=int, default=accounts)
    ap.add_argument("--months", type=int, default=13)
    ap.add_argument("--format", default=fmt, choices=["csv", "parquet"])
    ap.add_argument("--bad-row-rate", type=float, default=bad_row_rate)


# ----------------------------------------------------------------------------- memory


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _rss(p)
        todo += _children(p)
    return total


@dataclass
class Run:
    seconds: float
    peak_bytes: int
    returncode: int
    stdout: str
    stderr: str

    @property
    def peak_gb(self) -> float:
        return self.peak_bytes / 1e9


def measured(cmd: list[str], env: dict | None = None, cwd: Path = ROOT) -> Run:
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.monotonic()
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=err, cwd=cwd, env={**os.environ, **(env or {})}, text=True
        )
        peak = 0
        done = threading.Event()

        def poll() -> None:
            nonlocal peak
            while not done.wait(0.1):
                peak = max(peak, tree_rss(proc.pid))

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        code = proc.wait()
        seconds = time.monotonic() - start
        done.set()
        poller.join()
        out.seek(0)
        err.seek(0)
        return Run(seconds, peak, code, out.read(), err.read())


# ----------------------------------------------------------------------------- data


def _generator_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src" / "upgrade_warehouse" / "generator").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _generate(out: Path, accounts: int, fmt: str = "parquet") -> dict:
    run = measured(cli_args("generate", out=out, accounts=accounts, format=fmt, quiet=True))
    if run.returncode != 0:
        raise SystemExit(f"generate failed:\n{run.stderr[-3000:]}")
    return json.loads((out / "manifest.json").read_text())


def events_per_account() -> float:
    """Product events per account of the current generator (from a small sample, cached)."""
    out = DATA / f"calibration-{_generator_hash()}"
    if not (out / "manifest.json").is_file():
        _generate(out, 3000)
    manifest = json.loads((out / "manifest.json").read_text())
    return manifest["tables"]["product_events"]["rows"] / manifest["parameters"]["accounts"]


def dataset(events: int | None = None, accounts: int | None = None, fmt: str = "parquet") -> Path:
    """A generated data set (about ``events`` product events, or ``accounts``), cached."""
    if accounts is None:
        accounts = max(100, round(events / events_per_account()))
    out = DATA / f"accounts-{accounts}-{fmt}-{_generator_hash()}"
    if not (out / "manifest.json").is_file():
        print(f"generating {accounts:,} accounts ({fmt}) into {out} ...", flush=True)
        run_started = time.monotonic()
        _generate(out, accounts, fmt)
        print(f"  done in {time.monotonic() - run_started:.0f} s", flush=True)
    return out


def product_events(data_dir: Path) -> int:
    return json.loads((data_dir / "manifest.json").read_text())["tables"]["product_events"]["rows"]


# ----------------------------------------------------------------------------- floor

FLOOR_SCRIPT = r"""
import sys, time, duckdb
from pathlib import Path
from upgrade_warehouse import contract
data, db = Path(sys.argv[1]), sys.argv[2]
start = time.monotonic()
con = duckdb.connect(db)
for table in contract.TABLES:
    files = [p for p in (data / f"{table.name}.parquet", data / f"{table.name}.csv") if p.is_file()]
    if not files:
        continue
    path = files[0]
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    con.execute(f"create table {table.name} as select * from {reader}('{path}')")
    keys = ", ".join(table.key)
    con.execute(f"select count(*) from (select {keys}, count(*) from {table.name} group by {keys})").fetchall()
con.execute("checkpoint")
con.close()
print(time.monotonic() - start)
"""


def floor(data_dir: Path) -> Run:
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        run = measured([sys.executable, "-c", FLOOR_SCRIPT, str(data_dir), f"{tmp}/floor.duckdb"])
    if run.returncode != 0:
        raise SystemExit(f"floor failed:\n{run.stderr[-3000:]}")
    return run


# ----------------------------------------------------------------------------- build


@dataclass
class Build:
    run: Run
    profile: dict
    inspected: object = None  # what ``inspect`` returned on the built warehouse

    def phase(self, name: str) -> float:
        return next((p["seconds"] for p in self.profile["phases"] if p["phase"] == name), 0.0)

    def winback_step(self) -> float:
        """The win-back step: its dbt models and their data tests (every node whose name
        has ``winback``) plus the training phase (training, validation, scoring)."""
        nodes = sum(n["seconds"] for n in self.profile["dbt_nodes"] if "winback" in n["node"])
        return nodes + self.phase("win-back")


def build(data_dir: Path, extra_env: dict | None = None, inspect=None) -> Build:
    """``upgrade-warehouse build`` into a temporary warehouse, measured, with its profile;
    ``inspect(path)`` reads the built warehouse before it is removed."""
    DATA.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        profile = Path(tmp) / "profile.json"
        run = measured(
            cli_args("build", data_dir=data_dir, warehouse=f"{tmp}/wh.duckdb", format="json"),
            env={"UPGRADE_WAREHOUSE_PROFILE": str(profile), **(extra_env or {})},
        )
        if run.returncode != 0:
            raise SystemExit(f"build failed:\n{run.stderr[-3000:]}")
        inspected = inspect(Path(tmp) / "wh.duckdb") if inspect else None
        return Build(run, json.loads(profile.read_text()), inspected)


def record(name: str, result: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"at": time.strftime("%Y-%m-%dT%H:%M:%S"), **result}
    with open(RESULTS / f"{name}.jsonl", "a") as f:
        f.write(json.dumps(result) + "\n")
