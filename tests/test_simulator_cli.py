"""`upgrade-warehouse quote` through a real subprocess, as a user runs it.

The commands are started all at once (module fixture) to keep the suite fast."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import duckdb
import polars as pl
import pytest

from conftest import FIXTURES, run_cli, start_cli

EX1 = [
    "quote",
    "--from-plan",
    "pro_monthly",
    "--from-quantity",
    "3",
    "--to-plan",
    "business_monthly",
    "--to-quantity",
    "3",
    "--period-start",
    "2026-03-01T00:00:00Z",
    "--period-end",
    "2026-04-01T00:00:00Z",
    "--at",
    "2026-03-16T12:00:00Z",
]


def quote_args(from_plan: str, from_quantity: str, to_plan: str, period_start: str, at: str):
    """The arguments of ``quote`` for one change with only the required options."""
    return [
        "quote",
        "--from-plan",
        from_plan,
        "--from-quantity",
        from_quantity,
        "--to-plan",
        to_plan,
        "--period-start",
        period_start,
        "--at",
        at,
    ]


# The spec's JSON object for worked example 1, written out by hand.
EX1_JSON = {
    "currency": "USD",
    "requires_sales": False,
    "from": {"plan_id": "pro_monthly", "quantity": 3, "mrr_minor": 6000},
    "to": {"plan_id": "business_monthly", "quantity": 3, "mrr_minor": 15000},
    "mrr_delta_minor": 9000,
    "movement": "expansion",
    "kind": "tier_upgrade",
    "timing": "immediate",
    "effective_at": "2026-03-16T12:00:00Z",
    "lines": [
        {
            "line_type": "proration_credit",
            "amount_minor": -3000,
            "period_start": "2026-03-16T12:00:00Z",
            "period_end": "2026-04-01T00:00:00Z",
        },
        {
            "line_type": "proration_charge",
            "amount_minor": 7500,
            "period_start": "2026-03-16T12:00:00Z",
            "period_end": "2026-04-01T00:00:00Z",
        },
    ],
    "proration_net_minor": 4500,
    "amount_due_now_minor": 0,
    "next_invoice": {"date": "2026-04-01T00:00:00Z", "amount_minor": 19500},
    "credit_balance_minor": 0,
    "period": {"start": "2026-03-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"},
    "entitlements_added": ["audit_log", "sso"],
    "entitlements_removed": [],
}

PLANS_CSV = """plan_id,plan_name,tier_rank,billing_interval,unit_amount_minor,currency,self_serve,min_seats,max_seats,entitlements
lite,Lite,1,month,1000,USD,true,1,10,a
max,Max,2,month,3000,USD,FALSE,,,a;b
max_y,Max yearly,2,year,36000,USD,1,,,a;b
"""

CASES_CSV = """case_id,from_plan_id,from_quantity,to_plan_id,to_quantity,period_start,period_end,at,granularity
k1,lite,2,max,,2026-03-01T00:00:00Z,2026-04-01T00:00:00Z,2026-03-16T12:00:00Z,
k2,lite,2,nope,2,2026-03-01T00:00:00Z,,2026-03-16T12:00:00Z,
k3,lite,2,max_y,1,2026-03-01T00:00:00Z,,2026-03-16T12:00:00Z,day
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d: Path = tmp_path_factory.mktemp("quote_cli")
    (d / "plans.csv").write_text(PLANS_CSV)
    (d / "cases.csv").write_text(CASES_CSV)
    # A case id crafted as a spreadsheet formula, and one that is a plain negative number.
    (d / "formula_cases.csv").write_text(
        CASES_CSV.splitlines()[0]
        + "\n"
        + "\n".join(
            f"{case_id},lite,1,max,1,2026-03-01T00:00:00Z,2026-04-01T00:00:00Z,2026-03-16T12:00:00Z,"
            for case_id in ("=1+2", "@SUM(A1)", "-7", "k4")
        )
        + "\n"
    )
    pl.read_csv(d / "plans.csv").write_parquet(d / "plans.parquet")
    (d / "bad_plans.csv").write_text(PLANS_CSV.replace("month,1000", "week,1000"))
    commands = {
        "ex1_json": [*EX1, "--format", "json"],
        "ex3_table": [
            *quote_args(
                "pro_monthly", "3", "pro_annual", "2026-03-01T00:00:00Z", "2026-03-16T12:00:00Z"
            ),
            "--timing",
            "immediate",
        ],
        "unknown_plan": [*EX1[:6], "nope", *EX1[7:]],
        # The golden data set's plans in a warehouse: pro_m 2000/seat/month, biz_m 5000.
        "warehouse_plans": [
            "quote",
            "--warehouse",
            str(_warehouse_with_golden_plans(d)),
            "--from-plan",
            "pro_m",
            "--from-quantity",
            "3",
            "--to-plan",
            "biz_m",
            *EX1[9:],
            "--format",
            "json",
        ],
        "warehouse_unknown_plan": [
            "quote",
            "--warehouse",
            str(d / "plans_only.duckdb"),
            *EX1[1:],
        ],
        "bad_quantity": [*EX1[:4], "abc", *EX1[5:]],
        "huge_quantity": [*EX1[:4], "9" * 5000, *EX1[5:]],
        "formula_csv": [
            "quote",
            "--batch",
            str(d / "formula_cases.csv"),
            "--plans",
            str(d / "plans.csv"),
        ],
        "batch_csv": ["quote", "--batch", str(d / "cases.csv"), "--plans", str(d / "plans.csv")],
        "batch_json": [
            "quote",
            "--batch",
            str(d / "cases.csv"),
            "--plans",
            str(d / "plans.parquet"),
            "--format",
            "json",
            "--granularity",
            "day",
        ],
    }
    procs = {
        name: start_cli(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name, args in commands.items()
    }
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        results[name] = (proc.returncode, out, err)
    results["dir"] = d
    return results


def _warehouse_with_golden_plans(d: Path) -> Path:
    """A DuckDB file holding only ``raw.plans`` (what ``quote --warehouse`` reads)."""
    path = d / "plans_only.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.plans as select * from read_csv(?, header = true)",
            [str(FIXTURES / "golden" / "plans.csv")],
        )
    return path


