"""`upgrade-warehouse movers` on tests/fixtures/movers (metrics.md "What moved").

The fixture (tests/fixtures/movers/README.md): five accounts, all persona founder,
segment smb, country US; PS1, PS2 acquisition_source paid_search, OR1, OR2, OR3 organic.
as_of = 2026-03-02T00:00:00Z (the one product event), so the default month M is 2026-02
(the last month that ended at or before as_of) against 2026-01. Months in the
warehouse: 2025-12 (change x1) to 2026-03 (as_of).

Comparison (metrics.md "Experiments", M as v, M - 1 as c):
  se = sqrt(x_v (1 - x_v) / n_v + x_c (1 - x_c) / n_c), z = (x_v - x_c) / se.
Mover: n_v, n_c >= 30 and |z| >= 1.959963984540054.

payment_success_rate (succeeded / attempts), PS1 = paid_search, OR1 = organic:
  paid_search: Jan 20/25 = 0.8, Feb 12/25 = 0.48
  organic:     Jan 20/25 = 0.8, Feb 13/25 = 0.52
  all:         Jan 40/50 = 0.8, Feb 25/50 = 0.5
  all: diff -0.3, se = sqrt(0.5*0.5/50 + 0.8*0.2/50) = sqrt(0.005 + 0.0032)
       = sqrt(0.0082) = 0.0905539, z = -0.3 / 0.0905539 = -3.312946  -> MOVER
       (persona founder, segment smb, country US hold every account: the same numbers)
  paid_search: diff -0.32 (moves as much), se = sqrt(0.48*0.52/25 + 0.16/25)
       = sqrt(0.009984 + 0.0064) = sqrt(0.016384) = 0.128, z = -0.32 / 0.128 = -2.5:
       |z| >= 1.96 but n = 25 < 30 -> NOT a mover (too few)
  organic: diff -0.28, se = sqrt(0.52*0.48/25 + 0.0064) = 0.128, z = -2.1875 -> not (n 25)

eligibility_rejection_rate (rejected / checks):
  paid_search: Jan 10/40 = 0.25, Feb 24/40 = 0.6
  organic:     Jan 30/40 = 0.75, Feb 17/40 = 0.425
  all:         Jan 40/80 = 0.5,  Feb 41/80 = 0.5125
  all: diff 0.0125, se = sqrt(0.5125*0.4875/80 + 0.25/80) = sqrt(0.00312305 + 0.003125)
       = sqrt(0.00624805) = 0.0790446, z = 0.158138 -> not a mover ("all accounts"
       hides the two segments' moves, which cancel)
  paid_search: diff 0.35, se = sqrt(0.6*0.4/40 + 0.25*0.75/40) = sqrt(0.006 + 0.0046875)
       = sqrt(0.0106875) = 0.1033804, z = 3.385556 -> MOVER (segment only)
  organic: diff -0.325, se = sqrt(0.425*0.575/40 + 0.75*0.25/40)
       = sqrt(0.006109375 + 0.0046875) = sqrt(0.010796875) = 0.1039080, z = -3.127767
       -> MOVER (segment only)
false_positive_reject_rate: no override, 0 in both months: se = 0, z null -> not a mover.
Every other count-ratio metric has fewer than 30 cases (a handful of upgrades) or none.

Ranking by |z|: 3.385556 (eligibility paid_search), then 3.312946 x 4 (payment: all
accounts first, then the dimensions in text order country, persona, segment), then
3.127767 (eligibility organic).

MRR bridge (plans basic_m 1000 and pro_m 3000 USD minor a month; major units):
  Feb: x6 PS1 basic_m -> pro_m            expansion   +30 - 10 = +20  (paid_search)
       x7 OR1 pro_m -> cancelled          churn       -30             (organic)
       x8 OR2 pro_m x2 -> pro_m x1        contraction 30 - 60 = -30   (organic)
       x9 PS2 new subscription basic_m    reactivation +10 (PS2 had MRR from x1)
       x10 OR3 created basic_m x2         new         +20             (organic)
       all: new 20, expansion 20, reactivation 10, contraction -30, churn -30,
            net 20 + 20 + 10 - 30 - 30 = -10
       paid_search: 0, 20, 10, 0, 0, net 30; organic: 20, 0, 0, -30, -30, net -40
  Jan: x2 PS2 cancelled (churn -10), x3 PS1 new +10, x4 OR1 new +30, x5 OR2 new +60 (2 x 30)
       all net = 10 + 30 + 60 - 10 = 90; paid_search 10 - 10 = 0; organic 30 + 60 = 90
  Dec: x1 PS2 new +10: all 10, paid_search 10, organic 0.
"""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, run_cli

