"""The engine interface: what the pipeline asks of DuckDB or Spark (where the tables
live, how they are loaded, how dbt reaches them). The implementations are below the
pipeline, in :mod:`upgrade_warehouse.engines`; they need not import this module (a
:class:`typing.Protocol` is matched by its methods)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..engines.base import LoadJob
from ..params import Parameters
from ..progress import Progress
from ..workspace import Building


class Engine(Protocol):
    name: str  # the dbt adapter: dbt.adapters.<name>
    dbt_target: str  # the output of profiles.yml dbt builds with

    def check(self, sources: list) -> None:
        """Before the lock and before anything is written: can this engine run here and
        read these files (UserError, BuildFailed)."""

    def credentials(self) -> type:
        """The dbt adapter's credentials class (its JSON schema is built ahead)."""

    def load(self, job: LoadJob) -> tuple[dict[str, dict], Parameters]:
        """Every table of ``job.data_dir`` into ``raw.*`` with its load report, as_of
        computed and ``raw.build_info`` written; returns (the load report, the
        parameters with as_of)."""

    def dbt_env(self) -> dict[str, str] | None:
        """Environment variables dbt's profile reads (None: none)."""

    def serve(self, new: Building, progress: Progress) -> None:
        """After dbt: every table the readers use is in ``new.path`` (a DuckDB file)."""

    def close(self) -> None:
        """Release what the engine holds between phases (idempotent; run on failure)."""

    def publish_folder(self, new: Building) -> Path | None:
        """A folder published beside the file (Spark: the Parquet tables), or None."""
