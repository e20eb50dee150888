"""`upgrade-warehouse review`: the monthly review pack, one self-contained HTML file that
RevOps mails to leadership (docs/movers.md).

What it holds, for month M against M - 1: the headline metrics against their targets
(``dashboards/config.toml``), what moved beyond noise (metrics.md "What moved", the same
:func:`upgrade_warehouse.movers.read_movements` as the ``movers`` command), the MRR
bridge, the funnel of the month, and the data-quality notes of the build (rows held
back in quarantine, fx coverage of the month's revenue changes, freshness).

Self-contained: no script, no font, no image file, no network. The charts are inline SVG
drawn here (a waterfall and horizontal bars: plain rectangles and text, so that they
print sharp and need no JavaScript); the styles are inline, with print rules for A4
(``@page``, no element wider than the page, sections not split across pages).
"""

from __future__ import annotations

import html
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import duckdb
import typer

from . import movers
from .errors import UserError
from .formats import WarehouseOption
from .metrics import format_value, read_metrics
from .paths import DEFAULT_WAREHOUSE
from .warehouse import connect, read_catalog

STALE_DAYS = 2  # metrics.md: as_of more than 2 days before the build is stale
MOVERS_SHOWN = 25
FUNNEL_METRICS = (
    "attempts_started",
    "attempts_matured",
    "upgrade_conversion_rate",
    "self_serve_completion_rate",
    "escalation_rate",
    "intent_to_activation_hours_p50",
)
GAIN, LOSS, TOTAL, BAR = "#2e7d32", "#c62828", "#1f5f9e", "#56b4e9"


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _month_label(month: str) -> str:
    return datetime.strptime(month, "%Y-%m").strftime("%b %Y")


# ----------------------------------------------------------------------------- charts


def _svg_text(x, y, text, *, anchor="middle", size=11, color="#333", weight="normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{color}" font-weight="{weight}">{esc(text)}</text>'
    )


def svg_waterfall(row: dict, currency: str) -> str:
    """The MRR bridge of one segment: Start MRR, the five movements, Other, End MRR (with
    the warehouse's mrr_start/mrr_end), else the movements from 0 and Net new MRR."""
    frame = movers.waterfall_frame(row)
    width, height, left, right, top, bottom = 680, 280, 64, 10, 24, 48
    low = min(0.0, float(frame[["start", "end"]].min().min()))
    high = max(0.0, float(frame[["start", "end"]].max().max()))
    if high == low:
        high = low + 1.0
    span = high - low
    low, high = low - span * 0.05, high + span * 0.12

    def y(value: float) -> float:
        return top + (high - value) / (high - low) * (height - top - bottom)

    step = (width - left - right) / len(frame)
    parts = [
        (
            f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="MRR bridge waterfall" xmlns="http://www.w3.org/2000/svg">'
        )
    ]
    for tick in _ticks(low, high):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            'stroke="#e0e0e0" stroke-width="1"/>'
        )
        parts.append(
            _svg_text(
                left - 6,
                y(tick) + 4,
                f"{tick + 0.0:,.0f}".replace("-0", "0") if abs(tick) < 0.5 else f"{tick:,.0f}",
                anchor="end",
                size=10,
            )
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
        'stroke="#616161" stroke-width="1"/>'
    )
    parts.append(_svg_text(12, top - 8, currency, anchor="start", size=10))
    for i, bar in enumerate(frame.itertuples()):
        x = left + i * step + step * 0.15
        w = step * 0.7
        y0, y1 = sorted((y(bar.start), y(bar.end)))
        color = {"total": TOTAL, "gain": GAIN, "loss": LOSS}[bar.kind]
        parts.append(
            f'<rect x="{x:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{max(y1 - y0, 1):.1f}" '
            f'fill="{color}"><title>{esc(bar.step)}: {bar.amount:,.2f} {esc(currency)}</title></rect>'
        )
        parts.append(_svg_text(x + w / 2, y0 - 5, bar.label, size=10))
        parts.append(_svg_text(x + w / 2, height - bottom + 16, bar.step, size=10))
    parts.append("</svg>")
    return "".join(parts)


def _ticks(low: float, high: float) -> list[float]:
    span = high - low
    raw = span / 4
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    for factor in (1, 2, 2.5, 5, 10):
        size = magnitude * factor
        if span / size <= 5:
            break
    start = -(-low // size) * size + 0.0  # + 0.0: no -0 tick
    ticks, value = [], start
    while value <= high:
        ticks.append(value)
        value += size
    return ticks


def svg_bars(items: list[tuple[str, float, str]], max_value: float | None = None) -> str:
    """Horizontal bars: (label, value, text shown after the bar)."""
    width, row, left, right = 680, 26, 190, 150
    height = row * len(items) + 8
    top = max([v for _, v, _ in items] + [max_value or 0, 1e-9])
    parts = [
        (
            f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="bars" '
            'xmlns="http://www.w3.org/2000/svg">'
        )
    ]
    for i, (label, value, text) in enumerate(items):
        y = 4 + i * row
        w = (width - left - right) * (value / top if top else 0)
        parts.append(_svg_text(left - 8, y + 16, label, anchor="end", size=11))
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{max(w, 0.5):.1f}" height="{row - 8}" fill="{BAR}"/>'
        )
        parts.append(_svg_text(left + w + 6, y + 16, text, anchor="start", size=11))
    parts.append("</svg>")
    return "".join(parts)


