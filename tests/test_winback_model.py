"""The win-back model without dbt: features, time split, reasons, plays, the CSV and the
``horizon_days`` parameter, on small frames built here (docs/winback.md)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from attempts_reference import FUNNEL_STEPS
from upgrade_warehouse.errors import UserError
from upgrade_warehouse.exports import safe_text as neutralise
from upgrade_warehouse.params import Parameters, parse_vars
from upgrade_warehouse.winback import features as ft
from upgrade_warehouse.winback import train
from upgrade_warehouse.winback.plays import ROW_COLUMNS, suggest
from upgrade_warehouse.winback.reader import to_csv
from upgrade_warehouse.winback.reasons import Explainer, days_ago, times, top_reasons

STEPS = list(FUNNEL_STEPS)
AS_OF = datetime(2026, 6, 30, 12, 0, 0)
HORIZON = 30

# Every count column of marts.fct_winback_features the model reads, all zero (the
# furthest funnel step indexes are taken as they are, not log-counted).
ZERO_COUNTS = dict.fromkeys((*ft.COUNTS, "furthest_step_index", "furthest_step_index_30d"), 0)


def snapshot(i: int, offset: int, **values) -> dict:
    row = {
        "snapshot_id": i,
        "account_id": f"a{i:05d}",
        "cutoff_at": AS_OF - timedelta(days=offset),
        "cutoff_offset_days": offset,
        "is_scoring": offset == 0,
        "upgraded_within_horizon": None if offset == 0 else False,
        "activated_at": AS_OF - timedelta(days=offset + 40),
        "persona": "founder",
        "acquisition_source": "organic",
        "segment": "smb",
        "country": "US",
        "account_manager_id": None,
        "has_account_manager": False,
        "days_since_signup": 41.0,
        "days_since_activation": 40.0,
        "plan_id": "free",
        "plan_tier_rank": 0,
        "plan_max_seats": 3,
        "days_since_last_usage": 2.0,
        "latest_pending_offer_trigger": None,
        **ZERO_COUNTS,
    }
    row.update(values)
    return row


def signals_of(entries: list[tuple[int, str, str, int, int, int]]) -> ft.Signals:
    """(snapshot_id, kind, name, 14d, 30d, total) -> Signals."""
    keys = sorted({(k, n) for _, k, n, *_ in entries})
    index = {key: i for i, key in enumerate(keys)}
    return ft.Signals(
        snapshot_id=np.array([e[0] for e in entries], dtype=np.int64),
        key_id=np.array([index[(e[1], e[2])] for e in entries], dtype=np.int64),
        counts={
            "14d": np.array([e[3] for e in entries], dtype=float),
            "30d": np.array([e[4] for e in entries], dtype=float),
            "total": np.array([e[5] for e in entries], dtype=float),
        },
        keys=keys,
    )


@pytest.fixture(scope="module")
def world():
    """A history where exports in the last 14 days drive upgrades: 60 accounts per
    weekly snapshot over 26 weeks, plus 300 accounts to score."""
    rng = np.random.default_rng(3)
    rows, entries = [], []
    i = 0
    for k in range(26):
        offset = HORIZON + 7 * k
        for _ in range(60):
            exports = int(rng.poisson(3.0))
            p = 1 / (1 + np.exp(-(-4.0 + 0.9 * exports)))
            rows.append(snapshot(i, offset, upgraded_within_horizon=bool(rng.random() < p)))
            if exports:
                entries.append((i, "usage", "export_downloaded", exports, exports + 1, exports + 5))
            entries.append((i, "usage", "dashboard_viewed", 4, 9, 30))
            i += 1
    for _ in range(300):
        exports = int(rng.poisson(3.0))
        rows.append(snapshot(i, 0))
        if exports:
            entries.append((i, "usage", "export_downloaded", exports, exports, exports))
        entries.append((i, "funnel_step", "payment_method_selected", 0, 0, 2))
        i += 1
    return pl.DataFrame(rows, infer_schema_length=None), signals_of(entries)


def test_model_learns_the_signal_and_validates_on_the_latest_weeks(world):
    wide, signals = world
    steps_reported: list[str] = []
    result = train.fit_and_score(wide, signals, HORIZON, STEPS, steps_reported.append)
    # the build's progress line names each step (26 weeks x 60 labelled, 300 to score)
    assert steps_reported == [
        "validating on 1,560 labelled snapshots",
        "training on 1,560 snapshots",
        "scoring 300 accounts",
    ]
    assert result.model_kind == "logistic_regression"
    v = result.validation
    # validation = snapshots with cutoff in (as_of - 2h, as_of - h]: offsets 30, 37, 44,
    # 51, 58 (5 weeks x 60); its model is trained on offsets >= 58 + 30 = 88, i.e.
    # k >= 9 (offset 93) to k = 25: 17 weeks x 60
    assert (v.snapshots, v.rows, v.training_rows) == (5, 300, 17 * 60)
    assert v.first_cutoff == AS_OF - timedelta(days=58)
    assert v.last_cutoff == AS_OF - timedelta(days=30)
    assert v.auc > 0.8
    assert v.top_decile_lift > 2
    assert sum(b["accounts"] for b in v.calibration) == 300
    scores = result.scores
    assert scores.height == 300
    p = scores.get_column("probability").to_numpy()
    assert ((p >= 0) & (p <= 1)).all()
    assert (np.diff(p) <= 0).all(), "highest probability first"
    assert scores.get_column("rank").to_list() == list(range(1, 301))
    # the final model is trained on every labelled snapshot
    assert result.training_rows == 26 * 60


def test_reasons_come_from_positive_contributions(world):
    wide, signals = world
    result = train.fit_and_score(wide, signals, HORIZON, STEPS)
    rows = result.scores.to_dicts()
    reasons = json.loads(rows[0]["reasons"])  # the top account
    assert reasons[0].startswith("used export_downloaded ")
    assert reasons[0].endswith(" times in the last 14 days")
    # accounts without exports never get an export reason (absent signals are not reasons)
    key = signals.keys.index(("usage", "export_downloaded"))
    exporting = {f"a{s:05d}" for s in signals.snapshot_id[signals.key_id == key]}
    idle = [r for r in rows if r["account_id"] not in exporting]
    assert idle
    assert all("export_downloaded" not in r["reasons"] for r in idle)


def test_top_reasons_skip_negative_absent_and_below_average_inputs():
    wide = pl.DataFrame(
        [
            snapshot(
                0,
                0,
                usage_events_14d=12,
                usage_events_30d=20,
                payment_failures_total=2,
                days_since_activation=5.0,
            )
        ],
        infer_schema_length=None,
    )
    sig = signals_of(
        [
            (0, "funnel_step", "payment_method_selected", 0, 1, 2),
            (0, "usage", "api_call", 42, 50, 60),
            (0, "usage", "dashboard_viewed", 0, 0, 1),
        ]
    )
    vocab = ft.Vocabulary(categories={}, signals=sig.keys)
    m = ft.matrix(wide, sig, vocab)
    contrib = np.zeros((1, len(m.names)))
    above = np.ones((1, len(m.names)), dtype=bool)

    def set_(name, value, above_mean=True):
        contrib[0, m.names.index(name)] = value
        above[0, m.names.index(name)] = above_mean

    set_("usage:api_call:14d", 0.9)
    set_("funnel_step:payment_method_selected:total", 0.5)
    set_("payment_failures_total", -0.7)  # pushes down: never a reason
    set_("upsell_offers_pending", 0.8)  # absent (0 offers): never a reason
    # one view where the average account has many, and views lower the probability: the
    # contribution is positive, but "used dashboard_viewed once" would mislead
    set_("usage:dashboard_viewed:total", 0.95, above_mean=False)
    set_("activated_3_7_days_ago", 0.2)
    reasons, first = top_reasons(m, contrib, STEPS, above_mean=above)
    assert reasons == [
        [
            "used api_call 42 times in the last 14 days",
            "reached payment_method_selected twice",
            "activated 5 days ago",
        ]
    ]
    assert first == ["usage:api_call"]


def reasons_row_by_row(m, contributions, steps, above_mean, k=3):
    """The rule of top_reasons' docstring, one row and one group at a time: groups by
    decreasing summed contribution while it is positive; a group counts when its most
    positive present input (the first of equals) is positive and it has words."""
    groups = sorted(set(m.groups))
    explainer = Explainer(m, steps)
    out, first = [], []
    for i in range(m.x.shape[0]):
        sums = {
            g: sum(contributions[i, f] for f in range(len(m.names)) if m.groups[f] == g)
            for g in groups
        }
        reasons, top = [], None
        for g in sorted(groups, key=lambda g: -sums[g]):  # sorted() is stable
            if sums[g] <= 0 or len(reasons) >= k:
                break
            present = [
                f
                for f in range(len(m.names))
                if m.groups[f] == g and above_mean[i, f] and m.x[i, f] != 0
            ]
            if not present:
                continue
            carrier = max(present, key=lambda f: (contributions[i, f], -f))
            if contributions[i, carrier] <= 0:
                continue
            text = explainer.describe(g, m.names[carrier], i)
            if text:
                reasons.append(text)
                top = top or g
        out.append(reasons)
        first.append(top)
    return out, first


def test_top_reasons_match_the_rule_row_by_row(world):
    """top_reasons works on whole columns; the same reasons as the rule applied to each
    row on its own, on random contributions with ties, zeros and negative values."""
    wide, signals = world
    scoring = wide.filter(pl.col("is_scoring"))
    m = ft.matrix(scoring, signals, ft.Vocabulary.fit(wide, signals))
    rng = np.random.default_rng(7)
    contrib = rng.choice([-0.5, 0.0, 0.25, 0.25, 0.5, 1.0], size=m.x.shape)
    above = rng.random(m.x.shape) < 0.7
    reasons, first = top_reasons(m, contrib, STEPS, above_mean=above)
    expected = reasons_row_by_row(m, contrib, STEPS, above)
    assert (reasons, first) == expected
    assert sum(map(len, reasons)) > m.x.shape[0]  # not vacuous: most rows have reasons
    assert any(len(r) == 3 for r in reasons) and any(len(r) < 3 for r in reasons)


def test_top_reasons_look_past_candidates_without_words(world, monkeypatch):
    """top_reasons turns only each row's first k + 2 candidate groups into Python lists;
    a row whose candidates have no words (describe gives None) is worded again from all
    of them: the same reasons as the rule row by row."""
    wide, signals = world
    scoring = wide.filter(pl.col("is_scoring"))
    m = ft.matrix(scoring, signals, ft.Vocabulary.fit(wide, signals))
    words = Explainer.describe
    asked: dict[int, int] = {}  # row -> describe calls

    def sparse_words(self, g, f, i):
        """No words for four groups in five, by the row and the group's name."""
        asked[i] = asked.get(i, 0) + 1
        return words(self, g, f, i) if (i + len(g)) % 5 == 0 else None

    monkeypatch.setattr(Explainer, "describe", sparse_words)
    rng = np.random.default_rng(11)
    contrib = rng.choice([0.25, 0.5, 1.0, 2.0], size=m.x.shape)
    above = np.ones(m.x.shape, dtype=bool)
    reasons, first = top_reasons(m, contrib, STEPS, above_mean=above)
    # not vacuous: some rows were worded again (more calls than the 5 candidates of
    # their first pass), and reasons were found
    assert max(asked.values()) > 5
    assert sum(map(len, reasons)) > 0
    assert (reasons, first) == reasons_row_by_row(m, contrib, STEPS, above)


