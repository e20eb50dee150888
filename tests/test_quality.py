"""The Great Expectations publish gate: suites kept current, one broken invariant per
blocking expectation is caught, warnings do not block, and a failing gate leaves the
serving warehouse untouched."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime

import duckdb
import pytest

from conftest import FIXTURES, REPO, project_build, project_copy, run_cli, serving_copy, sha256
from upgrade_warehouse import quality

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def gated(tmp_path_factory):
    """The golden + operations data set built through the CLI (the gate ran in the build)."""
    data = tmp_path_factory.mktemp("q-data")
    for table in ("accounts", "plans", "subscription_changes", "product_events", "fx_rates"):
        shutil.copy(FIXTURES / "golden" / f"{table}.csv", data)
    for path in (FIXTURES / "operations").glob("*.csv"):
        shutil.copy(path, data)
    # A GBP rate for c11 (the fixture's only GBP change), so that every change converts
    # and fx_coverage passes here (test_a_missing_fx_rate_is_a_warning breaks it).
    with (data / "fx_rates.csv").open("a") as fx:
        fx.write("2026-01-01,GBP,1.25\n")
    path = tmp_path_factory.mktemp("q") / "wh.duckdb"
    proc = run_cli("build", "--data-dir", data, "--warehouse", path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return path, json.loads(proc.stdout), proc.stderr, data


# as_of of the golden data is 2026-03-31T12:00Z; "now" one day later keeps it fresh.
FRESH_NOW = datetime(2026, 4, 1, 12, 0)


def test_committed_suites_are_what_the_code_generates(tmp_path):
    quality.write_suites(tmp_path)
    generated = {p.name: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}
    committed = {p.name: json.loads(p.read_text()) for p in (REPO / "expectations").glob("*.json")}
    assert generated == committed
    assert len(committed) == 10


def test_clean_build_passes_every_expectation_but_freshness(gated):
    path, report, stderr, _ = gated
    e = report["expectations"]
    assert e["failed"] == 1 and e["passed"] >= 30  # the golden data is months old
    assert "warning: data expectation failed (not blocking): freshness" in stderr
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select suite, severity, success from quality.expectation_results where not success"
        ).fetchall()
    assert rows == [("freshness", "warning", False)]
    assert (quality.docs_folder(path) / "index.html").is_file()
    assert quality.run_gate(path, now=FRESH_NOW, docs=False).failed == 0


def _run(con, sql):
    con.execute(sql)


# One tamper per blocking expectation: (suite, column or key, SQL that breaks it).
TAMPERS = [
    (
        "monthly_metrics",
        "upgrade_conversion_rate",
        "update marts.fct_monthly_metrics set upgrade_conversion_rate = 1.5 where month = '2026-03-01'",
    ),
    (
        "monthly_metrics",
        "post_activation_self_serve_rate",
        (
            "update marts.fct_monthly_metrics set post_activation_self_serve_rate = -0.25 "
            "where month = '2026-01-01'"
        ),
    ),
    (
        "monthly_metrics",
        "month",  # unique (also a mart key: mart_keys fails with it)
        (
            "insert into marts.fct_monthly_metrics select * from marts.fct_monthly_metrics "
            "where month = '2026-02-01'"
        ),
    ),
    (
        "monthly_metrics",
        "channel_sum_minus_upgrades",
        "update marts.fct_monthly_metrics set upgrades = upgrades + 1 where month = '2026-01-01'",
    ),
    (
        "monthly_metrics",
        "movements_minus_net_new_mrr",
        (
            "update marts.fct_monthly_metrics set net_new_mrr = net_new_mrr + 0.01 "
            "where month = '2026-01-01'"
        ),
    ),
    (
        "keyed_rates",
        "metric_value",
        (
            "update marts.fct_monthly_metric_breakdowns set metric_value = 1.2 "
            "where metric_id = 'payment_success_rate_by_method' and breakdown_key = 'wallet'"
        ),
    ),
    (
        "abandonment_shares",
        "share_sum",
        (
            "update marts.fct_monthly_metric_breakdowns set metric_value = 0.5 "
            "where metric_id = 'abandonment_by_step' and breakdown_key = 'upgrade_intent' "
            "and month = '2026-03-01'"
        ),
    ),
    (
        "funnel_steps",
        "attempts_reaching",
        "update marts.fct_upgrade_attempts set step_2_reached_at = null",
    ),
    (
        "attribution",
        "mismatches_minus_inaccurate",
        (
            "update marts.fct_monthly_metric_breakdowns set metric_value = metric_value + 1 "
            "where metric_id = 'attribution_mismatches' and breakdown_key = 'wrong_amount' "
            "and month = '2026-01-01'"
        ),
    ),
    (
        "load_report",
        "read_minus_accepted_quarantined",
        "update raw.load_report set rows_read = rows_read + 1 where table_name = 'accounts'",
    ),
    (
        "load_report",
        "table_name",
        "insert into raw.load_report select * from raw.load_report where table_name = 'plans'",
    ),
    (
        "mart_keys",
        "mart,key_value",
        "insert into marts.dim_accounts select * from marts.dim_accounts where account_id = 'A1'",
    ),
    (
        "mart_keys",
        "key_value",
        "update marts.fct_subscription_changes set change_id = null where change_id = 'c1'",
    ),
    (
        "timestamps",
        "seconds_after_as_of",
        (
            "update marts.fct_payment_attempts set attempted_at = timestamp '2026-04-02 00:00:00' "
            "where attempt_id = 'p1'"
        ),
    ),
    ("freshness", "as_of", "update raw.build_info set as_of = null"),
]


def gate_after(gated, tmp_path, sql: str) -> quality.GateResult:
    """The gate's result on a copy of the gated warehouse in which ``sql`` ran."""
    copy = tmp_path / "tampered.duckdb"
    shutil.copy(gated[0], copy)
    with duckdb.connect(str(copy)) as con:
        con.execute(sql)
    return quality.run_gate(copy, now=FRESH_NOW, docs=False)


