"""Hostile input and faults (issue 15, docs/security.md): no injection, no silent damage,
one clear message every time.

The loader cases run in-process on a copy of the basic fixture (fast). One build of a
hostile copy (glob characters in its folder name, odd column names, a 3 MB field, badly
dated rows, an apostrophe in a funnel step) checks the whole pipeline; while it runs, a
second build of the same warehouse must be refused by the lock.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import jinja2
import pytest

from conftest import CLI, FIXTURES, REPO, run_cli, start_cli
from upgrade_warehouse import contract, quality
from upgrade_warehouse.errors import UserError
from upgrade_warehouse.exports import safe_text
from upgrade_warehouse.loader import load_data_dir
from upgrade_warehouse.metrics import to_csv as metrics_to_csv
from upgrade_warehouse.params import parse_vars
from upgrade_warehouse.warehouse import Metric

BASIC = FIXTURES / "basic"


def copy_basic(target: Path) -> Path:
    shutil.copytree(BASIC, target)
    return target


def append_rows(path: Path, rows: list[dict]) -> None:
    """Append rows (dicts by column name, missing columns empty) to a CSV file."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        header = next(csv.reader(f))
    text = path.read_text(encoding="utf-8-sig")
    with open(path, "a", newline="", encoding="utf-8") as f:
        if not text.endswith("\n"):
            f.write("\n")
        writer = csv.writer(f, lineterminator="\n")
        for row in rows:
            writer.writerow([row.get(h, "") for h in header])


def valid_row(key: str, **defaults: str):
    """A maker of rows of one table, valid unless its ``values`` say otherwise: the first
    argument is the row's ``key`` column, the keywords override ``defaults``."""

    def make(key_value: str, **values) -> dict:
        return {key: key_value, **defaults, **values}

    return make


# A product event, a subscription change (acc_1 to pro_monthly) and a plan (self-serve,
# monthly, USD), each valid unless told otherwise.
event = valid_row(
    "event_id",
    account_id="acc_1",
    user_id="u_1",
    event_name="plan_selected",
    occurred_at="2026-02-01T10:00:00Z",
)
change = valid_row(
    "change_id",
    subscription_id="sub_h",
    account_id="acc_1",
    changed_at="2026-02-01T00:00:00Z",
    effective_at="2026-02-01T00:00:00Z",
    to_plan_id="pro_monthly",
    initiated_by="customer",
)
plan = valid_row(
    "plan_id",
    plan_name="x",
    tier_rank="1",
    billing_interval="month",
    unit_amount_minor="1",
    currency="USD",
    self_serve="true",
)


