"""Stripe as Fivetran or Airbyte land it, mapped to the raw contract (sources.md).

The fixture (tests/fixtures/stripe_fivetran/stripe/, written by hand from Stripe's
documented behaviour; stripe_airbyte/ is the same world as Airbyte lands it):

- sub_A (cus_A, acct_A, USD): created 2024-01-05 on Basic (1000/month) x1; upgraded to
  Pro (3000/month) on 01-20 with create_prorations (credit -516 "Unused time", debit
  1548 "Remaining time", both on the 02-05 cycle invoice); 02-15 quantity 1 -> 3 with
  always_invoice (a subscription_update invoice, paid by ch_A3); renewals on 02-05 and
  03-05; cancellation at period end scheduled 03-20, ended 04-05.
- sub_B (cus_B2, merged into acct_B with the earlier cus_B): created 01-10 Basic x2;
  changed to Pro x2 without prorations (first seen on the 02-10 line); renewal 03-10;
  interval switch to Pro yearly (30000/year) on 03-20 (a lone credit and a new regular
  line on a subscription_update invoice); cancellation scheduled 04-01 then undone.
- sub_C (cus_C, JPY, lines in the Basil spelling): Free (0) -> Standard (1500/month) on
  02-10 with a zero-amount credit line; renewal 03-01; the send_invoice invoice paid by
  ch_C3, found through invoice_payment; a pending charge ch_C2.
- sub_D (cus_D): two items (Basic first, an add-on: unmappable) and a one-off setup fee.
- sub_E: never left incomplete; cus_T, sub_T, in_T1, ...: livemode=false; cus_X deleted;
  cus_N has no account key; a quarterly price, a tiered price, a one-time price; a draft
  and two void invoices.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from conftest import FIXTURES, run_cli
from fixtures_builds import GENERATED_OPTIONS
from upgrade_warehouse.contract import CHANGE_MOVE
from upgrade_warehouse.generator.stripe_shape import AIRBYTE_NAMES
from upgrade_warehouse.sources import config, stripe
from upgrade_warehouse.sources.stripe import ts

FIVETRAN = FIXTURES / "stripe_fivetran"
AIRBYTE = FIXTURES / "stripe_airbyte"
OPTIONS = {**config.default_options(), "account_key": "metadata.account_id"}
AS_OF = "2024-03-31T00:00:00Z"  # after every charge of the fixture


def _map(folder: Path, shape: str):
    return stripe.map_billing(folder / "stripe", shape, OPTIONS, None)


@pytest.fixture(scope="module")
def fivetran():
    return _map(FIVETRAN, "fivetran_stripe")


def _rows(frame: pl.DataFrame, *cols: str) -> list[tuple]:
    return [tuple(r) for r in frame.select(cols).iter_rows()]


# ----------------------------------------------------------------------- mapping


def test_subscription_changes_are_rebuilt_by_rules_1_to_5(fivetran):
    changes = fivetran.tables["subscription_changes"]
    got = _rows(
        changes,
        "change_id",
        "changed_at",
        "effective_at",
        *CHANGE_MOVE,
        "proration_behavior",
    )
    d = "2024-{}T00:00:00.000000Z".format
    expected = [
        # rule 1: start_date; to = the earliest regular line il_A1 (Basic x1), its period
        ("sub_A:created", d("01-05"), d("01-05"), None, None, "price_basic_m", "1", d("01-05"), d("02-05"), None),
        # rule 2: credit il_A2c (Basic x1) + debit il_A2d (Pro x1) of period_start 01-20;
        # period_start = the latest regular line before 01-20 (il_A1), period_end = the
        # credit's; its invoice in_A2 is a subscription_cycle invoice: create_prorations
        ("il_A2d", d("01-20"), d("01-20"), "price_basic_m", "1", "price_pro_m", "1", d("01-05"), d("02-05"), "create_prorations"),
        # rule 4: il_A2r (Pro x1) = the state after il_A2d (in [01-05, 02-05))
        ("il_A2r:renewal", d("02-05"), d("02-05"), "price_pro_m", "1", "price_pro_m", "1", d("02-05"), d("03-05"), "none"),
        # rule 2 on a subscription_update invoice (in_A3): always_invoice
        ("il_A3d", d("02-15"), d("02-15"), "price_pro_m", "1", "price_pro_m", "3", d("02-05"), d("03-05"), "always_invoice"),
        ("il_A4:renewal", d("03-05"), d("03-05"), "price_pro_m", "3", "price_pro_m", "3", d("03-05"), d("04-05"), "none"),
        # rule 5: the first canceled version; changed_at = canceled_at, effective = ended_at;
        # from = the state then (Pro x3); period = il_A4's (in force on 03-20)
        ("sub_A:canceled", d("03-20"), d("04-05"), "price_pro_m", "3", None, None, d("03-05"), d("04-05"), "none"),
        ("sub_B:created", d("01-10"), d("01-10"), None, None, "price_basic_m", "2", d("01-10"), d("02-10"), None),
        # rule 3: il_B2 (Pro x2) differs from il_B1's state (Basic x2), no proration between
        ("il_B2:changed", d("02-10"), d("02-10"), "price_basic_m", "2", "price_pro_m", "2", d("02-10"), d("03-10"), "none"),
        ("il_B3:renewal", d("03-10"), d("03-10"), "price_pro_m", "2", "price_pro_m", "2", d("03-10"), d("04-10"), "none"),
        # rule 2, interval switch: lone credit il_B4c + regular il_B4r on in_B4
        # (subscription_update); change_id = the regular line's id. No sub_B:canceled:
        # the scheduled cancellation was undone (the latest version is not flagged).
        ("il_B4r", d("03-20"), d("03-20"), "price_pro_m", "2", "price_pro_y", "2", d("03-10"), d("04-10"), "always_invoice"),
        ("sub_C:created", d("02-01"), d("02-01"), None, None, "price_free_m", "1", d("02-01"), d("03-01"), None),
        # zero-amount credit "Unused time on Free" + debit 982 JPY (Basil spelling)
        ("il_C2d", d("02-10"), d("02-10"), "price_free_m", "1", "price_std_jpy_m", "1", d("02-01"), d("03-01"), "create_prorations"),
        ("il_C2r:renewal", d("03-01"), d("03-01"), "price_std_jpy_m", "1", "price_std_jpy_m", "1", d("03-01"), d("04-01"), "none"),
        # only the first item (si_D1, Basic) maps; sub_E never started; sub_T is test mode
        ("sub_D:created", d("01-15"), d("01-15"), None, None, "price_basic_m", "1", d("01-15"), d("02-15"), None),
    ]  # fmt: skip
    assert got == expected
    assert set(changes["initiated_by"]) == {"customer"}
    assert dict(_rows(changes, "change_id", "account_id"))["sub_B:created"] == "acct_B"


def test_invoice_lines_types_and_change_ids(fivetran):
    lines = fivetran.tables["invoice_lines"]
    got = {
        r[0]: r[1:]
        for r in _rows(lines, "line_id", "line_type", "change_id", "amount_minor", "currency")
    }
    assert got == {
        "il_A1": ("subscription", None, "1000", "USD"),
        "il_A2c": ("proration_credit", "il_A2d", "-516", "USD"),
        "il_A2d": ("proration_charge", "il_A2d", "1548", "USD"),
        "il_A2r": ("subscription", None, "3000", "USD"),
        "il_A3c": ("proration_credit", "il_A3d", "-1935", "USD"),
        "il_A3d": ("proration_charge", "il_A3d", "5806", "USD"),
        "il_A4": ("subscription", None, "9000", "USD"),
        "il_B1": ("subscription", None, "2000", "USD"),
        "il_B2": ("subscription", None, "6000", "USD"),
        "il_B3": ("subscription", None, "6000", "USD"),
        "il_B4c": ("proration_credit", "il_B4r", "-4258", "USD"),
        "il_B4r": ("subscription", None, "60000", "USD"),
        "il_C1": ("subscription", None, "0", "JPY"),
        "il_C2c": ("proration_credit", "il_C2d", "0", "JPY"),
        # JPY has no minor unit: 982 yen stays 982 (never divided by 100)
        "il_C2d": ("proration_charge", "il_C2d", "982", "JPY"),
        "il_C2r": ("subscription", None, "1500", "JPY"),
        "il_D1a": ("subscription", None, "1000", "USD"),
        "il_D1c": ("one_off", None, "5000", "USD"),
    }  # fmt: skip
    issued = dict(_rows(lines, "line_id", "issued_at"))
    assert issued["il_A2c"] == "2024-02-05T01:00:00.000000Z"  # status_transitions.finalized_at
    assert issued["il_A4"] == "2024-03-05T00:00:00.000000Z"  # no finalized_at: created
    one_off = lines.filter(pl.col("line_id") == "il_D1c")
    assert one_off["period_start"][0] is None and one_off["period_end"][0] is None


def test_payment_attempts_methods_and_changes(fivetran):
    got = {
        r[0]: r[1:]
        for r in _rows(
            fivetran.tables["payment_attempts"],
            "attempt_id",
            "account_id",
            "payment_method",
            "status",
            "change_id",
        )
    }
    assert got == {
        # pm_A created 30 s before the charge: not more than 60 s -> new_card
        "ch_A1": ("acct_A", "new_card", "succeeded", "sub_A:created"),
        "ch_A3": ("acct_A", "saved_card", "succeeded", "il_A3d"),  # subscription_update
        "ch_A4": ("acct_A", "saved_card", "succeeded", None),  # subscription_cycle
        "ch_B4": ("acct_B", "bank_debit", "failed", "il_B4r"),  # sepa_debit
        "ch_B4b": ("acct_B", "wallet", "succeeded", "il_B4r"),  # apple_pay
        # no charge.invoice: the invoice payment of its payment intent (in_C2, send_invoice)
        "ch_C3": ("acct_C", "invoice", "succeeded", None),
        "ch_D1": ("acct_D", "new_card", "succeeded", "sub_D:created"),  # 50 s
        # sub_E never started: its subscription_create invoice was voided -> null
        "ch_E1": ("acct_A", "saved_card", "failed", None),
    }  # fmt: skip


def test_accounts_and_plans(fivetran):
    accounts = fivetran.tables["accounts"]
    assert _rows(accounts, "account_id", "created_at", "country", "persona", "segment") == [
        ("acct_A", "2024-01-01T00:00:00.000000Z", "US", "founder", "smb"),  # country upper-cased
        # cus_B (created 01-02) and cus_B2 (01-09) share acct_B: the earliest maps
        ("acct_B", "2024-01-02T00:00:00.000000Z", "DE", None, None),
        ("acct_C", "2024-02-01T00:00:00.000000Z", "JP", None, None),
        ("acct_D", "2024-01-15T00:00:00.000000Z", "GB", None, None),
    ]
    plans = fivetran.tables["plans"]
    got = {r[0]: r[1:] for r in _rows(plans, "plan_id", "plan_name", "tier_rank", "billing_interval", "unit_amount_minor", "currency", "self_serve", "min_seats", "entitlements")}  # fmt: skip
    # tier_rank: dense rank of the monthly equivalent per currency. USD: add-on 500,
    # Basic 1000, Pro yearly 30000/12 = 2500, Pro 3000 -> 0, 1, 2, 3. JPY: Free 0, Std 1500.
    assert got == {
        "price_basic_m": ("Basic monthly", "1", "month", "1000", "USD", "true", None, None),
        "price_pro_m": ("Pro", "3", "month", "3000", "USD", "true", None, "sso;api"),  # product's
        "price_pro_y": ("Pro yearly", "2", "year", "30000", "USD", "true", None, "sso;api"),
        "price_addon_m": ("Add-on monthly", "0", "month", "500", "USD", "true", None, None),
        "price_free_m": ("Free", "0", "month", "0", "JPY", "true", None, None),
        "price_std_jpy_m": ("Standard JPY", "1", "month", "1500", "JPY", "true", "1", None),
    }


def test_every_source_row_is_counted(fivetran):
    counts = {
        name: (c.read, c.mapped, c.skipped, c.quarantined_by_reason)
        for by_source in fivetran.sources.values()
        for name, c in by_source.items()
    }
    assert counts == {
        "customer": (8, 4, {"livemode": 1, "is_deleted": 1, "merged_customer": 1}, {"missing_required": 1}),
        "price": (10, 6, {"livemode": 1, "one_time_price": 1}, {"unsupported_interval": 1, "unmappable": 1}),
        "product": (6, 6, {}, {}),
        "subscription_history": (11, 8, {"livemode": 1, "never_started": 2}, {}),
        "subscription_item": (7, 4, {"livemode": 1, "never_started": 1}, {"unmappable": 1}),
        "invoice": (15, 11, {"livemode": 1, "draft_or_void_invoice": 3}, {}),
        # il_D2 (draft), il_D3 and il_E1 (void); il_T1 test mode; il_D1b the add-on item's
        "invoice_line_item": (23, 18, {"livemode": 1, "draft_or_void_invoice": 3}, {"unmappable": 1}),
        "charge": (10, 8, {"livemode": 1, "pending_charge": 1}, {}),
        "payment_method": (4, 4, {}, {}),
        "payment_method_card": (3, 3, {}, {}),
        "invoice_payment": (1, 1, {}, {}),
    }  # fmt: skip
    q = fivetran.quarantine
    assert _rows(q, "table_name", "row_number", "reason_code") == [
        ("customer", 8, "missing_required"),
        ("price", 7, "unsupported_interval"),  # every 3 months
        ("price", 8, "unmappable"),  # tiered: no unit_amount
        ("subscription_item", 5, "unmappable"),
        ("invoice_line_item", 18, "unmappable"),
    ]
    raw = json.loads(q.filter(pl.col("table_name") == "price")["raw_row"][0])
    assert raw["id"] == "price_q" and raw["recurring_interval_count"] == "3"  # as it came


def test_airbyte_shape_maps_to_the_same_rows(fivetran):
    airbyte = _map(AIRBYTE, "airbyte_stripe")
    for table, frame in fivetran.tables.items():
        assert airbyte.tables[table].drop("_source_table").equals(frame.drop("_source_table")), (
            table
        )
    assert _rows(airbyte.quarantine, "row_number", "reason_code") == _rows(
        fivetran.quarantine, "row_number", "reason_code"
    )


def test_timestamps_of_both_shapes():
    values = [
        "2024-01-05 00:00:00",
        "2024-01-05T00:00:00Z",
        "2024-01-05T02:00:00+02:00",
        "2024-01-05T00:00:00.000000",
        "1704412800",
        "1704412800.0",
        "2024-01-05",
    ]
    got = pl.select(ts(pl.Series(values))).to_series().to_list()
    assert {str(v) for v in got} == {"2024-01-05 00:00:00"}
    half = pl.select(ts(pl.Series(["1704412800.5"]))).item()
    assert str(half) == "2024-01-05 00:00:00.500000"
    assert pl.select(ts(pl.Series(["yesterday"]))).item() is None


# ----------------------------------------------------------------------- builds


def _build(data_dir: Path, warehouse: Path, *extra) -> dict:
    proc = run_cli(
        "build", "--data-dir", data_dir, "--warehouse", warehouse, "--format", "json",
        "--var", f"as_of={AS_OF}", *extra,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stripe-builds")
    reports = {}
    for name, data in (("fivetran", FIVETRAN), ("airbyte", AIRBYTE)):
        reports[name] = (folder / f"{name}.duckdb", _build(data, folder / f"{name}.duckdb"))
    return reports


def test_build_report_counts_sources(built):
    _, report = built["fivetran"]
    tables = report["tables"]
    # accounts: 4 mapped rows read by the loader + 1 quarantined by the mapping (cus_N)
    assert {k: tables["accounts"][k] for k in ("read", "accepted", "quarantined")} == {
        "read": 5, "accepted": 4, "quarantined": 1,
    }  # fmt: skip
    assert tables["accounts"]["quarantined_by_reason"] == {"missing_required": 1}
    assert tables["accounts"]["sources"] == {
        "customer": {
            "read": 8,
            "mapped": 4,
            "skipped": {"is_deleted": 1, "livemode": 1, "merged_customer": 1},
            "quarantined": 1,
            "quarantined_by_reason": {"missing_required": 1},
        }
    }
    # plans: 6 + price_q (unsupported_interval) + price_tier (unmappable)
    assert tables["plans"]["read"] == 8 and tables["plans"]["accepted"] == 6
    assert tables["plans"]["quarantined_by_reason"] == {"unmappable": 1, "unsupported_interval": 1}
    # 14 rebuilt changes + the add-on item (unmappable)
    assert (tables["subscription_changes"]["read"], tables["subscription_changes"]["accepted"]) == (
        15,
        14,
    )
    # 18 lines + il_D1b (unmappable)
    assert (tables["invoice_lines"]["read"], tables["invoice_lines"]["accepted"]) == (19, 18)
    assert tables["payment_attempts"]["sources"]["charge"]["skipped"] == {
        "livemode": 1,
        "pending_charge": 1,
    }
    assert "sources" not in tables["product_events"]  # the contract role
    for name, t in tables.items():
        assert t["read"] == t["accepted"] + t["quarantined"], name
        assert t["quarantined"] == sum(t["quarantined_by_reason"].values()), name
        for source, c in t.get("sources", {}).items():
            assert c["read"] == c["mapped"] + sum(c["skipped"].values()) + c["quarantined"], source
    path, _ = built["fivetran"]
    with duckdb.connect(str(path), read_only=True) as con:
        q = con.execute(
            "select table_name, reason_code, count(*) from raw.quarantine group by all order by all"
        ).fetchall()
        assert q == [
            ("customer", "missing_required", 1),
            ("invoice_line_item", "unmappable", 1),
            ("price", "unmappable", 1),
            ("price", "unsupported_interval", 1),
            ("subscription_item", "unmappable", 1),
        ]
        rows = con.execute(
            "select source_table, rows_read, rows_mapped, rows_skipped, rows_quarantined, "
            "source_status from marts.fct_source_report order by table_name, source_table"
        ).fetchall()
        assert ("invoice_line_item", 23, 18, 4, 1, "quarantined") in rows
        assert ("product", 6, 6, 0, 0, "ok") in rows
        assert len(rows) == 11
        assert con.execute(
            "select rows_read, rows_quarantined from raw.load_report where table_name = 'plans'"
        ).fetchone() == (8, 2)


def test_metrics_of_the_rebuilt_log(built):
    path, _ = built["fivetran"]
    proc = run_cli("metrics", "--warehouse", path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    months = {m["month"]: m for m in json.loads(proc.stdout)["months"]}
    jan, feb, mar = months["2024-01"], months["2024-02"], months["2024-03"]
    # January: new sub_A 1000, sub_B 2 x 1000, sub_D 1000 -> mrr_new 40.00 USD;
    # il_A2d Basic 1000 -> Pro 3000: expansion 20.00; 4 upgrades, mean delta 15.00
    assert (jan["upgrades"], jan["mrr_new"], jan["mrr_expansion"], jan["net_new_mrr"]) == (
        4,
        40.0,
        20.0,
        60.0,
    )
    assert jan["arpu_per_upgrade"] == 15.0  # (1000 + 2000 + 2000 + 1000) / 4 / 100
    # February: il_B2:changed 2000 -> 6000 (+40.00), il_A3d 3000 -> 9000 (+60.00),
    # il_C2d Free -> 1500 JPY (an upgrade, but no JPY rate: left out of the sums)
    assert (feb["upgrades"], feb["mrr_new"], feb["mrr_expansion"]) == (3, 0.0, 100.0)
    assert feb["arpu_per_upgrade"] == 50.0
    # March: interval switch Pro 2 x 3000 = 6000 -> Pro yearly 2 x 30000 / 12 = 5000
    # (-10.00); sub_A cancelled from Pro x3 = 9000 (-90.00)
    assert (mar["upgrades"], mar["mrr_contraction"], mar["mrr_churn"], mar["net_new_mrr"]) == (
        0,
        -10.0,
        -90.0,
        -100.0,
    )
    # payments: Jan ch_A1, ch_D1 succeeded, ch_E1 failed; Mar ch_A4, ch_B4b, ch_C3
    # succeeded, ch_B4 failed (the pending ch_C2 and test-mode ch_T1 are not attempts)
    assert jan["payment_success_rate"] == pytest.approx(2 / 3)
    assert jan["payment_success_rate_by_method"] == {"new_card": 1.0, "saved_card": 0.0}
    assert mar["payment_success_rate"] == 0.75
    assert mar["payment_success_rate_by_method"] == {
        "bank_debit": 0.0, "invoice": 1.0, "saved_card": 1.0, "wallet": 1.0,
    }  # fmt: skip


RAW_TABLES = ("accounts", "plans", "subscription_changes", "invoice_lines", "payment_attempts")


def test_airbyte_build_gives_the_same_warehouse(built):
    (f_path, f_report), (a_path, a_report) = built["fivetran"], built["airbyte"]
    for name in f_report["tables"]:
        f, a = dict(f_report["tables"][name]), dict(a_report["tables"][name])
        f_src, a_src = f.pop("sources", {}), a.pop("sources", {})
        assert f == a, name
        # the same counts under Airbyte's names (Airbyte has the card inside payment_methods)
        f_src.pop("payment_method_card", None)
        assert {AIRBYTE_NAMES[k]: v for k, v in f_src.items()} == a_src, name
    with (
        duckdb.connect(str(f_path), read_only=True) as fc,
        duckdb.connect(str(a_path), read_only=True) as ac,
    ):
        for table in (*[f"raw.{t}" for t in RAW_TABLES], "marts.fct_monthly_metrics"):
            sql = f"select * from {table} order by all"
            assert fc.execute(sql).fetchall() == ac.execute(sql).fetchall(), table


# ----------------------------------------------------------------------- config errors

GOOD = "billing: {shape: fivetran_stripe, path: stripe}\ncontract: {path: contract}\n"


@pytest.mark.parametrize(
    ("yml", "key"),
    [
        ("billing: {shape: chargebee, path: stripe}\ncontract: {path: contract}\n", "billing.shape"),
        ("billing: {shape: fivetran_stripe, path: nowhere}\ncontract: {path: contract}\n", "billing.path"),
        # Fivetran's files under the Airbyte shape: customers.csv is not there
        ("billing: {shape: airbyte_stripe, path: stripe}\ncontract: {path: contract}\n", "billing.path"),
        (GOOD + "options: {livemode: maybe}\n", "options.livemode"),
        (GOOD + "options: {colour: blue}\n", "options.colour"),
        (GOOD + "options: {initiated_by: robot}\n", "options.initiated_by"),
        (GOOD + "options: {crm_currency: XYZ}\n", "options.crm_currency"),
        (GOOD + "options: {crm_movement: {field: type, map: {Upsell: upsell}}}\n", "options.crm_movement.map.Upsell"),
        (GOOD + "warehouse: elsewhere\n", "warehouse"),
        (GOOD + "plans: missing.csv\n", "plans"),
        ("billing: {shape: fivetran_stripe, path: stripe}\ncontract: {path: dup}\n", "contract.path"),
        ("contract: {path: contract}\n", "billing"),
        ("billing: {shape: fivetran_stripe, path: stripe}\n", "events"),
    ],
)  # fmt: skip
def test_bad_sources_yml_is_exit_2_naming_the_key(tmp_path, yml, key):
    shutil.copytree(FIVETRAN / "stripe", tmp_path / "stripe")
    shutil.copytree(FIVETRAN / "contract", tmp_path / "contract")
    (tmp_path / "dup").mkdir()
    (tmp_path / "dup" / "accounts.csv").write_text("account_id,created_at\n")
    (tmp_path / "sources.yml").write_text(yml)
    proc = run_cli("build", "--data-dir", tmp_path, "--warehouse", tmp_path / "wh.duckdb")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"sources.yml: {key}:" in lines[0]
    assert not (tmp_path / "wh.duckdb").exists()


# ----------------------------------------------------------------------- dbt_stripe seeds

SEEDS = FIXTURES / "dbt_stripe_seeds"
SEED_TABLES = (
    "customer", "price", "plan", "product", "subscription_history", "subscription",
    "subscription_item", "invoice", "invoice_line_item", "charge", "payment_method",
    "payment_method_card",
)  # fmt: skip


def test_dbt_stripe_seeds_load_with_every_row_accounted_for(tmp_path):
    """fivetran/dbt_stripe's integration-test seeds (Apache 2.0, LICENSE beside them),
    each ``<table>_data.csv`` as the Fivetran table it stands for."""
    stripe_dir = tmp_path / "stripe"
    stripe_dir.mkdir()
    for t in SEED_TABLES:
        shutil.copy(SEEDS / f"{t}_data.csv", stripe_dir / f"{t}.csv")
    out = stripe.map_billing(stripe_dir, "fivetran_stripe", config.default_options(), None)
    counts = {
        name: (c.read, c.mapped, c.skipped, c.quarantined_by_reason)
        for by_source in out.sources.values()
        for name, c in by_source.items()
    }
    # Counted from the CSVs: customer 12 rows, the last with is_deleted = TRUE; price 4
    # rows: one one_time, one every 3 months; plan 13 rows, 3 every 3 or 6 months (none
    # is also a price); subscription 2 rows, read from subscription_history instead.
    assert counts["customer"] == (12, 11, {"is_deleted": 1}, {})
    assert counts["price"] == (4, 2, {"one_time_price": 1}, {"unsupported_interval": 1})
    assert counts["plan"] == (13, 10, {}, {"unsupported_interval": 3})
    assert counts["subscription"] == (2, 0, {"subscription_history_read": 2}, {})
    for name, (read, mapped, skipped, quarantined) in counts.items():
        assert read == mapped + sum(skipped.values()) + sum(quarantined.values()), name
    assert sum(c[0] for c in counts.values()) == sum(
        len(pl.read_csv(SEEDS / f"{t}_data.csv", infer_schema=False)) for t in SEED_TABLES
    )
    assert set(out.quarantine["reason_code"]) <= {
        "unmappable", "unsupported_interval", "unknown_reference", "missing_required",
    }  # fmt: skip


# ----------------------------------------------------------------------- round trip

REVENUE = ("upgrades", "mrr_new", "mrr_expansion", "mrr_reactivation", "mrr_contraction", "mrr_churn", "net_new_mrr", "arpu_per_upgrade")  # fmt: skip


@pytest.mark.parametrize("shape", ["fivetran_stripe"])
def test_contract_to_stripe_and_back_keeps_revenue_metrics(tmp_path, shape, generated_contract):
    """A generated contract set, written in Stripe's shape by `generate --shape`, built
    from its sources.yml: the same revenue metrics as the contract set's build. The one
    documented loss (docs/sources.md): a change made without prorations is dated at its
    effective time (Stripe's next-period line), so its amount converts at that date's fx
    rate (a few cents here)."""
    stripe_dir = tmp_path / "stripe"
    # the contract set (generated with the same options) and its build: shared
    contract_wh = generated_contract / "wh.duckdb"
    original = json.loads((generated_contract / "report.json").read_text())
    proc = run_cli("generate", "--out", stripe_dir, "--shape", shape, *GENERATED_OPTIONS, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert (stripe_dir / "sources.yml").is_file() and (
        stripe_dir / "stripe" / "charge.csv"
    ).is_file()
    mapped = json.loads(
        run_cli(
            "build", "--data-dir", stripe_dir, "--warehouse", tmp_path / "stripe.duckdb",
            "--format", "json", "--var", f"as_of={original['as_of']}",
        ).stdout
    )  # fmt: skip
    for name, t in mapped["tables"].items():
        assert t["quarantined"] == 0, (name, t)  # change ids of the other tables rewritten
        for source, c in t.get("sources", {}).items():
            assert c["mapped"] == c["read"], source
    assert (
        mapped["tables"]["subscription_changes"]["accepted"]
        == (original["tables"]["subscription_changes"]["accepted"])
    )

    def months(path: Path) -> dict:
        proc = run_cli("metrics", "--warehouse", path, "--format", "json")
        return {m["month"]: m for m in json.loads(proc.stdout)["months"]}

    before, after = months(contract_wh), months(tmp_path / "stripe.duckdb")
    assert before.keys() == after.keys()
    # The documented loss: a change made without prorations moves from its changed_at
    # month to its effective_at month (and converts at that date's rate). Months touched
    # by one are compared in the totals only.
    with duckdb.connect(str(contract_wh), read_only=True) as con:
        moved = con.execute(
            "select strftime(changed_at, '%Y-%m'), strftime(effective_at, '%Y-%m') "
            "from raw.subscription_changes where proration_behavior = 'none' "
            "and from_plan_id is not null and to_plan_id is not null"
        ).fetchall()
    touched = {m for pair in moved for m in pair}
    assert len(touched) < len(before)  # the test compares some months exactly
    for month, m in before.items():
        if month in touched:
            continue
        for metric in REVENUE:
            assert after[month][metric] == m[metric], (month, metric)
    for metric in ("upgrades", "mrr_new", "mrr_expansion", "mrr_reactivation", "mrr_churn"):
        total = sum(m[metric] or 0 for m in before.values())
        assert sum(m[metric] or 0 for m in after.values()) == pytest.approx(total), metric
    for metric in ("mrr_contraction", "net_new_mrr"):  # fx at another date: within 2%
        total = sum(m[metric] or 0 for m in before.values())
        assert sum(m[metric] or 0 for m in after.values()) == pytest.approx(total, rel=0.02)


def test_data_quality_page_shows_the_sources(built, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from conftest import REPO
    from dashboard_support import PAGE_FILES, WAREHOUSE_ENV

    path, _ = built["fivetran"]
    monkeypatch.setenv(WAREHOUSE_ENV, str(path))
    at = AppTest.from_file(str(REPO / "dashboards" / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(PAGE_FILES["Data quality"]).run()
    assert not at.exception, [e.message for e in at.exception]
    assert "Sources (sources.yml)" in [s.value for s in at.subheader]
    sources = at.dataframe[1].value  # after the load report
    row = sources[sources["Source table"] == "invoice_line_item"].iloc[0]
    cells = (row["Read"], row["Mapped"], row["Skipped"], row["Quarantined"])
    assert tuple(str(c) for c in cells) == ("23", "18", "4", "1")
    assert row["Skipped by rule"] == "draft_or_void_invoice 3, livemode 1"
    assert row["Quarantined by reason"] == "unmappable 1"


def test_parquet_with_native_types_maps_the_same(tmp_path, fivetran):
    """The same landed tables as Parquet with typed columns (integers, booleans, UTC
    timestamps) map to the same rows as the CSV text."""
    folder = tmp_path / "stripe"
    folder.mkdir()
    for path in sorted((FIVETRAN / "stripe").glob("*.csv")):
        frame = pl.read_csv(path, try_parse_dates=True)
        frame = frame.with_columns(
            pl.col(c).dt.replace_time_zone("UTC")
            for c, t in frame.schema.items()
            if isinstance(t, pl.Datetime)
        )
        frame.write_parquet(folder / f"{path.stem}.parquet")
    assert isinstance(pl.read_parquet(folder / "charge.parquet").schema["amount"], pl.Int64)
    out = stripe.map_billing(folder, "fivetran_stripe", OPTIONS, None)
    for table, frame in fivetran.tables.items():
        assert out.tables[table].equals(frame), table
