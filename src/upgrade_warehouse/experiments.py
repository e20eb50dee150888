"""`upgrade-warehouse experiments`: every A/B test of the upgrade flow, variations against
control (``shared/spec/metrics.md`` "Experiments", ``cli.md``).

The dbt marts hold everything a count or a mean can say: exposures, the control, the
window and maturity, each metric's value and population per variation and segment
(``marts.fct_experiments``, ``fct_experiment_variations``, ``fct_experiment_metrics``).
The comparison fields (diff through chance_to_beat_control), enough_data, significant
and the sample-ratio test come from :mod:`.stats`, the one statistics module: SQL has
no normal CDF or chi-square distribution (docs/experiments.md). Read-only, through
:mod:`.warehouse`; the dashboard's Experiments page reads the same object.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Annotated

import duckdb
import typer

from . import stats
from .errors import UserError
from .exports import safe_text
from .formats import OutputFormat, TableFormatOption, WarehouseOption, by_option
from .params import Parameters
from .paths import DEFAULT_WAREHOUSE
from .warehouse import check_version, connect, read_build, read_dimensions, relations

TABLES = (
    "marts.fct_experiments",
    "marts.fct_experiment_variations",
    "marts.fct_experiment_metrics",
)
# Every field of a metric object after value and n (metrics.md's JSON block).
COMPARISON_KEYS = (*stats.COMPARISON_FIELDS, "enough_data", "significant")
ALL = "all"


def format_ts(ts: datetime | None) -> str | None:
    if ts is None:
        return None
    text = ts.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{ts.microsecond:06d}" if ts.microsecond else "") + "Z"


def _float(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def check_built(con: duckdb.DuckDBPyConnection, warehouse: Path | str) -> None:
    """A UserError when the warehouse was built before experiments existed."""
    present = relations(con)
    if any(t not in present for t in TABLES):
        raise UserError(
            f"{warehouse} has no experiment results (it was built before experiments "
            "existed): rebuild it with `upgrade-warehouse build`"
        )


def compare(metric: dict, control: dict, min_accounts: int) -> dict:
    """The comparison fields of a variation's metric against the control's (metrics.md):
    every one null when a side has no account (for the mean: fewer than 2)."""
    n_v, n_c = metric["n"], control["n"]
    if metric["kind"] == "mean":
        comparison = stats.compare_means(
            metric["value"], metric["variance"], n_v, control["value"], control["variance"], n_c
        )
        too_few = n_v < 2 or n_c < 2
    else:
        comparison = stats.compare_rates(metric["value"], n_v, control["value"], n_c)
        too_few = n_v == 0 or n_c == 0
    if too_few:
        return dict.fromkeys(COMPARISON_KEYS)
    enough = n_v >= min_accounts and n_c >= min_accounts
    return {
        **comparison.fields(),
        "enough_data": enough,
        "significant": comparison.significant(enough),
    }


def _check_by(con: duckdb.DuckDBPyConnection, by: str | None) -> None:
    if by is None:
        return
    dimensions = read_dimensions(con)
    if by not in dimensions:
        raise UserError(
            f"--by {by!r}: not an account attribute to split by (one of: {', '.join(dimensions)})"
        )


def read_experiments(
    warehouse: Path | str, experiment: str | None = None, by: str | None = None
) -> dict:
    """The experiments JSON object of metrics.md (one experiment with ``experiment``; one
    object per experiment and segment of ``by``)."""
    with connect(warehouse) as con:
        check_version(con, warehouse)
        check_built(con, warehouse)
        _check_by(con, by)
        return experiments_json(con, experiment, by)


def experiments_json(
    con: duckdb.DuckDBPyConnection, experiment: str | None = None, by: str | None = None
) -> dict:
    build = read_build(con)
    parameters = build.parameters
    defaults = Parameters()
    window_days = int(parameters.get("experiment_window_days", defaults.experiment_window_days))
    min_accounts = int(parameters.get("experiment_min_accounts", defaults.experiment_min_accounts))
    known = [
        r[0]
        for r in con.execute(
            "select distinct experiment_id from marts.fct_experiments order by experiment_id"
        ).fetchall()
    ]
    if experiment is not None and experiment not in known:
        listed = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "")
        raise UserError(
            f"--experiment {experiment!r}: no such experiment in the warehouse "
            f"(experiments: {listed or 'none'})"
        )
    dimension = by or ALL
    where = "where segment_dimension = $dimension"
    args: dict = {"dimension": dimension}
    if experiment is not None:
        where += " and experiment_id = $experiment"
        args["experiment"] = experiment
    heads = con.execute(
        "select experiment_id, segment_value, control_variation_id, first_exposure, "
        f"last_exposure, multiple_exposures from marts.fct_experiments {where} "
        "order by experiment_id, segment_value nulls last",
        args,
    ).fetchall()
    variation_rows = con.execute(
        "select experiment_id, segment_value, variation_id, is_control, exposed_accounts, "
        f"matured_accounts from marts.fct_experiment_variations {where} "
        "order by experiment_id, variation_order",
        args,
    ).fetchall()
    metric_rows = con.execute(
        "select experiment_id, segment_value, variation_id, metric_id, metric_kind, "
        f"metric_value, n, metric_variance from marts.fct_experiment_metrics {where} "
        "order by experiment_id, variation_order, metric_order",
        args,
    ).fetchall()
    metrics: dict[tuple, dict[str, dict]] = {}
    for exp_id, segment, variation, metric_id, kind, value, n, variance in metric_rows:
        metrics.setdefault((exp_id, segment, variation), {})[metric_id] = {
            "kind": kind,
            "value": _float(value),
            "n": int(n),
            "variance": _float(variance),
        }
    variations: dict[tuple, list] = {}
    for exp_id, segment, variation, is_control, exposed, matured in variation_rows:
        variations.setdefault((exp_id, segment), []).append(
            (variation, bool(is_control), int(exposed), int(matured))
        )
    out = []
    for exp_id, segment, control, first, last, multiple in heads:
        entry: dict = {"experiment_id": exp_id}
        if by is not None:
            entry["dimension"] = by
            entry["segment"] = segment
        rows = variations.get((exp_id, segment), [])
        srm = stats.srm_p_value([r[2] for r in rows])
        entry.update(
            {
                "control": control,
                "first_exposure": format_ts(first),
                "last_exposure": format_ts(last),
                "multiple_exposures": int(multiple),
                "srm_p_value": srm,
                "srm_warning": stats.srm_warning(srm),
                "variations": [],
            }
        )
        control_metrics = metrics.get((exp_id, segment, control), {})
        for variation, is_control, exposed, matured in rows:
            own = metrics.get((exp_id, segment, variation), {})
            objects = {}
            for metric_id, m in own.items():
                if is_control:
                    fields = dict.fromkeys(COMPARISON_KEYS)
                else:
                    fields = compare(m, control_metrics[metric_id], min_accounts)
                objects[metric_id] = {"value": m["value"], "n": m["n"], **fields}
            entry["variations"].append(
                {
                    "variation_id": variation,
                    "exposed_accounts": exposed,
                    "matured_accounts": matured,
                    "metrics": objects,
                }
            )
        out.append(entry)
    return {
        "as_of": parameters["as_of"],
        "window_days": window_days,
        "min_accounts": min_accounts,
        "reporting_currency": build.reporting_currency,
        "experiments": out,
    }


CSV_COLUMNS = (
    "experiment_id",
    "dimension",
    "segment",
    "control",
    "srm_p_value",
    "srm_warning",
    "multiple_exposures",
    "variation_id",
    "exposed_accounts",
    "matured_accounts",
    "metric_id",
    "value",
    "n",
    *COMPARISON_KEYS,
)


def rows(result: dict) -> list[dict]:
    """One flat record per experiment (and segment), variation and metric."""
    out = []
    for e in result["experiments"]:
        for v in e["variations"]:
            for metric_id, m in v["metrics"].items():
                out.append(
                    {
                        "experiment_id": e["experiment_id"],
                        "dimension": e.get("dimension"),
                        "segment": e.get("segment"),
                        "control": e["control"],
                        "srm_p_value": e["srm_p_value"],
                        "srm_warning": e["srm_warning"],
                        "multiple_exposures": e["multiple_exposures"],
                        "variation_id": v["variation_id"],
                        "exposed_accounts": v["exposed_accounts"],
                        "matured_accounts": v["matured_accounts"],
                        "metric_id": metric_id,
                        **m,
                    }
                )
    return out


def to_csv(result: dict) -> str:
    """The flat records as CSV: text cells safe for a spreadsheet (exports.safe_text),
    empty cells for nulls, booleans as true/false."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in rows(result):
        values = []
        for column in CSV_COLUMNS:
            v = record.get(column)
            if v is None:
                v = ""
            elif isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, float):
                v = repr(v)
            values.append(safe_text(v))
        writer.writerow(values)
    return buf.getvalue()


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def _points(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:+.1f}"


