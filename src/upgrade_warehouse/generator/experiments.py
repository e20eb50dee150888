"""A/B tests of the upgrade flow with known true effects (metrics.md "Experiments",
docs/generator.md "Experiments").

Exposures are `experiment_viewed` events (properties experiment_id, variation_id) of
accounts that signed up before the experiment ended, at a random moment while it ran.
Everything here draws from a random stream of its own (``experiments``) and writes
product events only, with event ids of their own (``xev_...``): every other row of
the data set, product events included, is the same as without experiments for the same
seed. The planted effect is real in the data: a treated account of the targeted persona
gets a higher chance to start an upgrade attempt and reach ``plan_selected`` within
days of its exposure (its own extra funnel events), nobody else is touched.

The experiments (windows relative to the end of the simulated window, clipped to it):

- ``pricing_copy`` (control / treatment): the treatment raises plan_selected for
  marketers only (``EFFECT_PROBABILITY`` of the treated marketers start an attempt and
  select a plan 1-48 hours after exposure); no effect on the other personas.
- ``checkout_button`` (control / treatment): no effect; ``LEAK_SHARE`` of its exposed
  accounts also see the other variation (left out: multiple_exposures).
- ``annual_nudge`` (control / treatment): no effect, but a broken assignment, 60/40
  instead of 50/50 (sample-ratio mismatch).
- ``upgrade_modal`` (variations 0, 1, 2): no effect; still running at the end of the
  window, so its latest accounts have not matured.

Every exposed account views its variation 1-4 times (repeated exposures; the first
counts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import catalog as cat
from . import frames as fr
from . import model as m
from .accounts import Accounts
from .config import GeneratorConfig, Streams
from .fastfmt import digits_array, numeric_array, ts_text_array
from .timeutil import DAY, HOUR, MINUTE

EXPOSURE_EVENT = "experiment_viewed"
EFFECT_PROBABILITY = 0.35  # treated marketers of pricing_copy: extra plan_selected
LEAK_SHARE = 0.02  # checkout_button: exposed accounts that also see the other variation


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    variations: tuple[str, ...]
    weights: tuple[float, ...]
    starts_days_before_end: int
    ends_days_before_end: int
    exposure_share: float  # of the accounts created before the experiment's end
    effect_persona: str | None = None  # the treated persona of a planted effect
    leak_share: float = 0.0


EXPERIMENTS = (
    Experiment("pricing_copy", ("control", "treatment"), (0.5, 0.5), 150, 60, 0.6, "marketer"),
    Experiment(
        "checkout_button", ("control", "treatment"), (0.5, 0.5), 180, 90, 0.5, None, LEAK_SHARE
    ),
    Experiment("annual_nudge", ("control", "treatment"), (0.6, 0.4), 120, 40, 0.5),
    Experiment("upgrade_modal", ("0", "1", "2"), (1 / 3, 1 / 3, 1 / 3), 50, 0, 0.4),
)


@dataclass
class ExperimentEvents:
    acct: np.ndarray
    ts: np.ndarray
    name: np.ndarray  # 0 experiment_viewed, 1 upgrade_intent, 2 plan_selected
    experiment: np.ndarray  # index into EXPERIMENTS (-1 for funnel events)
    variation: np.ndarray  # index into the experiment's variations
    plan: np.ndarray  # plan index of plan_selected (-1 otherwise)


NAMES = (EXPOSURE_EVENT, "upgrade_intent", "plan_selected")


def build_experiments(cfg: GeneratorConfig, streams: Streams, acc: Accounts) -> ExperimentEvents:
    """The exposure events of every experiment and the funnel events of the planted
    effect, in generation order."""
    rng = streams.get("experiments")
    parts: list[tuple] = []
    for e_idx, exp in enumerate(EXPERIMENTS):
        start = max(cfg.start_ts, cfg.end_ts - exp.starts_days_before_end * DAY)
        end = cfg.end_ts - exp.ends_days_before_end * DAY - 1
        if end <= start:
            continue
        eligible = np.flatnonzero(acc.created < end)
        draw = rng.random(eligible.size)
        exposed = eligible[draw < exp.exposure_share]
        k = exposed.size
        if k == 0:
            continue
        variation = rng.choice(len(exp.variations), size=k, p=np.array(exp.weights))
        lo = np.maximum(acc.created[exposed], start)
        first = lo + (rng.random(k) * (end - lo)).astype(np.int64)
        views = rng.integers(1, 5, k)  # 1-4 views of the variation
        owner = np.repeat(np.arange(k), views)
        later = np.where(
            np.arange(owner.size) == np.repeat(np.cumsum(views) - views, views),
            0,
            (rng.random(owner.size) * 7 * DAY).astype(np.int64),
        )
        ts = np.minimum(first[owner] + later, cfg.end_ts - 1)
        var = variation[owner]
        parts.append((exposed[owner], ts, np.zeros(owner.size, np.int64), e_idx, var, -1))
        if exp.leak_share > 0:
            leak = rng.random(k) < exp.leak_share
            other = (variation[leak] + 1) % len(exp.variations)
            t_leak = np.minimum(
                first[leak] + rng.integers(HOUR, 3 * DAY, leak.sum()), cfg.end_ts - 1
            )
            parts.append((exposed[leak], t_leak, np.zeros(leak.sum(), np.int64), e_idx, other, -1))
        if exp.effect_persona is not None:
            persona = m.PERSONAS.index(exp.effect_persona)
            treated = (variation == exp.variations.index("treatment")) & (
                acc.persona[exposed] == persona
            )
            hit = treated & (rng.random(k) < EFFECT_PROBABILITY)
            a = exposed[hit]
            t_intent = first[hit] + rng.integers(HOUR, 48 * HOUR, a.size)
            t_plan = t_intent + rng.integers(MINUTE, 10 * MINUTE, a.size)
            keep = t_plan < cfg.end_ts
            a, t_intent, t_plan = a[keep], t_intent[keep], t_plan[keep]
            tier = cat.TIER_KEYS.index("pro")
            plan = np.array(
                [
                    cat.PLAN_IDS.index(f"{cat.TIER_KEYS[tier]}_monthly_{c.lower()}")
                    for c in cat.CURRENCY_CODES
                ]
            )[acc.currency[a]]
            n = a.size
            parts.append((a, t_intent, np.ones(n, np.int64), -1, np.zeros(n, np.int64), -1))
            parts.append((a, t_plan, np.full(n, 2, np.int64), -1, np.zeros(n, np.int64), plan))
    if not parts:
        empty = np.zeros(0, np.int64)
        return ExperimentEvents(empty, empty, empty, empty, empty, empty)

    def column(i, fill_scalar=False):
        out = []
        for p in parts:
            v = p[i]
            out.append(
                np.full(p[0].size, v, np.int64) if np.isscalar(v) else np.asarray(v, np.int64)
            )
        return np.concatenate(out)

    return ExperimentEvents(
        acct=column(0),
        ts=column(1),
        name=column(2),
        experiment=column(3),
        variation=column(4),
        plan=column(5),
    )


def experiments_table(
    cfg: GeneratorConfig, streams: Streams, acc: Accounts, as_text: bool, schema: pa.Schema
) -> pa.Table:
    """The product events of the experiments as one Arrow table (time order, ties in
    generation order), in the writer's schema."""
    ev = build_experiments(cfg, streams, acc)
    rng = streams.get("experiments_received")
    order = np.lexsort((np.arange(ev.acct.size), ev.ts))
    acct, ts, name = ev.acct[order], ev.ts[order], ev.name[order]
    exp, var, plan = ev.experiment[order], ev.variation[order], ev.plan[order]
    n = acct.size
    recv = np.minimum(
        ts + np.minimum(np.exp(rng.normal(0.4, 1.0, n)), 600).astype(np.int64), cfg.end_ts - 1
    )
    recv = np.maximum(recv, ts)
    props = []
    for i in range(n):
        if name[i] == 0:
            e = EXPERIMENTS[exp[i]]
            props.append(
                f'{{"experiment_id":"{e.experiment_id}","variation_id":"{e.variations[var[i]]}"}}'
            )
        elif name[i] == 1:
            props.append('{"entry_point":"pricing_page"}')
        else:
            props.append(f'{{"to_plan_id":"{cat.PLAN_IDS[plan[i]]}"}}')
    account = fr.account_id(acct).to_arrow().cast(pa.large_string())
    user = pa.array([f"{a}_u0" for a in account.to_pylist()], pa.large_string())
    names = pa.array([NAMES[k] for k in name], pa.large_string())
    cols = {
        "event_id": digits_array("xev_", np.arange(n), 10).cast(pa.large_string()),
        "account_id": account,
        "user_id": user,
        "event_name": names,
    }
    if as_text:
        cols["occurred_at"] = ts_text_array(ts).cast(pa.large_string())
        cols["received_at"] = ts_text_array(recv).cast(pa.large_string())
    else:
        cols["occurred_at"] = numeric_array(ts * 1_000_000, pa.timestamp("us", tz="UTC"))
        cols["received_at"] = numeric_array(recv * 1_000_000, pa.timestamp("us", tz="UTC"))
        for c in ("account_id", "user_id", "event_name"):
            cols[c] = cols[c].dictionary_encode().cast(schema.field(c).type)
    cols["properties"] = pa.array(props, pa.large_string())
    return pa.table(cols, schema=schema)
