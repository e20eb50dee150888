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


# --------------------------------------------------------------------------- contract -> Stripe


def _read_contract(folder: Path, table: str) -> pl.DataFrame | None:
    from ..sources.landed import read_landed

    frame = read_landed(folder, table)
    if frame is None:
        return None
    return frame.select([c for c in frame.columns if not c.startswith("_")]).with_columns(
        pl.all().cast(pl.String)
    )


def _t(col: str) -> pl.Expr:
    from ..sources.stripe import ts

    return ts(pl.col(col))


def _iso(e: pl.Expr) -> pl.Expr:
    return e.dt.strftime("%Y-%m-%d %H:%M:%S")


def _manual_invoice(
    invoice_id: str, customer: str, collection_method: str, currency: pl.Expr
) -> list[pl.Expr]:
    """The columns of a paid invoice outside any subscription (billing_reason manual),
    created and finalized at ``__at``."""
    return [
        pl.col(invoice_id).alias("id"),
        pl.col(customer).alias("customer_id"),
        pl.lit(None, dtype=pl.String).alias("subscription_id"),
        pl.lit("paid").alias("status"),
        pl.lit("manual").alias("billing_reason"),
        pl.lit(collection_method).alias("collection_method"),
        _iso(pl.col("__at")).alias("created"),
        _iso(pl.col("__at")).alias("status_transitions_finalized_at"),
        currency.alias("currency"),
        pl.lit("true").alias("livemode"),
        pl.lit("false").alias("is_deleted"),
    ]


def _line(frame, line_id, amount, description, period, kind: str, price) -> pl.DataFrame:
    """An invoice line item of a subscription change: ``period`` (start, end), ``kind``
    the Stripe type (a proration when ``invoiceitem``), ``price`` (plan column, quantity)."""
    (start, end), (plan, quantity) = period, price
    return frame.select(
        line_id.alias("id"),
        ("in_" + pl.col("change_id")).alias("invoice_id"),
        amount.cast(pl.String).alias("amount"),
        pl.col("__cur").alias("currency"),
        description.alias("description"),
        _iso(start).alias("period_start"),
        _iso(end).alias("period_end"),
        pl.lit("true" if kind == "invoiceitem" else "false").alias("proration"),
        pl.lit(kind).alias("type"),
        pl.col("__sub").alias("subscription_id"),
        ("si_" + pl.col("__sub")).alias("subscription_item_id"),
        pl.col(plan).alias("price_id"),
        quantity.cast(pl.String).alias("quantity"),
        pl.lit("true").alias("livemode"),
    )


