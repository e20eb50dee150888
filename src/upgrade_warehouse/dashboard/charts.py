"""Altair charts used by the pages (data in, chart out; no queries here)."""

from __future__ import annotations

import functools
import os

import altair as alt
import pandas as pd

from ..metrics import COUNT_UNITS
from . import palette

# Streamlit serialises a chart with ``to_dict()``, which validates the whole spec against
# the Vega-Lite JSON schema: about 0.1-0.2 s of CPU per chart, most of a page's time on
# the Overview (six trends). The charts are built here only and are validated by the
# tests (tests/conftest.py sets this variable), so a page skips the check.
VALIDATE_ENV = "UPGRADE_WAREHOUSE_VALIDATE_CHARTS"

if not os.environ.get(VALIDATE_ENV):
    # Altair's debug mode (on by default) also validates every schema object when it is
    # created and each one it creates while serialising (``alt.Data`` ...): 2-6 schema
    # checks per chart, 20-60 ms of a page's run.
    from altair.utils import schemapi

    schemapi.disable_debug_mode()


def unvalidated(chart):
    """The chart, serialised without the schema check unless ``$VALIDATE_ENV`` is set."""
    if os.environ.get(VALIDATE_ENV):
        return chart
    to_dict = chart.to_dict

    def fast_to_dict(*args, **kwargs):
        kwargs.setdefault("validate", False)
        return to_dict(*args, **kwargs)

    object.__setattr__(chart, "to_dict", fast_to_dict)
    return chart


def _fast(build):
    """A chart builder whose charts skip the schema check at render time."""

    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        return unvalidated(build(*args, **kwargs))

    return wrapper


def _tips(*fields) -> list:
    """Tooltip channels; a bare field name becomes ``alt.Tooltip``. Altair 6 turns a
    string given to ``encode`` into a channel through ``from_dict``, which hashes every
    class of the Vega-Lite schema on each call (about 30 ms): pages build channel
    objects only (tests/test_dashboard_apptest.py checks it)."""
    return [alt.Tooltip(f) if isinstance(f, str) else f for f in fields]


def value_axis(unit: str) -> alt.Axis:
    """The axis of a value: its number format, whole ticks for counts."""
    if unit in COUNT_UNITS:
        return alt.Axis(format=axis_format(unit), tickMinStep=1)
    return alt.Axis(format=axis_format(unit))


def axis_format(unit: str) -> str:
    if unit in ("rate", "rate_by_key"):
        return ".1~%"  # 5%, 0.5% (small rates keep their decimal: no "1% 1% 1%" axis)
    if unit in COUNT_UNITS:
        return ",d"
    if unit == "money":
        return ",.0f"
    return ",.1f"


def tooltip_format(unit: str) -> str:
    if unit in ("rate", "rate_by_key"):
        return ".1%"
    if unit in COUNT_UNITS:
        return ",d"
    if unit == "money":
        return ",.2f"
    return ",.1f"


SERIES_COLORS = palette.SERIES


def _series_color(series: str, order: list[str] | None) -> alt.Color:
    """One color per series value; with ``order``, the first value gets the first color
    on every chart (segment A is always the same color)."""
    scale = alt.Scale(domain=order, range=SERIES_COLORS[: len(order)]) if order else (alt.Undefined)
    return alt.Color(
        f"{series}:N",
        title=None,
        scale=scale,
        sort=order,
        legend=alt.Legend(orient="bottom", labelLimit=240),
    )


def _months(frame: pd.DataFrame, column: str = "month") -> pd.DataFrame:
    frame = frame.copy()
    frame[column] = pd.to_datetime(frame[column] + "-01")
    return frame


