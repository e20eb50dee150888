"""`upgrade-warehouse build` end to end: JSON report, load errors, atomic publish.

dbt runs cost seconds each, so every warehouse is built once per session and many
things are asserted on it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import REPO, project_build, project_copy, run_cli, serving_copy, sha256, start_build
from test_loader import EXPECTED

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def served(basic_warehouse):
    """A warehouse built from the basic fixture, as `build --format json` reports it."""
    return basic_warehouse


def table_contents(path: Path) -> dict[str, list]:
    """Every table and view of a warehouse, rows sorted. The expectation results are a
    report of the build (their freshness detail depends on the clock), not input-derived."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema <> 'quality' order by 1, 2"
        ).fetchall()
        return {
            f"{s}.{t}": sorted(con.execute(f'select * from "{s}"."{t}"').fetchall(), key=repr)
            for s, t in names
        }


# ----------------------------------------------------------------------------- report


def test_json_report_has_the_spec_shape_and_hand_computed_counts(served):
    path, report = served
    assert report["status"] == "ok"
    built_as = Path((path.parent / "built_as.txt").read_text())
    assert Path(report["warehouse"]) == built_as.resolve() and built_as.name == path.name
    # The latest product event (ev_7) is later than every subscription change.
    assert report["as_of"] == "2026-03-31T23:00:00Z"
    assert set(report["expectations"]) == {"passed", "failed"}
    # Freshness (as_of is months old) and the quarantine share (half the rows) are
    # warnings: they fail and are reported, and the build still publishes.
    assert report["expectations"]["failed"] >= 2 and report["expectations"]["passed"] >= 25
    for table, (read, accepted, by_reason) in EXPECTED.items():
        t = report["tables"][table]
        assert (t["read"], t["accepted"], t["quarantined"]) == (read, accepted, read - accepted)
        assert t["quarantined_by_reason"] == by_reason


def test_staging_models_hold_the_accepted_rows(served):
    path, report = served
    staging = {
        "accounts": "stg_billing__accounts",
        "plans": "stg_billing__plans",
        "subscription_changes": "stg_billing__subscription_changes",
        "invoice_lines": "stg_billing__invoice_lines",
        "payment_attempts": "stg_billing__payment_attempts",
        "fx_rates": "stg_billing__fx_rates",
        "product_events": "stg_product__events",
        "eligibility_checks": "stg_product__eligibility_checks",
        "upsell_offers": "stg_product__upsell_offers",
        "crm_opportunities": "stg_crm__opportunities",
        "sync_events": "stg_integration__sync_events",
        "order_status_events": "stg_orders__order_status_events",
    }
    with duckdb.connect(str(path), read_only=True) as con:
        for table, model in staging.items():
            n = con.execute(f"select count(*) from staging.{model}").fetchone()[0]
            assert n == report["tables"][table]["accepted"], model
        loads = con.execute(
            "select count(*), sum(rows_read) from staging.stg_loader__load_reports"
        ).fetchone()
        assert loads == (12, sum(v[0] for v in EXPECTED.values()))
        assert con.execute("select count(*) from reference.currencies").fetchone()[0] > 100
        (as_of,) = con.execute("select as_of from raw.build_info").fetchone()
        assert as_of.isoformat() == "2026-03-31T23:00:00"


def test_text_report_is_readable(tmp_path, basic_dir, served):
    # Reuses a load error-free path but a bad --var, so no dbt run is needed here.
    proc = run_cli(
        "build",
        "--data-dir",
        basic_dir,
        "--warehouse",
        tmp_path / "w.duckdb",
        "--var",
        "conversion_window_days=two",
    )
    assert proc.returncode == 2
    assert "conversion_window_days" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "w.duckdb").exists()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--var", "no_such_param=1"], "no_such_param"),
        (["--var", "as_of=yesterday"], "as_of"),
        (["--var", "reporting_currency=XXX"], "XXX"),
        (["--var", "funnel_steps="], "funnel_steps"),
        (["--format", "xml"], "--format"),
    ],
)
def test_bad_options_exit_2(tmp_path, basic_dir, args, needle):
    assert needle in refused_build(tmp_path, basic_dir, *args)


