"""The pages' one entry to widgets and layout pieces (no SQL), re-exported by concern.

:mod:`.context` (the page run: warehouse version, config, catalog, months, empty states),
:mod:`.filters` (the filter bar), :mod:`.kpis` (headline numbers and cards),
:mod:`.compare` (segments side by side, trends), :mod:`.notes` (warnings, fx notes),
:mod:`.grids` (tables and their CSV) and :mod:`.layout` (page skeletons). Labels, units
and directions come from the catalog.
"""

from __future__ import annotations

from .compare import (
    compare_legend,
    compare_table,
    period_rows,
    rate_compare_table,
    show_compare,
    trend_chart,
    trend_frame,
    trend_grid,
)
from .context import (
    catalog,
    config,
    currency,
    default_page_alias,
    month_select,
    months,
    no_data_loaded,
    not_built,
    ref,
)
from .filters import (
    ACCOUNTS_HELP,
    DIMENSION_LABELS,
    Filters,
    all_accounts,
    dimension_label,
    filter_bar,
    segment_caption,
)
from .grids import metrics_csv, rows_height, table, table_csv, table_or, text_table
from .kpis import (
    DIRECTION_COLORS,
    cases,
    change_text,
    history,
    kpi,
    kpi_grid,
    metric_text,
    metric_value,
    target_badge,
)
from .layout import MIME, MonthView, built_page, download, month_view, require
from .notes import (
    MONEY_AT_MONTH_END,
    MONEY_OF_CHANGES,
    fx_note,
    month_end_fx_note,
    warnings_banner,
    warnings_of,
)

__all__ = [
    "ACCOUNTS_HELP",
    "DIMENSION_LABELS",
    "DIRECTION_COLORS",
    "MIME",
    "MONEY_AT_MONTH_END",
    "MONEY_OF_CHANGES",
    "Filters",
    "MonthView",
    "all_accounts",
    "built_page",
    "cases",
    "catalog",
    "change_text",
    "compare_legend",
    "compare_table",
    "config",
    "currency",
    "default_page_alias",
    "dimension_label",
    "download",
    "filter_bar",
    "fx_note",
    "history",
    "kpi",
    "kpi_grid",
    "metric_text",
    "metric_value",
    "metrics_csv",
    "month_end_fx_note",
    "month_select",
    "month_view",
    "months",
    "no_data_loaded",
    "not_built",
    "period_rows",
    "rate_compare_table",
    "ref",
    "require",
    "rows_height",
    "segment_caption",
    "show_compare",
    "table",
    "table_csv",
    "table_or",
    "target_badge",
    "text_table",
    "trend_chart",
    "trend_frame",
    "trend_grid",
    "warnings_banner",
    "warnings_of",
]