def test_scoring_in_chunks_gives_the_same_list(world, monkeypatch):
    """fit_and_score scores and explains SCORING_CHUNK_ROWS accounts at a time: chunks
    of 7 (300 accounts: 42 full chunks and one of 6) give the list of one chunk."""
    wide, signals = world
    whole = train.fit_and_score(wide, signals, HORIZON, STEPS).scores
    monkeypatch.setattr(train, "SCORING_CHUNK_ROWS", 7)
    chunked = train.fit_and_score(wide, signals, HORIZON, STEPS).scores
    assert whole.height == 300
    assert chunked.equals(whole)


def test_too_little_history_falls_back_to_the_base_rate():
    rows = [snapshot(i, HORIZON + 7 * (i % 3), upgraded_within_horizon=(i == 0)) for i in range(30)]
    rows += [snapshot(100 + i, 0) for i in range(4)]
    wide = pl.DataFrame(rows, infer_schema_length=None)
    result = train.fit_and_score(wide, signals_of([]), HORIZON, STEPS)
    assert result.model_kind == "base_rate" and result.validation is None
    # (1 upgrade + 0.5) / (30 snapshots + 1)
    assert result.scores.get_column("probability").to_list() == [pytest.approx(1.5 / 31)] * 4
    assert "too few" in result.validated_on
    only_scoring = pl.DataFrame([snapshot(i, 0) for i in range(3)], infer_schema_length=None)
    result = train.fit_and_score(only_scoring, signals_of([]), HORIZON, STEPS)
    assert result.model_kind == "none"
    assert result.scores.get_column("probability").null_count() == 3