# ----------------------------------------------------------------------------- content


def _headline(result: dict, catalog: dict, cfg, month: str, previous: str, cur: str) -> str:
    from .dashboard.fmt import format_delta, format_target

    months = {m["month"]: m for m in result["months"]}
    now, before = months.get(month, {}), months.get(previous, {})
    rows = []
    for metric_id in cfg.headline:
        meta = catalog.get(metric_id)
        if meta is None or meta.keyed:
            continue
        value, prev = now.get(metric_id), before.get(metric_id)
        change = None if value is None or prev is None else value - prev
        target = cfg.target(metric_id)
        if target is None:
            target_text, status = "–", ""
        else:
            met = target.met(value)
            target_text = format_target(target, meta.unit, cur)
            status = {True: "on target", False: "off target", None: "no value"}[met]
        css = {"on target": "ok", "off target": "bad"}.get(status, "")
        rows.append(
            "<tr>"
            f"<td>{esc(meta.label)}</td>"
            f'<td class="num">{esc(format_value(value, meta.unit, cur))}</td>'
            f'<td class="num">{esc(format_value(prev, meta.unit, cur))}</td>'
            f'<td class="num">{esc(format_delta(change, meta.unit, cur) or "–")}</td>'
            f'<td class="num">{esc(target_text)}</td>'
            f'<td class="{css}">{esc(status or "–")}</td>'
            "</tr>"
        )
    return (
        "<table><colgroup><col style='width:34%'><col style='width:14%'><col style='width:14%'>"
        "<col style='width:12%'><col style='width:14%'><col style='width:12%'></colgroup>"
        f"<thead><tr><th>Metric</th><th class='num'>{esc(_month_label(month))}</th>"
        f"<th class='num'>{esc(_month_label(previous))}</th><th class='num'>Change</th>"
        "<th class='num'>Target</th><th>Status</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _what_moved(data: movers.Movements) -> str:
    if not data.movers:
        return (
            f"<p>Nothing moved beyond noise against {esc(_month_label(data.previous_month))} "
            f"(rates over at least {data.min_count} cases in both months).</p>"
        )
    items = []
    for m in data.movers[:MOVERS_SHOWN]:
        good = movers.is_good_news(m)
        css = {True: "ok", False: "bad", None: ""}[good]
        arrow = "▲" if (m.comparison.diff or 0) > 0 else "▼"
        items.append(
            f'<li><span class="{css}">{arrow}</span> {esc(movers.sentence(m))} '
            f'<span class="muted">(z = {m.comparison.z:+.2f})</span></li>'
        )
    more = len(data.movers) - MOVERS_SHOWN
    tail = (
        f"<p class='muted'>And {more} more: <code>upgrade-warehouse movers --month "
        f"{esc(data.month)}</code> lists them all.</p>"
        if more > 0
        else ""
    )
    return f"<ul class='movers'>{''.join(items)}</ul>{tail}"


def _bridge(data: movers.Movements) -> str:
    cur = data.reporting_currency
    everyone = movers.bridge_row(data, None, None)
    if everyone is None:
        return "<p>No revenue in this month.</p>"
    ends = movers.has_ends(everyone)
    keys = (
        ["mrr_start", *movers.MOVEMENTS, "mrr_other", "mrr_end"]
        if ends
        else [*movers.MOVEMENTS, "net_new_mrr"]
    )
    head = "".join(f"<th class='num'>{esc(movers.STEP_LABELS[k])}</th>" for k in keys)
    body = []
    for row in data.bridge:
        name = (
            "All accounts"
            if row["dimension"] is None
            else f"{row['dimension']}: {'(none)' if row['segment'] is None else row['segment']}"
        )
        cells = "".join(
            f"<td class='num'>{esc(format_value(row.get(k), 'money', cur))}</td>" for k in keys
        )
        body.append(f"<tr><td class='seg'>{esc(name)}</td>{cells}</tr>")
    formula = (
        "Start MRR + new + expansion + reactivation + contraction + churn + other = end MRR "
        "(other: what the movements do not explain, such as fx revaluation)"
        if ends
        else "New + expansion + reactivation + contraction + churn = net new MRR"
    )
    return (
        f"<figure>{svg_waterfall(everyone, cur)}<figcaption>All accounts, {esc(cur)}. "
        f"{esc(formula)}.</figcaption></figure>"
        f"<table class='small'><thead><tr><th>Segment</th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _funnel(con, result: dict, catalog: dict, month: str, previous: str, cur: str) -> str:
    months = {m["month"]: m for m in result["months"]}
    now, before = months.get(month, {}), months.get(previous, {})
    rows = []
    for metric_id in FUNNEL_METRICS:
        meta = catalog.get(metric_id)
        if meta is None:
            continue
        rows.append(
            f"<tr><td>{esc(meta.label)}</td>"
            f"<td class='num'>{esc(format_value(now.get(metric_id), meta.unit, cur))}</td>"
            f"<td class='num'>{esc(format_value(before.get(metric_id), meta.unit, cur))}</td></tr>"
        )
    steps = con.execute(
        "select step_name, attempts_reached, step_reach_rate from marts.fct_funnel_steps "
        "where segment_dimension = 'all' and strftime(month, '%Y-%m') = $month "
        "order by step_index",
        {"month": month},
    ).fetchall()
    chart = ""
    if steps and any(reached for _, reached, _ in steps):
        items = [
            (
                name,
                float(reached or 0),
                f"{int(reached or 0):,}"
                + ("" if rate is None else f" ({float(rate):.1%} of attempts)"),
            )
            for name, reached, rate in steps
        ]
        chart = (
            f"<figure>{svg_bars(items)}<figcaption>Attempts started in "
            f"{esc(_month_label(month))} that reached each step.</figcaption></figure>"
        )
    else:
        chart = "<p class='muted'>No upgrade attempt started this month.</p>"
    return (
        f"{chart}<table><thead><tr><th>Metric</th><th class='num'>{esc(_month_label(month))}</th>"
        f"<th class='num'>{esc(_month_label(previous))}</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _quality(con, warehouse: Path, as_of: datetime, month: str) -> str:
    notes = []
    loads = con.execute(
        "select table_name, is_loaded, rows_read, rows_quarantined from marts.fct_load_report "
        "order by table_name"
    ).fetchall()
    reasons = {
        table: ", ".join(f"{reason} {count:,}" for reason, count in group)
        for table, group in _group(
            con.execute(
                "select table_name, reason_code, count(*) from marts.fct_quarantined_rows "
                "group by all order by 1, 3 desc, 2"
            ).fetchall()
        )
    }
    held = [(t, read, q) for t, loaded, read, q in loads if loaded and q]
    if held:
        lines = "".join(
            f"<li>{esc(t)}: {q:,} of {read:,} rows ({q / read:.2%}) held back"
            f"{esc(' - ' + reasons[t]) if t in reasons else ''}</li>"
            for t, read, q in held
        )
        notes.append(f"<li>Quarantined rows (not in any number): <ul>{lines}</ul></li>")
    else:
        notes.append("<li>No row was quarantined: every row read was loaded.</li>")
    missing = [t for t, loaded, _, _ in loads if not loaded]
    if missing:
        notes.append(
            f"<li>No data loaded for {esc(', '.join(missing))}: the metrics that need them "
            "are empty (not zero).</li>"
        )
    total, converted, by_currency = _fx(con, month)
    if total:
        text = f"{converted:,} of {total:,} revenue changes of the month ({converted / total:.1%})"
        if by_currency:
            left_out = ", ".join(f"{c} {n:,}" for c, n in by_currency)
            text += f" converted to the reporting currency; left out (no fx rate): {left_out}"
        else:
            text += " converted to the reporting currency: complete"
        notes.append(f"<li>FX coverage: {esc(text)}.</li>")
    else:
        notes.append("<li>FX coverage: no revenue change in this month.</li>")
    published = datetime.fromtimestamp(os.stat(warehouse).st_mtime, UTC).replace(tzinfo=None)
    age = (published - as_of).total_seconds() / 86400
    fresh = (
        f"Data as of {as_of:%Y-%m-%d %H:%M} UTC; the warehouse was built "
        f"{published:%Y-%m-%d %H:%M} UTC"
    )
    if age > STALE_DAYS:
        fresh += f", {age:,.0f} days later: the data is stale (more than {STALE_DAYS} days)"
    notes.append(f"<li>Freshness: {esc(fresh)}.</li>")
    return f"<ul>{''.join(notes)}</ul>"


def _group(rows):
    out: dict = {}
    for table, reason, count in rows:
        out.setdefault(table, []).append((reason, count))
    return out.items()


def _fx(con, month: str) -> tuple[int, int, list[tuple[str, int]]]:
    total, converted = con.execute(
        "select count(*), count(*) filter (where is_converted) from marts.fct_subscription_changes "
        "where movement <> 'none' and strftime(change_month, '%Y-%m') = $month",
        {"month": month},
    ).fetchone()
    by_currency = con.execute(
        "select currency, count(*) from marts.fct_subscription_changes where movement <> 'none' "
        "and not is_converted and strftime(change_month, '%Y-%m') = $month "
        "group by currency order by 2 desc, 1",
        {"month": month},
    ).fetchall()
    return int(total or 0), int(converted or 0), [(c, int(n)) for c, n in by_currency]


CSS = """
:root { --ink: #212121; --muted: #616161; --line: #e0e0e0; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); margin: 0 auto; padding: 24px; max-width: 860px; font-size: 14px;
  line-height: 1.45; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 2px solid var(--line);
  padding-bottom: 4px; }
p.lead, .muted { color: var(--muted); }
table { width: 100%; border-collapse: collapse; table-layout: fixed; margin: 8px 0; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line);
  overflow-wrap: anywhere; vertical-align: top; }
th { font-weight: 600; border-bottom: 1px solid #9e9e9e; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
table.small { font-size: 11px; }
table.small th, table.small td { padding: 3px 4px; }
td.seg { width: 24%; }
.ok { color: #2e7d32; font-weight: 600; }
.bad { color: #c62828; font-weight: 600; }
ul.movers { padding-left: 0; list-style: none; }
ul.movers li { margin: 4px 0; }
figure { margin: 8px 0; }
figcaption { color: var(--muted); font-size: 12px; }
svg.chart { width: 100%; height: auto; display: block; }
code { font-size: 12px; overflow-wrap: anywhere; }
section { break-inside: auto; }
figure, tr, li { break-inside: avoid; page-break-inside: avoid; }
h2 { break-after: avoid; page-break-after: avoid; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  h1 { font-size: 20px; }
  h2 { font-size: 15px; margin-top: 18px; }
  table.small { font-size: 9px; }
}
"""


def render(warehouse: Path, month: str | None) -> tuple[str, str]:
    """The review pack of ``month`` (default: the last month that ended at or before
    as_of) as HTML text, and the month."""
    from .dashboard.config import load_config

    cfg = load_config()
    result = read_metrics(warehouse)
    with connect(warehouse) as con:
        movers.check_built(con, warehouse)
        data = movers.read_movements(con, month)
        catalog = {m.metric_id: m for m in read_catalog(con)}
        as_of = con.execute("select as_of from marts.dim_build").fetchone()[0]
        funnel = _funnel(
            con, result, catalog, data.month, data.previous_month, data.reporting_currency
        )
        quality = _quality(con, warehouse, as_of, data.month)
    cur = data.reporting_currency
    title = f"Monthly review: {_month_label(data.month)}"
    body = (
        f"<h1>{esc(title)}</h1>"
        f"<p class='lead'>Against {esc(_month_label(data.previous_month))}. Data as of "
        f"{as_of:%Y-%m-%d %H:%M} UTC; money in {esc(cur)} (major units); rates are shares of "
        "their population, changes in percentage points (pp).</p>"
        "<section><h2>Headline metrics against their targets</h2>"
        f"{_headline(result, catalog, cfg, data.month, data.previous_month, cur)}</section>"
        "<section><h2>What moved</h2>"
        f"<p class='muted'>In all accounts and in each segment of persona, acquisition "
        f"source, segment and country: a rate moved beyond noise when both months have at "
        f"least {data.min_count} cases and the change is at least 1.96 standard errors "
        "(|z| ≥ 1.96, a two-sided 5% test); largest |z| first; green is good news, red bad "
        "news by the metric's direction.</p>"
        f"{_what_moved(data)}</section>"
        f"<section><h2>MRR bridge</h2>{_bridge(data)}</section>"
        f"<section><h2>Funnel</h2>{funnel}</section>"
        f"<section><h2>Data quality of this build</h2>{quality}</section>"
        "<p class='muted'>Made by <code>upgrade-warehouse review</code>. Definitions: "
        "docs/metrics.md and docs/movers.md.</p>"
    )
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )
    return page, data.month


def review_command(
    out: Annotated[
        Path, typer.Option("--out", help="The HTML file to write (one self-contained file).")
    ],
    month: Annotated[
        str | None,
        typer.Option(
            "--month",
            help="The month to review (YYYY-MM); default: the last month that ended at or "
            "before as_of.",
        ),
    ] = None,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """The monthly review pack for leadership: one HTML file that prints to A4."""
    movers.check_month(month)
    out = Path(out)
    if out.is_dir():
        raise UserError(f"--out {out}: is a folder, not a file name")
    if not out.parent.is_dir():
        raise UserError(f"--out {out}: the folder {out.parent} does not exist")
    try:
        text, month = render(warehouse, month)
    except duckdb.Error as exc:
        raise UserError(f"{warehouse}: cannot read the warehouse: {exc}") from None
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    print(f"wrote the review of {month} to {out}")