def test_quote_with_a_warehouse_plans(runs):
    code, out, err = runs["warehouse_plans"]
    assert code == 0, err
    q = json.loads(out)
    # Worked example 1's prices and moment with pro_m (2000) -> biz_m (5000), x3, f = 0.5:
    # credit -3000, charge 7500, net 4500.
    assert (q["from"]["plan_id"], q["to"]["plan_id"]) == ("pro_m", "biz_m")
    assert q["proration_net_minor"] == 4500
    assert [line["amount_minor"] for line in q["lines"]] == [-3000, 7500]


def test_unknown_plan_says_which_catalog_and_how_to_use_another(runs):
    code, _, err = runs["unknown_plan"]
    assert code == 2
    assert "in the sample catalog" in err
    assert "--plans FILE" in err and "--warehouse PATH" in err
    # The sample catalog's plans are not in the golden warehouse: it names its plans.
    code, _, err = runs["warehouse_unknown_plan"]
    assert code == 2
    assert "unknown from plan 'pro_monthly'" in err
    assert "biz_m, free, pro_m" in err


def test_worked_example_1_json(runs):
    code, out, err = runs["ex1_json"]
    assert code == 0, err
    assert json.loads(out) == EX1_JSON


def test_table_output(runs):
    code, out, err = runs["ex3_table"]
    assert code == 0, err
    # worked example 3: due now 57000 minor = 570.00 USD, subscription 600.00 USD
    assert "570.00 USD" in out
    assert "600.00 USD" in out
    assert "-30.00 USD" in out
    assert "interval_switch" in out


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("unknown_plan", "unknown to plan 'nope'"),
        ("bad_quantity", "from_quantity must be a whole number >= 0, not 'abc'"),
        ("huge_quantity", "from_quantity must be at most 1,000,000,000 seats"),
    ],
)
def test_bad_input_exits_2_without_traceback(runs, name, message):
    code, out, err = runs[name]
    assert code == 2
    assert message in err
    assert "Traceback" not in err and "Traceback" not in out
    assert out == ""


def test_batch_csv_cells_never_run_as_formulas(runs):
    code, out, err = runs["formula_csv"]
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    # OWASP: a text cell starting with = + - @ is prefixed with a quote; numbers stay numbers.
    assert [r["case_id"] for r in rows] == ["'=1+2", "'@SUM(A1)", "'-7", "k4"]
    assert {r["proration_net_minor"] for r in rows} == {rows[0]["proration_net_minor"]}
    assert int(rows[0]["proration_credit_minor"]) < 0  # a negative amount is not prefixed