def load(data_dir: Path) -> tuple[dict, duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    return load_data_dir(data_dir, con), con


def quarantined(con, table: str) -> dict[str, tuple[str, str]]:
    """key value -> (reason, column) of the quarantined rows of a table."""
    key = contract.TABLES_BY_NAME[table].key[0]
    rows = con.execute(
        "select raw_row, reason_code, reason_column from raw.quarantine where table_name = ?",
        [table],
    ).fetchall()
    return {json.loads(r)[key]: (reason, column) for r, reason, column in rows}


def to_parquet(path: Path) -> None:
    """Rewrite a CSV file as Parquet (all text), read by exact path (pyarrow)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={}, strings_can_be_null=False, auto_dict_encode=False, include_columns=None
        ),
        read_options=pacsv.ReadOptions(autogenerate_column_names=False),
    )
    table = table.cast(
        __import__("pyarrow").schema(
            [(f.name, __import__("pyarrow").string()) for f in table.schema]
        )
    )
    pq.write_table(table, path.with_suffix(".parquet"))
    path.unlink()


def reconciles(report: dict) -> bool:
    return all(t["read"] == t["accepted"] + t["quarantined"] for t in report.values())


# ----------------------------------------------------------- 1. parameters never SQL


@pytest.mark.parametrize(
    "value",
    [
        "x' || (select content from read_text('/etc/passwd')) || '",
        "a'); copy (select 1) to '/tmp/pwned.csv'; --",
        "step\\",  # a backslash (an escape in Spark SQL)
        'say "hi"',
        "{{ var('as_of') }}",  # Jinja
        "a;b",
        "tab\there",
        "x" * 201,
        "line\nbreak",
    ],
)
def test_a_crafted_list_parameter_is_refused(value):
    for name in ("funnel_steps", "activation_events", "escalation_events", "experiment_events"):
        with pytest.raises(UserError, match=f"--var {name}: .* is not an event name"):
            parse_vars([f"{name}=upgrade_intent,{value}"])


def test_a_crafted_parameter_stops_the_build_before_anything_runs(tmp_path):
    value = "x' || (select content from read_text('/etc/passwd')) || '"
    serving = tmp_path / "wh.duckdb"
    serving.write_bytes(b"serving")
    proc = run_cli(
        "build",
        "--data-dir",
        BASIC,
        "--warehouse",
        serving,
        "--var",
        f"funnel_steps={value}",
        "--format",
        "json",
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["status"] == "error"
    assert serving.read_bytes() == b"serving"


def test_real_event_names_are_accepted():
    # Dots, spaces, colons, slashes, an apostrophe, $-prefixed (PostHog), other scripts.
    names = (
        "checkout.started",
        "Checkout: Step 2/3",
        "o'clock",
        "$pageview",
        "Étape_1",
        "plan (annual) + seats & add-ons @web #2",
    )
    params = parse_vars([f"funnel_steps={','.join(names)}"])
    assert params.funnel_steps == names


def _sql_string_macros() -> jinja2.Template:
    """The project's sql_string macros (macros/portable.sql), rendered with plain Jinja."""
    source = (REPO / "macros" / "portable.sql").read_text()
    env = jinja2.Environment()
    return env.from_string(
        source + "{% macro in_list_default(expression, values) -%}"
        "{{ expression }} in ({% for x in values %}{{ default__sql_string(x) }}"
        "{% if not loop.last %}, {% endif %}{% endfor %})"
        "{%- endmacro %}"
        "{{ default__sql_string(v) }}@@SEP@@{{ spark__sql_string(v) }}@@SEP@@"
        "{{ in_list_default('e', vs) }}"
    )


CRAFTED = [
    "x' || (select content from read_text('/etc/passwd')) || '",
    "o'clock",
    "a\\' or 1=1 --",
    "''; drop table t; --",
]


@pytest.mark.parametrize("value", CRAFTED)
def test_sql_string_keeps_any_value_a_literal(value):
    """Even a value that bypassed the pattern (dbt run by hand with --vars) stays one
    string literal: DuckDB reads back exactly the value, no file is read."""
    rendered = _sql_string_macros().render(v=value, vs=[value, "b"]).strip().split("@@SEP@@")
    default, spark, in_list = rendered[-3:]
    con = duckdb.connect()
    assert con.execute(f"select {default}").fetchone()[0] == value
    con.execute("create table t (e varchar)")
    con.execute("insert into t values (?), ('b'), ('other')", [value])
    assert sorted(
        r[0] for r in con.execute(f"select e from t where {in_list}").fetchall()
    ) == sorted([value, "b"])
    # Spark SQL: backslash escapes; no unescaped quote can end the literal early.
    body = spark[1:-1]
    assert spark.startswith("'") and spark.endswith("'")
    assert not re.search(r"(?<!\\)(\\\\)*'", body)


def test_no_model_pastes_a_value_inside_quotes():
    """Every value reaches SQL through sql_string (or `| int`): no '{{ ... }}' in models."""
    offenders = [
        f"{p.relative_to(REPO)}:{n}"
        for p in sorted((REPO / "models").rglob("*.sql"))
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"'\{\{", line)
    ]
    assert offenders == []
    var_uses = [
        f"{p.relative_to(REPO)}: {m.group(0)}"
        for p in sorted((REPO / "models").rglob("*.sql"))
        for m in re.finditer(r"\{\{[^}]*\bvar\([^}]*\}\}", p.read_text())
        if "sql_string(" not in m.group(0) and "| int" not in m.group(0)
    ]
    assert var_uses == []


# ------------------------------------------------ 2, 3, 4: dates, types, bounds (loader)