def print_table(result: dict) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from .formats import format_p_value

    console = Console()
    if not console.is_terminal:  # piped: wide enough that no value wraps
        console = Console(width=140)
    if not result["experiments"]:
        console.print(f"No experiments in the warehouse (as_of {result['as_of']}).")
        return
    for e in result["experiments"]:
        title = f"Experiment {e['experiment_id']}"
        if "dimension" in e:
            segment = "(no value)" if e["segment"] is None else e["segment"]
            title += f" · {e['dimension']} = {segment}"
        srm = e["srm_p_value"]
        caption = (
            f"control {e['control']}; exposures {e['first_exposure']} to {e['last_exposure']}; "
            f"{e['multiple_exposures']} accounts left out (two or more variations); "
            f"sample ratio p = {'–' if srm is None else f'{srm:.3g}'}"
            + (" — ASSIGNMENT IS BROKEN: do not trust these results" if e["srm_warning"] else "")
            + f". Window {result['window_days']} days, matured accounts only; "
            f"at least {result['min_accounts']} per side for a verdict."
        )
        caption += " Rates in %, differences in percentage points; revenue per account in "
        caption += f"{result['reporting_currency']}."
        table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, padding=(0, 1))
        for name, justify, no_wrap in (
            ("metric", "left", False),
            ("value", "right", False),
            ("n", "right", False),
            ("diff", "right", False),
            ("95% interval", "right", False),
            ("p", "right", False),
            ("significant", "left", False),
        ):
            table.add_column(name, justify=justify, no_wrap=no_wrap, overflow="fold")
        control_metrics = next(
            (v["metrics"] for v in e["variations"] if v["variation_id"] == e["control"]), {}
        )
        for v in e["variations"]:
            table.add_row(
                f"[bold]{v['variation_id']}[/bold]"
                + (" (control)" if v["variation_id"] == e["control"] else "")
                + f": {v['exposed_accounts']:,} exposed, {v['matured_accounts']:,} matured",
                end_section=False,
            )
            for metric_id, m in v["metrics"].items():
                money = metric_id == "mrr_delta_per_account"
                if money:
                    value = "–" if m["value"] is None else f"{m['value']:,.2f}"
                    diff = "–" if m["diff"] is None else f"{m['diff']:+,.2f}"
                    interval = (
                        "–" if m["ci_low"] is None else f"{m['ci_low']:+,.2f}..{m['ci_high']:+,.2f}"
                    )
                else:
                    value, diff = _pct(m["value"]), _points(m["diff"])
                    interval = (
                        "–"
                        if m["ci_low"] is None
                        else f"{_points(m['ci_low'])}..{_points(m['ci_high'])}"
                    )
                if v["variation_id"] == e["control"]:
                    verdict = ""
                elif m["enough_data"] is None:
                    verdict = "–"
                elif not m["enough_data"]:
                    fewest = min(m["n"], control_metrics[metric_id]["n"])
                    verdict = f"too few accounts ({fewest} of {result['min_accounts']})"
                else:
                    verdict = "yes" if m["significant"] else "no"
                table.add_row(
                    f"  {metric_id}",
                    value,
                    f"{m['n']:,}",
                    diff,
                    interval,
                    format_p_value(m["p_value"]),
                    verdict,
                )
        console.print(table)


ExperimentBy = by_option("experiment")


def experiments_command(
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    experiment: Annotated[
        str | None,
        typer.Option("--experiment", metavar="ID", help="Only this experiment."),
    ] = None,
    by: ExperimentBy = None,
    output_format: TableFormatOption = OutputFormat.table,
) -> None:
    """Every A/B test of the upgrade flow: variations against control with 95% intervals,
    significance and the sample-ratio check (metrics.md "Experiments")."""
    result = read_experiments(warehouse, experiment, by)
    if output_format is OutputFormat.json:
        print(json.dumps(result, indent=2))
    elif output_format is OutputFormat.csv:
        print(to_csv(result), end="")
    else:
        print_table(result)
