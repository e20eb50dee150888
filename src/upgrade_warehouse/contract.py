"""The raw data contract (``shared/spec/data-contract.md``) as data.

This module is the single place where the loader, the generator, the dbt sources and
the tests learn which tables and columns exist, their types, which are required, the
allowed values and the references between tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The plausible range of every timestamp and date (docs/loader.md, docs/security.md):
# from TS_MIN inclusive to TS_MAX exclusive; a value outside it is bad_value. One row
# dated 1900 or 9999 would otherwise stretch the month spine or become as_of.
TS_MIN = "1970-01-01"
TS_MAX = "2100-01-01"

# Upper bounds of the numbers the models multiply or add (bad_value beyond them): a seat
# count times a unit amount, or an amount times an FX rate, must fit a 64-bit integer.
MAX_QUANTITY = 1_000_000  # seats on one subscription
MAX_AMOUNT_MINOR = 10**12  # minor units on one row (10 billion USD)
MAX_TIER_RANK = 1_000
MAX_ATTEMPT_NUMBER = 10_000
MAX_FX_RATE = 1_000_000  # units of the reporting currency per unit

# Column types of the contract.
STR = "str"
INT = "int"
BOOL = "bool"
TS = "ts"
DATE = "date"
JSON = "json"
DECIMAL = "decimal"


@dataclass(frozen=True)
class Column:
    name: str
    type: str = STR
    required: bool = False
    # Allowed values (bad_value outside them).
    allowed: tuple[str, ...] | None = None
    # Inclusive lower bound for numbers (bad_value below it); ``min_exclusive`` for > bound.
    min_value: int | None = None
    min_exclusive: bool = False
    # Inclusive upper bound for numbers (bad_value above it): what the models can compute
    # without overflowing a 64-bit integer (see VALUE_BOUNDS below and docs/loader.md).
    max_value: int | None = None
    # Foreign key: (table, column).
    references: tuple[str, str] | None = None
    # Required only when this other column is set (missing_required otherwise).
    required_with: str | None = None
    # An ISO 4217 currency code (bad_value when unknown).
    currency: bool = False
    # A regular expression the value must match (bad_value otherwise).
    pattern: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    columns: tuple[Column, ...]
    # Columns whose combined value is unique (duplicate_id for later rows).
    key: tuple[str, ...]
    # Pairs of timestamp columns where the first must be before the second (bad_value on
    # the second otherwise).
    ordered: tuple[tuple[str, str], ...] = field(default=())
    # Pairs of columns (numbers or timestamps) where the first must not exceed the second
    # (bad_value on the second otherwise).
    not_greater: tuple[tuple[str, str], ...] = field(default=())
    # Columns of which at least one must be set (bad_value on the last one otherwise).
    one_required: tuple[str, ...] = field(default=())
    # References to rows of one table whose ``currency`` must agree (currency_mismatch on
    # the last column otherwise, when both referenced rows exist).
    same_currency: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


PRORATION_BEHAVIORS = ("create_prorations", "always_invoice", "none")
MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation", "renewal")
# What a subscription change moves, in this order: the plan and seats it leaves and takes,
# and the billing period it falls in (the inputs of its proration).
CHANGE_MOVE = (
    "from_plan_id",
    "from_quantity",
    "to_plan_id",
    "to_quantity",
    "period_start",
    "period_end",
)
ORDER_STATUSES = (
    "placed",
    "awaiting_return",
    "return_shipped",
    "return_received",
    "attested",
    "completed",
    "cancelled",
)

# The references many tables make, defined once: the account a row belongs to, the
# subscription change it may stem from, and a plan it names.
ACCOUNT_REF = Column("account_id", required=True, references=("accounts", "account_id"))
CHANGE_REF = Column("change_id", references=("subscription_changes", "change_id"))


def _plan_ref(name: str) -> Column:
    return Column(name, references=("plans", "plan_id"))


TABLES: tuple[Table, ...] = (
    Table(
        "accounts",
        True,
        (
            Column("account_id", required=True),
            Column("created_at", TS, required=True),
            Column("persona"),
            Column("acquisition_source"),
            Column("segment"),
            Column("country", pattern=r"^[A-Za-z]{2}$"),
            Column("account_manager_id"),
        ),
        key=("account_id",),
    ),
    Table(
        "plans",
        True,
        (
            Column("plan_id", required=True),
            Column("plan_name", required=True),
            Column("tier_rank", INT, required=True, min_value=0, max_value=MAX_TIER_RANK),
            Column("billing_interval", required=True, allowed=("month", "year")),
            Column(
                "unit_amount_minor", INT, required=True, min_value=0, max_value=MAX_AMOUNT_MINOR
            ),
            Column("currency", required=True, currency=True),
            Column("self_serve", BOOL, required=True),
            Column("min_seats", INT, min_value=1, max_value=MAX_QUANTITY),
            Column("max_seats", INT, min_value=1, max_value=MAX_QUANTITY),
            Column("entitlements"),
        ),
        key=("plan_id",),
        not_greater=(("min_seats", "max_seats"),),
    ),
    Table(
        "subscription_changes",
        True,
        (
            Column("change_id", required=True),
            Column("subscription_id", required=True),
            ACCOUNT_REF,
            Column("changed_at", TS, required=True),
            Column("effective_at", TS, required=True),
            _plan_ref("from_plan_id"),
            _plan_ref("to_plan_id"),
            Column(
                "from_quantity",
                INT,
                min_value=0,
                max_value=MAX_QUANTITY,
                required_with="from_plan_id",
            ),
            Column(
                "to_quantity", INT, min_value=0, max_value=MAX_QUANTITY, required_with="to_plan_id"
            ),
            Column("initiated_by", required=True, allowed=("customer", "sales", "system")),
            Column("channel"),
            Column("period_start", TS),
            Column("period_end", TS),
            Column("proration_behavior", allowed=PRORATION_BEHAVIORS),
            Column("reason_code"),
        ),
        key=("change_id",),
        ordered=(("period_start", "period_end"),),
        # A change creates (from null), ends (to null) or moves a subscription: not both null.
        one_required=("from_plan_id", "to_plan_id"),
        # from and to plans in different currencies: currency_mismatch.
        same_currency=("from_plan_id", "to_plan_id"),
    ),
    Table(
        "product_events",
        True,
        (
            Column("event_id", required=True),
            ACCOUNT_REF,
            Column("user_id"),
            Column("event_name", required=True),
            Column("occurred_at", TS, required=True),
            Column("received_at", TS),
            Column("properties", JSON),
        ),
        key=("event_id",),
    ),
    Table(
        "invoice_lines",
        False,
        (
            Column("line_id", required=True),
            Column("invoice_id", required=True),
            ACCOUNT_REF,
            Column("subscription_id"),
            CHANGE_REF,
            Column(
                "line_type",
                required=True,
                allowed=(
                    "subscription",
                    "proration_credit",
                    "proration_charge",
                    "discount",
                    "tax",
                    "one_off",
                ),
            ),
            Column(
                "amount_minor",
                INT,
                required=True,
                min_value=-MAX_AMOUNT_MINOR,
                max_value=MAX_AMOUNT_MINOR,
            ),
            Column("currency", required=True, currency=True),
            Column("period_start", TS),
            Column("period_end", TS),
            Column("issued_at", TS, required=True),
        ),
        key=("line_id",),
        # period_end >= period_start: equal for a one-off line (data-contract.md)
        not_greater=(("period_start", "period_end"),),
    ),
    Table(
        "payment_attempts",
        False,
        (
            Column("attempt_id", required=True),
            ACCOUNT_REF,
            Column("attempted_at", TS, required=True),
            Column(
                "payment_method",
                required=True,
                allowed=("saved_card", "new_card", "wallet", "bank_debit", "invoice"),
            ),
            Column("status", required=True, allowed=("succeeded", "failed")),
            Column("failure_code"),
            Column("amount_minor", INT, min_value=0, max_value=MAX_AMOUNT_MINOR),
            Column("currency", currency=True, required_with="amount_minor"),
            CHANGE_REF,
        ),
        key=("attempt_id",),
    ),
    Table(
        "crm_opportunities",
        False,
        (
            Column("opportunity_id", required=True),
            ACCOUNT_REF,
            CHANGE_REF,
            Column("origin", required=True, allowed=("sales", "self_serve_sync")),
            Column("created_at", TS, required=True),
            Column("closed_at", TS),
            Column("stage", required=True, allowed=("open", "closed_won", "closed_lost")),
            Column("movement_type", allowed=MOVEMENTS),
            Column("mrr_delta_minor", INT, min_value=-MAX_AMOUNT_MINOR, max_value=MAX_AMOUNT_MINOR),
            Column("currency", currency=True, required_with="mrr_delta_minor"),
            Column("owner_id"),
        ),
        key=("opportunity_id",),
    ),
    Table(
        "sync_events",
        False,
        (
            Column("sync_event_id", required=True),
            Column("change_id", required=True, references=("subscription_changes", "change_id")),
            Column("target_system", required=True),
            Column("attempt_number", INT, required=True, min_value=1, max_value=MAX_ATTEMPT_NUMBER),
            Column("attempted_at", TS, required=True),
            Column(
                "status",
                required=True,
                allowed=("succeeded", "failed", "dead_lettered", "manual_override"),
            ),
            Column("error_code"),
        ),
        key=("sync_event_id",),
    ),
    Table(
        "eligibility_checks",
        False,
        (
            Column("check_id", required=True),
            ACCOUNT_REF,
            _plan_ref("target_plan_id"),
            Column("checked_at", TS, required=True),
            Column("channel"),
            Column("result", required=True, allowed=("eligible", "rejected")),
            Column("reason_code"),
            Column("overridden_at", TS),
        ),
        key=("check_id",),
    ),
    Table(
        "upsell_offers",
        False,
        (
            Column("offer_id", required=True),
            ACCOUNT_REF,
            Column("trigger", required=True),
            Column("owner", required=True, allowed=("automated", "sales", "customer_success")),
            Column("channel"),
            _plan_ref("offered_plan_id"),
            Column("offered_at", TS, required=True),
            Column("outcome", allowed=("accepted", "rejected", "deferred", "no_response")),
            Column("outcome_at", TS),
            CHANGE_REF,
        ),
        key=("offer_id",),
    ),
    Table(
        "order_status_events",
        False,
        (
            Column("order_id", required=True),
            ACCOUNT_REF,
            CHANGE_REF,
            Column("status", required=True, allowed=ORDER_STATUSES),
            Column("occurred_at", TS, required=True),
        ),
        key=("order_id", "status", "occurred_at"),
    ),
    Table(
        "fx_rates",
        False,
        (
            Column("rate_date", DATE, required=True),
            Column("currency", required=True, currency=True),
            Column(
                "rate_to_reporting",
                DECIMAL,
                required=True,
                min_value=0,
                min_exclusive=True,
                max_value=MAX_FX_RATE,
            ),
        ),
        key=("rate_date", "currency"),
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
REQUIRED_TABLES: tuple[str, ...] = tuple(t.name for t in TABLES if t.required)

# Quarantine reason codes, in the order they are checked: a row gets the first that applies.
REASON_CODES: tuple[str, ...] = (
    "missing_required",
    "bad_type",
    "bad_value",
    "currency_mismatch",
    "duplicate_id",
    "unknown_reference",
)