def test_batch_csv(runs):
    code, out, err = runs["batch_csv"]
    assert code == 0, err
    df = pl.read_csv(io.StringIO(out), infer_schema=False)
    assert df.get_column("case_id").to_list() == ["k1", "k2", "k3"]
    rows = {r["case_id"]: r for r in df.to_dicts()}
    # k1: lite x2 (2000) -> max x2 (6000), f = 1/2: credit -1000, charge 3000, net 2000,
    # next Apr 1 = 6000 + 2000 = 8000
    k1 = rows["k1"]
    assert (k1["proration_credit_minor"], k1["proration_charge_minor"]) == ("-1000", "3000")
    assert (k1["proration_net_minor"], k1["next_invoice_amount_minor"]) == ("2000", "8000")
    assert k1["next_invoice_date"] == "2026-04-01T00:00:00Z"
    assert k1["mrr_delta_minor"] == "4000"
    assert k1["error"] is None
    assert rows["k2"]["error"] == "unknown to plan 'nope'"
    assert rows["k2"]["proration_net_minor"] is None
    # k3: lite x2 -> max_y x1, day granularity, f = 16/31: credit -round(2000*16/31 = 1032.26)
    # = -1032, subscription 36000 now: due 34968; MRR 2000 -> 3000: delta 1000
    k3 = rows["k3"]
    assert (k3["proration_credit_minor"], k3["subscription_line_minor"]) == ("-1032", "36000")
    assert k3["amount_due_now_minor"] == "34968"
    assert k3["next_invoice_date"] == "2027-03-16T12:00:00Z"


def test_batch_json_with_parquet_plans_and_default_option(runs):
    code, out, err = runs["batch_json"]
    assert code == 0, err
    rows = json.loads(out)
    assert [r["case_id"] for r in rows] == ["k1", "k2", "k3"]
    # --granularity day fills the empty cells: k1 f = 16/31: credit -round(2000*16/31) = -1032,
    # charge round(6000*16/31 = 3096.77) = 3097
    assert (rows[0]["proration_credit_minor"], rows[0]["proration_charge_minor"]) == (-1032, 3097)
    assert rows[0]["mrr_delta_minor"] == 4000
    assert rows[1]["error"] == "unknown to plan 'nope'"


# More bad input, in-process (the subprocess tests above cover exit code 2 end to end).


def _invoke(args):
    import typer
    from typer.testing import CliRunner

    from upgrade_warehouse.simulator.command import quote_command

    app = typer.Typer()
    app.command("quote")(quote_command)
    app.command("other")(lambda: None)  # keep "quote" as a named subcommand
    return CliRunner().invoke(app, args)


def test_unknown_format_is_a_usage_error_listing_the_choices():
    proc = run_cli(*EX1, "--format", "xml")
    assert proc.returncode == 2
    text = " ".join(proc.stderr.replace("│", " ").split())
    assert "'xml' is not one of 'table', 'json', 'csv'" in text and "Traceback" not in text
    # --granularity, --timing, --proration-behavior: typer's choices too (issue 35), so a
    # bad one stops a --batch run before any case is priced.
    proc = run_cli(*EX1, "--granularity", "hour")
    assert proc.returncode == 2 and proc.stdout == ""
    text = " ".join(proc.stderr.replace("│", " ").split())
    assert "'hour' is not one of 'second', 'day'" in text and "Traceback" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["quote", "--from-plan", "pro_monthly", "--to-plan", "free"],
            "missing option --from-quantity",
        ),
        ([*EX1[:-1], "2026-04-01T00:00:00Z"], "outside the billing period"),
        ([*EX1, "--plans", "{dir}/bad_plans.csv"], "billing_interval must be month or year"),
        ([*EX1, "--plans", "{dir}/missing.csv"], "does not exist"),
        (
            ["quote", "--batch", "{dir}/cases.csv", "--format", "table"],
            "--format must be csv or json",
        ),
        (
            ["quote", "--batch", "{dir}/cases.csv", "--at", "2026-03-16"],
            "--at cannot be used with --batch",
        ),
        ([*EX1, "--format", "csv"], "--format must be table or json"),
    ],
)
def test_bad_input_is_user_error(runs, args, message):
    from upgrade_warehouse.errors import UserError

    result = _invoke([a.replace("{dir}", str(runs["dir"])) for a in args])
    assert isinstance(result.exception, UserError), result.output
    assert message in str(result.exception)
