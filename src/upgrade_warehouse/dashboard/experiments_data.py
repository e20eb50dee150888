"""The Experiments page's data: the ``experiments --format json`` object (the very same
function computes it: :func:`upgrade_warehouse.experiments.experiments_json`), the
labels of the experiment metrics from the catalog, verdicts in words, the frames of the
table, the interval chart and the persona breakdown, and the CSV and Excel exports.

Like :mod:`.data`, every read goes through the read-only warehouse reader, reads marts
and seeds only, and is cached per published warehouse version (:class:`data.Ref`).
Nothing is computed here that the command does not compute: the comparisons come from
:mod:`upgrade_warehouse.stats` through the experiments JSON.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from .. import warehouse
from ..experiments import TABLES, experiments_json
from ..experiments import to_csv as experiments_csv
from ..exports import append_header, safe_pandas, safe_text
from .fmt import format_p_value, format_probability
from .marts import Ref, _cache, has_table

STEP_PREFIX = "step_reach."
REVENUE = "mrr_delta_per_account"
GUARDRAIL = "account_payment_failure_rate"


def available(ref: Ref) -> bool:
    """Whether the warehouse has the experiment marts (built by a version with them)."""
    return all(has_table(ref, t) for t in TABLES)


@_cache
def results(ref: Ref, by: str | None = None) -> dict:
    """The experiments JSON object of metrics.md (``by``: an account attribute)."""
    with warehouse.connect(ref.path) as con:
        return experiments_json(con, None, by)


@dataclass(frozen=True)
class MetricInfo:
    metric_id: str
    label: str
    unit: str  # rate or money
    direction: str  # higher or lower: which way is good news
    kind: str  # conversion, guardrail or revenue


@_cache
def metric_infos(ref: Ref) -> dict[str, MetricInfo]:
    """metric id -> label, unit, direction and kind: the catalog's `experiments` section,
    plus one `step_reach.<step>` per configured funnel step (a rate whose label names the
    step)."""
    with warehouse.connect(ref.path) as con:
        catalog = warehouse.read_catalog(con, section=warehouse.EXPERIMENTS_SECTION)
        steps = warehouse.read_build(con).parameters.get("funnel_steps", [])
    out: dict[str, MetricInfo] = {}
    for m in catalog:
        kind = "revenue" if m.metric_id == REVENUE else "conversion"
        if m.direction == "lower":
            kind = "guardrail"
        out[m.metric_id] = MetricInfo(m.metric_id, m.label, m.unit, m.direction, kind)
        if m.metric_id == "attempt_rate":
            for step in steps:
                metric_id = STEP_PREFIX + step
                label = f"Reached {step.replace('_', ' ')}"
                out[metric_id] = MetricInfo(metric_id, label, "rate", "higher", "conversion")
    return out


def info_of(infos: dict[str, MetricInfo], metric_id: str) -> MetricInfo:
    if metric_id in infos:
        return infos[metric_id]
    return MetricInfo(metric_id, metric_id, "rate", "higher", "conversion")


# ----------------------------------------------------------------------------- words


def _points(x: float) -> str:
    return f"{abs(x) * 100:.1f}"


def _tidy(x: float, decimals: int) -> float:
    """x rounded as shown, without a negative zero (-0.0 shows as 0.0)."""
    return round(x, decimals) + 0.0


def _signed_points(x: float) -> str:
    return f"{_tidy(x * 100, 1):.1f}"


def _money(x: float, currency: str) -> str:
    return f"{x:,.2f} {currency}"


def amount(value: float | None, unit: str, currency: str) -> str:
    """A value as the page shows it: a rate in percent, money in the reporting currency."""
    if value is None:
        return "–"
    if unit == "money":
        return _money(_tidy(value, 2), currency)
    return f"{_tidy(value, 3):.1%}"


def difference(value: float | None, unit: str, currency: str) -> str:
    """A difference: percentage points for a rate, the currency for money."""
    if value is None:
        return "–"
    if unit == "money":
        return f"{_tidy(value, 2):+,.2f} {currency}"
    return f"{_tidy(value * 100, 1):+.1f} pts"


def interval(m: dict, unit: str, currency: str) -> str:
    if m.get("ci_low") is None:
        return "–"
    if unit == "money":
        return f"{_tidy(m['ci_low'], 2):,.2f} to {_tidy(m['ci_high'], 2):,.2f}"
    return f"{_signed_points(m['ci_low'])} to {_signed_points(m['ci_high'])}"


def verdict(
    variation_id: str,
    m: dict,
    control_m: dict | None,
    info: MetricInfo,
    min_accounts: int,
    currency: str,
) -> str:
    """One sentence on a variation's metric against the control (metrics.md: enough_data,
    significant, the interval)."""
    what = info.label[0].lower() + info.label[1:]
    if control_m is None:
        return f"{variation_id} is the control."
    if m.get("enough_data") is None:
        return f"{variation_id}: no comparison yet for {what} (no matured account on a side)."
    if not m["enough_data"]:
        fewest = min(m["n"], control_m["n"])
        return f"{variation_id}: too few accounts yet: {fewest:,} of {min_accounts:,}."
    if m["diff"] is None:
        return f"{variation_id}: no value for {what}."
    size = (
        _money(abs(m["diff"]), currency) if info.unit == "money" else f"{_points(m['diff'])} points"
    )
    ci = interval(m, info.unit, currency)
    if not m["significant"]:
        return (
            f"{variation_id}: no clear difference in {what} ({difference(m['diff'], info.unit, currency)}, "
            f"95% interval {ci})."
        )
    direction = "raises" if m["diff"] > 0 else "lowers"
    return f"{variation_id} {direction} {what} by {size}, 95% interval {ci}."


def srm_sentence(experiment: dict) -> str:
    counts = ", ".join(
        f"{v['variation_id']} {v['exposed_accounts']:,}" for v in experiment["variations"]
    )
    p = experiment["srm_p_value"]
    p_text = "–" if p is None else f"{p:.2g}"
    if experiment["srm_warning"]:
        return (
            f"Assignment is broken: do not trust these results (exposed accounts {counts}, "
            f"expected an equal split; sample ratio p = {p_text})."
        )
    return f"Assignment looks sound: exposed accounts {counts} (sample ratio p = {p_text})."


# ----------------------------------------------------------------------------- frames


def picker_label(experiment: dict) -> str:
    """``pricing_copy (2 variations, 1,434 accounts)``: the experiment picker's label."""
    exposed = sum(v["exposed_accounts"] for v in experiment["variations"])
    count = len(experiment["variations"])
    return f"{experiment['experiment_id']} ({count} variations, {exposed:,} accounts)"


