"""The vectorized batch simulator: agreement with the exact scalar quote (hypothesis),
sign/bound properties, invalid rows, the int64 fallback, calendar and parser agreement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upgrade_warehouse.errors import UserError
from upgrade_warehouse.simulator import (
    OUTPUT_COLUMNS,
    Plan,
    QuoteError,
    add_months,
    load_plans,
    plans_to_frame,
    price_batch,
    quote,
)
from upgrade_warehouse.simulator.calendar import (
    TimestampError,
    add_months_np,
    epoch_seconds,
    parse_timestamp,
    parse_ts_series,
)

SAMPLE = load_plans()
SAMPLE_FRAME = plans_to_frame(SAMPLE)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def case(case_id, from_plan, qf, to_plan, qt, ps, pe, at, **options):
    return {
        "case_id": case_id,
        "from_plan_id": from_plan,
        "from_quantity": qf,
        "to_plan_id": to_plan,
        "to_quantity": qt,
        "period_start": ps,
        "period_end": pe,
        "at": at,
        **options,
    }


MAR1, APR1, MID = "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-03-16T12:00:00Z"


def test_worked_examples_in_batch():
    cases = pl.DataFrame(
        [
            case("ex1", "pro_monthly", 3, "business_monthly", 3, MAR1, APR1, MID),
            case(
                "ex2", "pro_monthly", 3, "business_monthly", 3, MAR1, APR1, MID, granularity="day"
            ),
            case("ex3", "pro_monthly", 3, "pro_annual", 3, MAR1, APR1, MID, timing="immediate"),
            case("ex3auto", "pro_monthly", 3, "pro_annual", 3, MAR1, APR1, MID),
        ],
        infer_schema_length=None,
    )
    out = price_batch(cases, SAMPLE_FRAME)
    assert out.columns == list(OUTPUT_COLUMNS)
    rows = {r["case_id"]: r for r in out.to_dicts()}
    # example 1: credit -3000, charge 7500, net 4500, due 0, next Apr 1 for 19500
    r = rows["ex1"]
    assert (r["proration_credit_minor"], r["proration_charge_minor"]) == (-3000, 7500)
    assert r["subscription_line_minor"] is None
    assert (r["proration_net_minor"], r["amount_due_now_minor"]) == (4500, 0)
    assert r["next_invoice_date"] == datetime(2026, 4, 1, tzinfo=UTC)
    assert (r["next_invoice_amount_minor"], r["credit_balance_minor"]) == (19500, 0)
    assert (r["mrr_delta_minor"], r["movement"], r["kind"]) == (9000.0, "expansion", "tier_upgrade")
    assert r["error"] is None
    # example 2: credit -3097, charge 7742, net 4645
    r = rows["ex2"]
    assert (r["proration_credit_minor"], r["proration_charge_minor"]) == (-3097, 7742)
    assert r["proration_net_minor"] == 4645
    # example 3: credit -3000, subscription 60000, net -3000, due 57000, next 2027-03-16 60000
    r = rows["ex3"]
    assert (r["proration_credit_minor"], r["subscription_line_minor"]) == (-3000, 60000)
    assert r["proration_charge_minor"] is None
    assert (r["proration_net_minor"], r["amount_due_now_minor"]) == (-3000, 57000)
    assert r["next_invoice_date"] == datetime(2027, 3, 16, 12, tzinfo=UTC)
    assert r["next_invoice_amount_minor"] == 60000
    assert r["effective_at"] == datetime(2026, 3, 16, 12, tzinfo=UTC)
    assert (r["movement"], r["kind"], r["mrr_delta_minor"]) == (
        "contraction",
        "interval_switch",
        -1000.0,
    )
    # auto: at the period end, no lines
    r = rows["ex3auto"]
    assert r["effective_at"] == datetime(2026, 4, 1, tzinfo=UTC)
    assert r["proration_credit_minor"] is None and r["subscription_line_minor"] is None
    assert (r["proration_net_minor"], r["next_invoice_amount_minor"]) == (0, 60000)


def test_invalid_case_does_not_stop_the_others():
    cases = pl.DataFrame(
        [
            case("ok1", "pro_monthly", 3, "business_monthly", 3, MAR1, APR1, MID),
            case("bad_plan", "pro_monthly", 3, "nope", 3, MAR1, APR1, MID),
            case("bad_at", "pro_monthly", 3, "business_monthly", 3, MAR1, APR1, "2026-04-02"),
            case("bad_ts", "pro_monthly", 3, "business_monthly", 3, "soon", APR1, MID),
            case("bad_cur", "pro_monthly", 3, "pro_monthly_eur", 3, MAR1, APR1, MID),
            case("few", "pro_monthly", 3, "business_monthly", 2, MAR1, APR1, MID),
            case(
                "ok2",
                "pro_monthly",
                3,
                "business_monthly",
                None,
                MAR1,
                None,
                MID,
                granularity="day",
            ),
            case(
                "bad_opt",
                "pro_monthly",
                3,
                "business_monthly",
                3,
                MAR1,
                APR1,
                MID,
                timing="whenever",
            ),
        ],
        infer_schema_length=None,
    )
    out = price_batch(cases, SAMPLE_FRAME)
    assert out.get_column("case_id").to_list() == cases.get_column("case_id").to_list()
    errors = dict(zip(out["case_id"], out["error"], strict=True))
    assert errors["ok1"] is None and errors["ok2"] is None
    assert errors["bad_plan"] == "unknown to plan 'nope'"
    assert errors["bad_at"] == (
        "at 2026-04-02T00:00:00Z is outside the billing period "
        "[2026-03-01T00:00:00Z, 2026-04-01T00:00:00Z)"
    )
    assert errors["bad_ts"] == "period_start is not a valid ISO 8601 timestamp: 'soon'"
    assert errors["bad_cur"].startswith("currency mismatch")
    assert "below the minimum of 3 seats" in errors["few"]
    assert errors["bad_opt"].startswith("unknown timing 'whenever'")
    ok = out.filter(pl.col("error").is_null())
    assert ok.get_column("proration_net_minor").to_list() == [4500, 4645]  # ex 1 and ex 2
    bad = out.filter(pl.col("error").is_not_null())
    for column in OUTPUT_COLUMNS:
        if column not in ("case_id", "error"):
            assert bad.get_column(column).null_count() == bad.height


def test_missing_required_column_is_user_error():
    with pytest.raises(UserError, match="missing required column 'at'"):
        price_batch(
            pl.DataFrame(
                {
                    "case_id": [1],
                    "from_plan_id": ["pro_monthly"],
                    "from_quantity": [1],
                    "to_plan_id": ["pro_monthly"],
                    "period_start": [MAR1],
                }
            ),
            SAMPLE_FRAME,
        )


def test_empty_batch():
    cases = pl.DataFrame(
        schema={
            "case_id": pl.Utf8,
            "from_plan_id": pl.Utf8,
            "from_quantity": pl.Int64,
            "to_plan_id": pl.Utf8,
            "period_start": pl.Utf8,
            "at": pl.Utf8,
        }
    )
    out = price_batch(cases, SAMPLE_FRAME)
    assert out.height == 0 and out.columns == list(OUTPUT_COLUMNS)


def test_huge_amounts_take_the_exact_path():
    # 10**12 * 10**6 = 10**18 >= 2**59: priced by the exact path, still fits int64.
    big = {
        "big_m": Plan("big_m", "B", 1, "month", 10**12, "USD", True),
        "big2_m": Plan("big2_m", "B2", 2, "month", 3 * 10**12 + 1, "USD", True),
        "huge_m": Plan("huge_m", "H", 3, "month", 10**15, "USD", True),
    }
    cases = pl.DataFrame(
        [
            case(1, "big_m", 10**6, "big2_m", 10**6, MAR1, APR1, "2026-03-11T07:00:00Z"),
            case(2, "big_m", 1500, "big2_m", 1000, MAR1, APR1, MID),
            case(3, "big_m", 1, "huge_m", 10**6, MAR1, APR1, MID),
        ],
        infer_schema_length=None,
    )
    out = price_batch(cases, plans_to_frame(big)).to_dicts()
    # remaining = Apr 1 - Mar 11 07:00 = 20 d 17 h = 1789200 s of 31 d = 2678400 s
    # credit = -round(10**18 * 1789200 / 2678400), by integer arithmetic written out here:
    num = 10**18 * 1789200
    credit = -((2 * num + 2678400) // (2 * 2678400))
    assert out[0]["proration_credit_minor"] == credit
    num = (3 * 10**12 + 1) * 10**6 * 1789200
    assert out[0]["proration_charge_minor"] == (2 * num + 2678400) // (2 * 2678400)
    assert out[0]["error"] is None
    # vectorized path, f = 1/2: charge = round((3e12 + 1) * 1000 / 2) = 1500000000000500
    # credit = -round(1e12 * 1500 / 2) = -750000000000000
    assert out[1]["proration_charge_minor"] == 1_500_000_000_000_500
    assert out[1]["proration_credit_minor"] == -750_000_000_000_000
    # 10**21 does not fit the int64 output: an error for that row only
    assert "64-bit" in out[2]["error"]


def test_day_granularity_batch_rounding_half_away():
    plans = {
        "one": Plan("one", "one", 1, "month", 1, "USD", True),
        "five": Plan("five", "five", 1, "month", 5, "USD", True),
    }
    # 30-day period (Apr 1 - May 1), at Apr 16: f = 15/30 = 1/2
    # credit -round(0.5) = -1, charge round(2.5) = 3
    cases = pl.DataFrame(
        [
            case(
                1,
                "one",
                1,
                "five",
                1,
                "2026-04-01",
                "2026-05-01",
                "2026-04-16T20:00:00Z",
                granularity="day",
            )
        ]
    )
    r = price_batch(cases, plans_to_frame(plans)).row(0, named=True)
    assert (r["proration_credit_minor"], r["proration_charge_minor"]) == (-1, 3)


# --- agreement with the scalar quote ---------------------------------------------------------

OPTION_VALUES = {
    "proration_behavior": [None, "create_prorations", "always_invoice", "none"],
    "granularity": [None, "second", "day"],
    "timing": [None, "auto", "immediate", "period_end"],
}


@st.composite
def catalogs(draw):
    n = draw(st.integers(2, 5))
    plans = {}
    for i in range(n):
        lo = draw(st.one_of(st.none(), st.integers(1, 5)))
        hi = draw(st.one_of(st.none(), st.integers(5, 500)))
        ents = draw(st.sets(st.sampled_from(["a", "b", "c", "d"])))
        price = draw(st.one_of(st.just(0), st.integers(1, 10**7), st.integers(1, 100)))
        plans[f"p{i}"] = Plan(
            f"p{i}",
            f"Plan {i}",
            draw(st.integers(0, 3)),
            draw(st.sampled_from(["month", "year"])),
            price,
            draw(st.sampled_from(["USD", "USD", "USD", "EUR"])),
            draw(st.booleans()),
            lo,
            hi,
            tuple(sorted(ents)),
        )
    return plans


@st.composite
def batches(draw, valid_only=False):
    plans = draw(catalogs())
    ids = list(plans)
    rows = []
    for i in range(draw(st.integers(1, 12))):
        fid = draw(st.sampled_from(ids))
        tid = draw(st.sampled_from(ids))
        if valid_only:
            cur = plans[fid].currency
            tid = draw(st.sampled_from([p for p in ids if plans[p].currency == cur]))
        to_plan = plans[tid]
        qf = draw(st.integers(0, 600))
        lo, hi = to_plan.min_seats or 0, to_plan.max_seats or 600
        qt = draw(st.one_of(st.none(), st.integers(lo, hi) if valid_only else st.integers(0, 600)))
        if valid_only and qt is None and not lo <= qf <= hi:
            qt = lo
        ps = datetime(1990, 1, 1, tzinfo=UTC) + timedelta(
            seconds=draw(st.integers(0, 110 * 365 * 86400))
        )
        if draw(st.booleans()):
            pe = None
            end = add_months(ps, 1 if plans[fid].billing_interval == "month" else 12)
        else:
            length = draw(st.integers(1 if not valid_only else 2 * 86400, 800 * 86400))
            end = pe = ps + timedelta(seconds=length)
        span = int((end - ps).total_seconds())
        if valid_only:
            offset = draw(st.integers(0, span - 1))
        else:
            offset = draw(st.integers(-86400, span + 86400))
        at = ps + timedelta(seconds=offset)
        opts = {k: draw(st.sampled_from(v)) for k, v in OPTION_VALUES.items()}
        if not valid_only and draw(st.integers(0, 20)) == 0:
            opts["timing"] = "sometime"
        if not valid_only and draw(st.integers(0, 20)) == 0:
            fid = "missing_plan"
        rows.append(case(f"c{i}", fid, qf, tid, qt, ps, pe, at, **opts))
    as_text = draw(st.booleans())
    return plans, rows, as_text


def _iso(dt, offset_minutes):
    if dt is None:
        return None
    local = dt + timedelta(minutes=offset_minutes)
    sign = "+" if offset_minutes >= 0 else "-"
    hh, mm = divmod(abs(offset_minutes), 60)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{hh:02d}:{mm:02d}"


def _frame(rows, as_text, offset_minutes=0):
    if as_text:
        rows = [
            {**r, **{k: _iso(r[k], offset_minutes) for k in ("period_start", "period_end", "at")}}
            for r in rows
        ]
        schema = dict.fromkeys(("period_start", "period_end", "at"), pl.Utf8)
    else:
        schema = {k: pl.Datetime("us", "UTC") for k in ("period_start", "period_end", "at")}
    schema.update({"from_quantity": pl.Int64, "to_quantity": pl.Int64})
    for k in OPTION_VALUES:
        schema[k] = pl.Utf8
    schema.update({"case_id": pl.Utf8, "from_plan_id": pl.Utf8, "to_plan_id": pl.Utf8})
    return pl.DataFrame(rows, schema=schema)


def quote_case(plans, r):
    """The scalar ``quote`` of one case (a row of a batch, as a dict)."""
    return quote(
        plans,
        r["from_plan_id"],
        r["from_quantity"],
        r["to_plan_id"],
        r["to_quantity"],
        r["period_start"],
        r["period_end"],
        r["at"],
        proration_behavior=r["proration_behavior"],
        granularity=r["granularity"],
        timing=r["timing"],
    )


def _line(q, line_type):
    ln = q.line(line_type)
    return None if ln is None else ln.amount_minor


def _assert_agree(q, row):
    assert row["error"] is None
    assert row["proration_credit_minor"] == _line(q, "proration_credit")
    assert row["proration_charge_minor"] == _line(q, "proration_charge")
    assert row["subscription_line_minor"] == _line(q, "subscription")
    assert row["proration_net_minor"] == q.proration_net_minor
    assert row["amount_due_now_minor"] == q.amount_due_now_minor
    assert row["next_invoice_date"] == q.next_invoice_date
    assert row["next_invoice_amount_minor"] == q.next_invoice_amount_minor
    assert row["credit_balance_minor"] == q.credit_balance_minor
    assert row["effective_at"] == q.effective_at
    assert row["movement"] == q.movement
    assert row["kind"] == q.kind
    assert abs(Fraction(row["mrr_delta_minor"]) - q.mrr_delta_minor) <= Fraction(1, 10**6)


def _assert_bounds(q, plans):
    """Sign and bound properties of a valid quote."""
    fp, tp = plans[q.from_plan_id], plans[q.to_plan_id]
    credit, charge = _line(q, "proration_credit"), _line(q, "proration_charge")
    if credit is not None:
        assert credit <= 0
        assert -credit <= fp.unit_amount_minor * q.from_quantity
    if charge is not None:
        assert charge >= 0
        assert charge <= tp.unit_amount_minor * q.to_quantity
    assert q.amount_due_now_minor >= 0
    assert q.credit_balance_minor >= 0
    assert q.next_invoice_amount_minor >= 0
    assert not (q.next_invoice_amount_minor > 0 and q.credit_balance_minor > 0)
    assert q.next_invoice_date == q.period_end
    assert q.effective_at <= q.next_invoice_date


@SETTINGS
@given(batches(valid_only=True), st.sampled_from([0, 330, -480, 60]))
def test_batch_agrees_with_quote_on_valid_cases(batch, offset):
    plans, rows, as_text = batch
    out = price_batch(_frame(rows, as_text, offset), plans_to_frame(plans)).to_dicts()
    assert len(out) == len(rows)
    for r, row in zip(rows, out, strict=True):
        assert row["case_id"] == r["case_id"]
        q = quote_case(plans, r)
        _assert_agree(q, row)
        _assert_bounds(q, plans)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(valid_only=False))
def test_batch_agrees_with_quote_including_errors(batch):
    plans, rows, as_text = batch
    out = price_batch(_frame(rows, as_text), plans_to_frame(plans)).to_dicts()
    for r, row in zip(rows, out, strict=True):
        try:
            q = quote_case(plans, r)
        except QuoteError as exc:
            assert row["error"] == str(exc)
            assert row["proration_net_minor"] is None
            continue
        _assert_agree(q, row)


# --- calendar and parser agreement ------------------------------------------------------------

datetimes = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9998, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)


@SETTINGS
@given(st.lists(st.tuples(datetimes, st.integers(-1200, 1200)), min_size=1, max_size=30))
def test_add_months_vectorized_agrees(pairs):
    pairs = [(d, m) for d, m in pairs if 1 <= d.year + (d.month - 1 + m) // 12 <= 9999]
    if not pairs:
        return
    seconds = np.array([epoch_seconds(d) for d, _ in pairs], dtype=np.int64)
    months = np.array([m for _, m in pairs], dtype=np.int64)
    got = add_months_np(seconds, months)
    for (d, m), s in zip(pairs, got, strict=True):
        expected = add_months(d, m)
        assert epoch_seconds(expected) == s
        # properties: same time of day, day clamped, exact month count
        assert expected.time() == d.time()
        assert expected.day == d.day or expected.day < d.day
        assert (expected.year * 12 + expected.month) - (d.year * 12 + d.month) == m


timestamp_texts = st.one_of(
    st.builds(
        lambda y, mo, d, h, mi, s, sep, tz: (
            f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}:{s:02d}{tz}"
        ),
        st.integers(1, 9999),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 25),
        st.integers(0, 61),
        st.integers(0, 61),
        st.sampled_from(["T", " ", "t"]),
        st.sampled_from(["", "Z", "+01:00", "-05:30", "+0200", "+14", "-23:59", "+24:00", ".5Z"]),
    ),
    st.builds(
        lambda y, mo, d: f"{y:04d}-{mo:02d}-{d:02d}",
        st.integers(1, 9999),
        st.integers(1, 12),
        st.integers(1, 31),
    ),
    st.text(max_size=25),
)


@SETTINGS
@given(st.lists(timestamp_texts, min_size=1, max_size=30))
def test_timestamp_parsers_agree(texts):
    seconds, _present, valid = parse_ts_series(pl.Series(texts, dtype=pl.Utf8))
    for text, s, ok in zip(texts, seconds, valid, strict=True):
        try:
            expected = parse_timestamp(text)
        except TimestampError:
            assert not ok, text
            continue
        assert ok, text
        assert s == epoch_seconds(expected), text