def contract_to_fivetran(folder: Path) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """The billing tables of a contract-shaped folder as Fivetran lands Stripe, and the
    change ids the rebuilt log will carry (original -> rebuilt), for the tables that
    stay contract-shaped and reference changes.

    Every subscription becomes a Stripe subscription (a new one after each cancellation:
    Stripe never restarts one), one item, and the invoice lines Stripe would write: a
    regular line at creation, a credit and a debit line per prorated change (the lone
    credit and a new regular line for an interval switch), a regular line at the
    effective time of a change made without prorations.
    """
    accounts = _read_contract(folder, "accounts")
    plans = _read_contract(folder, "plans")
    changes = _read_contract(folder, "subscription_changes")
    lines = _read_contract(folder, "invoice_lines")
    attempts = _read_contract(folder, "payment_attempts")
    out: dict[str, pl.DataFrame] = {}
    out["customer"] = accounts.select(
        pl.col("account_id").alias("id"),
        _iso(_t("created_at")).alias("created"),
        pl.col("country").alias("address_country"),
        pl.struct(pl.col("persona"), pl.col("acquisition_source"), pl.col("segment"))
        .struct.json_encode()
        .alias("metadata"),
        pl.lit("true").alias("livemode"),
        pl.lit("false").alias("is_deleted"),
    )
    meta_cols = ["tier_rank", "self_serve", "min_seats", "max_seats", "entitlements"]
    out["price"] = plans.select(
        pl.col("plan_id").alias("id"),
        ("prod_" + pl.col("plan_id")).alias("product_id"),
        pl.col("plan_name").alias("nickname"),
        pl.col("currency").str.to_lowercase().alias("currency"),
        pl.lit("recurring").alias("type"),
        pl.col("billing_interval").alias("recurring_interval"),
        pl.lit("1").alias("recurring_interval_count"),
        pl.col("unit_amount_minor").alias("unit_amount"),
        pl.lit("per_unit").alias("billing_scheme"),
        pl.lit("true").alias("livemode"),
        pl.lit("false").alias("is_deleted"),
        pl.struct([pl.col(c) for c in meta_cols]).struct.json_encode().alias("metadata"),
    )
    out["product"] = plans.select(
        ("prod_" + pl.col("plan_id")).alias("id"),
        pl.col("plan_name").alias("name"),
        pl.lit("{}").alias("metadata"),
        pl.lit("true").alias("livemode"),
        pl.lit("false").alias("is_deleted"),
    )
    info = plans.select(
        "plan_id",
        pl.col("billing_interval").alias("__interval"),
        pl.col("currency").str.to_lowercase().alias("__currency"),
        pl.col("unit_amount_minor").cast(pl.Int64, strict=False).alias("__unit"),
    )
    c = (
        changes.with_columns(
            _t("changed_at").alias("__changed"),
            _t("effective_at").alias("__effective"),
            pl.col("from_quantity").cast(pl.Int64, strict=False),
            pl.col("to_quantity").cast(pl.Int64, strict=False),
        )
        .filter(pl.col("__changed").is_not_null() & pl.col("__effective").is_not_null())
        .sort(["subscription_id", "__effective", "change_id"])
    )
    c = (
        c.join(
            info.rename({"plan_id": "to_plan_id", "__interval": "__to_interval"}).drop(
                "__currency", "__unit"
            ),
            on="to_plan_id",
            how="left",
        )
        .join(
            info.rename({"plan_id": "from_plan_id", "__interval": "__from_interval"}),
            on="from_plan_id",
            how="left",
        )
        .join(
            info.rename(
                {"plan_id": "to_plan_id", "__currency": "__to_currency", "__unit": "__to_unit"}
            ).drop("__interval"),
            on="to_plan_id",
            how="left",
        )
    )
    # A new Stripe subscription after each cancellation.
    c = c.sort(["subscription_id", "__effective", "change_id"]).with_columns(
        pl.col("to_plan_id")
        .is_null()
        .cast(pl.Int32)
        .shift(1, fill_value=0)
        .cum_sum()
        .over("subscription_id")
        .alias("__segment")
    )
    c = c.with_columns(
        pl.when(pl.col("__segment") == 0)
        .then(pl.col("subscription_id"))
        .otherwise(pl.col("subscription_id") + "~" + (pl.col("__segment") + 1).cast(pl.String))
        .alias("__sub"),
        pl.coalesce("__to_currency", "__currency").alias("__cur"),
    )
    created = pl.col("from_plan_id").is_null() & pl.col("to_plan_id").is_not_null()
    cancelled = pl.col("to_plan_id").is_null() & pl.col("from_plan_id").is_not_null()
    prorated = (
        ~created
        & ~cancelled
        & pl.col("proration_behavior")
        .is_in(["create_prorations", "always_invoice"])
        .fill_null(False)
    )
    switch = prorated & (pl.col("__from_interval") != pl.col("__to_interval")).fill_null(False)
    c = c.with_columns(
        pl.when(created)
        .then(pl.lit("created"))
        .when(cancelled)
        .then(pl.lit("cancelled"))
        .when(switch)
        .then(pl.lit("switch"))
        .when(prorated)
        .then(pl.lit("prorated"))
        .otherwise(pl.lit("regular"))
        .alias("__kind")
    )
    period_end = (
        pl.when(pl.col("__to_interval") == "year")
        .then(pl.col("__effective").dt.offset_by("1y"))
        .otherwise(pl.col("__effective").dt.offset_by("1mo"))
    )
    qty_to = pl.col("to_quantity").fill_null(1)
    amounts = (
        lines.filter(pl.col("change_id").is_not_null())
        .group_by("change_id", "line_type")
        .agg(pl.col("amount_minor").cast(pl.Int64, strict=False).sum())
        .pivot("line_type", index="change_id", values="amount_minor")
        if lines is not None and lines.height
        else pl.DataFrame(schema={"change_id": pl.String})
    )
    for col in ("proration_credit", "proration_charge"):
        if col not in amounts.columns:
            amounts = amounts.with_columns(pl.lit(None, dtype=pl.Int64).alias(col))
    c = c.join(
        amounts.select("change_id", "proration_credit", "proration_charge"),
        on="change_id",
        how="left",
    )
    # regular lines: at creation, interval switches and changes without prorations
    regular = _line(
        c.filter(pl.col("__kind").is_in(["created", "switch", "regular"])),
        pl.col("change_id"),
        pl.col("__to_unit") * qty_to,
        pl.col("to_plan_id") + " x " + qty_to.cast(pl.String),
        (pl.col("__effective"), period_end),
        "subscription",
        ("to_plan_id", qty_to),
    )
    pr = c.filter(pl.col("__kind").is_in(["prorated", "switch"]))
    line_end = pl.coalesce(_t("period_end"), period_end)
    credit = _line(
        pr,
        pl.col("change_id") + "~credit",
        pl.col("proration_credit").fill_null(0),
        "Unused time on " + pl.col("from_plan_id"),
        (pl.col("__changed"), line_end),
        "invoiceitem",
        ("from_plan_id", pl.col("from_quantity").fill_null(1)),
    )
    debit = _line(
        pr.filter(pl.col("__kind") == "prorated"),
        pl.col("change_id"),
        pl.col("proration_charge").fill_null(0),
        "Remaining time on " + pl.col("to_plan_id"),
        (pl.col("__changed"), line_end),
        "invoiceitem",
        ("to_plan_id", qty_to),
    )
    one_off = (
        lines.filter(pl.col("line_type") == "one_off").select(
            pl.col("line_id").alias("id"),
            ("in_" + pl.col("invoice_id")).alias("invoice_id"),
            pl.col("amount_minor").alias("amount"),
            pl.col("currency").str.to_lowercase().alias("currency"),
            pl.lit("One-off charge").alias("description"),
            _iso(_t("issued_at")).alias("period_start"),
            _iso(_t("issued_at")).alias("period_end"),
            pl.lit("false").alias("proration"),
            pl.lit("invoiceitem").alias("type"),
            pl.lit(None, dtype=pl.String).alias("subscription_id"),
            pl.lit(None, dtype=pl.String).alias("subscription_item_id"),
            pl.lit(None, dtype=pl.String).alias("price_id"),
            pl.lit("1").alias("quantity"),
            pl.lit("true").alias("livemode"),
            pl.col("account_id").alias("__customer"),
            _t("issued_at").alias("__at"),
        )
        if lines is not None
        else None
    )
    out["invoice_line_item"] = pl.concat(
        [
            regular,
            credit,
            debit,
            *([one_off.drop("__customer", "__at")] if one_off is not None else []),
        ]
    )
    reason = (
        pl.when(pl.col("__kind") == "created")
        .then(pl.lit("subscription_create"))
        .when((pl.col("__kind") == "switch") | (pl.col("proration_behavior") == "always_invoice"))
        .then(pl.lit("subscription_update"))
        .otherwise(pl.lit("subscription_cycle"))
    )
    # payments collected by invoice: their change's invoice is sent, not charged
    by_invoice = (
        attempts.filter(pl.col("payment_method") == "invoice")["change_id"].drop_nulls().unique()
        if attempts is not None
        else pl.Series([], dtype=pl.String)
    )
    invoices = c.filter(pl.col("__kind") != "cancelled").select(
        ("in_" + pl.col("change_id")).alias("id"),
        pl.col("account_id").alias("customer_id"),
        pl.col("__sub").alias("subscription_id"),
        pl.lit("paid").alias("status"),
        reason.alias("billing_reason"),
        pl.when(pl.col("change_id").is_in(by_invoice.implode()))
        .then(pl.lit("send_invoice"))
        .otherwise(pl.lit("charge_automatically"))
        .alias("collection_method"),
        _iso(pl.col("__changed")).alias("created"),
        _iso(pl.col("__changed")).alias("status_transitions_finalized_at"),
        pl.col("__cur").alias("currency"),
        pl.lit("true").alias("livemode"),
        pl.lit("false").alias("is_deleted"),
    )
    frames = [invoices]
    if one_off is not None and one_off.height:
        frames.append(
            one_off.group_by("invoice_id", maintain_order=True)
            .agg(pl.col("__customer").first(), pl.col("__at").first(), pl.col("currency").first())
            .select(
                *_manual_invoice(
                    "invoice_id", "__customer", "charge_automatically", pl.col("currency")
                )
            )
        )
    # subscription versions: at creation; at a cancellation (scheduled: cancel_at_period_end
    # until it ends; ended: canceled)
    first = c.group_by("__sub", maintain_order=True).agg(
        pl.col("account_id").first(),
        pl.col("__effective").filter(pl.col("__kind") == "created").first().alias("__start"),
        pl.col("__effective").first().alias("__first"),
    )
    cancel = (
        c.filter(pl.col("__kind") == "cancelled")
        .group_by("__sub", maintain_order=True)
        .agg(
            pl.col("__changed").first().alias("__canceled_at"),
            pl.col("__effective").first().alias("__ended_at"),
        )
    )
    v = first.join(cancel, on="__sub", how="left").with_columns(
        pl.coalesce("__start", "__first").alias("__start")
    )
    end = max(
        [x for x in (c["__changed"].max(), c["__effective"].max()) if x is not None], default=None
    )

    def version(at: pl.Expr, status: str, cape: str, canceled: bool, ended: bool) -> list[pl.Expr]:
        return [
            pl.col("__sub").alias("id"),
            _iso(at).alias("_fivetran_start"),
            pl.col("account_id").alias("customer_id"),
            pl.lit(status).alias("status"),
            _iso(pl.col("__start")).alias("start_date"),
            _iso(pl.col("__start")).alias("created"),
            pl.lit(cape).alias("cancel_at_period_end"),
            (_iso(pl.col("__canceled_at")) if canceled else pl.lit(None, dtype=pl.String)).alias(
                "canceled_at"
            ),
            (_iso(pl.col("__ended_at")) if canceled else pl.lit(None, dtype=pl.String)).alias(
                "cancel_at"
            ),
            (_iso(pl.col("__ended_at")) if ended else pl.lit(None, dtype=pl.String)).alias(
                "ended_at"
            ),
            pl.lit("true").alias("livemode"),
            pl.lit("{}").alias("metadata"),
        ]

    versions = [v.select(version(pl.col("__start"), "active", "false", False, False))]
    has_cancel = v.filter(pl.col("__canceled_at").is_not_null())
    scheduled = has_cancel.filter(pl.col("__ended_at") > pl.col("__canceled_at"))
    versions.append(
        scheduled.select(version(pl.col("__canceled_at"), "active", "true", True, False))
    )
    ended = has_cancel.filter(pl.lit(end is None) | (pl.col("__ended_at") <= pl.lit(end)))
    versions.append(ended.select(version(pl.col("__ended_at"), "canceled", "true", True, True)))
    out["subscription_history"] = pl.concat(versions).sort("id", "_fivetran_start")
    last = (
        c.filter(pl.col("to_plan_id").is_not_null())
        .group_by("__sub", maintain_order=True)
        .agg(
            pl.col("to_plan_id").last(), qty_to.last().alias("__qty"), pl.col("__effective").first()
        )
    )
    out["subscription_item"] = last.select(
        ("si_" + pl.col("__sub")).alias("id"),
        pl.col("__sub").alias("subscription_id"),
        pl.col("to_plan_id").alias("price_id"),
        pl.col("__qty").cast(pl.String).alias("quantity"),
        _iso(pl.col("__effective")).alias("created"),
        pl.lit("true").alias("livemode"),
        pl.lit("false").alias("is_deleted"),
    )
    # payment attempts -> charges, their payment methods and (when not paying a change) invoices
    if attempts is not None:
        a = attempts.with_columns(_t("attempted_at").alias("__at"))
        inv_ids = pl.concat(frames)["id"]
        a = a.with_columns(
            pl.when(("in_" + pl.col("change_id")).is_in(inv_ids.implode()).fill_null(False))
            .then("in_" + pl.col("change_id"))
            .when(pl.col("payment_method") == "invoice")
            .then("in_pay_" + pl.col("attempt_id"))
            .alias("__invoice")
        )
        standalone = a.filter(pl.col("__invoice").str.starts_with("in_pay_").fill_null(False))
        if standalone.height:
            frames.append(
                standalone.select(
                    *_manual_invoice(
                        "__invoice",
                        "account_id",
                        "send_invoice",
                        pl.col("currency").str.to_lowercase(),
                    )
                )
            )
        method = pl.col("payment_method")
        out["charge"] = a.select(
            pl.col("attempt_id").alias("id"),
            pl.col("account_id").alias("customer_id"),
            pl.col("__invoice").alias("invoice_id"),
            pl.when(method != "invoice")
            .then("pm_" + pl.col("attempt_id"))
            .alias("payment_method_id"),
            pl.col("amount_minor").alias("amount"),
            pl.col("currency").str.to_lowercase().alias("currency"),
            pl.col("status"),
            pl.col("failure_code"),
            _iso(pl.col("__at")).alias("created"),
            pl.lit("true").alias("livemode"),
        )
        pm = a.filter(method != "invoice")
        out["payment_method"] = pm.select(
            ("pm_" + pl.col("attempt_id")).alias("id"),
            pl.when(method == "bank_debit")
            .then(pl.lit("sepa_debit"))
            .otherwise(pl.lit("card"))
            .alias("type"),
            _iso(
                pl.when(method == "saved_card")
                .then(pl.col("__at").dt.offset_by("-1d"))
                .otherwise(pl.col("__at"))
            ).alias("created"),
            pl.col("account_id").alias("customer_id"),
            pl.lit("true").alias("livemode"),
        )
        out["payment_method_card"] = pm.filter(method != "bank_debit").select(
            ("pm_" + pl.col("attempt_id")).alias("payment_method_id"),
            pl.lit("visa").alias("brand"),
            pl.when(method == "wallet").then(pl.lit("apple_pay")).alias("wallet_type"),
        )
    out["invoice"] = pl.concat(frames, how="diagonal_relaxed")
    # the rebuilt change ids
    state_same = (pl.col("from_plan_id") == pl.col("to_plan_id")) & (
        pl.col("from_quantity") == pl.col("to_quantity")
    )
    ids = c.select(
        "change_id",
        pl.when(pl.col("__kind") == "created")
        .then(pl.col("__sub") + ":created")
        .when(pl.col("__kind") == "cancelled")
        .then(pl.col("__sub") + ":canceled")
        .when(pl.col("__kind") == "regular")
        .then(
            pl.col("change_id")
            + pl.when(state_same.fill_null(False))
            .then(pl.lit(":renewal"))
            .otherwise(pl.lit(":changed"))
        )
        .otherwise(pl.col("change_id"))
        .alias("__new"),
    )
    return out, dict(ids.iter_rows())


