"""Stripe-shaped data sets (``generate --shape fivetran_stripe|airbyte_stripe``).

:func:`contract_to_fivetran` turns a contract-shaped data set's billing tables
(accounts, plans, subscription_changes, invoice_lines, payment_attempts) into the tables
Fivetran lands for Stripe; :func:`fivetran_to_airbyte` turns those into Airbyte's
streams (plural names, epoch seconds, foreign keys without ``_id``, nested JSON text).
The other tables stay contract-shaped (sources.yml's ``contract`` role). What Stripe
cannot hold is lost on the way (docs/sources.md "What is lost"): a change made without
prorations shows at the next period's invoice line; the changes' channel, reason_code
and initiated_by; eligibility, CRM, events, sync and order tables are left as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

BILLING_TABLES = ("accounts", "plans", "subscription_changes", "invoice_lines", "payment_attempts")
TS_COLUMNS = {
    "created",
    "start_date",
    "canceled_at",
    "cancel_at",
    "ended_at",
    "current_period_start",
    "current_period_end",
    "status_transitions_finalized_at",
    "period_start",
    "period_end",
    "_fivetran_start",
}
AIRBYTE_NAMES = {
    "customer": "customers",
    "price": "prices",
    "product": "products",
    "subscription_history": "subscriptions",
    "subscription_item": "subscription_items",
    "invoice": "invoices",
    "invoice_line_item": "invoice_line_items",
    "charge": "charges",
    "payment_method": "payment_methods",
    "invoice_payment": "invoice_payments",
}
FK_RENAMES = {
    "customer_id": "customer",
    "subscription_id": "subscription",
    "invoice_id": "invoice",
    "product_id": "product",
    "payment_method_id": "payment_method",
    "payment_intent_id": "payment_intent",
    "subscription_item_id": "subscription_item",
    "charge_id": "charge",
}


def _epoch(value, as_float: bool) -> object:
    if value is None or value == "":
        return None
    text = str(value).strip().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    ts = datetime.fromisoformat(text)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    seconds = ts.timestamp()
    return seconds if as_float else int(seconds)


def _js(obj) -> str | None:
    if obj is None:
        return None
    return json.dumps(obj, separators=(",", ":"))


def _nonempty(v):
    return None if v is None or v == "" else v


def fivetran_to_airbyte(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Fivetran's Stripe tables as Airbyte's streams (the same data under other names)."""
    out: dict[str, pl.DataFrame] = {}
    cards = {}
    if "payment_method_card" in tables:
        for row in tables["payment_method_card"].iter_rows(named=True):
            cards[row["payment_method_id"]] = row.get("wallet_type")
    for name, frame in tables.items():
        if name not in AIRBYTE_NAMES:
            continue
        rows = []
        for i, row in enumerate(frame.iter_rows(named=True)):
            new: dict = {}
            # integers for most tables, floats for charges and every other line (both occur)
            as_float = name == "charge" or (name == "invoice_line_item" and i % 2 == 1)
            nested: dict[str, dict] = {}
            for col, value in row.items():
                value = _nonempty(value)
                if col.startswith("_fivetran") and col != "_fivetran_start":
                    continue
                if col == "_fivetran_start":
                    new["updated"] = _epoch(value, False)
                elif col in ("period_start", "period_end"):
                    nested.setdefault("period", {})[col.split("_")[1]] = _epoch(value, as_float)
                elif col == "status_transitions_finalized_at":
                    nested.setdefault("status_transitions", {})["finalized_at"] = _epoch(
                        value, False
                    )
                elif col in TS_COLUMNS:
                    new[col] = _epoch(value, as_float)
                elif col == "address_country":
                    nested.setdefault("address", {})["country"] = value
                elif col in ("recurring_interval", "recurring_interval_count"):
                    if value is not None:
                        key = col.removeprefix("recurring_")
                        nested.setdefault("recurring", {})[key] = (
                            int(value) if key == "interval_count" else value
                        )
                elif col.startswith("parent_"):
                    if col == "parent_type":
                        if value is not None:
                            nested.setdefault("parent", {})["type"] = value
                    elif value is not None:
                        key = col.removeprefix("parent_subscription_item_details_")
                        details = nested.setdefault("parent", {}).setdefault(
                            "subscription_item_details", {}
                        )
                        details[key] = value == "true" if key == "proration" else value
                elif col == "pricing_price_details_price":
                    if value is not None:
                        nested["pricing"] = {"price_details": {"price": value}}
                elif col.startswith("payment_") and name == "invoice_payment":
                    key = col.removeprefix("payment_").removesuffix("_id")
                    if value is not None:
                        nested.setdefault("payment", {})[key] = value
                elif col == "price_id" and name in ("subscription_item", "invoice_line_item"):
                    new["price"] = _js({"id": value, "object": "price"}) if value else None
                elif col == "plan_id" and name in ("subscription_item", "invoice_line_item"):
                    continue  # Airbyte: the price object only
                elif col in FK_RENAMES:
                    new[FK_RENAMES[col]] = value
                else:
                    new[col] = value
            for key, obj in nested.items():
                new[key] = _js(obj)
            if name == "payment_method":
                wallet = cards.get(row["id"])
                new["card"] = (
                    _js({"wallet": {"type": wallet} if wallet else None})
                    if row["id"] in cards
                    else None
                )
            rows.append(new)
        columns: dict[str, None] = {}
        for r in rows:
            columns.update(dict.fromkeys(r))
        out[AIRBYTE_NAMES[name]] = pl.DataFrame(
            [{c: (None if r.get(c) is None else str(r.get(c))) for c in columns} for r in rows],
            schema=dict.fromkeys(columns, pl.String),
        )
    return out


def write_tables(tables: dict[str, pl.DataFrame], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.write_csv(folder / f"{name}.csv")


def read_folder(folder: Path) -> dict[str, pl.DataFrame]:
    return {p.stem: pl.read_csv(p, infer_schema=False) for p in sorted(Path(folder).glob("*.csv"))}


# shape -> writer(contract folder, out folder) (sources.yml's role and the files); the
# events and CRM shapes (issue 31) add one line each.
ShapeWriter = Callable[[Path, Path], tuple[str, str]]
