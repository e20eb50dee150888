"""Hostile input and faults, round 3 (issue 35, docs/security.md items 11-18): each class
is tested as a class, with several inputs, across every command it concerns."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import FIXTURES, REPO, run_cli
from dashboard_support import free_port
from test_hostile import copy_basic, load, one_error
from test_simulator_cli import quote_args
from upgrade_warehouse import warehouse as reader
from upgrade_warehouse.errors import UserError
from upgrade_warehouse.loader import raw_row_keys, unread_files

# A valid quote of one change (the case of cases.csv below), for the commands that need one.
QUOTE_ONE = quote_args("pro_monthly", "1", "business_monthly", "2026-01-01", "2026-01-10")


def usage_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    """Exit 2 with no traceback and a message naming ``words`` (typer's usage errors
    print a box rather than an ``error:`` line: one message either way)."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr, (word, proc.stderr)
    return proc.stderr


def fake_warehouse(path: Path, big: bool = False) -> Path:
    """A DuckDB file with the relations the readers check for (marts.dim_build holds a
    build): it passes the version check, so a command reaches its real work."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        for name in reader.REQUIRED:
            if name != "marts.dim_build":
                con.execute(f"create table {name} (x int)")
        con.execute(
            "create table marts.dim_build as select timestamp '2026-03-31' as as_of, "
            "'USD' as reporting_currency, '{}' as parameters_json"
        )
        if big:  # data blocks, so that a truncated copy loses its catalog too
            con.execute("create table marts.filler as select range as x from range(2000000)")
    return path


# ------------------------------------- 11. a serving file that is not a readable warehouse


def _not_warehouses(tmp_path: Path) -> dict[str, Path]:
    text = tmp_path / "text.duckdb"
    text.write_text("not a database\n")
    empty = tmp_path / "empty.duckdb"
    empty.write_bytes(b"")
    whole = fake_warehouse(tmp_path / "whole.duckdb", big=True)
    truncated = tmp_path / "truncated.duckdb"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("create table t (a int)")
    return {"text": text, "empty": empty, "truncated": truncated, "other": other}


def test_every_command_that_opens_a_warehouse_checks_it_first(tmp_path):
    """metrics, winback, docs, quote --warehouse and dashboard: exit 2, one line naming
    the file, and the dashboard starts no server (it would block: the timeout fails)."""
    for kind, path in _not_warehouses(tmp_path).items():
        commands = {
            "metrics": ["metrics", "--format", "json"],
            "winback": ["winback"],
            "docs": ["docs", "--no-serve"],
            "dashboard": ["dashboard", "--port", str(free_port())],
            "quote": QUOTE_ONE,
        }
        for name, command in commands.items():
            try:
                proc = run_cli(*command, "--warehouse", path, timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail(f"{name} on a {kind} file did not stop (a server started?)")
            msg = one_error(proc, 2)
            assert str(path) in msg, (name, kind, msg)
            assert "Serving" not in proc.stderr, (name, kind)
        assert not (tmp_path / f"{path.stem}_dbt_docs").exists()


# ------------------------------------------ 16. bad options found before any work


def test_options_are_checked_before_any_work(tmp_path):
    """Ports, counts and choices of every command: exit 2 at once, nothing written."""
    wh = fake_warehouse(tmp_path / "wh.duckdb")
    docs = tmp_path / "wh_dbt_docs"
    for port in ("70000", "0", "-1", "65536"):
        usage_error(run_cli("docs", "--warehouse", wh, "--port", port, timeout=60), "--port")
        usage_error(run_cli("dashboard", "--warehouse", wh, "--port", port, timeout=60), "--port")
    assert not docs.exists()
    # A port in use, found before the site is generated.
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        msg = one_error(run_cli("docs", "--warehouse", wh, "--port", str(port), timeout=60), 2)
        assert f"port {port}" in msg
    assert not docs.exists()
    # The site's folder is taken by a file: found before the site is generated.
    docs.write_text("mine")
    msg = one_error(run_cli("docs", "--warehouse", wh, "--no-serve", timeout=60), 2)
    assert str(docs) in msg and docs.read_text() == "mine"
    docs.unlink()
    for top in ("0", "-1", str(10**23)):
        usage_error(run_cli("winback", "--warehouse", wh, "--top", top, timeout=60), "--top")
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "case_id,from_plan_id,from_quantity,to_plan_id,period_start,at\n"
        "c1,pro_monthly,1,business_monthly,2026-01-01,2026-01-10\n"
    )
    single = QUOTE_ONE[1:]  # the same case as cases.csv, by options
    for option, value in (
        ("--timing", "bogus"),
        ("--granularity", "week"),
        ("--proration-behavior", "sometimes"),
    ):
        for args in (["--batch", str(cases)], single):
            proc = run_cli("quote", *args, option, value, timeout=60)
            assert proc.stdout == "", (option, args, proc.stdout)
            usage_error(proc, option, value)
    for month in ("2026-13", "26-01", "2026-1"):
        usage_error(run_cli("metrics", "--warehouse", wh, "--month", month), "--month")
    for option, value in (("--accounts", "0"), ("--months", "0"), ("--bad-row-rate", "0.9")):
        proc = run_cli("generate", "--out", tmp_path / "gen", option, value, timeout=60)
        usage_error(proc, option)
        assert not (tmp_path / "gen").exists()


# ------------------------------------------- 12. every --var has a documented range


TYPE_LIMITS = [str(2**31 - 1), str(2**31), str(2**63 - 1), str(2**63), str(10**30), "9" * 5000]


def test_every_integer_parameter_has_a_range_checked_before_any_work(tmp_path):
    """At the limits of 32- and 64-bit integers (and past Python's 4300-digit int limit)
    every integer --var is refused with one line naming its range; both ends of the
    range are accepted. The range is in `build --help` and docs/metrics.md."""
    from upgrade_warehouse.params import INT_PARAMS, INT_RANGES, parse_vars

    documented = (REPO / "docs" / "metrics.md").read_text()
    for name in INT_PARAMS:
        low, high = INT_RANGES[name].low, INT_RANGES[name].high
        assert high < 2**31, name  # fits every engine's int, added to any timestamp
        for value in [*TYPE_LIMITS, str(high + 1), *([str(low - 1)] if low > 0 else [])]:
            with pytest.raises(UserError) as caught:
                parse_vars([f"{name}={value}"])
            message = str(caught.value)
            assert message.startswith(f"--var {name}: ") and "\n" not in message
            assert f"{low:,} to {high:,}" in message and len(message) < 200, message
        assert getattr(parse_vars([f"{name}={low}"]), name) == low
        assert getattr(parse_vars([f"{name}={high}"]), name) == high
        assert f"`{name}` | {low:,} to {high:,}" in documented, name
    serving = tmp_path / "wh.duckdb"
    serving.write_bytes(b"serving")
    for name in ("conversion_window_days", "activation_window_days", "amount_tolerance_minor"):
        proc = run_cli(
            "build", "--data-dir", FIXTURES / "basic", "--warehouse", serving,
            "--var", f"{name}={2**31 - 1}", "--format", "json",
        )  # fmt: skip
        msg = one_error(proc, 2)
        assert name in msg and "to" in msg
        assert json.loads(proc.stdout)["status"] == "error"
        assert "load" not in proc.stderr.split("error:")[0]  # stopped before the load
    assert serving.read_bytes() == b"serving"
    help_text = " ".join(run_cli("build", "--help").stdout.replace("│", " ").split())
    for name in INT_PARAMS:
        assert f"{name} {INT_RANGES[name].low:,}-{INT_RANGES[name].high:,}" in help_text, name


# ------------------------------- 13. quarantine keeps the row as it came, losslessly

# Repeated and empty header names, unicode, a name like a generated key, and their keys
# in raw_row (docs/loader.md "The raw row"): the first of a name keeps it, a later one
# gets _2, _3 ... (skipping names the header has), an empty one _column_<position>.
ODD_HEADERS = [
    (["note", "note", "", "note", "note_2", "", "Ünï", "Ünï"],
     ["note", "note_3", "_column_10", "note_4", "note_2", "_column_13", "Ünï", "Ünï_2"]),
    (["event_id", "EVENT_ID", "_column_11", ""], ["event_id_2", "EVENT_ID", "_column_11", "_column_11_2"]),
    (["a", "a_2", "a", "a"], ["a", "a_2", "a_3", "a_4"]),
]  # fmt: skip


@pytest.mark.parametrize(("extra", "keys"), ODD_HEADERS)
def test_quarantined_rows_keep_every_value_under_a_unique_key(tmp_path, extra, keys):
    import csv

    data = copy_basic(tmp_path / "data")
    path = data / "product_events.csv"
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    header = rows[0] + extra
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for i, row in enumerate(rows[1:]):
            # every row missing its event_name (quarantined), each extra cell distinct
            row[3] = ""
            writer.writerow(row + [f"r{i}c{j}" for j in range(len(extra))])
    report, con = load(data)
    assert report["product_events"]["quarantined"] == len(rows) - 1
    raw_rows = [
        r
        for (r,) in con.execute(
            "select raw_row from raw.quarantine where table_name = 'product_events' "
            "order by row_number"
        ).fetchall()
    ]
    for i, (text, row) in enumerate(zip(raw_rows, rows[1:], strict=True)):
        pairs = json.loads(text, object_pairs_hook=lambda p: p)
        assert [k for k, _ in pairs] == rows[0] + keys  # unique keys, header order
        parsed = json.loads(text)
        cells = [*row[:3], "", *row[4:], *[f"r{i}c{j}" for j in range(len(extra))]]
        assert [parsed[k] for k in rows[0] + keys] == [c or None for c in cells]  # empty: null
    assert raw_row_keys(header) == rows[0] + keys


# ------------------------------------------------- 17. no input is silently absent


def _compress(path: Path, kind: str) -> Path:
    """``path`` compressed beside it as ``.csv.gz`` or ``.csv.zst`` (the CSV removed)."""
    import gzip

    data = path.read_bytes()
    target = path.with_name(f"{path.name}.{kind}")
    if kind == "gz":
        target.write_bytes(gzip.compress(data))
    else:
        zstandard = pytest.importorskip("zstandard")
        target.write_bytes(zstandard.ZstdCompressor().compress(data))
    path.unlink()
    return target


@pytest.mark.parametrize("kind", ["gz", "zst"])
def test_compressed_csv_is_read_for_every_table(tmp_path, kind):
    """Every table given as .csv.gz or .csv.zst loads exactly as its CSV (the basic fixture
    quarantines rows of every reason, so the checks all run on decompressed text)."""
    expected, _ = load(copy_basic(tmp_path / "plain"))
    data = copy_basic(tmp_path / "data")
    for path in sorted(data.glob("*.csv")):
        _compress(path, kind)
    report, con = load(data)
    assert report == expected
    files = dict(con.execute("select table_name, source_file from raw.load_report").fetchall())
    assert files["invoice_lines"] == f"invoice_lines.csv.{kind}"
    assert {
        f for (f,) in con.execute("select distinct source_file from raw.quarantine").fetchall()
    } <= {f"{name}.csv.{kind}" for name in files}


def test_a_table_given_twice_is_a_load_error(tmp_path):
    for first, second in (("csv", "csv.gz"), ("csv.gz", "csv.zst"), ("csv.zst", "parquet")):
        data = copy_basic(tmp_path / f"data-{first}-{second}")
        plain = data / "invoice_lines.csv"
        for suffix in (first, second):
            (data / f"invoice_lines.{suffix}").write_bytes(plain.read_bytes())
        if "csv" not in (first, second):
            plain.unlink()
        with pytest.raises(UserError, match=r"invoice_lines\.csv.* given twice"):
            load(data)


def test_files_that_look_like_tables_but_are_not_read_are_named(tmp_path):
    """A typo, another case, another format, an unknown compression: each is a warning of
    the build (stderr and the text report). The generator's manifest.json, sources.yml,
    folders (issue 30's source folders) and hidden files are not."""
    data = copy_basic(tmp_path / "data")
    unread = ["invoice_line.csv", "Accounts.CSV", "product_events.json", "x.csv.bz2", "plans.tsv"]
    for name in unread:
        (data / name).write_text("a,b\n1,2\n")
    for name in ("manifest.json", "sources.yml", ".DS_Store", "README.md"):
        (data / name).write_text("{}")
    (data / "hubspot").mkdir()
    (data / "hubspot" / "deals.csv").write_text("a\n1\n")
    warnings = unread_files(data)
    assert len(warnings) == len(unread), warnings
    for name, warning in zip(sorted(unread), warnings, strict=True):
        assert warning.startswith(f"{data / name}: not read"), warning
    assert "invoice_lines.csv" in next(w for w in warnings if "invoice_line.csv" in w)  # a hint
    # (a sources.yml makes the folder a mapped one, docs/sources.md: not for this build)
    (data / "sources.yml").unlink()
    proc = run_cli("build", "--data-dir", data, "--warehouse", tmp_path / "wh.duckdb")
    assert proc.returncode == 0, proc.stderr
    for name in unread:
        assert f"warning: {data / name}: not read" in proc.stderr, name
        assert name in proc.stdout, name  # the text report lists them too


# ---------------------------- 18. a worker process reports through the one message

# Run as a file: the spawned gate worker imports it as __mp_main__, so the fault it
# injects (a full disk at one step of the worker) is in the worker too.
FULL_DISK_SCRIPT = """
import errno, sys, tempfile
from pathlib import Path
from upgrade_warehouse import cli, quality

STEP = sys.argv[1] if __name__ == "__main__" else __import__("os").environ["FAULT_STEP"]


def full(what):
    raise OSError(errno.ENOSPC, "No space left on device", what)


class FullDiskGate:
    def __init__(self):
        if STEP == "setup":
            full("/tmp/uw-gx-setup")
        self.site_root = Path(tempfile.mkdtemp(prefix="uw-gx-fault-"))

    def run(self, db_path, now=None, docs=True):
        if STEP == "validate":
            full(str(db_path))
        return quality.GateResult()

    def render_docs(self):
        import time
        time.sleep(1)  # the build has failed and stopped listening by now
        full(str(self.site_root / "site" / "index.html"))


quality.Gate = FullDiskGate

if __name__ == "__main__":
    def build():
        worker = quality.GateWorker()
        try:
            worker.validate(Path(sys.argv[2]))
            if STEP == "docs":  # the build's own write fails too: it stops first
                full(sys.argv[2])
        finally:
            worker.close()

    cli.app = build
    cli._register = lambda: None
    cli.main()
"""


@pytest.mark.parametrize("step", ["setup", "validate", "docs"])
def test_a_full_disk_in_the_gate_worker_is_one_message(tmp_path, step):
    import os
    import sys

    script = tmp_path / "full_disk.py"
    script.write_text(FULL_DISK_SCRIPT)
    db = tmp_path / "building.duckdb"
    proc = subprocess.run(
        [sys.executable, str(script), step, str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FAULT_STEP": step},
        check=False,
    )
    msg = one_error(proc, 1)
    assert "No space left on device (errno 28)" in msg, msg
    assert proc.stderr.strip().splitlines() == [msg], proc.stderr  # nothing else at all


# ---------------------------------------------- 15. identity claims parsed strictly

MISSING = object()
# (claim value, allowed?) for every claim the allow-list reads. email_verified: only a
# JSON true or the exact string "true" (AWS Cognito sends strings) verifies; missing
# denies unless [access] require_email_verified = false (Microsoft Entra ID sends none).
EMAIL_VERIFIED_FORMS = [
    (True, True), ("true", True),
    (False, False), ("false", False), ("False", False), ("TRUE", False), (" true", False),
    ("1", False), (1, False), (0, False), ("yes", False), ("", False),
    (None, False), (MISSING, False), ([], False), ([True], False), (["true"], False),
    ({}, False), ({"value": True}, False), (1.0, False),
]  # fmt: skip
EMAIL_FORMS = [
    ("ann@example.com", True), ("ANN@Example.COM", True), (" ann@example.com ", True),
    (MISSING, False), (None, False), ("", False), ("ann", False), (123, False),
    (["ann@example.com"], False), ({"email": "ann@example.com"}, False), (True, False),
    ("ann@evil.test@example.com", False), ("@example.com", False), ("ann@", False),
    ("ann @example.com", False), ("ann@exa\nmple.com", False), ("ann@example.com\x00", False),
]  # fmt: skip
GROUPS_FORMS = [
    (["RevOps"], True), (["Staff", "RevOps"], True), ("RevOps", True),
    (["RevOps", 5], False), ([["RevOps"]], False), ({"RevOps": True}, False),
    (None, False), (MISSING, False), (5, False), ("RevOps,Staff", False), ([], False),
    (["revops"], False), ([" RevOps"], False), (True, False),
]  # fmt: skip


def _claims(**values) -> dict:
    return {k: v for k, v in values.items() if v is not MISSING}


def test_identity_claims_are_parsed_strictly():
    from upgrade_warehouse.dashboard.access import AccessPolicy, Group

    policy = AccessPolicy(domains=frozenset({"example.com"}))
    for value, allowed in EMAIL_VERIFIED_FORMS:
        decision = policy.decide(_claims(email="ann@example.com", email_verified=value))
        assert decision.allowed is allowed, value
        assert decision.may_see("overview") is allowed, value
    lenient = AccessPolicy(domains=frozenset({"example.com"}), require_email_verified=False)
    for value, allowed in EMAIL_VERIFIED_FORMS:  # only a missing claim changes
        decision = lenient.decide(_claims(email="ann@example.com", email_verified=value))
        assert decision.allowed is (allowed or value is MISSING), value
    for value, allowed in EMAIL_FORMS:
        decision = policy.decide(_claims(email=value, email_verified=True))
        assert decision.allowed is allowed, value
    # Only the groups claim can let this address in (its domain is not listed).
    by_group = AccessPolicy(
        domains=frozenset({"example.com"}),
        groups=(Group("revops", idp_groups=frozenset({"RevOps"}), pages=frozenset({"*"})),),
        groups_claim="groups",
    )
    for value, allowed in GROUPS_FORMS:
        decision = by_group.decide(
            _claims(email="ops@partner.test", email_verified=True, groups=value)
        )
        assert decision.allowed is allowed, value
    # The policy the command hands to the app keeps the setting.
    assert AccessPolicy.from_json(lenient.to_json()).require_email_verified is False
    assert AccessPolicy.from_json(policy.to_json()).require_email_verified is True


# ------------------------------------- 14. a published warehouse with no accepted account


@pytest.fixture(scope="module")
def no_account_warehouse(tmp_path_factory) -> Path:
    """The basic fixture with an accounts file holding only its header: every row that
    names an account is quarantined (unknown_reference), the build still publishes."""
    root = tmp_path_factory.mktemp("no-accounts")
    data = copy_basic(root / "data")
    accounts = data / "accounts.csv"
    accounts.write_text(accounts.read_text(encoding="utf-8").splitlines()[0] + "\n")
    path = root / "wh.duckdb"
    proc = run_cli(
        "build", "--data-dir", data, "--warehouse", path, "--var", "as_of=2026-03-31T00:00:00Z",
        "--format", "json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tables"]["accounts"]["accepted"] == 0
    return path


def test_metrics_by_segment_of_a_warehouse_without_accounts(no_account_warehouse):
    """Each of the four attributes of metrics.md "Segments" gives the spec's shape with
    no segment (exit 0), in every format; an unknown attribute is still refused."""
    whole = json.loads(
        run_cli("metrics", "--warehouse", no_account_warehouse, "--format", "json").stdout
    )
    for dim in ("persona", "acquisition_source", "segment", "country"):
        proc = run_cli(
            "metrics", "--warehouse", no_account_warehouse, "--by", dim, "--format", "json"
        )
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout)
        assert result["dimension"] == dim and result["segments"] == []
        assert "months" not in result
        for key in ("as_of", "reporting_currency", "parameters"):
            assert result[key] == whole[key], key
        csv_proc = run_cli(
            "metrics", "--warehouse", no_account_warehouse, "--by", dim, "--format", "csv"
        )
        assert csv_proc.returncode == 0 and csv_proc.stdout.splitlines()[0].startswith(
            f"{dim},month,"
        )
        assert len(csv_proc.stdout.splitlines()) == 1  # the header only
        table = run_cli("metrics", "--warehouse", no_account_warehouse, "--by", dim)
        assert table.returncode == 0 and "no accepted account" in table.stdout, table.stdout
    msg = one_error(run_cli("metrics", "--warehouse", no_account_warehouse, "--by", "plan"), 2)
    assert "persona, acquisition_source, segment, country" in msg


def test_the_dashboard_says_there_is_nothing_to_show(no_account_warehouse, monkeypatch):
    """Every page of a warehouse without accounts: no exception, and the pages about
    accounts say there is nothing to show; Data quality still shows why."""
    from streamlit.testing.v1 import AppTest

    from dashboard_support import PAGE_FILES, WAREHOUSE_ENV, unescape

    monkeypatch.setenv(WAREHOUSE_ENV, str(no_account_warehouse))
    at = AppTest.from_file(str(REPO / "dashboards" / "app.py"), default_timeout=120)
    at.run()
    for title, page in PAGE_FILES.items():
        at.switch_page(page).run()
        assert not at.exception, (title, [e.message for e in at.exception])
        text = unescape("\n".join(str(e.value) for e in [*at.info, *at.markdown, *at.caption]))
        if title in ("Data quality", "Simulator"):
            assert "Nothing to show" not in text, title
        else:
            assert "Nothing to show: the warehouse has no accepted account" in text, title
