"""Product events, generated in chunks of accounts so that any number of events fits in
memory: the usage events of a chunk are drawn from a random stream of their own, merged
with the chunk's funnel and activation events, put in time order and handed to the
writer as an Arrow table (built with numpy, no per-row Python)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl
import pyarrow as pa

from . import frames as fr
from . import funnel as fn
from . import lifecycle as lc
from . import model as m
from .accounts import Accounts
from .config import GeneratorConfig, Streams
from .fastfmt import digits_array, numeric_array, scatter_strings, ts_text_array
from .funnel import USAGE_BASE, Funnel
from .timeutil import DAY, HOUR, MINUTE, calendar_month

CHUNK_ACCOUNTS = 20000  # fixed: the output must not depend on memory or core count
_SEG_USAGE = np.array([1.0, 1.8, 2.6])
API_CALL = USAGE_BASE + m.USAGE_NAMES.index("api_call")
QUIET_RATE = 0.15  # share of the usual activity after an account stopped paying
_DICT = pa.dictionary(pa.int32(), pa.large_string())
TYPED_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.large_string()),
        pa.field("account_id", _DICT),
        pa.field("user_id", _DICT),
        pa.field("event_name", _DICT),
        pa.field("occurred_at", pa.timestamp("us", tz="UTC")),
        pa.field("received_at", pa.timestamp("us", tz="UTC")),
        pa.field("properties", pa.large_string()),
    ]
)
TEXT_SCHEMA = pa.schema([pa.field(f.name, pa.large_string()) for f in TYPED_SCHEMA])


def inactive_since(cfg: GeneratorConfig, acc: Accounts, ch: lc.Changes) -> np.ndarray:
    """When an account that stopped paying went quiet (end of window otherwise)."""
    out = np.full(acc.n, cfg.end_ts, dtype=np.int64)
    order = np.lexsort((ch.changed, ch.acct))
    a = ch.acct[order]
    last = np.ones(order.size, dtype=bool)
    last[:-1] = a[1:] != a[:-1]
    li = order[last]
    quiet = (ch.mrr12_after[li] == 0) & ch.ever_paid_before[li] & (ch.etype[li] != lc.ET_SIGNUP)
    out[ch.acct[li][quiet]] = np.minimum(ch.effective[li][quiet], cfg.end_ts)
    return out


LUT_BITS = 12  # categorical draws by table lookup: probabilities in steps of 1/4096


def _lut(p: np.ndarray) -> np.ndarray:
    """A lookup table: LUT[uniform integer < 2**LUT_BITS] is distributed as ``p``."""
    size = 1 << LUT_BITS
    cdf = np.cumsum(p) / np.sum(p)
    return np.searchsorted(cdf, (np.arange(size) + 0.5) / size, side="right").clip(0, len(p) - 1)


class _UsageModel:
    """Per-window lookup tables shared by all chunks."""

    def __init__(self, cfg: GeneratorConfig):
        self.d0 = (cfg.start_ts - 60 * DAY) // DAY
        days = np.arange(self.d0, (cfg.end_ts - 1) // DAY + 1)
        dow = (days + 3) % 7  # 0 = Monday
        keep = m.USAGE_SEASON[calendar_month(days * DAY)] * np.where(dow >= 5, 0.55, 1.0)
        self.keep16 = (keep * 65536).astype(np.int64)  # compared with 16-bit uniforms
        self.hour_lut = _lut(m.HOUR_PROFILE) * HOUR
        self.name_lut = np.concatenate([_lut(p) for p in m.PERSONA_USAGE]) + USAGE_BASE


def _usage(rng, cfg: GeneratorConfig, um: _UsageModel, acc: Accounts, lo: int, hi: int, quiet_at):
    end = cfg.end_ts
    idx = np.arange(lo, hi)
    created = acc.created[idx]
    act = acc.activated[idx]
    act_at = np.where(act, acc.activated_at[idx], created)
    eng = np.exp(0.5 * acc.engagement[idx])
    # before activation (or the first weeks of accounts that never activate)
    pre_end = np.where(act, act_at, np.minimum(created + 21 * DAY, end))
    n_pre = rng.poisson(np.where(act, m.USAGE_PRE_ACTIVATION, m.USAGE_NOT_ACTIVATED) * eng)
    # after activation: full rate until the account went quiet, a trickle afterwards
    quiet = np.maximum(quiet_at[idx], act_at)
    active_len = (quiet - act_at).astype(float)
    eff_len = active_len + QUIET_RATE * (end - quiet)
    rate = m.USAGE_RATE_ACTIVATED * eng * _SEG_USAGE[acc.segment[idx]] / DAY
    n_post = np.where(act, rng.poisson(rate * eff_len), 0)

    o_pre = np.repeat(np.arange(idx.size), n_pre)
    t_pre = created[o_pre] + (rng.random(o_pre.size) * (pre_end - created)[o_pre]).astype(np.int64)
    o_post = np.repeat(np.arange(idx.size), n_post)
    x = rng.random(o_post.size) * eff_len[o_post]
    al = active_len[o_post]
    late = x >= al
    t_post = act_at[o_post] + x.astype(np.int64)
    t_post[late] = quiet[o_post[late]] + ((x[late] - al[late]) * (1 / QUIET_RATE)).astype(np.int64)
    owner = np.concatenate([o_pre, o_post])
    t = np.concatenate([t_pre, t_post])
    lo_t = np.concatenate([created[o_pre], act_at[o_post]])
    hi_t = np.concatenate([pre_end[o_pre], np.full(o_post.size, end)])
    k = owner.size
    # human rhythm: hour of day from the activity profile, fewer events at weekends and
    # in holiday months
    r = rng.integers(0, 1 << 31, k, dtype=np.int64)  # one draw, several fields
    t2 = (t // DAY) * DAY + um.hour_lut[r & 4095] + ((r >> 12) & 4095)
    t = np.where((t2 >= lo_t) & (t2 < hi_t), t2, t)
    keep = ((r >> 15) & 0xFFFF) < um.keep16[t // DAY - um.d0]
    owner, t = owner[keep], t[keep]
    k = owner.size
    r = rng.integers(0, 1 << 62, k, dtype=np.int64)
    persona = acc.persona[lo + owner]
    name = um.name_lut[(persona << LUT_BITS) | (r & 4095)]
    users = acc.users[lo + owner]
    user = ((r >> 12) & 0xFFFFFF) * users >> 24
    api_anon = (name == API_CALL) & (((r >> 36) & 1023) < 307)  # 30% of API calls
    user[api_anon] = -1
    return lo + owner, t, name, user


def _properties(name, pval, n) -> pa.Array:
    has = (pval >= 0) | (name == fn.EV_SUBMIT) | (name == fn.EV_PREVIEW)
    pos = np.flatnonzero(has)
    nm, pv = name[pos], pval[pos]
    ns = fr.ints(nm)
    entry = fr.lookup(fn.ENTRY_POINTS, np.where(nm == fn.EV_INTENT, pv, -1))
    plan = fr.plan_id(np.where(nm == fn.EV_PLAN, pv, -1))
    method = fr.lookup(m.PAYMENT_METHODS, np.where(nm == fn.EV_METHOD, pv, -1))
    chg = fr.change_id(np.where(nm == fn.EV_COMPLETED, pv, -1))
    props = pl.select(
        pl.when(ns == fn.EV_INTENT)
        .then(pl.lit('{"entry_point":"') + entry + '"}')
        .when(ns == fn.EV_PLAN)
        .then(pl.lit('{"to_plan_id":"') + plan + '"}')
        .when(ns == fn.EV_METHOD)
        .then(pl.lit('{"payment_method":"') + method + '"}')
        .when(ns == fn.EV_COMPLETED)
        .then(pl.lit('{"change_id":"') + chg + '"}')
        .otherwise(pl.lit("{}"))
    ).to_series()
    return scatter_strings(props.to_arrow(), pos, n)


def _dict(indices: np.ndarray, dictionary: pa.Array, null_mask=None) -> pa.DictionaryArray:
    ind = numeric_array(indices, pa.int32(), null_mask)
    return pa.DictionaryArray.from_arrays(ind, dictionary.cast(pa.large_string()))


def events_table(
    acc: Accounts, lo: int, hi: int, acct, t, name, pval, user, recv, first_id: int, as_text: bool
) -> pa.Table:
    n = acct.size
    local = np.arange(lo, hi)
    acc_dict = fr.account_id(local)
    users = acc.users[lo:hi]
    user_off = np.concatenate([[0], np.cumsum(users)])
    u_acct = np.repeat(local, users)
    u_num = np.arange(user_off[-1]) - np.repeat(user_off[:-1], users)
    user_dict = pl.select(fr.account_id(u_acct) + "_u" + fr.ints(u_num).cast(pl.String)).to_series()
    cols = {
        "event_id": digits_array("evt_", np.arange(first_id, first_id + n), 10),
        "account_id": _dict(acct - lo, acc_dict.to_arrow()),
        "user_id": _dict(
            np.where(user >= 0, user_off[acct - lo] + user, 0), user_dict.to_arrow(), user < 0
        ),
        "event_name": _dict(name, pl.Series(fn.EVENT_NAMES, dtype=pl.String).to_arrow()),
        "occurred_at": t,
        "received_at": recv,
        "properties": _properties(name, pval, n),
    }
    if as_text:
        for c in ("account_id", "user_id", "event_name"):
            cols[c] = cols[c].dictionary_decode()
        cols["occurred_at"] = ts_text_array(t)
        cols["received_at"] = ts_text_array(recv)
        return pa.table(cols, schema=TEXT_SCHEMA)
    for c in ("occurred_at", "received_at"):
        cols[c] = numeric_array(cols[c] * 1_000_000, pa.timestamp("us", tz="UTC"))
    return pa.table(cols, schema=TYPED_SCHEMA)


def event_chunks(
    cfg: GeneratorConfig,
    streams: Streams,
    acc: Accounts,
    ch: lc.Changes,
    fun: Funnel,
    as_text: bool,
) -> Iterator[pa.Table]:
    """Yield the product_events table chunk by chunk (Arrow tables in file order)."""
    end = cfg.end_ts
    quiet_at = inactive_since(cfg, acc, ch)
    um = _UsageModel(cfg)
    fe = fun.events
    order = np.argsort(fe["acct"], kind="stable")
    fe = {f: v[order] for f, v in fe.items()}
    base = cfg.start_ts - 400 * DAY
    next_id = 0
    for c, lo in enumerate(range(0, acc.n, CHUNK_ACCOUNTS)):
        hi = min(lo + CHUNK_ACCOUNTS, acc.n)
        rng = streams.get("usage", c)
        ua, ut, un, uu = _usage(rng, cfg, um, acc, lo, hi, quiet_at)
        a0, a1 = np.searchsorted(fe["acct"], [lo, hi])
        acct = np.concatenate([ua, fe["acct"][a0:a1]])
        t = np.concatenate([ut, fe["ts"][a0:a1]])
        name = np.concatenate([un, fe["name"][a0:a1]])
        pval = np.concatenate([np.full(ua.size, -1), fe["pval"][a0:a1]])
        user = np.concatenate([uu, fe["user"][a0:a1]])
        # file order: by time, ties in generation order (unique keys: the same order on
        # any machine)
        n = acct.size
        assert n < (1 << 24)
        o = np.sort(((t - base) << 24) | np.arange(n)) & ((1 << 24) - 1)
        acct, t, name, pval, user = acct[o], t[o], name[o], pval[o], user[o]
        k = acct.size
        delay = np.minimum(np.exp(rng.normal(0.4, 1.0, k)), 600).astype(np.int64)
        late = rng.random(k) < 0.02
        delay = np.where(late, rng.integers(5 * MINUTE, 3 * DAY, k), delay)
        recv = np.maximum(np.minimum(t + delay, end - 1), t)
        yield events_table(acc, lo, hi, acct, t, name, pval, user, recv, next_id, as_text)
        next_id += k
