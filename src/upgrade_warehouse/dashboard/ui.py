"""Widgets and layout pieces shared by the dashboard pages (no SQL here).

The filter bar (:func:`filter_bar`) is the same on every page that has one: a segment
dimension and its value(s), a compare mode (two segments side by side, the difference
of each rate and whether it is beyond noise, :mod:`.stats`) and, where a trend is
shown, a month range. Labels, units and directions come from the metric catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from .. import data_warnings
from ..errors import UserError
from . import data, stats
from .config import DashboardConfig, load_config
from .data import ALL, Segment
from .fmt import (
    format_delta,
    format_headline,
    format_target,
    format_value,
    md_escape,
    month_label,
)

DIRECTION_COLORS = {"higher": "normal", "lower": "inverse", "neutral": "off"}


def ref() -> data.Ref:
    """The warehouse version this page run reads (stops the page when it is missing or
    was built by an older version)."""
    try:
        r = data.current()
    except data.WarehouseMissing as exc:
        st.error(str(exc))
        st.stop()
    missing = data.missing_marts(r)
    if missing:
        st.error(
            f"This warehouse ({md_escape(r.path)}) was built by an older version of "
            f"upgrade-warehouse: it has no {md_escape(', '.join(missing))}. Run "
            "`upgrade-warehouse build` again to see it here."
        )
        st.stop()
    return r


@st.cache_resource(show_spinner=False)
def _config(path_mtime: tuple) -> DashboardConfig:
    return load_config()


def config() -> DashboardConfig:
    from .config import config_path

    path = config_path()
    try:
        stamp = (str(path), path.stat().st_mtime_ns if path.is_file() else 0)
        return _config(stamp)
    except UserError as exc:
        st.error(f"dashboard config: {exc}")
        st.stop()


# Looked up dozens of times a run (each KPI, label, table header): one shared object per
# published warehouse version, not a copy per call as st.cache_data gives. Read it only.
_shared = st.cache_resource(max_entries=8, show_spinner=False)


@_shared
def catalog(r: data.Ref) -> dict[str, dict]:
    """metric_id -> {section, unit, direction, grain, label, definition} (read-only)."""
    frame = data.metric_catalog(r)
    return {row["metric_id"]: row for row in frame.to_dict("records")}


def months(r: data.Ref) -> list[str]:
    return [m["month"] for m in data.metrics(r)["months"]]


@_shared
def currency(r: data.Ref) -> str:
    return data.build_info(r)["reporting_currency"]


def month_select(
    r: data.Ref,
    key: str,
    *,
    label: str = "Month",
    include_all: bool = False,
    default: str | None = "latest",
    container=st,
    width: int | str = 260,
) -> str | None:
    """A month picker (newest first). Returns ``YYYY-MM`` or None for all months."""
    options: list[str | None] = list(reversed(months(r)))
    if include_all:
        options = [None, *options]
    if not options:
        return None
    index = 0
    if default not in ("latest", None) and default in options:
        index = options.index(default)
    _forget_invalid(key, options)  # a month of an older warehouse version
    return container.selectbox(
        label, options, index=index, key=key, format_func=month_label, width=width
    )


def _forget_invalid(key: str, options: list) -> None:
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]


def no_data_loaded(r: data.Ref, *tables: str) -> bool:
    """Show "no data loaded for X" for optional raw tables that were not loaded.

    Returns True when every table was loaded (the caller can go on).
    """
    loaded = data.loaded_tables(r)
    missing = [t for t in tables if not loaded.get(t, False)]
    for table in missing:
        st.info(
            f"No data loaded for {md_escape(table)}: the last build had no "
            f"{md_escape(table)} file, so this section is empty (its metrics are null, "
            "not zero)."
        )
    return not missing


def not_built(what: str, hint: str) -> None:
    st.info(f"{what} is not in this warehouse yet. {hint}")


def metric_value(month_row: dict | None, metric_id: str):
    return None if month_row is None else month_row.get(metric_id)


def cases(row: dict | None, metric_id: str) -> int | None:
    """The number of cases a rate of ``row`` is over (its denominator), when known."""
    return None if row is None else row.get(f"{metric_id}__denominator")


# ---------------------------------------------------------------------------- numbers


def metric_text(
    value, meta: dict, cur: str, n: int | None = None, min_count: int | None = None
) -> str:
    """A metric value as people read it; a rate over fewer than ``min_count`` cases (when
    both are given) is "too few". NaN (a null from a data frame) is no value."""
    value, n = _missing(value), _missing(n)
    if value is None:
        return format_value(None, meta["unit"], cur)
    if (
        min_count is not None
        and n is not None
        and meta["unit"] in ("rate", "rate_by_key")
        and not stats.enough(n, min_count)
    ):
        return stats.TOO_FEW
    return format_value(value, meta["unit"], cur)


def _missing(value):
    """None for None, NaN and pandas' NA; the value otherwise."""
    try:
        return None if value is None or pd.isna(value) else value
    except (TypeError, ValueError):  # not a scalar
        return value


