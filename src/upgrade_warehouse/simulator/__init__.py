"""Proration and upgrade simulator (``shared/spec/simulator.md``).

Public API:

* :func:`load_plans` - the plan catalog (default: the sample catalog shipped here).
* :func:`quote` - one exact quote (:class:`Quote`, ``.to_dict()`` = the spec's JSON).
* :func:`price_batch` - the vectorized batch pricer (polars in, polars out).
* :func:`load_baseline` / :func:`project` - what-if projections of the funnel.
"""

from .batch import OUTPUT_COLUMNS, price_batch
from .calendar import add_interval, add_months
from .core import Line, Quote, QuoteError, quote, round_half_away
from .plans import SAMPLE_PLANS_PATH, Plan, load_plans, plans_from_frame, plans_to_frame
from .whatif import Baseline, Projection, load_baseline, project

__all__ = [
    "OUTPUT_COLUMNS",
    "SAMPLE_PLANS_PATH",
    "Baseline",
    "Line",
    "Plan",
    "Projection",
    "Quote",
    "QuoteError",
    "add_interval",
    "add_months",
    "load_baseline",
    "load_plans",
    "plans_from_frame",
    "plans_to_frame",
    "price_batch",
    "project",
    "quote",
    "round_half_away",
]