Z = 1.959963984540054


def movers_json(warehouse, *args):
    proc = run_cli("movers", "--warehouse", warehouse, "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def key(mover):
    return (mover["metric_id"], mover["dimension"], mover["segment"])


def test_golden_movers_and_their_order(movers_warehouse):
    result = movers_json(movers_warehouse)
    assert list(result) == ["as_of", "month", "previous_month", "min_count", "movers", "mrr_bridge"]
    assert result["as_of"] == "2026-03-02T00:00:00Z"
    assert (result["month"], result["previous_month"]) == ("2026-02", "2026-01")
    assert result["min_count"] == 30
    assert [key(m) for m in result["movers"]] == [
        ("eligibility_rejection_rate", "acquisition_source", "paid_search"),
        ("payment_success_rate", None, None),
        ("payment_success_rate", "country", "US"),
        ("payment_success_rate", "persona", "founder"),
        ("payment_success_rate", "segment", "smb"),
        ("eligibility_rejection_rate", "acquisition_source", "organic"),
    ]
    first, everyone = result["movers"][0], result["movers"][1]
    assert list(first) == [
        "metric_id",
        "dimension",
        "segment",
        "value",
        "n",
        "previous_value",
        "previous_n",
        "diff",
        "z",
        "p_value",
    ]
    assert first["value"] == pytest.approx(0.6)
    assert (first["n"], first["previous_n"]) == (40, 40)
    assert first["previous_value"] == pytest.approx(0.25)
    assert first["diff"] == pytest.approx(0.35)
    assert first["z"] == pytest.approx(3.385556, abs=1e-6)
    # p = 2 (1 - Phi(3.385556)) = erfc(3.385556 / sqrt(2)) = 0.000710343
    assert first["p_value"] == pytest.approx(0.000710343, rel=1e-5)
    assert (everyone["value"], everyone["n"]) == (pytest.approx(0.5), 50)
    assert (everyone["previous_value"], everyone["previous_n"]) == (pytest.approx(0.8), 50)
    assert everyone["z"] == pytest.approx(-3.312946, abs=1e-6)
    # erfc(3.312946 / sqrt(2)) = 0.000923189
    assert everyone["p_value"] == pytest.approx(0.000923189, rel=1e-5)
    assert result["movers"][-1]["z"] == pytest.approx(-3.127767, abs=1e-6)
    for mover in result["movers"]:
        assert abs(mover["z"]) >= Z and mover["n"] >= 30 and mover["previous_n"] >= 30


def test_too_few_and_hidden_ones_are_not_movers(movers_warehouse):
    from upgrade_warehouse.movers import read_movements
    from upgrade_warehouse.warehouse import connect

    with connect(movers_warehouse) as con:
        data = read_movements(con)
    by_key = {(m.metric_id, m.dimension, m.segment): m for m in data.movements}
    # Moves as much as all accounts (-0.32) with |z| = 2.5, but over 25 < 30 attempts.
    too_few = by_key[("payment_success_rate", "acquisition_source", "paid_search")]
    assert too_few.comparison.z == pytest.approx(-2.5)
    assert (too_few.n, too_few.previous_n) == (25, 25)
    assert not too_few.is_mover
    # Hidden in all accounts: 0.5 -> 0.5125, z = 0.158138.
    hidden = by_key[("eligibility_rejection_rate", None, None)]
    assert hidden.comparison.z == pytest.approx(0.158138, abs=1e-6)
    assert not hidden.is_mover
    # No variation: se = 0, z null.
    flat = by_key[("false_positive_reject_rate", None, None)]
    assert flat.comparison.z is None and not flat.is_mover
    assert len(data.movers) == 6
    # Every count-ratio metric of the spec x every segment (all + 4 single-valued
    # dimensions + 2 acquisition sources = 6 segments) is compared.
    assert len(data.movements) == 15 * 6


def test_sentences(movers_warehouse):
    from upgrade_warehouse.movers import read_movements, sentence
    from upgrade_warehouse.warehouse import connect

    with connect(movers_warehouse) as con:
        data = read_movements(con)
    assert sentence(data.movers[0]) == (
        "Eligibility rejection rate in paid_search (acquisition_source) rose from 25.0% to "
        "60.0% (40 -> 40 checks), beyond noise"
    )
    assert sentence(data.movers[1]) == (
        "Payment success rate across all accounts fell from 80.0% to 50.0% "
        "(50 -> 50 payment attempts), beyond noise"
    )


def test_mrr_bridge(movers_warehouse):
    bridge = movers_json(movers_warehouse)["mrr_bridge"]
    keys = [
        "dimension",
        "segment",
        "mrr_new",
        "mrr_expansion",
        "mrr_reactivation",
        "mrr_contraction",
        "mrr_churn",
        "net_new_mrr",
        "previous_net_new_mrr",
    ]
    assert all(list(row) == keys for row in bridge)
    rows = [tuple(row.values()) for row in bridge]
    all_accounts = (20.0, 20.0, 10.0, -30.0, -30.0, -10.0, 90.0)
    assert rows == [
        (None, None, *all_accounts),
        ("acquisition_source", "organic", 20.0, 0.0, 0.0, -30.0, -30.0, -40.0, 90.0),
        ("acquisition_source", "paid_search", 0.0, 20.0, 10.0, 0.0, 0.0, 30.0, 0.0),
        ("country", "US", *all_accounts),
        ("persona", "founder", *all_accounts),
        ("segment", "smb", *all_accounts),
    ]


def test_month_option_and_top(movers_warehouse):
    january = movers_json(movers_warehouse, "--month", "2026-01")
    assert (january["month"], january["previous_month"]) == ("2026-01", "2025-12")
    # December has no payment attempt or check: nothing to compare.
    assert january["movers"] == []
    # all: new 10 + 30 + 60 = 100, churn -10, net 90; December net 10.
    assert january["mrr_bridge"][0]["mrr_new"] == 100.0
    assert january["mrr_bridge"][0]["mrr_churn"] == -10.0
    assert january["mrr_bridge"][0]["net_new_mrr"] == 90.0
    assert january["mrr_bridge"][0]["previous_net_new_mrr"] == 10.0
    top = movers_json(movers_warehouse, "--top", "2")
    assert [key(m) for m in top["movers"]] == [
        ("eligibility_rejection_rate", "acquisition_source", "paid_search"),
        ("payment_success_rate", None, None),
    ]
    assert len(top["mrr_bridge"]) == 6  # --top cuts the movers only


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2025-12"], "--month 2025-12: the first month"),
        (
            ["--month", "2026-04"],
            "--month 2026-04: not in the warehouse (months: 2025-12 to 2026-03)",
        ),
        (["--month", "2026-13"], "--month must be YYYY-MM"),
        (["--month", "Feb"], "--month must be YYYY-MM"),
        (["--top", "0"], "--top must be at least 1"),
        (["--format", "xml"], "--format"),
    ],
)
def test_bad_options_exit_2(movers_warehouse, args, message):
    proc = run_cli("movers", "--warehouse", movers_warehouse, *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_no_warehouse_exit_2(tmp_path):
    proc = run_cli("movers", "--warehouse", tmp_path / "none.duckdb")
    assert proc.returncode == 2
    assert "no warehouse at" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_csv_and_table(movers_warehouse):
    import csv
    import io

    proc = run_cli("movers", "--warehouse", movers_warehouse, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    movers = [r for r in rows if r["table"] == "movers"]
    bridge = [r for r in rows if r["table"] == "mrr_bridge"]
    assert [r["rank"] for r in movers] == ["1", "2", "3", "4", "5", "6"]
    assert movers[1]["metric_id"] == "payment_success_rate" and movers[1]["dimension"] == ""
    assert len(bridge) == 6 and bridge[0]["net_new_mrr"] == "-10.0"
    proc = run_cli("movers", "--warehouse", movers_warehouse, env={"COLUMNS": "160"})
    assert proc.returncode == 0, proc.stderr
    assert "What moved: 2026-02 against 2026-01" in proc.stdout
    assert "Eligibility rejection rate" in proc.stdout and "MRR bridge of 2026-02" in proc.stdout


def test_min_count_is_a_build_parameter(tmp_path):
    """--var movers_min_count=25: the paid_search and organic payment moves (n = 25,
    z = -2.5 and -2.1875, both |z| >= 1.96) become movers, ranked after the |z| > 3 ones."""
    warehouse = tmp_path / "wh.duckdb"
    proc = run_cli(
        "build",
        "--data-dir",
        FIXTURES / "movers",
        "--warehouse",
        warehouse,
        "--var",
        "movers_min_count=25",
    )
    assert proc.returncode == 0, proc.stderr
    result = movers_json(warehouse)
    assert result["min_count"] == 25
    assert [key(m) for m in result["movers"]][-2:] == [
        ("payment_success_rate", "acquisition_source", "paid_search"),
        ("payment_success_rate", "acquisition_source", "organic"),
    ]
    assert result["movers"][-1]["z"] == pytest.approx(-2.1875)
    assert len(result["movers"]) == 8


def test_rank_ties_and_nulls():
    """Equal |z|: metric id, then all accounts first, dimension text order, segment text
    order with the accounts without a value last."""
    from upgrade_warehouse import stats
    from upgrade_warehouse.movers import Movement, rank_key

    def movement(metric_id, dimension, segment, z):
        comparison = stats.Comparison(diff=z, z=z)
        return Movement(metric_id, dimension, segment, 0.5, 50, 0.4, 50, comparison, True)

    items = [
        movement("b_rate", "persona", None, -2.0),
        movement("b_rate", "persona", "admin", 2.0),
        movement("b_rate", None, None, 2.0),
        movement("a_rate", "country", "US", 2.0),
        movement("b_rate", "country", "DE", -2.0),
        movement("c_rate", "persona", "x", -5.0),
    ]
    ranked = sorted(items, key=rank_key)
    assert [(m.metric_id, m.dimension, m.segment) for m in ranked] == [
        ("c_rate", "persona", "x"),
        ("a_rate", "country", "US"),
        ("b_rate", None, None),
        ("b_rate", "country", "DE"),
        ("b_rate", "persona", "admin"),
        ("b_rate", "persona", None),
    ]


def test_workbook_has_what_moved_and_mrr_bridge_sheets(movers_warehouse):
    import io

    from openpyxl import load_workbook

    from upgrade_warehouse.dashboard import review
    from upgrade_warehouse.movers import read_movements
    from upgrade_warehouse.warehouse import connect

    with connect(movers_warehouse) as con:
        data = read_movements(con, "2026-02")
    content = review.review_xlsx(
        [], "2026-02", "2026-01", "USD", "2026-03-02 00:00 UTC", movements=data
    )
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames[:3] == ["About", "What moved", "MRR bridge"]
    moved = book["What moved"]
    header = [c.value for c in moved[2]]
    assert header[:3] == ["Rank", "What moved", "Metric"]
    first = [c.value for c in moved[3]]
    assert first[0] == 1 and first[2] == "Eligibility rejection rate"
    assert (first[3], first[4]) == ("acquisition_source", "paid_search")
    assert (first[5], first[6], first[7], first[8]) == (0.25, 40, 0.6, 40)
    assert first[9] == pytest.approx(35.0)  # 0.6 - 0.25 = +35.0 pp
    assert moved.cell(3, 6).number_format == "0.0%"
    assert moved.max_row == 2 + 6  # title, header, the six movers
    bridge = book["MRR bridge"]
    header = [c.value for c in bridge[2]]
    assert header[:2] == ["Dimension", "Segment"] and header[-1] == "Net new MRR 2026-01"
    everyone = {h: c.value for h, c in zip(header, bridge[3])}
    assert everyone["Dimension"] == "all accounts"
    assert (everyone["New"], everyone["Churn"], everyone["Net new MRR"]) == (20, -30, -10)
    assert everyone["Net new MRR 2026-01"] == 90
    assert bridge.max_row == 2 + 6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2025-12"], "--month 2025-12: the first month"),
        (["--month", "2027-01"], "--month 2027-01: not in the warehouse"),
        (["--month", "1/2026"], "--month must be YYYY-MM"),
    ],
)
def test_review_bad_options_exit_2(movers_warehouse, tmp_path, args, message):
    out = tmp_path / "review.html"
    proc = run_cli("review", "--warehouse", movers_warehouse, "--out", out, *args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_review_out_folder_must_exist(movers_warehouse, tmp_path):
    proc = run_cli(
        "review", "--warehouse", movers_warehouse, "--out", tmp_path / "no" / "review.html"
    )
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr
    proc = run_cli("review", "--warehouse", movers_warehouse, "--out", tmp_path / "r.html")
    assert proc.returncode == 0, proc.stderr
    assert "wrote the review of 2026-02" in proc.stdout
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary file left


def test_waterfall_uses_start_and_end_when_the_warehouse_has_them():
    """The fixture's February (all accounts): start = January's end MRR = PS1 10 + OR1 30 +
    OR2 60 = 100; movements -10; end = PS1 30 + OR2 30 + PS2 10 + OR3 20 = 90; other 0."""
    from upgrade_warehouse.movers import waterfall_frame

    movements = {
        "mrr_new": 20.0,
        "mrr_expansion": 20.0,
        "mrr_reactivation": 10.0,
        "mrr_contraction": -30.0,
        "mrr_churn": -30.0,
        "net_new_mrr": -10.0,
    }
    with_ends = waterfall_frame(
        {**movements, "mrr_start": 100.0, "mrr_other": 0.0, "mrr_end": 90.0}
    )
    assert list(with_ends["step"]) == [
        "Start MRR",
        "New",
        "Expansion",
        "Reactivation",
        "Contraction",
        "Churn",
        "Other",
        "End MRR",
    ]
    assert list(with_ends["kind"]) == ["total", *["gain"] * 3, "loss", "loss", "gain", "total"]
    # Each bar starts where the one before ended: 100 -> 120 -> 140 -> 150 -> 120 -> 90.
    assert list(with_ends["end"])[:7] == [100.0, 120.0, 140.0, 150.0, 120.0, 90.0, 90.0]
    assert list(with_ends["start"])[1:7] == [100.0, 120.0, 140.0, 150.0, 120.0, 90.0]
    assert (with_ends["start"].iloc[-1], with_ends["end"].iloc[-1]) == (0.0, 90.0)
    without = waterfall_frame(movements)  # an older warehouse: from 0 to net new MRR
    assert list(without["step"])[-1] == "Net new MRR"
    assert list(without["end"]) == [20.0, 40.0, 50.0, 20.0, -10.0, -10.0]
    assert list(without["label"]) == ["+20", "+20", "+10", "-30", "-30", "-10"]