def parse_ts(text: str | None) -> datetime | None:
    """An ISO timestamp of the JSON (``...Z``) as a datetime (for fmt.format_ts)."""
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def variation_label(variation_id: str, is_control: bool) -> str:
    """``treatment``, ``0 (control)``; the variation named control stays ``control``."""
    return f"{variation_id} (control)" if is_control and variation_id != "control" else variation_id


def control_of(experiment: dict) -> dict | None:
    for v in experiment["variations"]:
        if v["variation_id"] == experiment["control"]:
            return v
    return None


def variation_rows(
    experiment: dict, infos: dict[str, MetricInfo], min_accounts: int, currency: str
) -> list[dict]:
    """One row per variation and metric, values as numbers and as text, with the verdict."""
    control = control_of(experiment)
    rows = []
    for v in experiment["variations"]:
        is_control = control is not None and v["variation_id"] == control["variation_id"]
        for metric_id, m in v["metrics"].items():
            info = info_of(infos, metric_id)
            control_m = None if is_control or control is None else control["metrics"][metric_id]
            rows.append(
                {
                    "metric_id": metric_id,
                    "label": info.label,
                    "kind": info.kind,
                    "unit": info.unit,
                    "variation_id": v["variation_id"],
                    "is_control": is_control,
                    "exposed_accounts": v["exposed_accounts"],
                    "matured_accounts": v["matured_accounts"],
                    **m,
                    "verdict": ""
                    if is_control
                    else verdict(v["variation_id"], m, control_m, info, min_accounts, currency),
                }
            )
    return rows


TABLE_COLUMNS = {
    "label": "Metric",
    "variation_id": "Variation",
    "value_text": "Value",
    "n": "Accounts (n)",
    "diff_text": "Difference",
    "interval_text": "95% interval",
    "p_text": "p-value",
    "chance_text": "Beats control",
    "verdict": "Verdict",
}


def table_frame(rows: list[dict], currency: str) -> pd.DataFrame:
    """The page's table: text cells (no None or nan), one row per metric and variation."""
    out = []
    for r in rows:
        out.append(
            {
                "label": r["label"],
                "variation_id": variation_label(r["variation_id"], r["is_control"]),
                "value_text": amount(r["value"], r["unit"], currency),
                "n": f"{r['n']:,}",
                "diff_text": "" if r["is_control"] else difference(r["diff"], r["unit"], currency),
                "interval_text": "" if r["is_control"] else interval(r, r["unit"], currency),
                "p_text": "" if r["is_control"] else format_p_value(r["p_value"]),
                "chance_text": ""
                if r["is_control"] or r["chance_to_beat_control"] is None
                else format_probability(r["chance_to_beat_control"]),
                "verdict": r["verdict"],
            }
        )
    return pd.DataFrame(out, columns=list(TABLE_COLUMNS)).rename(columns=TABLE_COLUMNS)