def refused_build(tmp_path, basic_dir, *args) -> str:
    """``build`` of the basic fixture into tmp_path with ``args``: exit 2 without a
    traceback; its stderr."""
    proc = run_cli("build", "--data-dir", basic_dir, "--warehouse", tmp_path / "w.duckdb", *args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stderr


# ----------------------------------------------------------------------------- load errors


def _copy(basic_dir: Path, dst: Path) -> Path:
    shutil.copytree(basic_dir, dst)
    return dst


def _drop_column(path: Path, column: str) -> None:
    import csv

    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    idx = rows[0].index(column)
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([r[:idx] + r[idx + 1 :] for r in rows])


def _make_missing_file(d: Path) -> tuple[str, str]:
    (d / "plans.csv").unlink()
    return "plans.csv", "plans"


def _make_missing_column(d: Path) -> tuple[str, str]:
    _drop_column(d / "subscription_changes.csv", "initiated_by")
    return "subscription_changes.csv", "initiated_by"


def _make_both_formats(d: Path) -> tuple[str, str]:
    (d / "fx_rates.parquet").write_bytes(b"PAR1")
    return "fx_rates.csv", "fx_rates.parquet"


def _make_unreadable_parquet(d: Path) -> tuple[str, str]:
    (d / "sync_events.csv").unlink()
    (d / "sync_events.parquet").write_bytes(b"this is not parquet")
    return "sync_events.parquet", "cannot read"


def _make_bad_utf8(d: Path) -> tuple[str, str]:
    with open(d / "accounts.csv", "ab") as f:
        f.write(b"acc_9,2026-01-01T00:00:00Z,\xff\xfe,organic,smb,US,,\n")
    return "accounts.csv", "cannot read"


def _make_ragged_csv(d: Path) -> tuple[str, str]:
    with open(d / "product_events.csv", "a") as f:
        f.write('ev_99,acc_1,u_1,activated,2026-01-01T00:00:00Z,,"{}",extra,extra\n')
    return "product_events.csv", "cannot read"


@pytest.mark.parametrize(
    "make",
    [
        _make_missing_file,
        _make_missing_column,
        _make_both_formats,
        _make_unreadable_parquet,
        _make_bad_utf8,
        _make_ragged_csv,
    ],
)
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_load_error_exits_2_names_file_and_column_and_keeps_serving(
    tmp_path, basic_dir, served, make, fmt
):
    serving = tmp_path / "serving.duckdb"
    shutil.copy(served[0], serving)
    before = sha256(serving)
    data = _copy(basic_dir, tmp_path / "data")
    file_name, detail = make(data)
    proc = run_cli("build", "--data-dir", data, "--warehouse", serving, "--format", fmt)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    # Progress lines may precede it; the error itself is one line, last.
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    message = errors[0]
    assert proc.stderr.strip().endswith(message)
    assert file_name in message and detail in message
    if fmt == "json":
        out = json.loads(proc.stdout)
        assert out["status"] == "error" and file_name in out["error"]
    assert sha256(serving) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "serving.duckdb"]


SLOW_IMPORT_SCRIPT = """
import sys, threading, time
import duckdb
from upgrade_warehouse import cli, pipeline

def importing():  # stands for the build's thread still importing when the load fails
    held = [duckdb.sqltypes.VARCHAR, duckdb.sqltypes.BIGINT]
    time.sleep(60)

threading.Thread(target=importing, name=pipeline.IMPORT_AHEAD_THREAD, daemon=True).start()
sys.argv = ["upgrade-warehouse", "build", *sys.argv[1:]]
cli.main()
"""


def test_a_load_error_while_imports_are_under_way_ends_with_the_error(tmp_path, basic_dir):
    # Python's shutdown froze the build's import thread holding DuckDB objects, and
    # DuckDB's bindings printed "nanobind: leaked ... instances" after the error (seen
    # once in `make test`): the error must be the last line, at once.
    data = _copy(basic_dir, tmp_path / "data")
    _make_ragged_csv(data)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", SLOW_IMPORT_SCRIPT, "--data-dir", str(data),
         "--warehouse", str(tmp_path / "w.duckdb")],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: "), proc.stderr
    assert "product_events.csv" in proc.stderr and "leaked" not in proc.stderr
    assert time.monotonic() - started < 45  # did not wait for the thread


def test_missing_data_dir_is_a_load_error(tmp_path):
    proc = run_cli("build", "--data-dir", tmp_path / "nope", "--warehouse", tmp_path / "w.duckdb")
    assert proc.returncode == 2
    assert "nope" in proc.stderr and "Traceback" not in proc.stderr


# ----------------------------------------------------------------------------- publishing


def test_rebuild_while_a_reader_holds_the_file_gives_identical_tables(tmp_path, basic_dir, served):
    serving = tmp_path / "serving.duckdb"
    shutil.copy(served[0], serving)
    before = table_contents(serving)
    reader = duckdb.connect(str(serving), read_only=True)
    try:
        n_before = reader.execute("select count(*) from raw.product_events").fetchone()[0]
        proc = run_cli("build", "--data-dir", basic_dir, "--warehouse", serving)
        assert proc.returncode == 0, proc.stderr
        # stderr: progress and the build's warnings, nothing from the interpreter's or
        # multiprocessing's shutdown (the gate's worker process ends without either).
        for line in proc.stderr.splitlines():
            assert line.startswith(("[", "warning: ", "  ")), proc.stderr
        # The reader keeps its consistent snapshot of the old file while the new one is served.
        assert reader.execute("select count(*) from raw.product_events").fetchone()[0] == n_before
    finally:
        reader.close()
    after = table_contents(serving)
    assert after == before
    assert len(after) >= 30  # raw tables, staging views, the currencies seed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "serving_data_docs"]


