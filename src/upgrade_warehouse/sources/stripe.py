"""Stripe as Fivetran or Airbyte land it -> the raw contract (sources.md "Stripe").

Two steps:

1. *canonical*: each landed table (Fivetran's singular names and flattened columns, or
   Airbyte's plural streams with epoch seconds, foreign keys without ``_id`` and nested
   JSON text; either Stripe API spelling of invoice-line fields) gets the same canonical
   columns (``__id``, ``__created``, ...) next to its own; the rows as they came stay
   for the quarantine's ``raw_row``. The livemode and deleted skips happen here.
2. *mapping*: accounts, plans, subscription_changes (rules 1-5, rebuilt from invoice
   lines), invoice_lines and payment_attempts from the canonical frames, all set-based
   polars (joins, group-bys, as-of joins): no per-row Python.

Every source row is mapped, skipped by a named rule (counted) or quarantined with a
reason (``unmappable``, ``unsupported_interval``, ``unknown_reference``, ...).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ..contract import CHANGE_MOVE
from .base import ShapeOutput, SourceCounts
from .landed import (
    ROW_NUMBER,
    SOURCE_FILE,
    _as_text,
    empty_quarantine,
    quarantine_rows,
    read_landed,
)

SHAPES = ("fivetran_stripe", "airbyte_stripe")

# canonical role -> landed table names, in order of preference, per shape
NAMES = {
    "fivetran_stripe": {
        "customer": ("customer",),
        "price": ("price",),
        "plan": ("plan",),
        "product": ("product",),
        "subscription": ("subscription_history", "subscription"),
        "subscription_current": ("subscription",),
        "item": ("subscription_item",),
        "invoice": ("invoice",),
        "line": ("invoice_line_item",),
        "charge": ("charge",),
        "payment_method": ("payment_method",),
        "card": ("payment_method_card",),
        "invoice_payment": ("invoice_payment",),
    },
    "airbyte_stripe": {
        "customer": ("customers",),
        "price": ("prices",),
        "plan": ("plans",),
        "product": ("products",),
        "subscription": ("subscriptions",),
        "subscription_current": (),
        "item": ("subscription_items",),
        "invoice": ("invoices",),
        "line": ("invoice_line_items",),
        "charge": ("charges",),
        "payment_method": ("payment_methods",),
        "card": (),
        "invoice_payment": ("invoice_payments",),
    },
}
# canonical role -> the contract table its rows are counted under
COUNTED_UNDER = {
    "customer": "accounts",
    "price": "plans",
    "plan": "plans",
    "subscription_current": "subscription_changes",
    "product": "plans",
    "subscription": "subscription_changes",
    "item": "subscription_changes",
    "invoice": "invoice_lines",
    "line": "invoice_lines",
    "charge": "payment_attempts",
    "payment_method": "payment_attempts",
    "card": "payment_attempts",
    "invoice_payment": "payment_attempts",
}
FINALIZED = ("open", "paid", "uncollectible")
BANK_DEBIT = ("us_bank_account", "sepa_debit", "bacs_debit", "acss_debit")
SAVED_CARD_SECONDS = 60
NEVER_STARTED = ("incomplete", "incomplete_expired")
TS_OUT = "%Y-%m-%dT%H:%M:%S%.6fZ"

CHANGE_COLUMNS = (
    "change_id",
    "subscription_id",
    "account_id",
    "changed_at",
    "effective_at",
    "from_plan_id",
    "to_plan_id",
    "from_quantity",
    "to_quantity",
    "initiated_by",
    "channel",
    "period_start",
    "period_end",
    "proration_behavior",
    "reason_code",
)


# --------------------------------------------------------------------------- parsing


def ts(e: pl.Expr) -> pl.Expr:
    """Text -> naive UTC datetime: ISO 8601 (with Z, an offset, a space or a T), a date,
    or Unix epoch seconds (an integer or a float, as Airbyte writes them). The text is
    first brought to one form (``YYYY-MM-DDTHH:MM:SS[.f]+HH:MM``), then parsed once."""
    t = e.str.strip_chars()
    iso = (
        t.str.replace(r"(?i) ?UTC$", "Z")
        .str.replace(r"^(\d{4}-\d\d-\d\d)$", "${1}T00:00:00")
        .str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T")
        .str.replace(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d)([^:\d]|$)", "${1}:00${2}")
        .str.replace(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)$", "${1}+00:00")
        .str.replace(r"[Zz]$", "+00:00")
        .str.replace(r"([+-]\d\d)$", "${1}:00")
        .str.replace(r"([+-]\d\d)(\d\d)$", "${1}:${2}")
    )
    epoch = (
        pl.when(t.str.contains(r"^-?\d+(\.\d+)?$"))
        .then((t.cast(pl.Float64, strict=False) * 1_000_000).round(0).cast(pl.Int64))
        .cast(pl.Datetime("us"))
    )
    return pl.coalesce(
        epoch,
        iso.str.to_datetime(
            "%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_zone="UTC", time_unit="us"
        ).dt.replace_time_zone(None),
    )


def _epoch(text: pl.Series) -> pl.Series:
    numbers = text.cast(pl.Float64, strict=False)
    return (numbers * 1_000_000).round(0).cast(pl.Int64).cast(pl.Datetime("us"))


_FAST_TIMES = (
    lambda t: t.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us"),
    lambda t: t.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us"),
    lambda t: t.str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", strict=False, time_unit="us"),
    _epoch,
)


def boolean(e: pl.Expr) -> pl.Expr:
    t = e.str.strip_chars().str.to_lowercase()
    return (
        pl.when(t.is_in(["true", "t", "1", "yes"]))
        .then(True)
        .when(t.is_in(["false", "f", "0", "no"]))
        .then(False)
        .otherwise(None)
    )


def integer(e: pl.Expr) -> pl.Expr:
    return e.str.strip_chars().str.replace(r"\.0*$", "").cast(pl.Int64, strict=False)


def ts_text(e: pl.Expr) -> pl.Expr:
    return e.dt.strftime(TS_OUT)


class Landed:
    """A landed table's columns found by name, whatever the shape spelled them."""

    def __init__(self, name: str, frame: pl.DataFrame) -> None:
        self.name = name
        self.frame = frame
        self.names = {}
        for c in frame.columns:
            key = c.strip().lower().replace(".", "_")
            self.names.setdefault(key, c)

    def text(self, name: str) -> pl.Expr | None:
        c = self.names.get(name)
        if c is None:
            return None
        return _as_text(self.frame, c)

    def json(self, name: str, path: str) -> pl.Expr | None:
        e = self.text(name)
        if e is None:
            return None
        return pl.when(e.str.starts_with("{")).then(e.str.json_path_match(path))

    def ref(self, name: str) -> pl.Expr | None:
        """A foreign key column: an id, or (Airbyte, expanded) a JSON object with its id."""
        e = self.text(name)
        if e is None:
            return None
        return pl.when(e.str.starts_with("{")).then(e.str.json_path_match("$.id")).otherwise(e)

    def pick(self, *candidates) -> pl.Expr:
        """The first non-null of the candidates: a column name (an id or JSON object's
        id when ``ref``), or ``(column, "$.json.path")``."""
        exprs = []
        for cand in candidates:
            if isinstance(cand, tuple) and cand[1] is None:
                e = self.text(cand[0])  # the text as it is (a JSON object: metadata)
            elif isinstance(cand, tuple):
                e = self.json(*cand)
            else:
                e = self.ref(cand)
            if e is not None:
                exprs.append(e.cast(pl.String))
        if not exprs:
            return pl.lit(None, dtype=pl.String)
        out = pl.coalesce(exprs) if len(exprs) > 1 else exprs[0]
        return pl.when(out.str.strip_chars() != "").then(out)

    def time(self, *candidates) -> pl.Expr:
        """:func:`ts` of the first non-null candidate, parsed a column at a time: when
        every value has one common form (Fivetran's ``2024-01-05 00:00:00``, ISO with
        ``Z``, epoch seconds) one fast parse does; otherwise the general one."""
        text = self.frame.select(self.pick(*candidates).alias("t")).to_series()
        present = text.len() - text.null_count()
        if present == 0:  # (a column none of the candidates names is one null literal)
            return pl.lit(None, dtype=pl.Datetime("us"))
        for fast in _FAST_TIMES:
            parsed = fast(text)
            if parsed.len() - parsed.null_count() == present:
                return pl.lit(parsed)
        return pl.lit(pl.select(ts(pl.lit(text))).to_series())

    def has(self, *names: str) -> bool:
        return any(n in self.names for n in names)


