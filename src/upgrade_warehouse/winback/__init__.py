"""Win-back: which activated accounts that have not upgraded will make a self-serve
upgrade within ``horizon_days`` after as_of, why, and who should contact them
(docs/winback.md).

- dbt builds the snapshots and their features (``models/*/winback``);
- :func:`train_and_score` (called by ``build`` after dbt) trains, validates and scores,
  and writes ``marts.winback_*`` in the warehouse;
- ``upgrade-warehouse winback`` and the dashboard's Win-back page read it
  (:mod:`.reader`).
"""

from __future__ import annotations


def train_and_score(db_path, params, progress):
    """See :func:`.train.train_and_score` (imported on use: scikit-learn and polars are
    only needed by ``build``)."""
    from .train import train_and_score as run

    return run(db_path, params, progress)


def import_ahead() -> None:
    """Import what :func:`train_and_score` needs (scikit-learn: 2 s of CPU), for
    ``build`` to do while the loader's queries leave the interpreter free."""
    from . import train

    train.import_sklearn()


__all__ = ["import_ahead", "train_and_score"]
