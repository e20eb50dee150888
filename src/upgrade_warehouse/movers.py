"""`upgrade-warehouse movers`: what moved from one month to the next beyond noise, by
segment, and the MRR bridge (``shared/spec/metrics.md`` "What moved", ``cli.md``).

The rates and their denominators of both months come from ``marts.fct_metric_movements``
(the section models' ``rate`` columns, unpivoted: no rate is defined here); the
comparison and the mover rule are the one statistics module's (:mod:`.stats`, shared with
the experiments and the dashboard). The Monthly review page and the review pack
(:mod:`.review_pack`) read the same :func:`read_movements`.

Decisions where the spec is silent (docs/movers.md):

- Ranking ties (equal |z|) go by metric id, then dimension with "all accounts" first
  and the attributes in text order, then segment value in text order with the accounts
  without a value (null) last - the order of ``metrics --by``. The MRR bridge rows
  follow the same dimension and segment order.
- The first month of the warehouse has no month before it: ``--month`` of it is exit 2.
- ``--top N`` keeps the first N movers; the bridge is always complete.
- CSV: one table, the first column ``table`` says ``movers`` or ``mrr_bridge``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import duckdb
import typer

from . import stats
from .errors import UserError
from .exports import safe_text
from .formats import OutputFormat, TableFormatOption, WarehouseOption
from .paths import DEFAULT_WAREHOUSE
from .warehouse import check_version, connect, read_build, read_catalog, relations

if TYPE_CHECKING:
    import pandas as pd

MOVEMENTS = ("mrr_new", "mrr_expansion", "mrr_reactivation", "mrr_contraction", "mrr_churn")
BRIDGE_KEYS = (*MOVEMENTS, "net_new_mrr", "previous_net_new_mrr")
# The columns of the bridge's ends (metrics.md mrr_start, mrr_other, mrr_end): read when
# the warehouse has them (the waterfall's start and end bars), else left out.
BRIDGE_ENDS = ("mrr_start", "mrr_other", "mrr_end")
MOVER_KEYS = (
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
)
DEFAULT_MIN_COUNT = 30  # metrics.md: movers_min_count

# What each count-ratio metric's denominator counts, for sentences ("120 -> 95 attempts").
DENOMINATOR_NOUNS = {
    "upgrade_conversion_rate": "attempts",
    "self_serve_completion_rate": "attempts",
    "escalation_rate": "attempts",
    "self_serve_share": "upgrades",
    "post_activation_self_serve_rate": "activated accounts",
    "payment_success_rate": "payment attempts",
    "sync_failure_rate": "handoffs",
    "sync_unresolved_rate": "handoffs",
    "sync_manual_override_rate": "handoffs",
    "attribution_accuracy": "changes",
    "eligibility_rejection_rate": "checks",
    "false_positive_reject_rate": "rejections",
    "upsell_acceptance_rate": "offers",
    "upsell_deferral_rate": "offers",
    "proration_accuracy_rate": "changes",
}


@dataclass(frozen=True)
class Movement:
    """One count-ratio metric of one segment, month M against M - 1."""

    metric_id: str
    dimension: str | None  # None: all accounts
    segment: str | None  # None: all accounts, or the accounts without a value
    value: float | None
    n: int | None
    previous_value: float | None
    previous_n: int | None
    comparison: stats.Comparison
    is_mover: bool
    label: str = ""
    direction: str = "neutral"

    def as_json(self) -> dict:
        c = self.comparison
        return {
            "metric_id": self.metric_id,
            "dimension": self.dimension,
            "segment": self.segment,
            "value": self.value,
            "n": self.n,
            "previous_value": self.previous_value,
            "previous_n": self.previous_n,
            "diff": c.diff,
            "z": c.z,
            "p_value": c.p_value,
        }


@dataclass(frozen=True)
class Movements:
    """Everything "What moved" says about one month."""

    as_of: str
    month: str
    previous_month: str
    min_count: int
    reporting_currency: str
    movements: list[Movement]  # every metric x segment, ranked (movers first)
    bridge: list[dict] = field(default_factory=list)

    @property
    def movers(self) -> list[Movement]:
        return [m for m in self.movements if m.is_mover]

    def as_json(self, top: int | None = None) -> dict:
        movers = self.movers[:top] if top is not None else self.movers
        return {
            "as_of": self.as_of,
            "month": self.month,
            "previous_month": self.previous_month,
            "min_count": self.min_count,
            "movers": [m.as_json() for m in movers],
            "mrr_bridge": [
                {k: row[k] for k in ("dimension", "segment", *BRIDGE_KEYS)} for row in self.bridge
            ],
        }


def rank_key(m: Movement) -> tuple:
    """|z| largest first (no z: last), then metric id, dimension (all accounts first),
    segment (null last)."""
    z = m.comparison.z
    return (
        0 if z is not None else 1,
        -abs(z) if z is not None else 0.0,
        m.metric_id,
        *_segment_key(m.dimension, m.segment),
    )


def _segment_key(dimension: str | None, segment: str | None) -> tuple:
    return (
        0 if dimension is None else 1,
        dimension or "",
        1 if segment is None and dimension is not None else 0,
        segment or "",
    )


def _month_text(value) -> str:
    return value.strftime("%Y-%m") if isinstance(value, (date, datetime)) else str(value)[:7]


def _float(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _int(value) -> int | None:
    return None if value is None else int(value)


def check_month(month: str | None) -> None:
    if month is not None and not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month):
        raise UserError(f"--month must be YYYY-MM, not {month!r}")


def _previous(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def default_month(as_of: datetime) -> str:
    """metrics.md: the last month that ended at or before as_of (the month before as_of's:
    a month ends at the next month's first instant, so as_of's own month has not ended
    even when as_of is that first instant)."""
    return _previous(f"{as_of:%Y-%m}")


def check_built(con: duckdb.DuckDBPyConnection, path) -> None:
    check_version(con, path)
    if "marts.fct_metric_movements" not in relations(con):
        raise UserError(
            f"{path} was built by an older version of upgrade-warehouse (it has no "
            "marts.fct_metric_movements): run `upgrade-warehouse build` again"
        )


def read_movements(con: duckdb.DuckDBPyConnection, month: str | None = None) -> Movements:
    """Month M (default: the last month that ended at or before as_of) against M - 1,
    from an open read-only connection; a month that is not in the warehouse, or has no
    month before it there, is a UserError naming --month."""
    check_month(month)
    build = read_build(con)
    months = [
        _month_text(r[0])
        for r in con.execute(
            "select distinct month from marts.fct_metric_movements order by month"
        ).fetchall()
    ]
    span = f"{months[0]} to {months[-1]}" if months else "none"
    if month is None:
        month = default_month(build.as_of)
        if month not in months[1:]:
            raise UserError(
                f"--month: the warehouse has no complete month with a month before it "
                f"(as_of {build.parameters.get('as_of')}, months: {span}); pass --month YYYY-MM"
            )
    elif month not in months:
        raise UserError(f"--month {month}: not in the warehouse (months: {span})")
    elif month == months[0]:
        raise UserError(
            f"--month {month}: the first month of the warehouse has no month before it "
            f"to compare with (months: {span})"
        )
    previous = _previous(month)
    min_count = int(build.parameters.get("movers_min_count", DEFAULT_MIN_COUNT))
    catalog = {m.metric_id: m for m in read_catalog(con)}

    rows = con.execute(
        "select metric_id, segment_dimension, segment_value, value, n, previous_value, "
        "previous_n from marts.fct_metric_movements where strftime(month, '%Y-%m') = $month",
        {"month": month},
    ).fetchall()
    movements = []
    for metric_id, dimension, segment, value, n, prev_value, prev_n in rows:
        if dimension == "all":
            dimension = segment = None
        value, prev_value = _float(value), _float(prev_value)
        n, prev_n = _int(n), _int(prev_n)
        comparison = stats.compare_rates(value, n, prev_value, prev_n)
        metric = catalog.get(metric_id)
        movements.append(
            Movement(
                metric_id=metric_id,
                dimension=dimension,
                segment=segment,
                value=value,
                n=n,
                previous_value=prev_value,
                previous_n=prev_n,
                comparison=comparison,
                is_mover=stats.is_mover(comparison, n, prev_n, min_count),
                label=metric.label if metric else metric_id,
                direction=metric.direction if metric else "neutral",
            )
        )
    movements.sort(key=lambda m: (not m.is_mover, *rank_key(m)))
    return Movements(
        as_of=build.parameters.get("as_of"),
        month=month,
        previous_month=previous,
        min_count=min_count,
        reporting_currency=build.reporting_currency,
        movements=movements,
        bridge=read_bridge(con, month, previous),
    )


def read_bridge(con: duckdb.DuckDBPyConnection, month: str, previous: str) -> list[dict]:
    """The MRR bridge of ``month``: per segment (all accounts first) the five movements and
    net_new_mrr, each with its value in ``previous`` (``previous_<key>``), and the
    bridge's ends (mrr_start, mrr_other, mrr_end) when the warehouse has them."""
    columns = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'fct_monthly_metrics_by_segment' and table_catalog = current_database()"
        ).fetchall()
    }
    keys = [*MOVEMENTS, "net_new_mrr", *[k for k in BRIDGE_ENDS if k in columns]]
    selected = ", ".join(f'"{k}"' for k in keys)
    rows = con.execute(
        f"select strftime(month, '%Y-%m'), segment_dimension, segment_value, {selected} "
        "from marts.fct_monthly_metrics_by_segment "
        "where strftime(month, '%Y-%m') in ($month, $previous)",
        {"month": month, "previous": previous},
    ).fetchall()
    by_month: dict[str, dict[tuple, dict]] = {}
    for m, dimension, segment, *values in rows:
        if dimension == "all":
            dimension = segment = None
        by_month.setdefault(m, {})[(dimension, segment)] = dict(
            zip(keys, map(_float, values), strict=True)
        )
    current, before = by_month.get(month, {}), by_month.get(previous, {})
    bridge = []
    for dimension, segment in sorted(current, key=lambda k: _segment_key(*k)):
        now = current[(dimension, segment)]
        then = before.get((dimension, segment), {})
        row = {"dimension": dimension, "segment": segment}
        row.update({k: now[k] for k in (*MOVEMENTS, "net_new_mrr")})
        row["previous_net_new_mrr"] = then.get("net_new_mrr")
        for k in (*MOVEMENTS, *BRIDGE_ENDS):
            if k in now:
                if k in BRIDGE_ENDS:
                    row[k] = now[k]
                row[f"previous_{k}"] = then.get(k)
        bridge.append(row)
    return bridge