def test_timestamps_dates_numbers_and_json_are_checked(tmp_path):
    data = copy_basic(tmp_path / "data")
    append_rows(
        data / "product_events.csv",
        [
            event("h_1900", occurred_at="1900-01-01T00:00:00Z"),
            event("h_1969", occurred_at="1969-12-31T23:59:59Z"),
            event("h_9999", occurred_at="9999-12-31T00:00:00Z"),
            event("h_2100", occurred_at="2100-01-01T00:00:00Z"),
            event("h_10000", occurred_at="10000-01-01T00:00:00Z"),
            event("h_inf", occurred_at="infinity"),
            event("h_minf", occurred_at="-infinity"),
            event("h_epoch", occurred_at="epoch"),
            event("h_tz", occurred_at="2026-01-05 10:00:00 America/New_York"),
            event("h_off", occurred_at="2026-01-05T10:00:00+25:00"),
            event("h_recv", received_at="infinity"),
            event("h_nan", properties='{"a": NaN}'),
            event("h_inf_json", properties='{"a": {"b": [1, -Infinity]}}'),
            # Valid: the edges of the range, an offset, NaN inside a string, a date alone.
            event("ok_1970", occurred_at="1970-01-01T00:00:00Z"),
            event("ok_2099", occurred_at="2026-03-01T00:00:00+14:00"),
            event("ok_nan_text", properties='{"note": "NaN and Infinity are words here"}'),
            event("ok_date", occurred_at="2026-02-03"),
        ],
    )
    append_rows(
        data / "subscription_changes.csv",
        [
            change("h_qty", to_quantity=str(10**15)),
            change("ok_qty", subscription_id="sub_h2", to_quantity=str(contract.MAX_QUANTITY)),
        ],
    )
    append_rows(
        data / "plans.csv",
        [
            plan("h_tier", tier_rank="1001"),
            plan("h_price", unit_amount_minor=str(10**12 + 1)),
        ],
    )
    append_rows(
        data / "sync_events.csv",
        [
            {
                "sync_event_id": "h_attempt",
                "change_id": "ch_2",
                "target_system": "crm",
                "attempt_number": "10001",
                "attempted_at": "2026-03-16T12:00:05Z",
                "status": "failed",
            },
        ],
    )
    append_rows(
        data / "fx_rates.csv",
        [
            {"rate_date": "1900-01-01", "currency": "EUR", "rate_to_reporting": "1.1"},
            {"rate_date": "2026-02-01", "currency": "GBP", "rate_to_reporting": "10000000"},
        ],
    )
    report, con = load(data)
    assert reconciles(report)
    events = quarantined(con, "product_events")
    for key in ("h_1900", "h_1969", "h_9999", "h_2100"):
        assert events[key] == ("bad_value", "occurred_at"), key
    for key in ("h_10000", "h_inf", "h_minf", "h_epoch", "h_tz", "h_off"):
        assert events[key] == ("bad_type", "occurred_at"), key
    assert events["h_recv"] == ("bad_type", "received_at")
    assert events["h_nan"] == events["h_inf_json"] == ("bad_type", "properties")
    assert not any(k.startswith("ok_") for k in events)
    accepted = dict(
        con.execute(
            "select event_id, occurred_at from raw.product_events where event_id like 'ok_%'"
        ).fetchall()
    )
    assert accepted["ok_1970"] == datetime(1970, 1, 1)
    assert accepted["ok_2099"] == datetime(2026, 2, 28, 10, 0)  # +14:00 converted to UTC
    assert accepted["ok_date"] == datetime(2026, 2, 3)
    changes = quarantined(con, "subscription_changes")
    assert changes["h_qty"] == ("bad_value", "to_quantity")
    assert "ok_qty" not in changes
    plans = quarantined(con, "plans")
    assert plans["h_tier"] == ("bad_value", "tier_rank")
    assert plans["h_price"] == ("bad_value", "unit_amount_minor")
    assert quarantined(con, "sync_events")["h_attempt"] == ("bad_value", "attempt_number")
    fx = {
        json.loads(r)["currency"] + json.loads(r)["rate_date"]: (reason, col)
        for r, reason, col in con.execute(
            "select raw_row, reason_code, reason_column from raw.quarantine "
            "where table_name = 'fx_rates'"
        ).fetchall()
    }
    assert fx["EUR1900-01-01"] == ("bad_value", "rate_date")
    assert fx["GBP2026-02-01"] == ("bad_value", "rate_to_reporting")


def test_parquet_timestamps_outside_the_range_are_bad_value(tmp_path):
    data = copy_basic(tmp_path / "data")
    con = duckdb.connect()
    src = data / "product_events.csv"
    con.execute(
        f"copy (select * replace (case event_id when 'ev_1' then timestamp '1900-01-01' "
        f"when 'ev_2' then 'infinity'::timestamp else try_cast(occurred_at as timestamp) end "
        f"as occurred_at) from read_csv('{src}', all_varchar = true)) "
        f"to '{data / 'product_events.parquet'}'"
    )
    src.unlink()
    report, con = load(data)
    assert reconciles(report)
    events = quarantined(con, "product_events")
    assert events["ev_1"] == events["ev_2"] == ("bad_value", "occurred_at")