@_fast
def trend(
    frame: pd.DataFrame,
    unit: str,
    title: str,
    *,
    target: float | None = None,
    height: int = 220,
    series: str | None = None,
    series_order: list[str] | None = None,
) -> alt.Chart:
    """One metric by month (``month`` YYYY-MM, ``value``), with an optional target line;
    one line per value of ``series`` when given (e.g. the segments compared)."""
    frame = _months(frame)
    base = alt.Chart(frame).encode(
        x=alt.X("yearmonth(month):T", title=None, axis=alt.Axis(format="%b %y")),
    )
    tooltip = [
        alt.Tooltip("yearmonth(month):T", title="month", format="%b %Y"),
        alt.Tooltip("value:Q", title=title, format=tooltip_format(unit)),
    ]
    encoding = {}
    if series:
        encoding["color"] = _series_color(series, series_order)
        tooltip.insert(0, alt.Tooltip(f"{series}:N"))
    line = base.mark_line(point=True).encode(
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format=axis_format(unit))),
        tooltip=tooltip,
        **encoding,
    )
    layers = [line]
    if target is not None:
        rule = (
            alt.Chart(pd.DataFrame({"target": [target]}))
            .mark_rule(strokeDash=[6, 4], color=palette.TARGET)
            .encode(
                y=alt.Y("target:Q"),
                tooltip=[alt.Tooltip("target:Q", title="target", format=tooltip_format(unit))],
            )
        )
        layers.append(rule)
    return alt.layer(*layers).properties(title=title, height=height)


# How a sparkline moved over the months shown, against the metric's good direction (the
# metric catalog's ``direction``): the colour rule of the KPI sparklines, said in their legend.
MOVED = {
    "moved the good way": palette.GAIN,
    "moved the wrong way": palette.LOSS,
    "no change, or no good direction": palette.NEUTRAL,
}


@_fast
def sparklines(
    frame: pd.DataFrame,
    order: list[str],
    title: str = "",
    *,
    columns: int = 4,
    size: tuple[int, int] = (170, 34),
) -> alt.Chart:
    """The KPI cards' sparklines as one chart: a small line per ``metric`` (``month``
    YYYY-MM, ``value``, ``text`` the value as shown), each on its own scale, in
    ``order``, ``columns`` a row of ``size`` (width, height) pixels; coloured by
    ``moved`` (a key of :data:`MOVED`)."""
    width, height = size
    frame = _months(frame)
    line = (
        alt.Chart()
        .mark_line(point=alt.OverlayMarkDef(size=12), strokeWidth=1.5)
        .encode(
            x=alt.X("yearmonth(month):T", title=None, axis=None),
            y=alt.Y("value:Q", title=None, axis=None, scale=alt.Scale(zero=False)),
            color=alt.Color(
                "moved:N",
                title=None,
                scale=alt.Scale(domain=list(MOVED), range=list(MOVED.values())),
                legend=alt.Legend(orient="bottom", labelLimit=260),
            ),
            tooltip=[
                alt.Tooltip("metric:N"),
                alt.Tooltip("yearmonth(month):T", title="month", format="%b %Y"),
                alt.Tooltip("text:N", title="value"),
            ],
        )
        .properties(width=width, height=height)
    )
    return (
        alt.layer(line, data=frame)
        .facet(
            facet=alt.Facet(
                "metric:N",
                sort=order,
                title=None,
                header=alt.Header(labelAnchor="start", labelLimit=width, labelFontSize=11),
            ),
            columns=columns,
            spacing={"column": 14, "row": 6},
        )
        .resolve_scale(y="independent")
        .properties(title=alt.TitleParams(title, anchor="start", fontSize=12, fontWeight="normal"))
        .configure_view(stroke=None)
    )


def shown_unit(unit: str, currency: str) -> tuple[float, str]:
    """(factor, suffix) of a metric on a chart that shows several units: rates in %."""
    if unit == "rate":
        return 100.0, "%"
    if unit == "money":
        return 1.0, currency
    if unit in ("seconds", "hours", "days"):
        return 1.0, unit
    return 1.0, ""


