"""One definition per number (issue 11): the dashboard holds no SQL, reads no raw.*
relation and computes no metric; labels, units and directions come from the catalog;
the noise helper behind compare mode. Fast: no warehouse is built here."""

from __future__ import annotations

import ast
import csv
import re
import tomllib

import pytest

from conftest import REPO
from upgrade_warehouse.dashboard.config import parse_config
from upgrade_warehouse.dashboard.stats import (
    TOO_FEW,
    compare_rates,
    enough,
    wilson_interval,
)
from upgrade_warehouse.errors import UserError

DASHBOARDS = REPO / "dashboards"
PAGES = sorted((DASHBOARDS / "app_pages").glob("*.py"))
PACKAGE = REPO / "src" / "upgrade_warehouse" / "dashboard"

SCHEMAS = r"(marts|raw|staging|intermediate|reference|quality|main|information_schema)"
SQL = re.compile(
    rf"\b(from|join)\s+{SCHEMAS}\.\w+"  # a relation of the warehouse
    r"|\bselect\b[\s\S]{0,400}?\bfrom\s+\w+"  # select ... from x
    r"|\binsert\s+into\b|\bdelete\s+from\b|\bupdate\s+\w+(\.\w+)?\s+set\b"
    r"|\b(create|drop|alter)\s+(or\s+replace\s+)?(table|view|schema|database)\b"
    r"|\battach\s+'|\bduckdb\b|\.execute\(|\.sql\(|\bread_(csv|parquet|json)\b",
    re.IGNORECASE,
)
RAW = re.compile(r"\braw\.[a-z_]+", re.IGNORECASE)

# Calls that aggregate or compute a statistic: what a page must leave to dbt.
ARITHMETIC_CALLS = {
    "mean",
    "median",
    "quantile",
    "percentile",
    "sum",
    "cumsum",
    "cumprod",
    "prod",
    "std",
    "var",
    "sem",
    "mode",
    "groupby",
    "agg",
    "aggregate",
    "pivot_table",
    "crosstab",
    "value_counts",
    "describe",
    "div",
    "truediv",
    "floordiv",
    "rdiv",
    "pct_change",
    "rolling",
    "expanding",
    "resample",
    "transform",
    "nunique",
    "count",
    "fmean",
    "average",
    "nanmean",
    "nanquantile",
    "nanpercentile",
}
ARITHMETIC_MODULES = {"statistics", "numpy", "scipy"}