# ----------------------------------------------------------------------------- the bridge

STEP_LABELS = {
    "mrr_start": "Start MRR",
    "mrr_new": "New",
    "mrr_expansion": "Expansion",
    "mrr_reactivation": "Reactivation",
    "mrr_contraction": "Contraction",
    "mrr_churn": "Churn",
    "mrr_other": "Other",
    "mrr_end": "End MRR",
    "net_new_mrr": "Net new MRR",
}


def bridge_row(data: Movements, dimension: str | None, segment: str | None) -> dict | None:
    for row in data.bridge:
        if row["dimension"] == dimension and row["segment"] == segment:
            return row
    return None


def has_ends(row: dict) -> bool:
    """Whether the warehouse gave the bridge's start and end (metrics.md mrr_start, mrr_end)."""
    return all(row.get(k) is not None for k in BRIDGE_ENDS)


def waterfall_frame(row: dict) -> pd.DataFrame:
    """The bars of one segment's bridge: ``step``, ``kind`` (total, gain, loss),
    ``start``, ``end``, ``amount``. With the ends: Start MRR, New, Expansion,
    Reactivation, Contraction, Churn, Other, End MRR (start + movements + other = end);
    without: the five movements from 0, then Net new MRR."""
    import pandas as pd

    bars = []
    level = 0.0
    if has_ends(row):
        level = row["mrr_start"]
        bars.append(("mrr_start", "total", 0.0, level, level))
        steps = [*MOVEMENTS, "mrr_other"]
    else:
        steps = list(MOVEMENTS)
    for key in steps:
        amount = row.get(key) or 0.0
        bars.append((key, "gain" if amount >= 0 else "loss", level, level + amount, amount))
        level += amount
    if has_ends(row):
        end = row["mrr_end"]
        bars.append(("mrr_end", "total", 0.0, end, end))
    else:
        net = row.get("net_new_mrr")
        net = level if net is None else net
        bars.append(("net_new_mrr", "total", 0.0, net, net))
    frame = pd.DataFrame(bars, columns=["key", "kind", "start", "end", "amount"])
    frame["step"] = [STEP_LABELS[k] for k in frame["key"]]
    frame["top"] = frame[["start", "end"]].max(axis=1)
    frame["label"] = [
        f"{a:,.0f}" if k == "total" else f"{a:+,.0f}"
        for a, k in zip(frame["amount"], frame["kind"])
    ]
    return frame