def change_text(value, previous, unit: str, cur: str) -> str:
    """The change from ``previous`` to ``value`` (empty when either is missing)."""
    if value is None or previous is None:
        return ""
    return format_delta(value - previous, unit, cur) or ""


def kpi(
    container,
    r: data.Ref,
    cfg: DashboardConfig,
    metric_id: str,
    row: dict | None,
    previous: dict | None,
    *,
    history: list | None = None,
    min_count: int | None = None,
    note: str | None = None,
) -> None:
    """One headline KPI: value, month-over-month change, target, definition. With
    ``min_count`` (a segment view) a rate over fewer cases says "too few"."""
    meta = catalog(r).get(metric_id)
    if meta is None:
        container.warning(f"Unknown metric id in dashboards/config.toml: {md_escape(metric_id)}")
        return
    unit, cur = meta["unit"], currency(r)
    value = metric_value(row, metric_id)
    prev = metric_value(previous, metric_id)
    n = cases(row, metric_id)
    too_few = metric_text(value, meta, cur, n, min_count) == stats.TOO_FEW
    prev_too_few = metric_text(prev, meta, cur, cases(previous, metric_id), min_count) == (
        stats.TOO_FEW
    )
    delta = None if value is None or prev is None or too_few or prev_too_few else value - prev
    target = cfg.target(metric_id)
    help_text = md_escape(meta["definition"]) + f" (grain: {md_escape(meta['grain'])})"
    if too_few:
        help_text += f". Only {n:,} cases (fewer than {min_count}): too few for a rate."
    elif n is not None and min_count is not None:
        help_text += f". Over {n:,} cases."
    target_line = "No target set"
    if target is not None:
        met = None if too_few else target.met(value)
        status = {
            True: ":green[:material/check_circle: on target]",
            False: ":red[:material/error: off target]",
            None: stats.TOO_FEW if too_few else "no value",
        }[met]
        target_line = f"Target {format_target(target, unit, cur)}: {status}"
        if target.note:
            help_text += f". Target: {md_escape(target.note)}"
    spark = [v for v in (history or []) if v is not None]
    box = container.container(border=True)
    text = metric_text(value, meta, cur, n, min_count)
    if not too_few and value is not None:
        text = format_headline(value, unit, cur)  # money in whole units: fits at 1280 px
    box.metric(
        md_escape(meta["label"]),
        text,
        delta=format_delta(delta, unit, cur, whole=True),
        delta_color=DIRECTION_COLORS.get(meta["direction"], "off"),
        help=help_text,
        chart_data=spark if len(spark) > 1 else None,
    )
    box.caption(target_line)
    if note:
        box.caption(f":orange[:material/warning:] {md_escape(note)}")


def target_badge(cfg: DashboardConfig, metric_id: str, value, unit: str, cur: str) -> str:
    target = cfg.target(metric_id)
    if target is None:
        return ""
    met = target.met(value)
    mark = {True: "on target", False: "OFF TARGET", None: "no value"}[met]
    return f"{format_target(target, unit, cur)} ({mark})"