@_fast
def trend_grid(
    frame: pd.DataFrame,
    order: list[str],
    *,
    columns: int = 2,
    width: int = 310,
    height: int = 170,
    series: str | None = None,
    series_order: list[str] | None = None,
) -> alt.Chart:
    """Several metrics by month as one chart: a panel per ``metric`` (in ``order``), each
    on its own scale, with ``value`` (in the unit the panel's title says), ``text`` (the
    value as shown) and the ``target`` (dashed; null: none); one line per ``series``
    value when given (the segments compared)."""
    frame = _months(frame)
    tooltip = [
        alt.Tooltip("metric:N"),
        alt.Tooltip("yearmonth(month):T", title="month", format="%b %Y"),
        alt.Tooltip("text:N", title="value"),
    ]
    encoding = {}
    if series:
        encoding["color"] = _series_color(series, series_order)
        tooltip.insert(0, alt.Tooltip(f"{series}:N"))
    x = alt.X("yearmonth(month):T", title=None, axis=alt.Axis(format="%b %y", labelOverlap=True))
    line = (
        alt.Chart()
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format=",~f")),
            tooltip=tooltip,
            **encoding,
        )
    )
    rule = (
        alt.Chart()
        .mark_rule(strokeDash=[6, 4], color=palette.TARGET)
        .encode(
            y=alt.Y("max(target):Q"),
            tooltip=[alt.Tooltip("max(target):Q", title="target", format=",~f")],
        )
    )
    return (
        alt.layer(line, rule, data=frame)
        .properties(width=width, height=height)
        .facet(
            facet=alt.Facet(
                "metric:N",
                sort=order,
                title=None,
                header=alt.Header(
                    labelAnchor="start", labelFontSize=13, labelFontWeight="bold", labelLimit=width
                ),
            ),
            columns=columns,
        )
        .resolve_scale(y="independent")
        .resolve_axis(x="independent")  # the months under every panel
    )


@_fast
def stacked_bars(
    frame: pd.DataFrame,
    x: str,
    y: str,
    color: str,
    *,
    unit: str = "count",
    title: str = "",
    x_title: str | None = None,
    y_title: str | None = None,
    sort: list | None = None,
    horizontal: bool = False,
    height: int | str = 260,
    colors: dict[str, str] | None = None,
) -> alt.Chart:
    """Bars of ``y`` by ``x`` stacked by ``color`` (``month`` columns are YYYY-MM text).
    ``height="fit"``: as tall as the categories of horizontal bars need."""
    if height == "fit":
        height = 60 + 28 * frame[x].nunique()
    if x == "month":
        frame = _months(frame)
        x_enc = alt.X("yearmonth(month):T", title=x_title, axis=alt.Axis(format="%b %y"))
    else:
        x_enc = alt.X(f"{x}:N", title=x_title, sort=sort)
    y_enc = alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=axis_format(unit)))
    enc = {"x": x_enc, "y": y_enc}
    if horizontal:
        enc = {
            "y": alt.Y(f"{x}:N", title=x_title, sort=sort, axis=alt.Axis(labelLimit=220)),
            "x": alt.X(f"{y}:Q", title=y_title, axis=alt.Axis(format=axis_format(unit))),
        }
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            **enc,
            color=alt.Color(
                f"{color}:N",
                title=None,
                scale=alt.Scale(domain=list(colors), range=list(colors.values()))
                if colors
                else alt.Scale(range=palette.SERIES),
            ),
            tooltip=_tips(x, color, alt.Tooltip(f"{y}:Q", format=tooltip_format(unit))),
        )
        .properties(title=title, height=height)
    )


@_fast
def bars(
    frame: pd.DataFrame,
    x: str,
    y: str,
    *,
    unit: str = "count",
    title: str = "",
    sort: list | str | None = "-x",
    height: int = 240,
    color: str | None = None,
    series: str | None = None,
    series_order: list[str] | None = None,
) -> alt.Chart:
    """Horizontal bars: category ``x`` on the y axis, value ``y``; with ``series``, one
    bar per series value in each category (side by side)."""
    encoding = {}
    tooltip = _tips(x, alt.Tooltip(f"{y}:Q", format=tooltip_format(unit)))
    if series:
        encoding = {
            "color": _series_color(series, series_order),
            "yOffset": alt.YOffset(f"{series}:N", sort=series_order),
        }
        tooltip.insert(0, alt.Tooltip(series))
    mark = (
        alt.Chart(frame).mark_bar()
        if series
        else alt.Chart(frame).mark_bar(color=color or "#4c78a8")
    )
    chart = mark.encode(
        y=alt.Y(f"{x}:N", title=None, sort=sort, axis=alt.Axis(labelLimit=220)),
        x=alt.X(f"{y}:Q", title=None, axis=value_axis(unit)),
        tooltip=tooltip,
        **encoding,
    )
    text = chart.mark_text(align="left", dx=3).encode(
        text=alt.Text(f"{y}:Q", format=tooltip_format(unit))
    )
    return (chart + text).properties(title=title, height=height)


OUTCOME_COLORS = palette.OUTCOME_COLORS