def arithmetic(source: str) -> list[str]:
    """What in a page's source computes a number from data: a division whose divisor is
    not a literal (a rate or a share; unit conversions such as ``x / 100`` are fine),
    an aggregating call, or an import of a statistics module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod):
            if not (
                isinstance(node.right, ast.Constant) and isinstance(node.right.value, int | float)
            ):
                found.append(f"line {node.lineno}: division {ast.unparse(node)}")
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Div | ast.FloorDiv):
            found.append(f"line {node.lineno}: division {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ARITHMETIC_CALLS:
                found.append(f"line {node.lineno}: {ast.unparse(node.func)}()")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in {"sum", "statistics"}:
                found.append(f"line {node.lineno}: {node.func.id}()")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            for name in names:
                if name.split(".")[0] in ARITHMETIC_MODULES:
                    found.append(f"line {node.lineno}: import {name}")
    return found


def test_the_checks_catch_what_they_are_for():
    # A rate, a share of a sum, a percentile, a mean, a group-by: all caught.
    assert arithmetic("x = a / b")
    assert arithmetic("frame['share'] = frame['n'] / frame['n'].sum()")
    assert arithmetic("q = hours['hours'].quantile([0.5, 0.9])")
    assert arithmetic("m = frame.mean()")
    assert arithmetic("t = frame.groupby('k')['v'].agg('sum')")
    assert arithmetic("import numpy as np")
    assert arithmetic("total = sum(values)")
    assert arithmetic("x /= n")
    # Unit conversions and layout are not metric arithmetic.
    assert not arithmetic("rate = value / 100\nheight = 38 + 35 * len(rows)")
    assert SQL.search('data = con.execute("select * from marts.x")')
    assert SQL.search("q = 'SELECT count(*) FROM raw.quarantine'")
    assert RAW.search("source='raw.plans'")
    assert SQL.search("select a, b\n  from marts.fct_monthly_metrics")
    assert not SQL.search('st.multiselect("Reasons", options)')
    assert not SQL.search(
        "Pick the accounts to select a row to read them in full, as the table shows"
    )


@pytest.mark.parametrize("path", PAGES, ids=[p.name for p in PAGES])
def test_pages_compute_no_metric(path):
    assert not arithmetic(path.read_text()), (
        f"{path.name} computes numbers from data; rates, shares, percentiles and totals "
        "come from the marts (dbt): " + "; ".join(arithmetic(path.read_text()))
    )


def test_nothing_under_dashboards_holds_sql_or_names_a_raw_relation():
    files = [p for p in DASHBOARDS.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert {p.name for p in files} >= {"app.py", "config.toml", *(p.name for p in PAGES)}
    for path in files:
        text = path.read_text()
        assert not SQL.search(text), f"{path.relative_to(REPO)} holds SQL or a connection"
        assert not RAW.search(text), f"{path.relative_to(REPO)} names a raw.* relation"


def test_the_data_layer_reads_marts_not_raw_relations():
    for path in PACKAGE.glob("*.py"):
        assert not RAW.search(path.read_text()), f"{path.name} names a raw.* relation"


def test_directions_come_from_the_catalog_only():
    with open(REPO / "seeds" / "metric_catalog.csv", newline="") as f:
        catalog = list(csv.DictReader(f))
    assert {row["direction"] for row in catalog} <= {"higher", "lower", "neutral"}
    directions = {row["metric_id"]: row["direction"] for row in catalog}
    assert directions["escalation_rate"] == "lower"
    assert directions["self_serve_share"] == "higher"
    assert directions["handoffs"] == "neutral"
    config = tomllib.loads((DASHBOARDS / "config.toml").read_text())
    assert "lower_is_better" not in config["dashboard"]
    assert config["dashboard"]["min_count"] == 30
    # No page or dashboard module spells a metric's label: they come from the catalog.
    labels = {row["label"] for row in catalog if len(row["label"]) > 8}
    for path in [*PAGES, *PACKAGE.glob("*.py")]:
        text = path.read_text()
        for label in labels:
            assert f'"{label}"' not in text, f"{path.name} hard-codes the label {label!r}"


def test_min_count_is_validated():
    assert parse_config({"dashboard": {"min_count": 5}}).min_count == 5
    assert parse_config({}).min_count == 30
    with pytest.raises(UserError, match="min_count must be a whole number"):
        parse_config({"dashboard": {"min_count": 0}})


# ------------------------------------------------------------------------------ noise


def test_wilson_interval():
    # 5 of 10: p = 0.5, z = 1.96: centre 0.5, half-width
    # 1.96 * sqrt(0.025 + 1.96^2 / 400) / (1 + 1.96^2 / 10) = 0.2634...
    low, high = wilson_interval(0.5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    # 0 of 10: the interval is [0, z^2 / (n + z^2)] = [0, 0.2775]
    low, high = wilson_interval(0.0, 10)
    assert low == 0.0 and high == pytest.approx(3.8415 / 13.8415, abs=1e-4)
    assert wilson_interval(None, 10) is None and wilson_interval(0.3, 0) is None


def test_compare_rates():
    # The two-proportion test of metrics.md "Experiments": beyond noise when p < 0.05.
    # 20% of 100 vs 40% of 100: se = sqrt(.2 x .8 / 100 + .4 x .6 / 100) = sqrt(.004)
    # = 0.06325; z = -0.2 / 0.06325 = -3.162; p = 2 (1 - Phi(3.162)) = 0.0016.
    c = compare_rates(0.2, 100, 0.4, 100, min_count=30)
    assert c.beyond_noise is True and c.difference == pytest.approx(-0.2)
    assert c.z == pytest.approx(-3.1623, abs=1e-4) and c.p_value == pytest.approx(0.00157, abs=1e-5)
    # 20% of 40 vs 30% of 40: se = sqrt(.16 / 40 + .21 / 40) = 0.09618, z = -1.040,
    # p = 0.298: within noise.
    c = compare_rates(0.2, 40, 0.3, 40, min_count=30)
    assert c.beyond_noise is False and c.difference == pytest.approx(-0.1)
    assert c.p_value == pytest.approx(0.2984, abs=1e-3)
    # Fewer cases than the minimum: no difference is claimed.
    c = compare_rates(0.0, 5, 1.0, 5, min_count=30)
    assert c.too_few and c.difference is None and c.beyond_noise is None
    assert compare_rates(None, 0, 0.5, 100, min_count=30).difference is None
    assert enough(30, 30) and not enough(29, 30) and not enough(None, 30)
    assert TOO_FEW == "too few"


def test_compare_mode_calls_the_issue_example_beyond_noise():
    """Founders 63/426 vs marketers 33/372 over Q3 (issue 32). Their 95% Wilson intervals
    overlap ([0.117, 0.185] and [0.064, 0.122]: the old rule said "no"), but the
    two-proportion test does not: x_a = 0.14789, x_b = 0.08871, diff = 0.05918;
    se = sqrt(0.14789 x 0.85211 / 426 + 0.08871 x 0.91129 / 372)
       = sqrt(0.00029583 + 0.00021731) = 0.022653; z = 2.612; p = 2 (1 - Phi(2.612)) = 0.009."""
    a, b = 63 / 426, 33 / 372
    low_a, _ = wilson_interval(a, 426)
    _, high_b = wilson_interval(b, 372)
    assert high_b > low_a  # the intervals overlap
    c = compare_rates(a, 426, b, 372, min_count=30)
    assert c.difference == pytest.approx(0.05918, abs=1e-5)
    assert c.z == pytest.approx(2.612, abs=1e-3)
    assert c.p_value == pytest.approx(0.0090, abs=2e-4)
    assert c.beyond_noise is True


def test_winback_summaries_live_in_the_data_layer():
    import pandas as pd

    from upgrade_warehouse.dashboard.data import winback_expected_upgrades, winback_plays

    scores = pd.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "probability": [0.5, 0.25, 0.875],
            "play_trigger": ["t", "t", "u"],
            "play_owner": ["o", "o", "o"],
            "play_channel": ["c", "c", "c"],
        }
    )
    assert winback_expected_upgrades(scores) == 1.625
    assert winback_expected_upgrades(scores.iloc[0:0]) is None
    plays = winback_plays(scores).to_dict("records")
    assert plays[0]["trigger"] == "u" and plays[0]["expected upgrades"] == 0.875
    assert plays[1]["accounts"] == 2 and plays[1]["mean probability"] == 0.375


# A probability or p-value formatted in place with other decimals than the one rule
# (f"{p:.2%}", f"{p:.3g}", Streamlit's "percent" with two decimals, Vega's ".2%")
# instead of through formats.format_probability / format_p_value (or a one-decimal
# percent in a chart's own format).
PROBABILITY_FORMAT = re.compile(
    r"(probabilit\w*|chance\w*|p_value)[^\n]{0,60}?(:\.(?!1%)\d+[%fg]\}|format=\"\.[02-9]%\")"
    r"|format=\"percent\"",
)


def test_probabilities_read_one_way_everywhere():
    """One rule for probabilities (a percent with one decimal, as a rate: 12.3%) and one
    for p-values (0.012, < 0.001), in formats.py; every page, chart, CLI table and export
    uses them."""
    from upgrade_warehouse.formats import format_p_value, format_probability

    assert format_probability(0.43111527) == "43.1%"
    assert format_probability(0.05) == "5.0%" and format_probability(None) == "–"
    assert format_probability(float("nan")) == "–"
    assert format_p_value(0.01234) == "0.012" and format_p_value(0.0004) == "< 0.001"
    assert format_p_value(0.001) == "0.001" and format_p_value(None) == "–"
    sources = [
        *PAGES,
        *PACKAGE.glob("*.py"),
        *(REPO / "src" / "upgrade_warehouse").glob("*.py"),
        *(REPO / "src" / "upgrade_warehouse" / "winback").glob("*.py"),
    ]
    found = [
        f"{path.name}: {m.group(0)}"
        for path in sources
        for m in PROBABILITY_FORMAT.finditer(path.read_text())
    ]
    assert found == []
    assert PROBABILITY_FORMAT.search('f"{c.p_value:.2g}"')  # the check catches them
    assert PROBABILITY_FORMAT.search('Tooltip("mean_probability:Q", format=".2%")')
    assert not PROBABILITY_FORMAT.search('Tooltip("mean_probability:Q", format=".1%")')
    assert PROBABILITY_FORMAT.search('st.column_config.ProgressColumn(format="percent")')


def test_sparklines_are_coloured_by_the_good_direction_over_the_months_shown():
    """Issue 32: Upgrades rising over the year but down in the last month was red (the
    colour followed the last month's change). The colour now says whether the metric
    moved its good way (the catalog's direction) from the first to the last month shown."""
    from upgrade_warehouse.dashboard.charts import MOVED
    from upgrade_warehouse.dashboard.kpis import moved

    good, bad, flat = MOVED
    rising_year_last_month_down = [80, 85, 90, None, 104, 105, 104]  # 80 -> 104
    assert moved(rising_year_last_month_down, "higher") == good
    assert moved(rising_year_last_month_down, "lower") == bad  # e.g. a latency
    assert moved([0.02, 0.01, 0.015], "lower") == good  # sync unresolved: 2% -> 1.5%
    assert moved([5, 9, 5], "higher") == flat  # no change from first to last
    assert moved([5, 9], "neutral") == flat  # no good direction (attempts matured)
    assert moved([None, 7, None], "higher") == flat  # a single value
    assert list(MOVED) == [
        "moved the good way",
        "moved the wrong way",
        "no change, or no good direction",
    ]  # the legend of the sparklines chart says the rule
