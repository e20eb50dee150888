"""The filter bar: segment dimension and value(s), compare mode, month range."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from . import data
from .context import _forget_invalid, config, months
from .data import ALL, Segment
from .fmt import (
    md_escape,
    month_label,
)

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
    # At 1280 px: Segment A and B whole ("marketer (611)"), the Compare toggle, and
    # Quarter, From and To with "Oct 2026" whole in each.
    cols = bar.columns([4.3, 1.9, 4.5], vertical_alignment="bottom")
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
                quarter_col, from_col, to_col = st.columns([0.9, 1, 1], gap="xsmall")
                _forget_invalid(f"{key}_from", all_months)
                _forget_invalid(f"{key}_to", all_months)
                presets = quarters(all_months)
                _forget_invalid(f"{key}_quarter", [None, *presets])
                quarter_col.selectbox(
                    "Quarter",
                    [None, *presets],
                    key=f"{key}_quarter",
                    format_func=lambda q: "Pick…" if q is None else q,
                    on_change=_apply_quarter,
                    args=(key, presets),
                    help="Sets From and To to the quarter's months (those in the warehouse).",
                )
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


def quarters(all_months: list[str]) -> dict[str, tuple[str, str]]:
    """The calendar quarters of ``all_months`` (YYYY-MM, in order), newest first: "2026
    Q3" -> (its first month, its last month) among the months there are."""
    found: dict[str, list[str]] = {}
    for month in all_months:
        found.setdefault(f"{month[:4]} Q{(int(month[5:7]) + 2) // 3}", []).append(month)
    return {q: (ms[0], ms[-1]) for q, ms in reversed(found.items())}


def _apply_quarter(key: str, presets: dict[str, tuple[str, str]]) -> None:
    """The quarter picked sets the range's From and To (then the picker is free again)."""
    picked = st.session_state.get(f"{key}_quarter")
    if picked in presets:
        st.session_state[f"{key}_from"], st.session_state[f"{key}_to"] = presets[picked]
    st.session_state[f"{key}_quarter"] = None


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