def test_calibration_bins_and_lift_by_hand():
    p = np.array([0.9, 0.8, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.05])
    y = np.array([1, 1, 0, 0, 0, 0, 1, 0, 0, 0])
    # top decile = the single highest (0.9, upgraded): rate 1 / overall 0.3
    assert train.top_decile_lift(p, y) == pytest.approx(1 / 0.3)
    bins = train.calibration_bins(p, y)
    assert [b["accounts"] for b in bins] == [2, 2, 2, 2, 2]
    # sorted p: .05 .1 | .2 .3 | .4 .5 | .6 .7 | .8 .9 -> observed 0, 0, .5, 0, 1
    assert [b["observed_rate"] for b in bins] == [0, 0, 0.5, 0, 1]
    assert bins[0]["mean_probability"] == pytest.approx(0.075)


@pytest.mark.parametrize(
    ("values", "group", "expected"),
    [
        # friction in the last 30 days comes first, whatever the reason
        (
            {"payment_failures_30d": 1, "account_manager_id": "am_1"},
            "usage:api_call",
            ("support", "customer_success", "email"),
        ),
        # as many active users as seats -> usage threshold; no manager, active -> in_app
        (
            {"active_users_30d": 3, "plan_max_seats": 3, "usage_events_14d": 5},
            "persona=founder",
            ("usage_threshold", "automated", "in_app"),
        ),
        (
            {"usage_events_14d": 0},
            "usage:export_downloaded",
            ("usage_threshold", "automated", "email"),
        ),
        (
            {"account_manager_id": "am_2"},
            "entry_point:pricing_page",
            ("feature_gate", "sales", "demo"),
        ),
        ({"account_manager_id": "am_2"}, "activation", ("propensity", "sales", "call")),
        ({"usage_events_14d": 1}, None, ("propensity", "automated", "in_app")),
    ],
)
def test_plays(values, group, expected):
    play = suggest(OnlyRowColumns(values), group)
    assert (play.trigger, play.owner, play.channel) == expected