def metrics_csv(r: data.Ref, month: str | None) -> str:
    """The ``metrics --format csv`` text (all months, or one)."""
    from ..metrics import Metric, to_csv

    result = data.metrics(r)
    if month is not None:
        result = {**result, "months": [m for m in result["months"] if m["month"] == month]}
    metrics = [
        Metric(m["metric_id"], m["section"], m["unit"], m["label"]) for m in catalog(r).values()
    ]
    return to_csv(result, metrics)


# ------------------------------------------------------------------------- filter bar

ACCOUNTS_HELP = "In brackets: the number of accounts. (none) = accounts without a value."
DIMENSION_LABELS = {"all": "All accounts", "feature_use": "Feature use before activation"}


def dimension_label(dimension: str) -> str:
    return DIMENSION_LABELS.get(dimension, dimension.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Filters:
    """What the filter bar picked: the segments to show (one, several for a breakdown,
    or the two of compare mode) and the month range of the trends."""

    dimension: str
    segments: tuple[Segment, ...]
    compare: bool
    month_from: str | None
    month_to: str | None
    min_count: int

    @property
    def segment(self) -> Segment:
        """The segment of a single view (the first one picked)."""
        return self.segments[0] if self.segments else ALL

    @property
    def segmented(self) -> bool:
        """Whether a segment (not all accounts) is shown: rates then say "too few" under
        the minimum count."""
        return self.compare or any(s.dimension != "all" for s in self.segments)

    def in_range(self, month: str | None) -> bool:
        """Whether a month (YYYY-MM; None or NaN = all months: no) is in the range."""
        return isinstance(month, str) and (
            (self.month_from is None or month >= self.month_from)
            and (self.month_to is None or month <= self.month_to)
        )


def filter_bar(
    r: data.Ref,
    key: str,
    *,
    trend: bool = False,
    multi: bool = False,
    dimensions: list[str] | None = None,
    values_of=None,
    dimension_key: str | None = None,
    default_dimension: str = "all",
) -> Filters:
    """The filter bar: segment dimension and value(s), compare mode, month range.

    ``multi``: pick several values of the dimension (a breakdown, e.g. cohort rows);
    otherwise one. ``trend``: a month range (from - to) for the trends. ``dimensions``:
    the dimensions offered (default: the account attributes of metrics.md "Segments"),
    ``values_of(dimension)`` their (value, accounts) pairs (default: ``dim_segments``).
    The dimension is picked with segmented buttons (key ``dimension_key``, default
    ``<key>_dim``), ``default_dimension`` first.
    """
    values_of = values_of or (lambda d: _values(r, d))
    cfg = config()
    dims = ["all", *(dimensions if dimensions is not None else data.segment_dimensions(r))]
    bar = st.container(border=True)
    dimension_key = dimension_key or f"{key}_dim"
    _forget_invalid(dimension_key, dims)
    dimension = (
        bar.segmented_control(
            "Segment by",
            dims,
            key=dimension_key,
            format_func=dimension_label,
            required=True,
            default=default_dimension if default_dimension in dims else "all",
        )
        or "all"
    )
    cols = bar.columns([4.5, 2, 3], vertical_alignment="bottom")
    values: list[Segment] = []
    counts: dict = {}
    if dimension != "all":
        pairs = values_of(dimension)
        values = [Segment(dimension, v) for v, _ in pairs]
        counts = dict(pairs)

    def label(s: Segment) -> str:
        if s.dimension == "all":
            return s.label
        return f"{s.label} ({counts.get(s.value, 0):,})"

    compare = False
    if dimension != "all" and not values:  # no account has this attribute at all
        dimension = "all"
    if dimension == "all":
        cols[0].caption(
            "Every account. Pick an attribute above to see one segment, or "
            "two side by side (compare)."
        )
        segments: tuple[Segment, ...] = (ALL,)
    else:
        compare = cols[1].toggle(
            "Compare",
            key=f"{key}_compare",
            help="Two segments side by side: each rate, A − B, and whether the difference "
            "is beyond noise (the two-proportion test of docs/metrics.md gives p < 0.05, "
            "both rates over enough cases).",
        )
        if compare:
            options = [*values, ALL]
            a_col, b_col = cols[0].columns(2)
            _forget_invalid(f"{key}_a", options)
            a = a_col.selectbox(
                "Segment A", options, key=f"{key}_a", format_func=label, help=ACCOUNTS_HELP
            )
            rest = [o for o in options if o != a]
            _forget_invalid(f"{key}_b", rest)
            b = b_col.selectbox(
                "Segment B", rest, key=f"{key}_b", format_func=label, help=ACCOUNTS_HELP
            )
            segments = (a, b)
        elif multi:
            # One widget per dimension: the chips of one attribute never carry over to
            # another (a widget keeps its browser-side value across option changes).
            values_key = f"{key}_values_{dimension}"
            _forget_invalid_multi(values_key, values)
            segments = tuple(
                cols[0].multiselect(
                    "Segments",
                    values,
                    default=values,
                    key=values_key,
                    format_func=label,
                    placeholder="Pick one or more values",
                    help=ACCOUNTS_HELP,
                )
            )
        else:
            _forget_invalid(f"{key}_value", values)
            segments = (
                cols[0].selectbox(
                    "Segment", values, key=f"{key}_value", format_func=label, help=ACCOUNTS_HELP
                ),
            )
    month_from = month_to = None
    if trend:
        all_months = months(r)
        if all_months:
            with cols[2]:
                from_col, to_col = st.columns(2)
                _forget_invalid(f"{key}_from", all_months)
                _forget_invalid(f"{key}_to", all_months)
                month_from = from_col.selectbox(
                    "From", all_months, key=f"{key}_from", index=0, format_func=month_label
                )
                month_to = to_col.selectbox(
                    "To",
                    all_months,
                    key=f"{key}_to",
                    index=len(all_months) - 1,
                    format_func=month_label,
                )
            if month_from > month_to:
                month_from, month_to = month_to, month_from
    return Filters(dimension, segments, compare, month_from, month_to, cfg.min_count)


def _forget_invalid_multi(key: str, options: list) -> None:
    if key in st.session_state and any(v not in options for v in st.session_state[key]):
        del st.session_state[key]


def _values(r: data.Ref, dimension: str) -> list[tuple[str | None, int]]:
    if dimension in data.segment_dimensions(r):
        return data.segment_values(r, dimension)
    return []


def segment_caption(filters: Filters) -> str:
    """Which accounts the page shows, in words."""
    if filters.compare:
        a, b = filters.segments
        return (
            f"Comparing **{md_escape(a.label)}** (A) with **{md_escape(b.label)}** (B), "
            f"{md_escape(dimension_label(filters.dimension).lower())}. Rates over fewer "
            f'than {filters.min_count} cases say "too few".'
        )
    if filters.dimension == "all":
        return "All accounts."
    names = ", ".join(md_escape(s.label) for s in filters.segments) or "no segment picked"
    return (
        f"Accounts whose {md_escape(dimension_label(filters.dimension).lower())} is "
        f'**{names}**. Rates over fewer than {filters.min_count} cases say "too few".'
    )


# -------------------------------------------------------------------- segment numbers


def period_rows(r: data.Ref, segments: tuple[Segment, ...]) -> dict[tuple, dict]:
    """(segment, month or None for all months) -> that row of the segmented mart."""
    return {(row["segment"], row["month"]): row for row in data.segment_metrics(r, segments)}


def history(
    rows: dict[tuple, dict],
    segment: Segment,
    months: list[str],
    metric_id: str,
    meta: dict,
    min_count: int | None,
) -> list:
    """The metric of ``segment`` in ``months`` (a KPI's sparkline); rates of too few
    cases (with ``min_count``) are gaps."""
    values = []
    for month in months:
        row = rows.get((segment, month))
        value = metric_value(row, metric_id)
        if (
            min_count is not None
            and metric_text(value, meta, "", cases(row, metric_id), min_count) == stats.TOO_FEW
        ):
            value = None
        values.append(value)
    return values


def trend_frame(
    rows: dict[tuple, dict],
    segments: tuple[Segment, ...],
    metric_id: str,
    filters: Filters,
    meta: dict,
) -> pd.DataFrame:
    """month, value, segment of one metric in the month range (rates of too few cases
    left out in segment views)."""
    records = []
    for (segment, month), row in rows.items():
        if segment not in segments or not filters.in_range(month):
            continue
        value = row.get(metric_id)
        if value is None:
            continue
        if (
            filters.segmented
            and metric_text(value, meta, "", cases(row, metric_id), filters.min_count)
            == stats.TOO_FEW
        ):
            continue
        records.append({"month": month, "value": value, "segment": segment.label})
    frame = pd.DataFrame(records, columns=["month", "value", "segment"])
    return frame.sort_values("month") if len(frame) else frame


def compare_table(
    r: data.Ref, metric_ids: list[str], a: dict | None, b: dict | None, min_count: int
) -> pd.DataFrame:
    """metric | A | B | A − B | beyond noise: scalar metrics of two rows of the segmented
    mart side by side."""
    cat, cur = catalog(r), currency(r)
    out = []
    for metric_id in metric_ids:
        meta = cat[metric_id]
        va, vb = metric_value(a, metric_id), metric_value(b, metric_id)
        if meta["unit"] == "rate":
            c = stats.compare_rates(va, cases(a, metric_id), vb, cases(b, metric_id), min_count)
            out.append(_compare_row(meta, cur, c, min_count))
        else:
            out.append(
                {
                    "metric": meta["label"],
                    "A": format_value(va, meta["unit"], cur),
                    "B": format_value(vb, meta["unit"], cur),
                    "A − B": change_text(va, vb, meta["unit"], cur) or "–",
                    "beyond noise": "",
                }
            )
    return pd.DataFrame(out)


def rate_compare_table(
    label_column: str, labels: list[str], pairs: list[tuple], min_count: int
) -> pd.DataFrame:
    """``labels[i]`` | A | B | A − B | beyond noise for rates given as
    (a, a_cases, b, b_cases) pairs (e.g. the step conversions of two segments)."""
    meta = {"label": "", "unit": "rate"}
    rows = []
    for label, (a, a_n, b, b_n) in zip(labels, pairs):
        row = _compare_row(meta, "", stats.compare_rates(a, a_n, b, b_n, min_count), min_count)
        row[label_column] = label
        del row["metric"]
        rows.append(row)
    return pd.DataFrame(rows, columns=[label_column, "A", "B", "A − B", "beyond noise"])


def _compare_row(meta: dict, cur: str, c: stats.RateComparison, min_count: int) -> dict:
    def shown(value, n):
        text = metric_text(value, meta, cur, n if n is not None else 0, min_count)
        return text + (f" (n={n:,})" if n and value is not None else "")

    if c.difference is None:
        noise = "too few" if c.too_few and c.a is not None and c.b is not None else "–"
    else:
        noise = "yes" if c.beyond_noise else "no"
        if c.p_value is not None:
            noise += f" (p = {c.p_value:.3f})" if c.p_value >= 0.001 else " (p < 0.001)"
    return {
        "metric": meta["label"],
        "A": shown(c.a, c.a_n),
        "B": shown(c.b, c.b_n),
        "A − B": format_delta(c.difference, "rate", cur) or "–"
        if c.difference is not None
        else "–",
        "beyond noise": noise,
    }


def show_compare(frame: pd.DataFrame, legend: bool = True) -> None:
    """A compare table, every row visible, and what its columns mean."""
    st.dataframe(frame, hide_index=True, width="stretch", height=38 + 35 * len(frame))
    if legend:
        compare_legend()


def compare_legend() -> None:
    st.caption(
        "A − B in percentage points. *Beyond noise*: the two-proportion test of "
        "docs/metrics.md (as for experiments) gives p < 0.05; *too few*: one of them is "
        "over fewer cases than the minimum count of dashboards/config.toml."
    )


def table(
    frame: pd.DataFrame,
    *,
    labels: dict[str, str] | None = None,
    units: dict[str, str] | None = None,
    currency: str = "",
    currency_columns: dict[str, str] | None = None,
    widths: dict[str, str] | None = None,
    container=st,
    limit: int | None = 1000,
    **kwargs,
):
    """``st.dataframe`` of the frame as people read it (:mod:`.tables`: every cell
    formatted, "–" for no value, labels as headers, numbers right-aligned). ``widths``
    and ``kwargs["column_config"]`` are keyed by the frame's column names. At most
    ``limit`` rows are sent to the browser (a caption says so; downloads have them all)."""
    from .tables import NUMERIC_UNITS, formatted

    if limit is not None and len(frame) > limit:
        container.caption(f"The first {limit:,} of {len(frame):,} rows.")
        frame = frame.head(limit)
    labels = dict(labels or {})
    shown, shown_units = formatted(
        frame, labels=labels, units=units, currency=currency, currency_columns=currency_columns
    )
    label_for = {c: labels.get(c) or list(shown.columns)[i] for i, c in enumerate(frame.columns)}
    config = {}
    for column, label in label_for.items():
        unit = shown_units[label]
        numeric = unit in NUMERIC_UNITS or unit.startswith("delta_")
        config[label] = st.column_config.TextColumn(
            label, width=(widths or {}).get(column), alignment="right" if numeric else None
        )
    for column, value in (kwargs.pop("column_config", None) or {}).items():
        config[label_for.get(column, column)] = value
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    return container.dataframe(shown, column_config=config, **kwargs)


MONEY_OF_CHANGES = (
    "net_new_mrr",
    "arpu_per_upgrade",
    "mrr_new",
    "mrr_expansion",
    "mrr_reactivation",
    "mrr_contraction",
    "mrr_churn",
)


def warnings_of(
    r: data.Ref, month: str | None = None, codes: tuple[str, ...] | None = None
) -> list[dict]:
    """The ``warnings`` of ``metrics --format json`` (the same function computes them:
    :mod:`..data_warnings`) that concern ``month`` (None: every month), optionally of
    some codes only."""
    found = data_warnings.for_month(data.metrics(r).get("warnings", []), month)
    return [w for w in found if codes is None or w["code"] in codes]


def warnings_banner(
    r: data.Ref,
    month: str | None = None,
    *,
    codes: tuple[str, ...] | None = None,
    container=st,
) -> list[dict]:
    """One warning box at the top of a page with what a reader must know about its
    numbers (stale data, a partial month, missing fx rates, quarantined rows); nothing
    when there is nothing to say. Returns the warnings shown."""
    shown = warnings_of(r, month, codes)
    if shown:
        lines = "\n".join(f"- {md_escape(w['message'])}" for w in shown)
        container.warning(f"**Read these numbers with care:**\n{lines}", icon=":material/warning:")
    return shown


# MRR in force at a month's end, made of subscriptions (not of the month's changes).
MONEY_AT_MONTH_END = ("mrr_end", "arr_end", "mrr_start", "mrr_other")


def month_end_fx_note(r: data.Ref, month: str | None) -> str | None:
    """ "Excludes subscriptions in GBP without an fx rate" when subscriptions in force at
    the end of ``month`` could not be converted (the ``fx_missing`` warnings)."""
    currencies = [
        w["currency"]
        for w in warnings_of(r, month, ("fx_missing",))
        if w["subscriptions"] and (month is None or month in w["subscription_months"])
    ]
    if not currencies:
        return None
    return "Excludes subscriptions in " + ", ".join(currencies) + " without an fx rate"


def fx_note(r: data.Ref, month: str | None, segment: Segment = ALL) -> str | None:
    """ "Excludes 199 changes in GBP without an fx rate" when changes of the month (None:
    all months) could not be converted to the reporting currency, else None."""
    missing = data.unconverted_changes(r, month, segment)
    if missing.empty:
        return None
    parts = [
        f"{int(n):,} {'change' if int(n) == 1 else 'changes'} in {c}"
        for c, n in zip(missing["currency"], missing["changes"])
    ]
    return "Excludes " + ", ".join(parts) + " without an fx rate"


def kpi_grid(
    r: data.Ref,
    cfg: DashboardConfig,
    metric_ids: list[str],
    rows: dict[tuple, dict],
    segment: Segment,
    month: str | None,
    all_months: list[str],
    *,
    per_row: int = 3,
    min_count: int | None = None,
) -> None:
    """Headline cards, ``per_row`` a row (three: whole labels and values at 1280 px),
    each with the change against the month before, a 12-month sparkline and its
    target; money built from subscription changes says which changes it leaves out."""
    cat = catalog(r)
    index = all_months.index(month) if month in all_months else None
    row = rows.get((segment, month))
    previous = (
        rows.get((segment, all_months[index - 1])) if index is not None and index > 0 else None
    )
    months_shown = all_months[: index + 1][-12:] if index is not None else []
    note = None
    if any(m in MONEY_OF_CHANGES for m in metric_ids):
        note = fx_note(r, month, segment)
    month_end_note = None
    if any(m in MONEY_AT_MONTH_END for m in metric_ids):
        month_end_note = month_end_fx_note(r, month)
    for start in range(0, len(metric_ids), per_row):
        cols = st.columns(per_row)
        for col, metric_id in zip(cols, metric_ids[start : start + per_row]):
            meta = cat.get(metric_id, {"unit": ""})
            spark = history(rows, segment, months_shown, metric_id, meta, min_count)
            kpi(
                col,
                r,
                cfg,
                metric_id,
                row,
                previous,
                history=spark,
                min_count=min_count,
                note=note
                if metric_id in MONEY_OF_CHANGES
                else month_end_note
                if metric_id in MONEY_AT_MONTH_END
                else None,
            )


def trend_chart(
    container,
    r: data.Ref,
    cfg: DashboardConfig,
    rows: dict[tuple, dict],
    metric_id: str,
    filters: Filters,
) -> None:
    """One metric by month over the filters' range, its target as a dashed line."""
    from . import charts

    meta = catalog(r)[metric_id]
    frame = trend_frame(rows, filters.segments, metric_id, filters, meta)
    target = cfg.target(metric_id)
    line = None
    if target is not None:
        line = target.minimum if target.minimum is not None else target.maximum
    if frame.empty:
        container.info(
            f"{md_escape(meta['label'])}: no values in these months"
            + (f" (rates need {filters.min_count} cases)" if filters.segmented else "")
            + "."
        )
        return
    container.altair_chart(
        charts.trend(
            frame,
            meta["unit"],
            meta["label"],
            target=line,
            series="segment" if filters.compare else None,
            series_order=[s.label for s in filters.segments],
        ),
        width="stretch",
    )


def all_accounts(months: list[str]) -> Filters:
    """The filters of a page without a filter bar: all accounts, every month."""
    return Filters(
        dimension="all",
        segments=(ALL,),
        compare=False,
        month_from=months[0] if months else None,
        month_to=months[-1] if months else None,
        min_count=config().min_count,
    )


def table_csv(frame: pd.DataFrame, **kwargs) -> str:
    """The table as shown (labels, formatted values) as CSV, spreadsheet formulas
    neutralised (:mod:`..exports`)."""
    from ..exports import safe_pandas
    from .review import BOM, _unquote_numbers
    from .tables import formatted

    shown, _ = formatted(frame, **kwargs)
    return BOM + safe_pandas(shown).map(_unquote_numbers).to_csv(index=False)


def default_page_alias(pages: dict[str, list]) -> None:
    """Let the default page also open at its own url_path (``/overview``).

    ``st.navigation`` serves the first page at ``/`` and gives it the path "", so a link
    or bookmark to ``/overview`` (the url_path the login config and the docs use) would
    show "Page not found". When the browser asks for the default page by its url_path,
    the intent is reset to the default page before ``st.navigation`` resolves it. (This
    uses Streamlit's page manager; if that changes, the page still opens at ``/``.)
    """
    first = next((p for group in pages.values() for p in group), None)
    if first is None:
        return
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        manager = ctx.pages_manager if ctx is not None else None
        wanted = getattr(first, "_url_path", None)
        if (
            manager is not None
            and wanted
            and not manager.intended_page_script_hash
            and manager.intended_page_name == wanted
        ):
            manager.set_script_intent("", "")
    except (AttributeError, ImportError, TypeError):  # another Streamlit version
        return