def test_a_failing_model_leaves_the_previous_warehouse_serving(tmp_path, basic_dir, served):
    project = project_copy(tmp_path)
    (project / "models" / "staging" / "zz_broken.sql").write_text(
        "select * from {{ ref('stg_billing__accounts') }} where no_such_column = 1\n"
    )
    serving, before = serving_copy(served[0], tmp_path)
    proc = project_build(basic_dir, serving, project)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["status"] == "error"
    assert "zz_broken" in proc.stderr
    assert sha256(serving) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project", "serving.duckdb"]
    assert not (tmp_path / "serving_data_docs").exists()


def test_a_killed_build_leaves_the_previous_warehouse_serving(tmp_path, basic_dir, served):
    serving, before = serving_copy(served[0], tmp_path)
    proc = start_build(basic_dir, serving)
    try:
        # Wait until dbt is running against the new file, then kill everything hard.
        deadline = time.monotonic() + 120
        seen = False
        while time.monotonic() < deadline and proc.poll() is None:
            if any(p.name.startswith(".serving.duckdb.building-") for p in tmp_path.iterdir()):
                line = proc.stderr.readline()
                if "running dbt" in line or "dbt:" in line:
                    seen = True
                    break
            else:
                time.sleep(0.05)
        assert seen, "the build never reached dbt"
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert sha256(serving) == before
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select count(*) from raw.accounts").fetchone() == (4,)


def test_leftovers_of_killed_builds_are_removed(tmp_path):
    from upgrade_warehouse.workspace import remove_stale_builds

    target = tmp_path / "w.duckdb"
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".w.duckdb.building-{dead.pid}.duckdb"
    stale.write_bytes(b"x")
    live = tmp_path / f".w.duckdb.building-{os.getppid()}.duckdb"  # a running process
    live.write_bytes(b"x")
    remove_stale_builds(target)
    assert not stale.exists()
    assert live.exists()


def test_profile_settings_can_be_set_again_after_a_spill(tmp_path):
    """dbt-duckdb runs the profile's ``settings`` again on every cursor it opens. Once a
    query has spilled, DuckDB refuses to set ``temp_directory`` again, even to the same
    folder (a 100M-event build failed so): the spill folder and the memory limit are
    ``config_options``, given once when the file is opened, and every ``settings`` entry
    can be set again after a spill."""
    output = yaml.safe_load((REPO / "profiles.yml").read_text())["upgrade_warehouse"]
    duck = output["outputs"]["duckdb"]
    assert {"memory_limit", "temp_directory"} <= set(duck["config_options"])
    spill = tmp_path / "spill"
    con = duckdb.connect(
        str(tmp_path / "w.duckdb"),
        config={"memory_limit": "100MB", "temp_directory": str(spill), "threads": 1},
    )
    sql = "select count(*) from (select md5(i::varchar) as s from range(3000000) r(i) order by s)"
    con.execute(sql).fetchall()
    assert spill.is_dir()  # the sort spilled
    for key in duck.get("settings", {}):
        (value,) = con.execute("select current_setting(?)", [key]).fetchone()
        con.execute(f"set {key} = '{value}'")  # what dbt-duckdb does on each new cursor
    with pytest.raises(duckdb.NotImplementedException, match="temporary directory"):
        con.execute(f"set temp_directory = '{spill}'")  # why temp_directory is not there


def test_dbt_threads_follow_the_input_size(tmp_path, monkeypatch):
    """Two models at a time on small inputs, one from LARGE_INPUT_ROWS on (two large
    aggregations side by side ran out of memory at 100M events); the variable wins."""
    from upgrade_warehouse.engines.duckdb import LARGE_INPUT_ROWS, DuckDBSettings

    monkeypatch.delenv("UPGRADE_WAREHOUSE_DBT_THREADS", raising=False)
    settings = DuckDBSettings(memory_limit="1GB", temp_directory=tmp_path)
    settings.size_for(LARGE_INPUT_ROWS - 1)
    assert settings.env()["UPGRADE_WAREHOUSE_DBT_THREADS"] == "2"
    settings.size_for(LARGE_INPUT_ROWS)
    assert settings.env()["UPGRADE_WAREHOUSE_DBT_THREADS"] == "1"
    monkeypatch.setenv("UPGRADE_WAREHOUSE_DBT_THREADS", "3")
    settings.size_for(LARGE_INPUT_ROWS)
    assert settings.env()["UPGRADE_WAREHOUSE_DBT_THREADS"] == "3"
    threads = yaml.safe_load((REPO / "profiles.yml").read_text())["upgrade_warehouse"]
    assert "UPGRADE_WAREHOUSE_DBT_THREADS" in threads["outputs"]["duckdb"]["threads"]