@pytest.mark.parametrize("suite, column, sql", TAMPERS, ids=[f"{t[0]}-{t[1]}" for t in TAMPERS])
def test_each_blocking_expectation_catches_its_broken_invariant(
    tmp_path, gated, suite, column, sql
):
    result = gate_after(gated, tmp_path, sql)
    failed = [(o.suite, o.column, o.severity) for o in result.outcomes if not o.success]
    assert (suite, column, "blocking") in failed
    # Only that invariant breaks (a duplicated month is also a duplicated mart key).
    also = {"mart_keys"} if column == "month" else set()
    assert {f[0] for f in failed} == {suite} | also


def test_warning_expectations_do_not_block(tmp_path, gated):
    # 10 of 13 accounts quarantined: far above the 5% warning threshold.
    result = gate_after(
        gated,
        tmp_path,
        "update raw.load_report set rows_quarantined = 10, rows_read = rows_read + 10 "
        "where table_name = 'accounts'",
    )
    assert [(o.suite, o.column) for o in result.warnings] == [("load_report", "quarantined_share")]
    assert result.blocking_failures == []


def test_a_missing_fx_rate_is_a_warning(tmp_path, gated):
    """Changes that cannot be converted to the reporting currency: a warning that names
    each currency with its number of changes (they are left out of every MRR figure)."""
    with duckdb.connect(str(gated[0]), read_only=True) as con:
        eur = con.execute(
            "select count(*) from marts.fct_subscription_changes "
            "where currency = 'EUR' and movement <> 'none'"
        ).fetchone()[0]
    # c11 (GBP, new) and the two EUR changes of A2 lose their rate
    result = gate_after(
        gated,
        tmp_path,
        "update marts.fct_subscription_changes set is_converted = false "
        "where currency in ('GBP', 'EUR') and movement <> 'none'",
    )
    assert result.blocking_failures == []
    [warning] = result.warnings
    assert (warning.suite, warning.column) == ("fx_coverage", "changes_without_fx_rate")
    plural = "change" if eur == 1 else "changes"
    assert f"EUR: {eur} {plural} without an fx rate" in warning.details
    assert "GBP: 1 change without an fx rate" in warning.details


def test_failing_gate_keeps_the_serving_warehouse(tmp_path, gated):
    """A model that breaks an invariant dbt does not test: the gate stops the publish."""
    project = project_copy(tmp_path)
    # net_new_mrr is defined in the revenue section model (fct_monthly_metrics selects it)
    model = project / "models" / "intermediate" / "metrics" / "int_metrics__revenue.sql"
    text = model.read_text()
    defined = " }} as net_new_mrr,"
    assert text.count(defined) == 1
    model.write_text(text.replace(defined, " }} + 1 as net_new_mrr,"))
    serving, before = serving_copy(gated[0], tmp_path)
    proc = project_build(gated[3], serving, project)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "movements_minus_net_new_mrr" in proc.stderr
    assert json.loads(proc.stdout)["status"] == "error"
    assert sha256(serving) == before
    assert (tmp_path / "serving_data_docs_failed" / "index.html").is_file()
    assert not any(p.name.startswith(".serving") for p in tmp_path.iterdir())


def test_the_gate_worker_prepares_great_expectations_without_pyspark(gated):
    # The worker hides pyspark (installed with the `spark` extra) from GX and leaves
    # scipy.stats unexecuted until used: the suites are prepared and validate all the
    # same, pyspark is not imported (1.2 s of CPU per build), scipy.stats not executed
    # (1.0-1.4 s), and it still works when something uses it.
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from upgrade_warehouse import quality\n"
        "quality.hide_pyspark()\n"
        "[quality.import_lazily(name) for name in quality.LAZY_MODULES]\n"
        "gate = quality.Gate()\n"
        f"now = quality.datetime(*{tuple(FRESH_NOW.timetuple())[:6]!r})\n"
        f"result = gate.run(Path({str(gated[0])!r}), now=now, docs=False)\n"
        "print(len(quality.load_suites()), 'pyspark' in sys.modules,\n"
        "      'scipy.stats._stats_py' in sys.modules, result.passed, result.failed)\n"
        "from scipy import stats\n"
        "print(stats.norm.cdf(0.0), 'scipy.stats._stats_py' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert proc.returncode == 0, proc.stderr[-800:]
    in_process = quality.run_gate(gated[0], now=FRESH_NOW, docs=False)
    suites, passed, failed = len(quality.load_suites()), in_process.passed, in_process.failed
    assert proc.stdout.split() == [
        *(str(suites), "False", "False", str(passed), str(failed)),
        *("0.5", "True"),
    ]


def test_great_expectations_imports_in_a_main_module_without_a_file():
    """With pyspark installed (the `spark` extra) Great Expectations imports
    pyspark.sql.connect, which exits the process (status 0) without grpc when the main
    module has no file, as under `python -c` or in a pytest-xdist worker: the extra
    brings pyspark's connect dependencies."""
    proc = subprocess.run(
        [sys.executable, "-c", "import great_expectations; print('imported')"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "imported", proc.stderr[-500:]