# --------------------------------------------------------------------------- the mapping


class _Mapper:
    def __init__(self, folder: Path, shape: str, options: dict, group_traits) -> None:
        self.folder = Path(folder)
        self.shape = shape
        self.options = options
        self.group_traits = group_traits
        self.out = ShapeOutput()
        self.quarantine: list[pl.DataFrame] = []
        self.landed: dict[str, Landed] = {}
        self.processed: set[str] = set()
        for role, names in NAMES[shape].items():
            taken = {src.name for src in self.landed.values()}
            for name in names:
                if name in taken:
                    continue
                frame = read_landed(self.folder, name)
                if frame is not None:
                    self.landed[role] = Landed(name, frame)
                    counts = SourceCounts(read=frame.height)
                    self.out.sources.setdefault(COUNTED_UNDER[role], {})[name] = counts
                    break

    # ---- helpers

    def counts(self, role: str) -> SourceCounts:
        src = self.landed[role]
        return self.out.sources[COUNTED_UNDER[role]][src.name]

    def frame(self, role: str, **canonical: pl.Expr) -> pl.DataFrame | None:
        """The landed frame with canonical columns ``__<name>``, after the livemode and
        deleted skips (counted)."""
        src = self.landed.get(role)
        if src is None:
            return None
        f = src.frame.with_columns(
            *[e.alias(f"__{k}") for k, e in canonical.items()],
            boolean(src.pick("livemode")).alias("__livemode"),
            pl.any_horizontal(
                [
                    boolean(src.pick(c)).fill_null(False)
                    for c in ("is_deleted", "deleted", "_fivetran_deleted")
                ]
            ).alias("__deleted"),
        )
        self.processed.add(role)
        counts = self.counts(role)
        live = self.options.get("livemode", True)
        wrong_mode = pl.col("__livemode").is_not_null() & (pl.col("__livemode") != live)
        counts.skip("livemode", f.filter(wrong_mode).height)
        f = f.filter(~wrong_mode)
        counts.skip("is_deleted", f.filter(pl.col("__deleted")).height)
        return f.filter(~pl.col("__deleted"))

    def quarantined(
        self, role: str, rows: pl.DataFrame, reason: str | pl.Expr, column: str | pl.Expr
    ) -> None:
        if rows.height == 0:
            return
        src = self.landed[role]
        q = quarantine_rows(rows, src.name, reason, column)
        counts = self.counts(role)
        for r, n in q.group_by("reason_code").len().iter_rows():
            counts.quarantined_by_reason[r] = counts.quarantined_by_reason.get(r, 0) + n
        self.quarantine.append(q)

    def _mapped(self, role: str, n: int) -> None:
        if role in self.landed:
            self.counts(role).mapped += n

    # ---- accounts

    def accounts(self) -> None:
        src = self.landed.get("customer")
        if src is None:
            self.customer_account = pl.DataFrame(
                schema={"customer_id": pl.String, "account_id": pl.String}
            )
            return
        key = self.options.get("account_key", "id")
        if key.startswith("metadata."):
            key_expr = src.pick(("metadata", f"$.{key.split('.', 1)[1]}"))
        else:
            key_expr = src.pick(key.lower().replace(".", "_"))
        f = self.frame(
            "customer",
            id=src.pick("id"),
            key=key_expr,
            created=src.time("created"),
            created_text=src.pick("created"),
            country=src.pick("address_country", ("address", "$.country")),
            persona=src.pick(("metadata", "$.persona")),
            acquisition_source=src.pick(("metadata", "$.acquisition_source")),
            segment=src.pick(("metadata", "$.segment")),
        )
        no_key = f.filter(pl.col("__key").is_null())
        self.quarantined("customer", no_key, "missing_required", f"account_key ({key})")
        f = f.filter(pl.col("__key").is_not_null())
        f = f.sort(["__created", "__id"], nulls_last=True).with_columns(
            (pl.int_range(pl.len()).over("__key") == 0).alias("__first")
        )
        self.counts("customer").skip("merged_customer", f.filter(~pl.col("__first")).height)
        self.customer_account = f.select(
            pl.col("__id").alias("customer_id"), pl.col("__key").alias("account_id")
        ).unique("customer_id", keep="first")
        kept = f.filter(pl.col("__first")).sort(ROW_NUMBER)
        self._mapped("customer", kept.height)
        accounts = kept.select(
            pl.col("__key").alias("account_id"),
            pl.coalesce(ts_text(pl.col("__created")), pl.col("__created_text")).alias("created_at"),
            pl.col("__persona").alias("persona"),
            pl.col("__acquisition_source").alias("acquisition_source"),
            pl.col("__segment").alias("segment"),
            pl.col("__country").str.to_uppercase().alias("country"),
            pl.lit(None, dtype=pl.String).alias("account_manager_id"),
        )
        traits = self.group_traits
        if traits is not None and traits.height and "account_id" in traits.columns:
            keep = [c for c in ("persona", "acquisition_source", "segment") if c in traits.columns]
            t = traits.select(
                pl.col("account_id").cast(pl.String),
                *[pl.col(c).cast(pl.String).alias(f"__t_{c}") for c in keep],
            ).unique("account_id", keep="last")
            accounts = accounts.join(t, on="account_id", how="left", maintain_order="left")
            accounts = accounts.with_columns(
                [pl.coalesce(pl.col(c), pl.col(f"__t_{c}")).alias(c) for c in keep]
            ).drop([f"__t_{c}" for c in keep])
        self.out.tables["accounts"] = accounts.with_columns(pl.lit(src.name).alias("_source_table"))

    # ---- plans

    def _prices(self, role: str, price_ids: pl.DataFrame | None) -> pl.DataFrame | None:
        """The recurring prices of ``price`` (or the legacy ``plan`` table) that map, in
        canonical columns; skips and quarantines counted."""
        src = self.landed.get(role)
        if src is None:
            return None
        legacy = role == "plan"
        f = self.frame(
            role,
            id=src.pick("id"),
            currency=src.pick("currency").str.to_uppercase(),
            nickname=src.pick("nickname"),
            product=src.pick("product_id", "product"),
            type=src.pick("type") if not legacy else pl.lit("recurring"),
            interval=src.pick(
                "recurring_interval", ("recurring", "$.interval"), "interval"
            ).str.to_lowercase(),
            count=integer(
                src.pick(
                    "recurring_interval_count", ("recurring", "$.interval_count"), "interval_count"
                )
            ),
            unit_amount=src.pick("unit_amount", "amount"),
            metadata=src.pick(("metadata", None)),
        )
        if price_ids is not None:  # a plan that is also a price: the price maps
            same = pl.col("__id").is_in(price_ids["__id"].implode()).fill_null(False)
            self.counts(role).skip("same_as_price", f.filter(same).height)
            f = f.filter(~same)
        one_time = pl.col("__type").str.to_lowercase() == "one_time"
        self.counts(role).skip("one_time_price", f.filter(one_time.fill_null(False)).height)
        f = f.filter(~one_time.fill_null(False))
        bad_interval = ~(
            pl.col("__interval").is_in(["month", "year"]) & (pl.col("__count").fill_null(1) == 1)
        ).fill_null(False)
        self.quarantined(
            role,
            f.filter(bad_interval),
            "unsupported_interval",
            pl.when(pl.col("__interval").is_in(["month", "year"]).fill_null(False))
            .then(pl.lit("recurring_interval_count"))
            .otherwise(pl.lit("recurring_interval")),
        )
        f = f.filter(~bad_interval)
        no_amount = pl.col("__unit_amount").is_null()
        self.quarantined(role, f.filter(no_amount), "unmappable", "unit_amount")
        f = f.filter(~no_amount).sort(ROW_NUMBER)
        self._mapped(role, f.height)
        return f.select(
            "__id",
            "__currency",
            "__nickname",
            "__product",
            "__interval",
            "__unit_amount",
            "__metadata",
            pl.lit(src.name).alias("_source_table"),
        )

    def plans(self) -> None:
        prices = self._prices("price", None)
        legacy = self._prices("plan", prices)
        frames = [f for f in (prices, legacy) if f is not None]
        if not frames:
            self.plan_ids = pl.DataFrame(schema={"plan_id": pl.String})
            return
        f = pl.concat(frames)
        products = self._products()
        f = f.join(
            products, left_on="__product", right_on="__pid", how="left", maintain_order="left"
        )

        def meta(key: str) -> pl.Expr:
            return pl.coalesce(
                pl.col("__metadata").str.json_path_match(f"$.{key}"),
                pl.col("__pmeta").str.json_path_match(f"$.{key}"),
            )

        amount = integer(pl.col("__unit_amount"))
        annual = amount * pl.when(pl.col("__interval") == "month").then(12).otherwise(1)
        plans = f.select(
            pl.col("__id").alias("plan_id"),
            pl.coalesce(pl.col("__nickname"), pl.col("__pname")).alias("plan_name"),
            meta("tier_rank").alias("tier_rank"),
            pl.col("__interval").alias("billing_interval"),
            pl.coalesce(amount.cast(pl.String), pl.col("__unit_amount")).alias("unit_amount_minor"),
            pl.col("__currency").alias("currency"),
            meta("self_serve").alias("self_serve"),
            meta("min_seats").alias("min_seats"),
            meta("max_seats").alias("max_seats"),
            meta("entitlements").alias("entitlements"),
            (annual.rank("dense").over("__currency") - 1).cast(pl.String).alias("__rank"),
            pl.col("_source_table"),
        )
        plans = self._overlay(plans)
        plans = plans.with_columns(
            pl.coalesce(pl.col("tier_rank"), pl.col("__rank")).alias("tier_rank"),
            pl.col("self_serve").fill_null("true"),
        ).drop("__rank")
        self.plan_ids = plans.select("plan_id")
        self.out.tables["plans"] = plans

    def _products(self) -> pl.DataFrame:
        src = self.landed.get("product")
        schema = {"__pid": pl.String, "__pname": pl.String, "__pmeta": pl.String}
        if src is None:
            return pl.DataFrame(schema=schema)
        f = self.frame(
            "product",
            pid=src.pick("id"),
            pname=src.pick("name"),
            pmeta=src.pick(("metadata", None)),
        )
        self._mapped("product", f.height)
        return f.select("__pid", "__pname", "__pmeta").unique("__pid", keep="first")

    def _overlay(self, plans: pl.DataFrame) -> pl.DataFrame:
        path = self.options.get("_plans_overlay")
        if not path:
            return plans
        path = Path(path)
        overlay = read_landed(path.parent, path.stem)
        if overlay is None or "plan_id" not in overlay.columns:
            return plans
        cols = [
            c
            for c in plans.columns
            if c not in ("plan_id", "__rank", "_source_table") and c in overlay.columns
        ]
        o = overlay.select(
            pl.col("plan_id").cast(pl.String),
            *[_as_text(overlay, c).alias(f"__o_{c}") for c in cols],
        ).unique("plan_id", keep="first")
        plans = plans.join(o, on="plan_id", how="left", maintain_order="left")
        return plans.with_columns(
            [
                pl.coalesce(
                    pl.when(pl.col(f"__o_{c}").str.strip_chars() != "").then(pl.col(f"__o_{c}")),
                    pl.col(c),
                ).alias(c)
                for c in cols
            ]
        ).drop([f"__o_{c}" for c in cols])

    # ---- subscriptions, items, invoices, lines

    def subscriptions(self) -> None:
        src = self.landed.get("subscription")
        schema = {"__sub": pl.String}
        self.kept_subs = pl.DataFrame(schema=schema)
        self.never_started = pl.DataFrame(schema=schema)
        self.versions = None
        if src is None:
            return
        f = self.frame(
            "subscription",
            id=src.pick("id"),
            customer=src.pick("customer_id", "customer"),
            status=src.pick("status").str.to_lowercase(),
            start=src.time("start_date"),
            created=src.time("created"),
            canceled_at=src.time("canceled_at"),
            cancel_at=src.time("cancel_at"),
            cape=boolean(src.pick("cancel_at_period_end")),
            ended_at=src.time("ended_at"),
            cpe=src.time(
                "current_period_end",
                ("items", "$.data[0].current_period_end"),
            ),
            metadata=src.pick(("metadata", None)),
            version=src.time(
                "_fivetran_start", "updated", "_airbyte_extracted_at", "_airbyte_emitted_at"
            ),
        )
        f = f.sort(["__id", "__version", ROW_NUMBER], nulls_last=False)
        started = f.group_by("__id").agg(
            (~pl.col("__status").is_in(NEVER_STARTED).fill_null(False)).any().alias("__ok")
        )
        never = started.filter(~pl.col("__ok")).select(pl.col("__id").alias("__sub"))
        f = f.join(started, on="__id", how="left")
        self.counts("subscription").skip("never_started", f.filter(~pl.col("__ok")).height)
        f = f.filter(pl.col("__ok"))
        self._mapped("subscription", f.height)
        self.never_started = never
        self.versions = f.sort(["__id", "__version", ROW_NUMBER])
        self.kept_subs = f.select(pl.col("__id").alias("__sub")).unique()

    def items(self) -> None:
        src = self.landed.get("item")
        schema = {
            "__iid": pl.String,
            "__isub": pl.String,
            "__iprice": pl.String,
            "__iqty": pl.Int64,
        }
        self.main_items = pl.DataFrame(schema=schema)
        self.extra_items = pl.DataFrame(schema={"__iid": pl.String})
        if src is None:
            return
        f = self.frame(
            "item",
            iid=src.pick("id"),
            isub=src.pick("subscription_id", "subscription"),
            iprice=src.pick("price_id", "price", "plan_id", "plan"),
            iqty=integer(src.pick("quantity")),
            icreated=src.time("created"),
        )
        never = f.join(self.never_started, left_on="__isub", right_on="__sub", how="semi")
        self.counts("item").skip("never_started", never.height)
        f = f.join(self.never_started, left_on="__isub", right_on="__sub", how="anti")
        f = f.sort(["__isub", "__icreated", "__iid"], nulls_last=True).with_columns(
            (pl.int_range(pl.len()).over("__isub") == 0).alias("__first")
        )
        extra = f.filter(~pl.col("__first"))
        self.quarantined("item", extra, "unmappable", "subscription_item (not the first item)")
        main = f.filter(pl.col("__first"))
        self._mapped("item", main.height)
        self.main_items = main.select(list(schema))
        self.extra_items = extra.select("__iid")

    def invoices(self) -> pl.DataFrame:
        src = self.landed.get("invoice")
        schema = {
            "__inv": pl.String,
            "__inv_status": pl.String,
            "__reason": pl.String,
            "__collection": pl.String,
            "__issued": pl.Datetime("us"),
            "__inv_customer": pl.String,
            "__inv_sub": pl.String,
            "__inv_charge": pl.String,
            "__inv_pi": pl.String,
        }
        self.skipped_invoices = pl.DataFrame(schema={"__inv": pl.String})
        if src is None:
            return pl.DataFrame(schema=schema)
        f = self.frame(
            "invoice",
            inv=src.pick("id"),
            inv_status=src.pick("status").str.to_lowercase(),
            reason=src.pick("billing_reason"),
            collection=src.pick("collection_method", "billing"),
            issued=pl.coalesce(
                src.time(
                    "status_transitions_finalized_at",
                    ("status_transitions", "$.finalized_at"),
                ),
                src.time("created"),
            ),
            inv_customer=src.pick("customer_id", "customer"),
            inv_sub=src.pick("subscription_id", "subscription"),
            inv_charge=src.pick("charge_id", "charge"),
            inv_pi=src.pick("payment_intent_id", "payment_intent"),
        )
        draft = pl.col("__inv_status").is_in(["draft", "void"]).fill_null(False)
        self.counts("invoice").skip("draft_or_void_invoice", f.filter(draft).height)
        self.skipped_invoices = f.filter(draft).select("__inv")
        f = f.filter(~draft)
        bad = ~pl.col("__inv_status").is_in(FINALIZED).fill_null(False)
        self.quarantined("invoice", f.filter(bad), "bad_value", "status")
        f = f.filter(~bad)
        self._mapped("invoice", f.height)
        return f.select(list(schema)).unique("__inv", keep="first")

    def lines(self, invoices: pl.DataFrame) -> pl.DataFrame | None:
        """The lines of finalized invoices with their canonical columns, after the skips
        and the quarantines that need no rebuilding (unknown invoice, extra items)."""
        src = self.landed.get("line")
        if src is None:
            return None
        parent = ("parent", "$.subscription_item_details")
        f = self.frame(
            "line",
            id=src.pick("id"),
            inv=src.pick("invoice_id", "invoice"),
            amount=integer(src.pick("amount")),
            amount_text=src.pick("amount"),
            currency=src.pick("currency").str.to_uppercase(),
            desc=src.pick("description"),
            ps=src.time("period_start", ("period", "$.start")),
            pe=src.time("period_end", ("period", "$.end")),
            proration=boolean(
                src.pick(
                    "proration",
                    "parent_subscription_item_details_proration",
                    "parent_invoice_item_details_proration",
                    ("parent", "$.subscription_item_details.proration"),
                    ("parent", "$.invoice_item_details.proration"),
                )
            ).fill_null(False),
            type=pl.coalesce(
                src.pick("type").str.to_lowercase(),
                pl.when(
                    (src.pick("parent_type", ("parent", "$.type")) == "subscription_item_details")
                    & src.pick(
                        "invoice_item",
                        "invoice_item_id",
                        "parent_subscription_item_details_invoice_item",
                        (parent[0], "$.subscription_item_details.invoice_item"),
                    ).is_null()
                )
                .then(pl.lit("subscription"))
                .when(src.pick("parent_type", ("parent", "$.type")).is_not_null())
                .then(pl.lit("invoiceitem")),
            ),
            sub=src.pick(
                "subscription_id",
                "subscription",
                "parent_subscription_item_details_subscription",
                ("parent", "$.subscription_item_details.subscription"),
            ),
            item=src.pick(
                "subscription_item_id",
                "subscription_item",
                "parent_subscription_item_details_subscription_item",
                ("parent", "$.subscription_item_details.subscription_item"),
            ),
            price=src.pick(
                "price_id",
                "price",
                "pricing_price_details_price",
                ("pricing", "$.price_details.price"),
                "plan_id",
                "plan",
            ),
            qty=integer(src.pick("quantity")),
        )
        skipped = f.join(self.skipped_invoices, on="__inv", how="semi")
        self.counts("line").skip("draft_or_void_invoice", skipped.height)
        f = f.join(self.skipped_invoices, on="__inv", how="anti")
        f = f.join(invoices, on="__inv", how="left", maintain_order="left")
        unknown = pl.col("__inv_status").is_null()
        self.quarantined("line", f.filter(unknown), "unknown_reference", "invoice")
        f = f.filter(~unknown).with_columns(pl.coalesce("__sub", "__inv_sub").alias("__sub"))
        never = pl.col("__sub").is_in(self.never_started["__sub"].implode()).fill_null(False)
        self.counts("line").skip("never_started", f.filter(never).height)
        f = f.filter(~never)
        extra = pl.col("__item").is_in(self.extra_items["__iid"].implode()).fill_null(False)
        self.quarantined(
            "line", f.filter(extra), "unmappable", "subscription_item (not the first item)"
        )
        f = f.filter(~extra)
        f = f.join(
            self.customer_account, left_on="__inv_customer", right_on="customer_id", how="left"
        )
        return f.sort(ROW_NUMBER)

    # ---- the change log (rules 1-5)

    def changes(self, lines: pl.DataFrame | None) -> None:
        """subscription_changes (rules 1-5) and each line's type and change id."""
        lines = (
            lines
            if lines is not None
            else pl.DataFrame(
                schema={
                    ROW_NUMBER: pl.Int64,
                    "__id": pl.String,
                    "__inv": pl.String,
                    "__amount": pl.Int64,
                    "__desc": pl.String,
                    "__ps": pl.Datetime("us"),
                    "__pe": pl.Datetime("us"),
                    "__proration": pl.Boolean,
                    "__type": pl.String,
                    "__sub": pl.String,
                    "__price": pl.String,
                    "__qty": pl.Int64,
                    "__reason": pl.String,
                }
            )
        )
        subs = self.kept_subs["__sub"].implode()
        in_sub = pl.col("__sub").is_in(subs)
        regular = lines.filter(
            (pl.col("__type") == "subscription") & ~pl.col("__proration") & in_sub
        ).sort(["__sub", "__ps", "__id"])
        prorations = lines.filter(pl.col("__proration") & in_sub)
        kind = (
            pl.when(
                (pl.col("__amount") < 0)
                | ((pl.col("__amount") == 0) & pl.col("__desc").str.starts_with("Unused time"))
            )
            .then(pl.lit("credit"))
            .when(
                (pl.col("__amount") > 0)
                | ((pl.col("__amount") == 0) & pl.col("__desc").str.starts_with("Remaining time"))
            )
            .then(pl.lit("debit"))
        )
        prorations = prorations.with_columns(kind.alias("__kind"))
        sets = prorations.group_by(["__sub", "__ps"]).agg(
            pl.len().alias("__n"),
            (pl.col("__kind") == "credit").sum().alias("__nc"),
            (pl.col("__kind") == "debit").sum().alias("__nd"),
        )
        credits = prorations.filter(pl.col("__kind") == "credit").select(
            "__sub",
            "__ps",
            pl.col("__id").alias("__cid"),
            pl.col("__price").alias("from_plan_id"),
            pl.col("__qty").alias("from_quantity"),
            pl.col("__pe").alias("period_end"),
            pl.col("__reason").alias("__creason"),
        )
        debits = prorations.filter(pl.col("__kind") == "debit").select(
            "__sub",
            "__ps",
            pl.col("__id").alias("__did"),
            pl.col("__price").alias("__dprice"),
            pl.col("__qty").alias("__dqty"),
            pl.col("__reason").alias("__dreason"),
        )
        pairs = (
            sets.filter((pl.col("__n") == 2) & (pl.col("__nc") == 1) & (pl.col("__nd") == 1))
            .join(credits, on=["__sub", "__ps"])
            .join(debits, on=["__sub", "__ps"])
            .select(
                "__sub",
                pl.col("__ps").alias("changed_at"),
                "from_plan_id",
                "from_quantity",
                pl.col("__dprice").alias("to_plan_id"),
                pl.col("__dqty").alias("to_quantity"),
                "period_end",
                pl.when(pl.col("__dreason") == "subscription_update")
                .then(pl.lit("always_invoice"))
                .otherwise(pl.lit("create_prorations"))
                .alias("proration_behavior"),
                pl.col("__did").alias("change_id"),
                "__cid",
                "__did",
            )
        )
        # An interval switch: a lone credit and a regular line starting at the same
        # instant on a subscription_update invoice.
        switch_lines = (
            regular.filter(pl.col("__reason") == "subscription_update")
            .group_by(["__sub", "__ps"], maintain_order=True)
            .agg(
                pl.col("__id").first().alias("__rid"),
                pl.col("__price").first().alias("to_plan_id"),
                pl.col("__qty").first().alias("to_quantity"),
            )
        )
        switches = (
            sets.filter((pl.col("__n") == 1) & (pl.col("__nc") == 1))
            .join(credits, on=["__sub", "__ps"])
            .join(switch_lines, on=["__sub", "__ps"])
            .select(
                "__sub",
                pl.col("__ps").alias("changed_at"),
                "from_plan_id",
                "from_quantity",
                "to_plan_id",
                "to_quantity",
                "period_end",
                pl.lit("always_invoice").alias("proration_behavior"),
                pl.col("__rid").alias("change_id"),
                "__cid",
                pl.lit(None, dtype=pl.String).alias("__did"),
            )
        )
        prorated = pl.concat([pairs, switches]).sort(["__sub", "changed_at", "change_id"])
        # Proration lines in no change: unmappable.
        assigned = pl.concat(
            [
                prorated.select(
                    pl.col("__cid").alias("__id"),
                    pl.lit("proration_credit").alias("__lt"),
                    "change_id",
                ),
                prorated.filter(pl.col("__did").is_not_null()).select(
                    pl.col("__did").alias("__id"),
                    pl.lit("proration_charge").alias("__lt"),
                    "change_id",
                ),
            ]
        )
        self.line_assignment = assigned
        self.rejected_prorations = prorations.join(assigned, on="__id", how="anti")
        # rule 2's period_start: the latest regular line starting before changed_at
        reg_starts = regular.select("__sub", pl.col("__ps").alias("__rps")).sort("__rps")
        prorated = (
            prorated.sort("changed_at")
            .join_asof(
                reg_starts,
                left_on="changed_at",
                right_on="__rps",
                by="__sub",
                strategy="backward",
                check_sortedness=False,
                allow_exact_matches=False,
            )
            .rename({"__rps": "period_start"})
            .with_columns(pl.col("changed_at").alias("effective_at"), pl.lit(2).alias("__rule"))
        )
        # rules 3 and 4: consecutive regular lines, leaving out the interval switches'
        switch_ids = switches.select(pl.col("change_id").alias("__id"))
        seq = (
            regular.join(switch_ids, on="__id", how="anti")
            .sort(["__sub", "__ps", "__id"])
            .with_columns(
                pl.col("__ps").shift(1).over("__sub").alias("__prev_ps"),
                pl.col("__price").shift(1).over("__sub").alias("__prev_price"),
                pl.col("__qty").shift(1).over("__sub").alias("__prev_qty"),
            )
            .filter(pl.col("__prev_ps").is_not_null())
        )
        after = prorated.select(
            "__sub",
            pl.col("changed_at").alias("__pc_at"),
            pl.col("to_plan_id").alias("__pc_price"),
            pl.col("to_quantity").alias("__pc_qty"),
        ).sort("__pc_at")
        seq = seq.sort("__ps").join_asof(
            after,
            left_on="__ps",
            right_on="__pc_at",
            by="__sub",
            strategy="backward",
            check_sortedness=False,
            allow_exact_matches=False,
        )
        in_window = pl.col("__pc_at").is_not_null() & (pl.col("__pc_at") >= pl.col("__prev_ps"))
        seq = seq.with_columns(
            pl.when(in_window)
            .then(pl.col("__pc_price"))
            .otherwise(pl.col("__prev_price"))
            .alias("from_plan_id"),
            pl.when(in_window)
            .then(pl.col("__pc_qty"))
            .otherwise(pl.col("__prev_qty"))
            .alias("from_quantity"),
        )
        same = (pl.col("from_plan_id") == pl.col("__price")).fill_null(False) & (
            pl.col("from_quantity").eq_missing(pl.col("__qty"))
        )
        unprorated = seq.select(
            "__sub",
            pl.col("__ps").alias("changed_at"),
            pl.col("__ps").alias("effective_at"),
            "from_plan_id",
            "from_quantity",
            pl.col("__price").alias("to_plan_id"),
            pl.col("__qty").alias("to_quantity"),
            pl.col("__ps").alias("period_start"),
            pl.col("__pe").alias("period_end"),
            pl.lit("none").alias("proration_behavior"),  # no proration lines: none
            pl.when(same)
            .then(pl.col("__id") + ":renewal")
            .otherwise(pl.col("__id") + ":changed")
            .alias("change_id"),
            pl.when(same).then(4).otherwise(3).alias("__rule"),
        )
        # rule 1: created
        created = self._created(regular)
        body = [
            "__sub",
            "changed_at",
            "effective_at",
            *CHANGE_MOVE,
            "proration_behavior",
            "change_id",
            "__rule",
        ]
        log = pl.concat(
            [
                created.select(body),
                prorated.select(body),
                unprorated.select(body),
            ],
            how="vertical_relaxed",
        ).sort(["__sub", "changed_at", "__rule", "change_id"])
        cancelled = self._cancelled(log, regular)
        log = pl.concat([log, cancelled.select(body)], how="vertical_relaxed")
        self.rule1 = created.select("__sub", "change_id")
        self.prorated = prorated
        self._write_changes(log)

    def _created(self, regular: pl.DataFrame) -> pl.DataFrame:
        if self.versions is None:
            return pl.DataFrame(
                schema={
                    "__sub": pl.String,
                    "changed_at": pl.Datetime("us"),
                    "effective_at": pl.Datetime("us"),
                    "from_plan_id": pl.String,
                    "from_quantity": pl.Int64,
                    "to_plan_id": pl.String,
                    "to_quantity": pl.Int64,
                    "period_start": pl.Datetime("us"),
                    "period_end": pl.Datetime("us"),
                    "proration_behavior": pl.String,
                    "change_id": pl.String,
                    "__rule": pl.Int32,
                }
            )
        v = self.versions.group_by("__id", maintain_order=True).agg(
            pl.coalesce(
                pl.col("__start").drop_nulls().last(), pl.col("__created").drop_nulls().last()
            ).alias("changed_at"),
        )
        first = regular.group_by("__sub", maintain_order=True).agg(
            pl.col("__price").first().alias("__fprice"),
            pl.col("__qty").first().alias("__fqty"),
            pl.col("__ps").first().alias("period_start"),
            pl.col("__pe").first().alias("period_end"),
        )
        return (
            v.rename({"__id": "__sub"})
            .join(first, on="__sub", how="left")
            .join(self.main_items, left_on="__sub", right_on="__isub", how="left")
            .select(
                "__sub",
                "changed_at",
                pl.col("changed_at").alias("effective_at"),
                pl.lit(None, dtype=pl.String).alias("from_plan_id"),
                pl.lit(None, dtype=pl.Int64).alias("from_quantity"),
                pl.when(pl.col("__fprice").is_not_null() | pl.col("__fqty").is_not_null())
                .then(pl.col("__fprice"))
                .otherwise(pl.col("__iprice"))
                .alias("to_plan_id"),
                pl.when(pl.col("__fprice").is_not_null() | pl.col("__fqty").is_not_null())
                .then(pl.col("__fqty"))
                .otherwise(pl.col("__iqty"))
                .alias("to_quantity"),
                "period_start",
                "period_end",
                pl.lit(None, dtype=pl.String).alias("proration_behavior"),
                (pl.col("__sub") + ":created").alias("change_id"),
                pl.lit(1).alias("__rule"),
            )
        )

    def _cancelled(self, log: pl.DataFrame, regular: pl.DataFrame) -> pl.DataFrame:
        if self.versions is None:
            return log.clear()
        v = self.versions
        ended = (pl.col("__status") == "canceled").fill_null(False) | pl.col(
            "__ended_at"
        ).is_not_null()
        first_ended = v.filter(ended).group_by("__id", maintain_order=True).first()
        latest = v.group_by("__id", maintain_order=True).last()
        scheduled = latest.filter(pl.col("__cape").fill_null(False)).join(
            first_ended.select("__id"), on="__id", how="anti"
        )
        c = pl.concat([first_ended, scheduled], how="vertical_relaxed").select(
            pl.col("__id").alias("__sub"),
            pl.col("__canceled_at").alias("changed_at"),
            pl.coalesce("__ended_at", "__cancel_at", "__cpe").alias("effective_at"),
        )
        c = c.with_columns(pl.coalesce("changed_at", "effective_at").alias("__at")).sort("__at")
        state = log.select(
            "__sub",
            pl.col("changed_at").alias("__s_at"),
            pl.col("to_plan_id").alias("from_plan_id"),
            pl.col("to_quantity").alias("from_quantity"),
        ).sort("__s_at")
        # the latest rebuilt change at or before the cancellation (the last one by rule
        # order when several share the instant: log is sorted by sub, time, rule)
        state = state.group_by(["__sub", "__s_at"], maintain_order=True).last().sort("__s_at")
        c = c.join_asof(
            state,
            left_on="__at",
            right_on="__s_at",
            by="__sub",
            strategy="backward",
            check_sortedness=False,
        )
        periods = regular.select(
            "__sub", pl.col("__ps").alias("period_start"), pl.col("__pe").alias("period_end")
        ).sort("period_start")
        c = c.join_asof(
            periods,
            left_on="__at",
            right_on="period_start",
            by="__sub",
            strategy="backward",
            check_sortedness=False,
        )
        return c.select(
            "__sub",
            "changed_at",
            "effective_at",
            "from_plan_id",
            "from_quantity",
            pl.lit(None, dtype=pl.String).alias("to_plan_id"),
            pl.lit(None, dtype=pl.Int64).alias("to_quantity"),
            "period_start",
            "period_end",
            pl.lit("none").alias("proration_behavior"),
            (pl.col("__sub") + ":canceled").alias("change_id"),
            pl.lit(5).alias("__rule"),
        )

    def _write_changes(self, log: pl.DataFrame) -> None:
        initiated = self.options.get("initiated_by", "customer")
        if self.versions is not None:
            latest = (
                self.versions.group_by("__id", maintain_order=True)
                .last()
                .select(
                    pl.col("__id").alias("__sub"),
                    pl.col("__customer"),
                    (
                        pl.col("__metadata").str.json_path_match(f"$.{initiated.split('.', 1)[1]}")
                        if initiated.startswith("metadata.")
                        else pl.lit(initiated)
                    ).alias("initiated_by"),
                )
            )
        else:
            latest = pl.DataFrame(
                schema={"__sub": pl.String, "__customer": pl.String, "initiated_by": pl.String}
            )
        log = log.join(latest, on="__sub", how="left", maintain_order="left").join(
            self.customer_account, left_on="__customer", right_on="customer_id", how="left"
        )
        src = self.landed.get("subscription")
        out = log.sort(["__sub", "changed_at", "__rule", "change_id"], nulls_last=True).select(
            pl.col("change_id"),
            pl.col("__sub").alias("subscription_id"),
            pl.col("account_id"),
            ts_text(pl.col("changed_at")).alias("changed_at"),
            ts_text(pl.col("effective_at")).alias("effective_at"),
            pl.col("from_plan_id"),
            pl.col("to_plan_id"),
            pl.col("from_quantity").cast(pl.String),
            pl.col("to_quantity").cast(pl.String),
            pl.col("initiated_by"),
            pl.lit(None, dtype=pl.String).alias("channel"),
            ts_text(pl.col("period_start")).alias("period_start"),
            ts_text(pl.col("period_end")).alias("period_end"),
            pl.col("proration_behavior"),
            pl.lit(None, dtype=pl.String).alias("reason_code"),
            pl.when(pl.col("__rule").is_in([1, 5]))
            .then(pl.lit(src.name if src else "subscription"))
            .otherwise(
                pl.lit(self.landed["line"].name if "line" in self.landed else "invoice_line_item")
            )
            .alias("_source_table"),
        )
        if src is not None or out.height:
            self.out.tables["subscription_changes"] = out

    # ---- invoice lines

    def invoice_lines(self, lines: pl.DataFrame | None) -> None:
        if lines is None:
            return
        self.quarantined(
            "line",
            self.rejected_prorations,
            "unmappable",
            "proration (not one credit and one debit line)",
        )
        f = lines.join(self.rejected_prorations.select("__id"), on="__id", how="anti")
        f = f.join(self.line_assignment, on="__id", how="left", maintain_order="left")
        line_type = pl.coalesce(
            pl.col("__lt"),
            pl.when((pl.col("__type") == "subscription") & ~pl.col("__proration")).then(
                pl.lit("subscription")
            ),
            pl.when((pl.col("__type") == "invoiceitem") & ~pl.col("__proration")).then(
                pl.lit("one_off")
            ),
        )
        f = f.with_columns(line_type.alias("__line_type"))
        bad = pl.col("__line_type").is_null()
        self.quarantined(
            "line",
            f.filter(bad),
            "unmappable",
            pl.when(pl.col("__proration"))
            .then(pl.lit("proration (no subscription)"))
            .otherwise(pl.lit("type")),
        )
        f = f.filter(~bad).sort(ROW_NUMBER)
        self._mapped("line", f.height)
        # A one-off line's period is an instant in Stripe (start = end): no period.
        instant = pl.col("__ps") == pl.col("__pe")
        self.out.tables["invoice_lines"] = f.select(
            pl.col("__id").alias("line_id"),
            pl.col("__inv").alias("invoice_id"),
            pl.col("account_id"),
            pl.col("__sub").alias("subscription_id"),
            pl.col("change_id"),
            pl.col("__line_type").alias("line_type"),
            pl.coalesce(pl.col("__amount").cast(pl.String), pl.col("__amount_text")).alias(
                "amount_minor"
            ),
            pl.col("__currency").alias("currency"),
            pl.when(~instant.fill_null(False)).then(ts_text(pl.col("__ps"))).alias("period_start"),
            pl.when(~instant.fill_null(False)).then(ts_text(pl.col("__pe"))).alias("period_end"),
            ts_text(pl.col("__issued")).alias("issued_at"),
            pl.lit(self.landed["line"].name).alias("_source_table"),
        )

    # ---- payment attempts

    def payment_attempts(self, invoices: pl.DataFrame) -> None:
        src = self.landed.get("charge")
        if src is None:
            return
        f = self.frame(
            "charge",
            id=src.pick("id"),
            status=src.pick("status").str.to_lowercase(),
            created=src.time("created"),
            created_text=src.pick("created"),
            customer=src.pick("customer_id", "customer"),
            invoice=src.pick("invoice_id", "invoice"),
            pi=src.pick("payment_intent_id", "payment_intent"),
            amount=integer(src.pick("amount")),
            amount_text=src.pick("amount"),
            currency=src.pick("currency").str.to_uppercase(),
            failure_code=src.pick("failure_code"),
            pm=src.pick("payment_method_id", "payment_method"),
            pm_type=src.pick("payment_method_details_type", ("payment_method_details", "$.type")),
            wallet=src.pick(
                "payment_method_details_card_wallet_type",
                ("payment_method_details", "$.card.wallet.type"),
            ),
        )
        pending = (pl.col("__status") == "pending").fill_null(False)
        self.counts("charge").skip("pending_charge", f.filter(pending).height)
        f = f.filter(~pending)
        # payment methods (and Fivetran's card table)
        pms = pl.DataFrame(
            schema={
                "__pm_id": pl.String,
                "__pm_kind": pl.String,
                "__pm_created": pl.Datetime("us"),
                "__pm_wallet": pl.String,
            }
        )
        pm_src = self.landed.get("payment_method")
        if pm_src is not None:
            p = self.frame(
                "payment_method",
                pm_id=pm_src.pick("id"),
                pm_kind=pm_src.pick("type"),
                pm_created=pm_src.time("created"),
                pm_wallet=pm_src.pick("card_wallet_type", ("card", "$.wallet.type")),
            )
            self._mapped("payment_method", p.height)
            pms = p.select(list(pms.columns)).unique("__pm_id", keep="first")
        card_src = self.landed.get("card")
        if card_src is not None:
            c = self.frame(
                "card",
                c_pm=card_src.pick("payment_method_id", "id"),
                c_wallet=card_src.pick("wallet_type", ("wallet", "$.type")),
            )
            self._mapped("card", c.height)
            cards = c.select("__c_pm", "__c_wallet").unique("__c_pm", keep="first")
            pms = pms.join(cards, left_on="__pm_id", right_on="__c_pm", how="full", coalesce=True)
            pms = pms.with_columns(
                pl.coalesce("__pm_wallet", "__c_wallet").alias("__pm_wallet")
            ).drop("__c_wallet")
        f = f.join(pms, left_on="__pm", right_on="__pm_id", how="left", maintain_order="left")
        # the charge's invoice: charge.invoice, else an invoice payment of the charge or
        # of its payment intent (Basil)
        ip_src = self.landed.get("invoice_payment")
        inv = pl.col("__invoice")
        if ip_src is not None:
            ip = self.frame(
                "invoice_payment",
                ip_inv=ip_src.pick("invoice_id", "invoice"),
                ip_charge=ip_src.pick(
                    "payment_charge_id", "payment_charge", ("payment", "$.charge")
                ),
                ip_pi=ip_src.pick(
                    "payment_payment_intent_id",
                    "payment_payment_intent",
                    ("payment", "$.payment_intent"),
                ),
            )
            self._mapped("invoice_payment", ip.height)
            by_charge = (
                ip.filter(pl.col("__ip_charge").is_not_null())
                .select(pl.col("__ip_charge").alias("__id"), pl.col("__ip_inv").alias("__inv_c"))
                .unique("__id", keep="first")
            )
            by_pi = (
                ip.filter(pl.col("__ip_pi").is_not_null())
                .select(pl.col("__ip_pi").alias("__pi"), pl.col("__ip_inv").alias("__inv_p"))
                .unique("__pi", keep="first")
            )
            f = f.join(by_charge, on="__id", how="left", maintain_order="left").join(
                by_pi, on="__pi", how="left", maintain_order="left"
            )
            inv = pl.coalesce("__invoice", "__inv_c", "__inv_p")
        f = f.with_columns(inv.alias("__inv")).join(
            invoices, on="__inv", how="left", maintain_order="left"
        )
        # rule-2 change paid by a subscription_update invoice: the latest by changed_at
        paid = (
            self.line_assignment.join(self._line_invoice, on="__id")
            .join(self.prorated.select("change_id", "changed_at"), on="change_id")
            .sort("changed_at")
            .group_by("__inv")
            .agg(pl.col("change_id").last().alias("__update_change"))
        )
        f = f.join(paid, on="__inv", how="left", maintain_order="left").join(
            self.rule1.rename({"change_id": "__create_change"}),
            left_on="__inv_sub",
            right_on="__sub",
            how="left",
            maintain_order="left",
        )
        change = (
            pl.when(pl.col("__reason") == "subscription_update")
            .then(pl.col("__update_change"))
            .when(pl.col("__reason") == "subscription_create")
            .then(pl.col("__create_change"))
        )
        f = f.join(
            self.customer_account,
            left_on=pl.coalesce("__customer", "__inv_customer"),
            right_on="customer_id",
            how="left",
            maintain_order="left",
        )
        method = (
            pl.when(pl.coalesce("__wallet", "__pm_wallet").is_not_null())
            .then(pl.lit("wallet"))
            .when(pl.coalesce("__pm_type", "__pm_kind").is_in(BANK_DEBIT).fill_null(False))
            .then(pl.lit("bank_debit"))
            .when((pl.col("__collection") == "send_invoice").fill_null(False))
            .then(pl.lit("invoice"))
            .when(
                (
                    pl.col("__pm_created")
                    < pl.col("__created") - pl.duration(seconds=SAVED_CARD_SECONDS)
                ).fill_null(False)
            )
            .then(pl.lit("saved_card"))
            .otherwise(pl.lit("new_card"))
        )
        f = f.sort(ROW_NUMBER)
        self._mapped("charge", f.height)
        self.out.tables["payment_attempts"] = f.select(
            pl.col("__id").alias("attempt_id"),
            pl.col("account_id"),
            pl.coalesce(ts_text(pl.col("__created")), pl.col("__created_text")).alias(
                "attempted_at"
            ),
            method.alias("payment_method"),
            pl.col("__status").alias("status"),
            pl.col("__failure_code").alias("failure_code"),
            pl.coalesce(pl.col("__amount").cast(pl.String), pl.col("__amount_text")).alias(
                "amount_minor"
            ),
            pl.col("__currency").alias("currency"),
            change.alias("change_id"),
            pl.lit(src.name).alias("_source_table"),
        )

    def run(self) -> ShapeOutput:
        self.accounts()
        self.plans()
        self.subscriptions()
        self.items()
        invoices = self.invoices()
        lines = self.lines(invoices)
        self._line_invoice = (
            lines.select("__id", "__inv")
            if lines is not None
            else pl.DataFrame(schema={"__id": pl.String, "__inv": pl.String})
        )
        self.changes(lines)
        self.invoice_lines(lines)
        self.payment_attempts(invoices)
        if "subscription_current" in self.landed:  # the history is read instead
            current = self.frame("subscription_current")
            self.counts("subscription_current").skip("subscription_history_read", current.height)
        for role in self.landed:
            if role not in self.processed:  # a lookup table nothing needed: its rows are read
                self._mapped(role, self.frame(role).height)
        self.out.quarantine = pl.concat(self.quarantine) if self.quarantine else empty_quarantine()
        for table, by_source in self.out.sources.items():
            for name, counts in by_source.items():
                if not counts.balanced():
                    raise RuntimeError(f"{name} -> {table}: counts do not add up: {counts}")
        return self.out


def map_billing(
    folder: Path, shape: str, options: dict, group_traits: pl.DataFrame | None
) -> ShapeOutput:
    """Map a Stripe source folder (``fivetran_stripe`` or ``airbyte_stripe``)."""
    if shape not in SHAPES:
        raise ValueError(shape)
    return _Mapper(folder, shape, options, group_traits).run()


__all__ = ["NAMES", "SHAPES", "SOURCE_FILE", "map_billing"]