class OnlyRowColumns(dict):
    """A snapshot row as the build hands it to ``suggest``: only ``ROW_COLUMNS`` (the
    build selects them); a lookup of any other key fails the test."""

    def get(self, key, default=None):
        assert key in ROW_COLUMNS, f"suggest reads {key}, which is not in ROW_COLUMNS"
        return super().get(key, default)

    def __getitem__(self, key):
        assert key in ROW_COLUMNS, f"suggest reads {key}, which is not in ROW_COLUMNS"
        return super().__getitem__(key)


def test_reason_words():
    assert [times(1), times(2), times(42)] == ["once", "twice", "42 times"]
    assert days_ago(0.4, "activated") == "activated today"
    assert days_ago(1.9, "activated") == "activated yesterday"
    assert days_ago(12.2, "activated") == "activated 12 days ago"


def test_csv_neutralises_formulas():
    assert [neutralise(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "acc_1", 0.5)] == [
        "'=1+1",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "acc_1",
        0.5,
    ]
    text = to_csv(
        [
            {
                "rank": 1,
                "account_id": '=HYPERLINK("x")',
                "activated_at": datetime(2026, 3, 1),
                "probability": 0.25,
                "reasons": ["-used api_call once", "activated today"],
                "play_trigger": "propensity",
                "play_owner": "automated",
                "play_channel": "email",
                "segment": "@smb",
                "persona": None,
                "plan_id": "free",
                "account_manager_id": None,
            }
        ]
    )
    header, row = text.splitlines()
    assert header.split(",")[:5] == ["rank", "account_id", "activated_at", "probability", "reasons"]
    assert row == (
        '1,"\'=HYPERLINK(""x"")",2026-03-01T00:00:00Z,0.25,'
        "'-used api_call once; activated today,propensity,automated,email,'@smb,,"
        "free,"
    )


def test_horizon_days_is_a_build_parameter_but_not_a_metric_parameter():
    params = parse_vars(["horizon_days=14"])
    assert params.horizon_days == 14
    assert "horizon_days" not in params.as_json()  # the metrics JSON's parameters
    assert params.dbt_vars()["horizon_days"] == 14
    assert Parameters().dbt_vars()["horizon_days"] == 30
    for bad in ("0", "366", "-3", "x"):
        with pytest.raises(UserError, match="horizon_days"):
            parse_vars([f"horizon_days={bad}"])