def test_as_of_outside_the_range_is_refused():
    for value in ("1900-01-01", "2100-01-01T00:00:00Z", "9999-12-31"):
        with pytest.raises(UserError, match="outside the plausible range"):
            parse_vars([f"as_of={value}"])
    assert parse_vars(["as_of=2099-12-31T23:59:59Z"]).as_of == datetime(2099, 12, 31, 23, 59, 59)


# --------------------------------------------------- 4, 8: column names and odd inputs


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_loader_is_immune_to_column_names(tmp_path, fmt):
    data = copy_basic(tmp_path / "data")
    path = data / "product_events.csv"
    rows = list(csv.reader(path.open(newline="")))
    extra = [
        "rowid",
        "_row_number",
        "filename",
        "file_row_number",
        "__raw_0",
        "_check",
        "__present_event_id",
        "event_id ",
        "c0",
        "l",
        'a"b',
        "p.x",
    ]
    if fmt == "csv":
        extra.append("")  # a header ending in a comma: an unnamed extra column
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(rows[0] + extra)
        for i, row in enumerate(rows[1:]):
            writer.writerow(row + [f"x{i}"] * (len(extra) - 1) + ([""] if fmt == "csv" else ["y"]))
    expected, _ = load(copy_basic(tmp_path / "plain"))
    if fmt == "parquet":
        con = duckdb.connect()
        con.execute(
            f"copy (select * from read_csv('{path}', all_varchar = true, header = true)) "
            f"to '{data / 'product_events.parquet'}'"
        )
        path.unlink()
    report, con = load(data)
    assert report == expected
    assert con.execute("select count(*) from raw.product_events").fetchone()[0] == 7
    raw = json.loads(
        con.execute(
            "select raw_row from raw.quarantine where table_name = 'product_events' limit 1"
        ).fetchone()[0]
    )
    assert raw["rowid"].startswith("x")


def test_a_3mb_quoted_field_loads(tmp_path):
    data = copy_basic(tmp_path / "data")
    big = ('He said "hi", then\nleft; ' * 150_000)[:3_000_000]
    append_rows(
        data / "accounts.csv",
        [
            {"account_id": "acc_big", "created_at": "2026-01-05T10:00:00Z", "crm_notes": big},
        ],
    )
    report, con = load(data)
    assert report["accounts"]["accepted"] == 5
    assert (
        con.execute("select count(*) from raw.accounts where account_id = 'acc_big'").fetchone()[0]
        == 1
    )


@pytest.mark.parametrize("kind", ["dangling", "directory", "fifo"])
def test_a_table_name_that_is_not_a_file_is_a_load_error(tmp_path, kind):
    data = copy_basic(tmp_path / "data")
    target = data / "invoice_lines.csv"  # an optional table
    target.unlink()
    if kind == "dangling":
        target.symlink_to(tmp_path / "gone.csv")
    elif kind == "directory":
        target.mkdir()
    else:
        os.mkfifo(target)
    with pytest.raises(
        UserError,
        match=r"invoice_lines\.csv: (a link to a file that does not "
        r"exist|not a regular file)",
    ):
        load(data)
    serving = tmp_path / "wh.duckdb"
    serving.write_bytes(b"serving")
    proc = run_cli("build", "--data-dir", data, "--warehouse", serving)
    assert proc.returncode == 2
    assert "invoice_lines.csv" in proc.stderr and "Traceback" not in proc.stderr
    assert serving.read_bytes() == b"serving"


# ----------------------------------------------------------- 5. paths are not patterns


@pytest.mark.parametrize("name", ["exports*", "exp[1]", "exp?", "exp{1,2}"])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_data_dir_is_a_path_not_a_glob(tmp_path, name, fmt):
    data = copy_basic(tmp_path / name)
    # Siblings the pattern would match, each with one more account.
    for sibling in ("exports_old", "exp1", "expA", "exp2"):
        other = copy_basic(tmp_path / sibling)
        append_rows(
            other / "accounts.csv",
            [{"account_id": "acc_other", "created_at": "2026-01-05T10:00:00Z"}],
        )
    if fmt == "parquet":
        for folder in [data] + [tmp_path / s for s in ("exports_old", "exp1", "expA", "exp2")]:
            to_parquet(folder / "accounts.csv")
    report, _ = load(data)
    assert report["accounts"]["read"] == 8  # the fixture's own rows only