REFERENCING = ("crm_opportunities", "sync_events", "upsell_offers", "order_status_events")


def rewrite_change_ids(folder: Path, out: Path, ids: dict[str, str]) -> list[str]:
    """The contract tables other than billing, copied to ``out`` with their change ids
    renamed to the rebuilt log's (product_events' ``properties.change_id`` too)."""
    from ..sources.landed import landed_file

    mapping = pl.DataFrame(
        {"__old": list(ids), "__new": list(ids.values())},
        schema={"__old": pl.String, "__new": pl.String},
    )
    written = []
    out.mkdir(parents=True, exist_ok=True)
    from .. import contract

    for table in contract.TABLES:
        if table.name in BILLING_TABLES:
            continue
        path = landed_file(folder, table.name)
        if path is None:
            continue
        frame = _read_contract(folder, table.name)
        if table.name in REFERENCING and "change_id" in frame.columns:
            frame = (
                frame.join(
                    mapping,
                    left_on="change_id",
                    right_on="__old",
                    how="left",
                    maintain_order="left",
                )
                .with_columns(pl.coalesce("__new", "change_id").alias("change_id"))
                .drop("__new")
            )
        if table.name == "product_events" and "properties" in frame.columns:
            old = pl.col("properties").str.extract(r'"change_id"\s*:\s*"([^"]*)"', 1)
            frame = frame.with_columns(old.alias("__old")).join(
                mapping, on="__old", how="left", maintain_order="left"
            )
            pre = pl.col("properties").str.extract(r'^(.*"change_id"\s*:\s*")[^"]*"', 1)
            post = pl.col("properties").str.extract(r'"change_id"\s*:\s*"[^"]*(".*)$', 1)
            frame = frame.with_columns(
                pl.when(pl.col("__new").is_not_null())
                .then(pre + pl.col("__new") + post)
                .otherwise(pl.col("properties"))
                .alias("properties")
            ).drop("__old", "__new")
        frame.write_csv(out / f"{table.name}.csv")
        written.append(table.name)
    return written