def interval_frame(rows: list[dict], unit: str) -> pd.DataFrame:
    """Differences against the control with their 95% intervals (rates in percentage
    points, money in the currency): the interval chart's data, non-control variations
    whose interval exists."""
    scale = 100.0 if unit == "rate" else 1.0
    out = []
    for r in rows:
        if r["is_control"] or r["unit"] != unit or r["ci_low"] is None:
            continue
        out.append(
            {
                "metric": r["label"],
                "variation": r["variation_id"],
                "diff": r["diff"] * scale,
                "ci_low": r["ci_low"] * scale,
                "ci_high": r["ci_high"] * scale,
                "significant": "significant" if r["significant"] else "not significant",
            }
        )
    return pd.DataFrame(
        out, columns=["metric", "variation", "diff", "ci_low", "ci_high", "significant"]
    )


def segment_rows(
    by_segment: dict,
    experiment_id: str,
    metric_id: str,
    infos: dict[str, MetricInfo],
    min_accounts: int,
    currency: str,
) -> pd.DataFrame:
    """One row per segment and variation of one experiment, for one metric."""
    info = info_of(infos, metric_id)
    out = []
    for e in by_segment["experiments"]:
        if e["experiment_id"] != experiment_id:
            continue
        segment = "(none)" if e["segment"] is None else str(e["segment"])
        control = control_of(e)
        for v in e["variations"]:
            m = v["metrics"][metric_id]
            is_control = control is not None and v["variation_id"] == control["variation_id"]
            control_m = None if is_control or control is None else control["metrics"][metric_id]
            out.append(
                {
                    "Segment": segment,
                    "Variation": variation_label(v["variation_id"], is_control),
                    "Exposed": f"{v['exposed_accounts']:,}",
                    "Value": amount(m["value"], info.unit, currency),
                    "Accounts (n)": f"{m['n']:,}",
                    "Difference": "" if is_control else difference(m["diff"], info.unit, currency),
                    "95% interval": "" if is_control else interval(m, info.unit, currency),
                    "Verdict": ""
                    if is_control
                    else verdict(v["variation_id"], m, control_m, info, min_accounts, currency),
                    "Sample ratio": "broken" if e["srm_warning"] else "ok",
                }
            )
    return pd.DataFrame(out)


# ----------------------------------------------------------------------------- exports


def experiment_csv(result: dict, experiment_id: str) -> str:
    """The experiment's rows of `upgrade-warehouse experiments --format csv`."""
    one = {
        **result,
        "experiments": [e for e in result["experiments"] if e["experiment_id"] == experiment_id],
    }
    return experiments_csv(one)


def experiment_xlsx(
    result: dict,
    experiment: dict,
    rows: list[dict],
    personas: pd.DataFrame | None,
    as_of: str,
) -> bytes:
    """The experiment as an Excel workbook: About, Variations (numbers with formats) and
    the persona breakdown."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    currency = result["reporting_currency"]
    book = Workbook()
    about = book.active
    about.title = "About"
    for line in (
        ("Upgrade Warehouse: experiment", experiment["experiment_id"]),
        ("Control", experiment["control"]),
        ("Exposures", f"{experiment['first_exposure']} to {experiment['last_exposure']}"),
        ("Left out (two or more variations)", experiment["multiple_exposures"]),
        ("Sample ratio p-value", experiment["srm_p_value"]),
        ("Assignment", srm_sentence(experiment)),
        ("Data as of", as_of),
        ("Window (days)", result["window_days"]),
        ("Accounts needed per side", result["min_accounts"]),
        ("Reporting currency", currency),
        ("Rates", "fractions shown as percent; differences in percentage points"),
    ):
        about.append([safe_text(v) for v in line])
    about["A1"].font = Font(bold=True, size=13)
    about.column_dimensions["A"].width = 34
    about.column_dimensions["B"].width = 90

    sheet = book.create_sheet("Variations")
    headers = [
        "Metric",
        "Variation",
        "Value",
        "n",
        "Difference",
        "CI low",
        "CI high",
        "z",
        "p-value",
        "Chance to beat control",
        "Enough data",
        "Significant",
        "Verdict",
        "Metric id",
    ]
    append_header(sheet, headers)
    for r in rows:
        rate = r["unit"] == "rate"
        sheet.append(
            [
                safe_text(r["label"]),
                safe_text(r["variation_id"]),
                r["value"],
                r["n"],
                r["diff"],
                r["ci_low"],
                r["ci_high"],
                r["z"],
                r["p_value"],
                r["chance_to_beat_control"],
                r["enough_data"],
                r["significant"],
                safe_text(r["verdict"]),
                r["metric_id"],
            ]
        )
        line = sheet.max_row
        value_format = "0.0%" if rate else f'#,##0.00 "{currency}"'
        for column in (3, 5, 6, 7):
            sheet.cell(line, column).number_format = value_format
        sheet.cell(line, 10).number_format = "0%"
    for column, width in zip(
        "ABCDEFGHIJKLMN", (30, 14, 12, 8, 12, 12, 12, 8, 10, 12, 8, 8, 70, 30)
    ):
        sheet.column_dimensions[column].width = width
    if personas is not None and not personas.empty:
        by = book.create_sheet("By persona")
        frame = safe_pandas(personas)
        append_header(by, list(frame.columns))
        for record in frame.itertuples(index=False):
            by.append(list(record))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
