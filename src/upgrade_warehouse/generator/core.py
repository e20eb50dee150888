"""``generate``: simulate the world, write every table of the contract and a manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..contract import TABLES, TABLES_BY_NAME
from . import catalog as cat
from . import frames as fr
from .accounts import make_accounts
from .badrows import RowSource, has_bad_type, make_bad_rows, reasons_for, split
from .billing import build_billing
from .config import GeneratorConfig, Streams
from .downstream import build_crm, build_fx, build_orders, build_sync, build_upsell
from .events import CHUNK_ACCOUNTS, TEXT_SCHEMA, TYPED_SCHEMA, event_chunks
from .experiments import experiments_table
from .funnel import build_funnel
from .lifecycle import simulate_changes
from .pricing import load_price_batch
from .signal import add_signal, build_signal
from .writer import TableSink

# 2: signals before an upgrade; 3: self-serve processing latency; 4: experiments (A/B
# tests with known effects, extra product events only: generator/experiments.py)
GENERATOR_VERSION = "4"
Progress = Callable[[str], None]


def _noop(msg: str) -> None:
    pass


def generate(out_dir: Path, cfg: GeneratorConfig, progress: Progress | None = None) -> dict:
    """Write the data set to ``out_dir``; returns the manifest (also written as
    ``manifest.json``)."""
    cfg.validate()
    say = progress or _noop
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    other = "parquet" if cfg.format == "csv" else "csv"
    for t in TABLES:  # a table present in both formats would be a load error
        stale = out_dir / f"{t.name}.{other}"
        if stale.exists():
            stale.unlink()
    streams = Streams(cfg.seed)

    say("simulating accounts and subscriptions")
    acc = make_accounts(cfg, streams)
    ch = simulate_changes(cfg, streams, acc)
    say("pricing changes and invoices")
    bill = build_billing(cfg, streams, acc, ch)
    say("simulating upgrade flows, payments and eligibility")
    fun = build_funnel(cfg, streams, acc, ch, bill)
    fun = add_signal(fun, *build_signal(cfg, streams, acc, ch))
    # The other tables are built and written by a worker thread while the main thread
    # generates product events (numpy, polars and the writers release the GIL).
    with ThreadPoolExecutor(max_workers=1) as worker:
        others = worker.submit(_other_tables, out_dir, cfg, streams, acc, ch, bill, fun, say)
        events_entry = _product_events(out_dir, cfg, streams, acc, ch, fun, say)
        tables, crm_stats = others.result()
    tables["product_events"] = events_entry

    manifest = {
        "generator": "upgrade-warehouse generate",
        "generator_version": GENERATOR_VERSION,
        "parameters": cfg.as_manifest(),
        "pricing": "simulator.price_batch"
        if load_price_batch()
        else "generator fallback (simulator.md rules)",
        "tables": {t.name: tables[t.name] for t in TABLES},
        "row_counts": {t.name: tables[t.name]["rows"] for t in TABLES},
        "bad_rows": {
            t.name: tables[t.name]["bad_rows"] for t in TABLES if tables[t.name]["bad_rows"]
        },
        "injected_anomalies": {
            "billing_error_changes": int(bill.billing_error.sum()),
            "proration_priced_changes": int(bill.priced.sum()),
            "crm": crm_stats,
        },
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    say("done")
    return manifest


def _other_tables(out_dir, cfg, streams, acc, ch, bill, fun, say) -> tuple[dict, dict]:
    """Every table but product_events, built and written one after the other."""
    say("simulating sync, CRM, offers, orders, fx")
    sync = build_sync(cfg, streams, ch)
    crm, crm_stats = build_crm(cfg, streams, acc, ch, fun, sync)
    upsell = build_upsell(cfg, streams, acc, ch)
    orders = build_orders(cfg, streams, ch)
    fx = build_fx(cfg, streams)
    builders = {
        "accounts": lambda: fr.accounts_frame(acc),
        "plans": cat.plans_frame,
        "subscription_changes": lambda: fr.changes_frame(ch),
        "invoice_lines": lambda: fr.invoice_frame(bill),
        "payment_attempts": lambda: fr.payments_frame(fun.payments),
        "crm_opportunities": lambda: fr.crm_frame(crm),
        "sync_events": lambda: fr.sync_frame(sync),
        "eligibility_checks": lambda: fr.checks_frame(fun.checks),
        "upsell_offers": lambda: fr.upsell_frame(upsell),
        "order_status_events": lambda: fr.orders_frame(orders),
        "fx_rates": lambda: fr.fx_frame(fx),
    }
    tables: dict[str, dict] = {}
    bad_rng = streams.get("bad_rows")
    for name, build in builders.items():
        table = TABLES_BY_NAME[name]
        say(f"writing {name}")
        df = build()
        injected: dict[str, int] = {}
        bad = None
        if cfg.bad_row_rate > 0:
            counts = split(round(cfg.bad_row_rate * df.height), reasons_for(table), True)
            bad, injected = make_bad_rows(table, RowSource(table, df), counts, bad_rng, "0_")
        sink = TableSink(out_dir, table, cfg.format, as_text=has_bad_type(table, cfg.bad_row_rate))
        _write_all(sink, df, bad)
        tables[name] = _entry(sink, df.height, injected)
        del df, bad
    return tables, crm_stats


def _product_events(out_dir, cfg, streams, acc, ch, fun, say) -> dict:
    """product_events, chunk by chunk; a writer thread overlaps writing and generating."""
    table = TABLES_BY_NAME["product_events"]
    as_text = cfg.format == "csv" or has_bad_type(table, cfg.bad_row_rate)
    sink = TableSink(
        out_dir,
        table,
        cfg.format,
        as_text=as_text,
        schema=TEXT_SCHEMA if as_text else TYPED_SCHEMA,
        dictionary_columns=["account_id", "user_id", "event_name"],
    )
    n_chunks = (acc.n + CHUNK_ACCOUNTS - 1) // CHUNK_ACCOUNTS
    valid = 0
    injected: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending: list[Future] = []
        for c, tbl in enumerate(event_chunks(cfg, streams, acc, ch, fun, as_text)):
            say(f"product_events chunk {c + 1}/{n_chunks} ({tbl.num_rows} events)")
            valid += tbl.num_rows
            bad = None
            if cfg.bad_row_rate > 0:
                rng = streams.get("bad_rows_events", c)
                counts = split(round(cfg.bad_row_rate * tbl.num_rows), reasons_for(table), c == 0)
                bad, done = make_bad_rows(table, RowSource(table, tbl), counts, rng, f"{c}_")
                for r, v in done.items():
                    injected[r] = injected.get(r, 0) + v
            while len(pending) >= 2:  # bound the memory held by queued chunks
                pending.pop(0).result()
            pending.append(pool.submit(sink.write, tbl))
            if bad is not None:
                pending.append(pool.submit(sink.write, bad, True))
            del tbl
        # The A/B tests' events (their own random stream and event ids: every row above
        # is the same without them), after the chunks.
        say("product_events: experiments")
        exp_tbl = experiments_table(
            cfg, streams, acc, as_text, TEXT_SCHEMA if as_text else TYPED_SCHEMA
        )
        valid += exp_tbl.num_rows
        pending.append(pool.submit(sink.write, exp_tbl))
        for f in pending:
            f.result()
    sink.close()
    return _entry(sink, valid, injected)


def _write_all(sink: TableSink, df, bad) -> int:
    sink.write(df)
    if bad is not None:
        sink.write(bad, text=True)
    sink.close()
    return sink.rows


def _entry(sink: TableSink, valid: int, injected: dict[str, int]) -> dict:
    return {
        "file": sink.path.name,
        "rows": sink.rows,
        "valid_rows": valid,
        "bad_rows": {r: n for r, n in injected.items() if n},
        "parquet_columns_as_text": bool(sink.fmt == "parquet" and sink.as_text),
    }


__all__ = ["GeneratorConfig", "generate"]