# ------------------------------------------------- 7. spreadsheet formula injection


def test_every_csv_export_neutralises_formulas():
    assert [safe_text(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "acc", 5, -5)] == [
        "'=1+1",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "acc",
        5,
        -5,
    ]
    result = {
        "dimension": "persona",
        "segments": [
            {"segment": '=HYPERLINK("http://x")', "months": [{"month": "2026-01", "m": -0.5}]},
        ],
    }
    text = metrics_to_csv(result, [Metric("m", "s", "rate", "M")])
    assert text.splitlines()[1] == '"\'=HYPERLINK(""http://x"")",2026-01,-0.5'
    # Every download on the dashboard goes through exports.py (or a to_csv that does).
    pages = (REPO / "dashboards" / "app_pages").glob("*.py")
    for page in pages:
        source = page.read_text()
        for call in re.findall(r"download_button\((.*?)\n\s*(?:file_name|\))", source, re.DOTALL):
            assert re.search(
                r"safe_pandas\(|to_csv\(shown\.to_dict|ui\.metrics_csv\(|ui\.table_csv\("
                r"|review\.review_csv\(|review\.review_xlsx\("
                r"|xd\.experiment_csv\(|xd\.experiment_xlsx\(",
                call,
            ), (page.name, call)
    # The page helpers those calls use neutralise text cells themselves.
    import pandas as pd

    from upgrade_warehouse import experiments
    from upgrade_warehouse.dashboard import review

    variation = {"variation_id": "a", "exposed_accounts": 1, "matured_accounts": 1}
    hostile = {
        "as_of": "2026-01-01T00:00:00Z",
        "experiments": [
            {
                "experiment_id": "=cmd|' /C calc'!A0",
                "control": "a",
                "multiple_exposures": 0,
                "srm_p_value": None,
                "srm_warning": False,
                "variations": [{**variation, "metrics": {"attempt_rate": {"value": 0.5, "n": 1}}}],
            }
        ],
    }
    assert "\n'=cmd" in experiments.to_csv(hostile)  # what experiment_csv writes
    shown = review.review_csv(pd.DataFrame({"Metric": ["=cmd|' /C calc'!A0"], "Change": ["-5"]}))
    assert "'=cmd" in shown and "\u22125" in shown


# ---------------------------------------------- 9. one message instead of a traceback