@_fast
def waterfall(
    frame: pd.DataFrame,
    currency: str,
    title: str = "",
    *,
    total: str = "Net new",
    start: tuple[str, float | None] | None = None,
) -> alt.Chart:
    """MRR bridge: ``step`` and ``amount`` rows, then a ``Net new MRR`` total bar. Gains
    green, losses red, the total blue; each bar's signed amount above it, the step names
    at an angle so that they never overlap. With ``start`` (label, amount: MRR at the
    month's start) the bridge starts from that bar, and the total bar (``total``, e.g.
    MRR at month end) is start + the steps."""
    frame = frame.copy()
    frame["amount"] = frame["amount"].fillna(0.0)
    base = 0.0 if start is None else float(start[1] or 0.0)
    frame["end"] = base + frame["amount"].cumsum()
    frame["start"] = frame["end"] - frame["amount"]
    frame["kind"] = ["gain" if a >= 0 else "loss" for a in frame["amount"]]
    net = base + float(frame["amount"].sum())
    first = (
        []
        if start is None
        else [
            pd.DataFrame(
                [{"step": start[0], "amount": base, "start": 0.0, "end": base, "kind": "net"}]
            )
        ]
    )
    frame = pd.concat(
        [
            *first,
            frame,
            pd.DataFrame(
                [
                    {
                        "step": total,
                        "amount": net,
                        "start": 0.0,
                        "end": net,
                        "kind": "net",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    frame["top"] = frame[["start", "end"]].max(axis=1)
    frame["label"] = [
        f"{a:+,.0f}" if k != "net" else f"{a:,.0f}" for a, k in zip(frame["amount"], frame["kind"])
    ]
    frame["name"] = [s.replace(" MRR", "") for s in frame["step"]]
    return waterfall_bars(
        frame,
        "name",
        {"gain": palette.GAIN, "loss": palette.LOSS, "net": palette.NET},
        currency,
        title,
    )


def waterfall_bars(
    frame: pd.DataFrame, field: str, kinds: dict[str, str], currency: str, title: str = ""
) -> alt.Chart:
    """Floating bars from ``start`` to ``end`` named by ``field`` (in the frame's order),
    coloured by ``kind`` (``kinds``: kind -> colour, in legend order), each bar's
    ``label`` above its ``top`` (the bridge waterfalls of Overview, Revenue and What
    moved)."""
    order = list(frame[field])
    color = alt.Color(
        "kind:N",
        title=None,
        legend=alt.Legend(orient="bottom"),
        scale=alt.Scale(domain=list(kinds), range=list(kinds.values())),
    )
    x = alt.X(
        f"{field}:N",
        sort=order,
        title=None,
        axis=alt.Axis(labelAngle=-35, labelOverlap=False, labelLimit=120, labelAlign="right"),
    )
    bars_ = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("start:Q", title=currency, axis=alt.Axis(format=",.0f")),
            y2=alt.Y2("end:Q"),
            color=color,
            tooltip=_tips("step", alt.Tooltip("amount:Q", format=",.2f", title=currency)),
        )
    )
    labels = (
        alt.Chart(frame)
        .mark_text(dy=-7, fontSize=11)
        .encode(x=alt.X(f"{field}:N", sort=order), y=alt.Y("top:Q"), text=alt.Text("label:N"))
    )
    return (bars_ + labels).properties(title=title, height=300)


@_fast
def heatmap(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    value: str,
    title: str = "",
    unit: str = "rate",
    height: int | None = None,
    shown: str | None = None,
    note: str = "too few",
    y_sort: list | None = None,
) -> alt.Chart:
    """A colored grid with the formatted value in each cell (``month`` x is YYYY-MM).

    ``shown``: a boolean column; cells where it is false are grey and say ``note``
    instead of a number (e.g. a rate over too few cases)."""
    rows = max(1, frame[y].nunique())
    frame = frame.copy()
    if shown is None:
        frame["_shown"] = True
        shown = "_shown"
    frame["_note"] = note
    base = alt.Chart(frame).encode(
        x=alt.X(f"{x}:O", title=None, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y(f"{y}:N", title=None, sort=y_sort, axis=alt.Axis(labelLimit=220)),
    )
    tooltip = _tips(
        x,
        y,
        alt.Tooltip(f"{value}:Q", format=tooltip_format(unit)),
        *[c for c in frame.columns if c not in (x, y, value, shown, "_note")],
    )
    any_shown = bool(frame[shown].any())
    cells = (
        base.mark_rect()
        .encode(
            color=alt.Color(
                f"{value}:Q",
                title=None,
                scale=alt.Scale(scheme="blues"),
                legend=alt.Legend(format=axis_format(unit)) if any_shown else None,
            ),
            tooltip=tooltip,
        )
        .transform_filter(f"datum.{shown}")
    )
    grey = (
        base.mark_rect(color="#e0e0e0").encode(tooltip=tooltip).transform_filter(f"!datum.{shown}")
    )
    text = (
        base.mark_text(fontSize=11)
        .encode(
            text=alt.Text(f"{value}:Q", format=".0%" if unit == "rate" else ",d"),
            color=alt.ColorValue(
                value="black", condition={"test": f"datum.{value} > 0.5", "value": "white"}
            ),
        )
        .transform_filter(f"datum.{shown}")
    )
    layers = [cells, grey, text]
    if note:
        layers.append(
            base.mark_text(fontSize=10, color="#757575")
            .encode(text=alt.Text("_note:N"))
            .transform_filter(f"!datum.{shown}")
        )
    return alt.layer(*layers).properties(title=title, height=height or 110 + 28 * rows)


@_fast
def histogram(
    frame: pd.DataFrame,
    field: str,
    *,
    title: str = "",
    x_title: str = "",
    maxbins: int = 30,
    color: str | None = None,
    color_order: list[str] | None = None,
) -> alt.Chart:
    enc = {}
    if color:
        enc["color"] = (
            _series_color(color, color_order)
            if color_order
            else alt.Color(f"{color}:N", title=None)
        )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{field}:Q", bin=alt.Bin(maxbins=maxbins), title=x_title),
            y=alt.Y("count():Q", title="attempts"),
            tooltip=[
                alt.Tooltip(f"{field}:Q", bin=alt.Bin(maxbins=maxbins), format=",.1f"),
                alt.Tooltip("count():Q"),
            ],
            **enc,
        )
        .properties(title=title, height=240)
    )


@_fast
def binned_histogram(
    frame: pd.DataFrame,
    *,
    x_title: str = "",
    color: str | None = None,
    color_order: list[str] | None = None,
    height: int = 240,
) -> alt.Chart:
    """Bars of counted bins (``bin_start``, ``bin_end``, ``attempts``), stacked by
    ``color``: the histogram of values binned in the warehouse."""
    enc = {}
    if color:
        enc["color"] = (
            _series_color(color, color_order)
            if color_order
            else alt.Color(
                f"{color}:N",
                title=None,
                scale=alt.Scale(range=palette.SERIES),
                legend=alt.Legend(orient="bottom"),
            )
        )
    return (
        alt.Chart(frame)
        .mark_bar(binSpacing=1)
        .encode(
            x=alt.X("bin_start:Q", title=x_title, bin="binned"),
            x2=alt.X2("bin_end:Q"),
            y=alt.Y("sum(attempts):Q", title="attempts"),
            tooltip=[
                alt.Tooltip("bin_start:Q", title="from", format=",.1f"),
                alt.Tooltip("bin_end:Q", title="to", format=",.1f"),
                *(_tips(color) if color else []),
                alt.Tooltip("sum(attempts):Q", title="attempts", format=",d"),
            ],
            **enc,
        )
        .properties(height=height)
    )


@_fast
def series_lines(
    frame: pd.DataFrame,
    x: str,
    y: str,
    series: str,
    *,
    unit: str = "count",
    title: str = "",
    height: int = 280,
    series_order: list[str] | None = None,
) -> alt.Chart:
    """Lines of ``y`` by ``x`` (ordinal), one per ``series``."""
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:O", title=None, sort=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{y}:Q", title=None, axis=alt.Axis(format=axis_format(unit))),
            color=alt.Color(
                f"{series}:N",
                title=None,
                sort=series_order,
                scale=alt.Scale(domain=series_order, range=palette.SERIES[: len(series_order)])
                if series_order
                else alt.Undefined,
                legend=alt.Legend(orient="bottom", labelLimit=240),
            ),
            strokeDash=alt.StrokeDash(
                f"{series}:N", sort=series_order, legend=alt.Legend(orient="bottom", title=None)
            ),
            tooltip=_tips(x, series, alt.Tooltip(f"{y}:Q", format=tooltip_format(unit))),
        )
        .properties(title=title, height=height)
    )