# ----------------------------------------------------------------------------- sentences


def segment_phrase(dimension: str | None, segment: str | None) -> str:
    """Where a movement happened, as a sentence says it."""
    if dimension is None:
        return "across all accounts"
    if segment is None:
        return f"in accounts without a {dimension}"
    return f"in {segment} ({dimension})"


def sentence(m: Movement) -> str:
    """ "Self-serve completion rate in paid_search (acquisition_source) fell from 41.2% to
    29.0% (120 -> 95 attempts), beyond noise"."""
    verb = "rose" if (m.comparison.diff or 0) > 0 else "fell"
    noun = DENOMINATOR_NOUNS.get(m.metric_id, "cases")
    verdict = "beyond noise" if m.is_mover else "within noise"
    return (
        f"{m.label} {segment_phrase(m.dimension, m.segment)} {verb} from "
        f"{_pct(m.previous_value)} to {_pct(m.value)} "
        f"({_count(m.previous_n)} -> {_count(m.n)} {noun}), {verdict}"
    )


def is_good_news(m: Movement) -> bool | None:
    """True when the move is in the metric's good direction (catalog), None if neutral."""
    if m.direction not in ("higher", "lower") or not m.comparison.diff:
        return None
    return (m.comparison.diff > 0) == (m.direction == "higher")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


