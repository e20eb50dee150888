"""dbt_runner's parse ahead (used by the Spark engine while its JVM starts): the parse
made in a thread is the one a build with the same arguments looks up, and a cached
parse is not made again. In a fresh process, with its own cache folder, since dbt keeps
global state."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow

SCRIPT = """
import json, sys, time
from pathlib import Path
from upgrade_warehouse import dbt_runner
from upgrade_warehouse.dbt_runner import dbt_vars
from upgrade_warehouse.params import Parameters

db = Path(sys.argv[1])
variables = dbt_vars(Parameters())
out = {}
for attempt in ("first", "second"):
    started = time.monotonic()
    thread = dbt_runner.parse_ahead(db, variables, target="duckdb")
    thread.join()
    manifest_file, _ = dbt_runner._prepare(db, variables, None, "duckdb")
    out[attempt] = {
        "seconds": time.monotonic() - started,
        "parsed": manifest_file in dbt_runner._PARSED,
        "cached": dbt_runner._load_manifest(manifest_file) is not None,
        "entries": sorted(p.name.split("-")[0] for p in manifest_file.parent.iterdir()),
    }
    nodes = dbt_runner._PARSED.pop(manifest_file, None)
    if nodes is not None:
        out[attempt]["models"] = sum(
            1 for n in nodes.nodes.values() if n.resource_type == "model"
        )
print(json.dumps(out))
"""


def test_parse_ahead_leaves_the_parse_a_build_looks_up(tmp_path):
    env = {**os.environ, "UPGRADE_WAREHOUSE_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "w.duckdb")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    first, second = out["first"], out["second"]
    # First: parsed in the thread, handed over in memory and cached on disk.
    assert first["parsed"] and first["cached"]
    assert first["entries"] == ["manifest", "partial_parse"]
    assert first["models"] > 50
    # Second: the cache has it, so nothing is parsed (the build reads the cache).
    assert not second["parsed"] and second["cached"]
    assert second["seconds"] < first["seconds"]


FLAG_SCRIPT = """
import json
from dbt_common.behavior_flags import Behavior, BehaviorFlagRendered
from upgrade_warehouse import dbt_runner

FLAGS = [{"name": "some_flag", "default": False, "description": "off"}]


def source():  # as an adapter does: Behavior(...) built in a function of its module
    return Behavior(FLAGS, {}).some_flag._behavior_change_event.flag_source


before = source()
dbt_runner._quick_behavior_flag_source()
print(json.dumps({"before": before, "after": source(),
                  "replaced": getattr(BehaviorFlagRendered, "_quick_source", False)}))
"""


def test_the_quick_behavior_flag_source_names_the_module_dbt_common_names(tmp_path):
    # dbt_common's own answer (inspect.stack) and ours, from the same caller, in a fresh
    # process whose main module is a file (as a module of an adapter is).
    script = tmp_path / "flags.py"
    script.write_text(FLAG_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["replaced"] is True
    assert out["before"] == out["after"] == "__main__"