def age_curves(
    frame: pd.DataFrame,
    x: str,
    y: str,
    series: str,
    *,
    x_title: str,
    title: str = "",
    height: int = 300,
) -> alt.Chart:
    """Cumulative curves of a rate ``y`` by a quantitative age ``x`` (days), one line per
    ``series`` (a cohort; the newest darkest), for the cohort view by age."""
    order = sorted(set(frame[series]))
    return (
        alt.Chart(frame)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X(f"{x}:Q", title=x_title),
            y=alt.Y(f"{y}:Q", title=None, axis=alt.Axis(format=axis_format("rate"))),
            color=alt.Color(
                f"{series}:O",
                title="Activation month",
                sort=order,
                scale=alt.Scale(scheme="blues"),
                legend=alt.Legend(orient="right", labelLimit=120),
            ),
            tooltip=_tips(series, x, alt.Tooltip(f"{y}:Q", format=tooltip_format("rate"))),
        )
        .properties(title=title, height=height)
    )


@_fast
def calibration(frame: pd.DataFrame, *, height: int = 260) -> alt.Chart:
    """Mean predicted probability against the observed rate per bin (``bin``,
    ``accounts``, ``mean_probability``, ``observed_rate``), with the diagonal of a
    perfectly calibrated model."""
    top = float(max(frame["mean_probability"].max(), frame["observed_rate"].max(), 0.01))
    diagonal = (
        alt.Chart(pd.DataFrame({"p": [0.0, top]}))
        .mark_line(strokeDash=[6, 4], color="#999999")
        .encode(x=alt.X("p:Q"), y=alt.Y("p:Q"))
    )
    points = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "mean_probability:Q",
                title="mean predicted probability",
                axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, top]),
            ),
            y=alt.Y(
                "observed_rate:Q",
                title="observed upgrade rate",
                axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, top]),
            ),
            tooltip=[
                alt.Tooltip("bin:O", title="bin"),
                alt.Tooltip("accounts:Q", format=",d"),
                alt.Tooltip("mean_probability:Q", title="predicted", format=".1%"),
                alt.Tooltip("observed_rate:Q", title="observed", format=".1%"),
            ],
        )
    )
    return alt.layer(diagonal, points).properties(height=height)