# ----------------------------------------------------------------------------- formats

CSV_COLUMNS = (
    "table",
    "month",
    "previous_month",
    "rank",
    *MOVER_KEYS,
    *BRIDGE_KEYS,
)


def _cell(value) -> object:
    return "" if value is None else safe_text(value) if isinstance(value, str) else value


def to_csv(result: dict) -> str:
    """One table: the movers (``table`` = movers, ranked), then the bridge rows
    (``table`` = mrr_bridge); cells a row does not have are empty."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    base = {"month": result["month"], "previous_month": result["previous_month"]}
    for rank, mover in enumerate(result["movers"], start=1):
        row = {"table": "movers", **base, "rank": rank, **mover}
        writer.writerow([_cell(row.get(c)) for c in CSV_COLUMNS])
    for bridge in result["mrr_bridge"]:
        row = {"table": "mrr_bridge", **base, **bridge}
        writer.writerow([_cell(row.get(c)) for c in CSV_COLUMNS])
    return buf.getvalue()


def print_table(data: Movements, top: int | None) -> None:
    from rich.console import Console
    from rich.table import Table

    from .currencies import currency_exponent
    from .formats import format_p_value

    console = Console()
    movers = data.movers[:top] if top is not None else data.movers
    table = Table(
        title=(
            f"What moved: {data.month} against {data.previous_month} "
            f"(as_of {data.as_of}; both months >= {data.min_count} cases, |z| >= 1.96)"
        ),
        caption=None if movers else "Nothing moved beyond noise.",
    )
    for name, justify in (
        ("#", "right"),
        ("metric", "left"),
        ("segment", "left"),
        (data.previous_month, "right"),
        (data.month, "right"),
        ("change", "right"),
        ("z", "right"),
        ("p", "right"),
    ):
        table.add_column(name, justify=justify, overflow="fold")
    for rank, m in enumerate(movers, start=1):
        c = m.comparison
        table.add_row(
            str(rank),
            m.label,
            "all accounts"
            if m.dimension is None
            else f"{m.dimension}: {'(none)' if m.segment is None else m.segment}",
            f"{_pct(m.previous_value)} of {_count(m.previous_n)}",
            f"{_pct(m.value)} of {_count(m.n)}",
            f"{c.diff * 100:+.1f} pp",
            f"{c.z:+.2f}",
            format_p_value(c.p_value),
        )
    console.print(table)

    currency = data.reporting_currency
    digits = currency_exponent(currency)
    bridge = Table(title=f"MRR bridge of {data.month} ({currency})")
    bridge.add_column("segment", overflow="fold")
    for key in BRIDGE_KEYS:
        bridge.add_column(key.removeprefix("mrr_").replace("_", " "), justify="right")
    for row in data.bridge:
        bridge.add_row(
            "all accounts"
            if row["dimension"] is None
            else f"{row['dimension']}: {'(none)' if row['segment'] is None else row['segment']}",
            *["–" if row[k] is None else f"{row[k]:,.{digits}f}" for k in BRIDGE_KEYS],
        )
    console.print(bridge)


def movers_command(
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    month: Annotated[
        str | None,
        typer.Option(
            "--month",
            help="The month to review (YYYY-MM); default: the last month that ended at or "
            "before as_of. It is compared with the month before.",
        ),
    ] = None,
    top: Annotated[
        int | None, typer.Option("--top", help="Only the N largest movers (by |z|).")
    ] = None,
    output_format: TableFormatOption = OutputFormat.table,
) -> None:
    """What moved beyond noise from last month, by segment, and the MRR bridge."""
    if top is not None and top < 1:
        raise UserError(f"--top must be at least 1 (got {top})")
    check_month(month)
    with connect(warehouse) as con:
        check_built(con, warehouse)
        data = read_movements(con, month)
    if output_format is OutputFormat.json:
        print(json.dumps(data.as_json(top), indent=2))
    elif output_format is OutputFormat.csv:
        print(to_csv(data.as_json(top)), end="")
    else:
        print_table(data, top)