def one_error(proc: subprocess.CompletedProcess, code: int) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_output_locations_are_checked_before_any_work(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("a regular file")
    # A path under a regular file stands in for a read-only folder: tests run as root,
    # where chmod does not stop writes, but nothing can be created under a file.
    msg = one_error(run_cli("build", "--data-dir", BASIC, "--warehouse", afile / "wh.duckdb"), 2)
    assert "cannot create its folder" in msg
    proc = run_cli("build", "--data-dir", BASIC, "--warehouse", tmp_path, "--format", "json")
    assert "is a directory" in one_error(proc, 2)
    assert json.loads(proc.stdout)["status"] == "error"
    msg = one_error(run_cli("generate", "--out", afile / "data", "--accounts", "10"), 2)
    assert "cannot write there" in msg
    assert afile.read_text() == "a regular file"


def test_metrics_and_winback_on_a_file_that_is_not_a_warehouse(tmp_path):
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("create table t (a int)")
    text = tmp_path / "text.duckdb"
    text.write_text("not a database")
    for path, command in (
        (other, ["metrics", "--format", "json"]),
        (text, ["metrics"]),
        (other, ["winback"]),
        (text, ["winback"]),
    ):
        one_error(run_cli(*command, "--warehouse", path), 2)


def _fsize_limit(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_file_size_limit_is_one_message(tmp_path):
    """RLIMIT_FSIZE (ulimit -f) on the build: the first write past it fails (the process
    ignores SIGXFSZ); the build reports it in one line, exit 1, and keeps the serving
    warehouse. The same happens when the Data Docs are written (a child process)."""
    serving = tmp_path / "wh.duckdb"
    serving.write_bytes(b"serving")
    proc = run_cli(
        *("build", "--data-dir", BASIC, "--warehouse", serving, "--format", "json"),
        preexec_fn=_fsize_limit(256 * 1024),
    )
    one_error(proc, 1)
    assert json.loads(proc.stdout)["status"] == "error"
    assert serving.read_bytes() == b"serving"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wh.duckdb"]


def test_writing_data_docs_past_a_file_size_limit_is_one_message(tmp_path):
    """The Data Docs publish (quality.publish_docs) under a 1 kB file-size limit, behind
    the CLI's error handling: the site is rendered on another file system (/dev/shm), so
    publishing copies it and the first large page fails with EFBIG."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another file system")
    site_root = Path(tempfile.mkdtemp(dir=shm))
    try:
        site = site_root / "site"
        site.mkdir()
        (site / "index.html").write_text("x" * 8192)
        target = tmp_path / "wh_data_docs"
        code = (
            "import sys; from pathlib import Path\n"
            "from upgrade_warehouse import cli, quality\n"
            "def publish():\n"
            "    r = quality.GateResult(); r.docs_dir = Path(sys.argv[1])\n"
            "    quality.publish_docs(r, Path(sys.argv[2]))\n"
            "cli.app = publish\n"
            "cli._register = lambda: None\n"
            "cli.main()\n"
        )
        proc = subprocess.run(
            [
                str(Path(CLI).with_name("python")),
                "-c",
                code,
                str(site),
                str(target),
                "--format",
                "json",
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_fsize_limit(1024),
        )
        msg = one_error(proc, 1)
        assert "File too large" in msg
        assert json.loads(proc.stdout) == {"status": "error", "error": msg[len("error: ") :]}
    finally:
        shutil.rmtree(site_root, ignore_errors=True)


# ------------------------------------------------------------ 6, 10 and the whole build


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory):
    """One build of a hostile copy of the basic fixture, with a second build of the same
    warehouse started while it runs, a user's folder where Data Docs would go, and
    leftovers of a killed build."""
    root = tmp_path_factory.mktemp("hostile")
    data = copy_basic(root / "exp[1]*")
    sibling = copy_basic(root / "exp1")  # what the glob would read instead
    append_rows(
        sibling / "accounts.csv", [{"account_id": "acc_glob", "created_at": "2026-01-05T10:00:00Z"}]
    )
    # Odd column names and a header ending in a comma (rows too), a 3 MB field.
    path = data / "product_events.csv"
    rows = list(csv.reader(path.open(newline="")))
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([*rows[0], "rowid", "_row_number", "filename", ""])
        for row in rows[1:]:
            writer.writerow([*row, "1", "2", "f", ""])
    append_rows(
        path,
        [
            event("h_1900", occurred_at="1900-01-01T00:00:00Z"),
            event("h_9999", occurred_at="9999-12-31T00:00:00Z"),
            event("h_inf", occurred_at="infinity"),
            event("h_10000", occurred_at="10000-01-01T00:00:00Z"),
            event("h_tz", occurred_at="2026-01-05 10:00:00 America/New_York"),
            event("h_nan", properties='{"a": NaN}'),
            event("h_step", event_name="o'clock"),
        ],
    )
    append_rows(
        data / "accounts.csv",
        [
            {
                "account_id": "acc_big",
                "created_at": "2026-01-05T10:00:00Z",
                "crm_notes": ('"quoted", with\nnewlines ' * 120_000)[:3_000_000],
            },
        ],
    )
    append_rows(
        data / "subscription_changes.csv",
        [
            change("h_qty", to_quantity=str(10**15)),
        ],
    )
    out = root / "out"
    out.mkdir()
    warehouse = out / "wh.duckdb"
    user_docs = quality.docs_folder(warehouse)
    user_docs.mkdir()
    (user_docs / "mine.txt").write_text("my notes")
    # Leftovers of a killed build: a building folder and temporary dbt / GX folders.
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = [
        out / f".wh.duckdb.building-{dead.pid}",
        Path(tempfile.gettempdir()) / f"uw-dbt-{dead.pid}-test",
        Path(tempfile.gettempdir()) / f"uw-gx-{dead.pid}-test",
    ]
    for folder in stale:
        folder.mkdir()
        (folder / "x").write_text("left behind")
    steps = "upgrade_intent,plan_selected,o'clock,payment_submitted,upgrade_completed"
    first = start_cli(
        *("build", "--data-dir", data, "--warehouse", warehouse, "--format", "json"),
        *("--var", f"funnel_steps={steps}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    lock = out / ".wh.duckdb.lock"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:
        # The first build holds the lock once its pid is in the lock file.
        with contextlib.suppress(OSError):
            if lock.read_text().strip() == str(first.pid):
                break
        time.sleep(0.05)
    second = run_cli("build", "--data-dir", data, "--warehouse", warehouse, "--format", "json")
    stdout, stderr = first.communicate(timeout=900)
    return {
        "proc": first,
        "stdout": stdout,
        "stderr": stderr,
        "second": second,
        "warehouse": warehouse,
        "user_docs": user_docs,
        "stale": stale,
    }


@pytest.mark.slow
def test_hostile_build_publishes_and_quarantines(hostile_build):
    proc = hostile_build["proc"]
    assert proc.returncode == 0, hostile_build["stderr"]
    report = json.loads(hostile_build["stdout"])
    assert reconciles(report["tables"])
    # The folder's own files, not the glob's: 8 rows + acc_big (not acc_glob).
    assert report["tables"]["accounts"]["read"] == 9
    assert report["tables"]["accounts"]["accepted"] == 5
    # 13 + 7 hostile rows; 6 of them quarantined (bad_value 2, bad_type 4), h_step accepted.
    events = report["tables"]["product_events"]
    assert events["read"] == 20
    assert events["accepted"] == 8
    assert events["quarantined_by_reason"]["bad_type"] == 3 + 4
    assert events["quarantined_by_reason"]["bad_value"] == 2
    assert report["tables"]["subscription_changes"]["quarantined_by_reason"]["bad_value"] == 3
    # as_of is the latest valid fact (ev_13 of the basic fixture, 2026-03-31T23:00:00Z),
    # not 9999, infinity or year 10000.
    assert report["as_of"] == "2026-03-31T23:00:00Z"
    with duckdb.connect(str(hostile_build["warehouse"]), read_only=True) as con:
        months = [
            m
            for (m,) in con.execute(
                "select month from intermediate.int_month_spine order by month"
            ).fetchall()
        ]
        steps = [
            s
            for (s,) in con.execute(
                "select distinct step_name from marts.fct_funnel_steps order by 1"
            ).fetchall()
        ]
    # The spine runs from the first valid month (January 2026) to the as_of month.
    assert str(months[0]) == "2026-01-01"
    assert str(months[-1])[:7] == report["as_of"][:7]
    assert "o'clock" in steps


@pytest.mark.slow
def test_a_second_build_of_the_same_warehouse_is_refused(hostile_build):
    second = hostile_build["second"]
    msg = one_error(second, 1)
    assert "another build of" in msg and "is running (pid" in msg
    assert json.loads(second.stdout)["status"] == "error"


@pytest.mark.slow
def test_a_users_folder_is_never_replaced(hostile_build):
    docs = hostile_build["user_docs"]
    assert sorted(p.name for p in docs.iterdir()) == ["mine.txt"]
    assert (docs / "mine.txt").read_text() == "my notes"
    assert "Data Docs not written" in hostile_build["stderr"]


@pytest.mark.slow
def test_killed_builds_leave_nothing_behind(hostile_build):
    assert [p for p in hostile_build["stale"] if p.exists()] == []
    out = hostile_build["warehouse"].parent
    assert not any(".building-" in p.name for p in out.iterdir())
    pid = hostile_build["proc"].pid
    assert not list(Path(tempfile.gettempdir()).glob(f"uw-*-{pid}-*"))


@pytest.mark.slow
def test_as_of_far_ahead_of_the_build_blocks(hostile_build, tmp_path):
    """A derived as_of more than AS_OF_MAX_DAYS_AHEAD days after the build's clock fails a
    blocking expectation; an explicit --var as_of is the user's choice."""
    path = tmp_path / "wh.duckdb"
    shutil.copy(hostile_build["warehouse"], path)
    with duckdb.connect(str(path), read_only=True) as con:
        (as_of,) = con.execute("select as_of from raw.build_info").fetchone()
    days = quality.AS_OF_MAX_DAYS_AHEAD
    early = as_of - timedelta(days=days + 1)
    result = quality.run_gate(path, now=early, docs=False)
    failures = [(o.suite, o.column) for o in result.blocking_failures]
    assert failures == [("freshness", "as_of_days_ahead_of_build")]
    with duckdb.connect(str(path)) as con:
        con.execute("update raw.build_info set as_of_from_data = false")
    assert quality.run_gate(path, now=early, docs=False).blocking_failures == []