@_fast
def intervals(
    frame: pd.DataFrame,
    *,
    unit_title: str,
    metric_order: list[str] | None = None,
    variation_order: list[str] | None = None,
    height: int | None = None,
) -> alt.LayerChart:
    """Differences against a control with their 95% intervals (the Experiments page):
    one row per metric, a dot (the difference) on a bar (the interval) per variation, a
    rule at 0. ``frame``: metric, variation, diff, ci_low, ci_high, significant."""
    rows = max(1, frame["metric"].nunique())
    variations = max(1, frame["variation"].nunique())
    base = alt.Chart(frame).encode(
        y=alt.Y(
            "metric:N",
            title=None,
            sort=metric_order,
            axis=alt.Axis(labelLimit=260, labelOverlap=False),
        ),
        yOffset=alt.YOffset("variation:N", sort=variation_order),
        color=_series_color("variation", variation_order),
        tooltip=_tips(
            alt.Tooltip("metric:N", title="Metric"),
            alt.Tooltip("variation:N", title="Variation"),
            alt.Tooltip("diff:Q", title="Difference", format=",.2f"),
            alt.Tooltip("ci_low:Q", title="95% interval from", format=",.2f"),
            alt.Tooltip("ci_high:Q", title="95% interval to", format=",.2f"),
            alt.Tooltip("significant:N", title="Verdict"),
        ),
    )
    bars = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("ci_low:Q", title=unit_title), x2=alt.X2("ci_high:Q")
    )
    dots = base.mark_point(filled=True, size=70).encode(x=alt.X("diff:Q"))
    zero = (
        alt.Chart(pd.DataFrame({"zero": [0.0]}))
        .mark_rule(color=palette.TARGET, strokeDash=[4, 3])
        .encode(x=alt.X("zero:Q"))
    )
    return (zero + bars + dots).properties(height=height or 40 + rows * (16 + 8 * variations))