SOURCES_YML = """# Written by `upgrade-warehouse generate --shape {shape}` (docs/sources.md).
billing: {{shape: {shape}, path: stripe}}
contract: {{path: contract}}
options:
  livemode: true
  account_key: id
  initiated_by: customer
"""


def write_stripe_shape(contract_dir: Path, out: Path, shape: str) -> dict[str, int]:
    """A Stripe-shaped data set in ``out``: ``stripe/`` (the billing tables in ``shape``),
    ``contract/`` (the other tables), ``sources.yml``. Returns rows per Stripe table."""
    tables, ids = contract_to_fivetran(contract_dir)
    if shape == "airbyte_stripe":
        tables = fivetran_to_airbyte(tables)
    write_tables(tables, out / "stripe")
    rewrite_change_ids(contract_dir, out / "contract", ids)
    (out / "sources.yml").write_text(SOURCES_YML.format(shape=shape))
    return {name: frame.height for name, frame in tables.items()}


def _stripe_writer(shape: str):
    return lambda contract_dir, out: write_stripe_shape(contract_dir, out, shape)


# shape -> writer(contract folder, out folder): `generate --shape`. The events and CRM
# shapes (issue 31: segment, rudderstack, fivetran_salesforce, fivetran_hubspot) add one
# line each.
def _other_writers() -> dict[str, Callable[[Path, Path], dict[str, int]]]:
    from .source_shapes import WRITERS

    return WRITERS


SHAPE_WRITERS: dict[str, Callable[[Path, Path], dict[str, int]]] = {
    "fivetran_stripe": _stripe_writer("fivetran_stripe"),
    "airbyte_stripe": _stripe_writer("airbyte_stripe"),
    **_other_writers(),
}
