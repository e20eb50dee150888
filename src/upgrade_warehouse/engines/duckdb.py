"""The DuckDB engine: the loader's queries and dbt-duckdb, both on the new file.

Memory: DuckDB is limited to ``UPGRADE_WAREHOUSE_MEMORY_LIMIT`` (default 40% of the
machine's memory) and spills to ``UPGRADE_WAREHOUSE_TEMP_DIR`` (default: beside the
warehouse) beyond it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .. import loader
from ..errors import UserError
from ..params import Parameters
from ..progress import Progress
from ..sources.config import create_source_report
from ..workspace import Building
from .base import LoadJob, resolve_as_of

LARGE_INPUT_ROWS = 25_000_000  # from here dbt runs one model at a time (DuckDBSettings)
DEFAULT_MEMORY_LIMIT = "40%"  # of the machine's memory: room for dbt, GX, the OS, readers


@dataclass
class DuckDBSettings:
    """Memory limit and spill folder of every DuckDB connection of the build.

    DuckDB spills to ``<database>.tmp``: in the build's folder, or, with
    ``UPGRADE_WAREHOUSE_TEMP_DIR``, a link there to a folder made under that directory.
    """

    memory_limit: str
    temp_directory: Path
    dbt_threads: int = 2

    def size_for(self, rows: int) -> None:
        """dbt's threads for an input of ``rows`` rows. Small inputs: two models at a
        time overlap dbt's Python work per node with DuckDB's (15% faster at golden
        size). Large inputs: one model at a time; DuckDB already runs each query on
        every core, and two large aggregations side by side ran out of memory at 100M
        events (int_winback__event_days and __user_days, one pass since issue 36). UPGRADE_WAREHOUSE_DBT_THREADS
        overrides both."""
        chosen = os.environ.get("UPGRADE_WAREHOUSE_DBT_THREADS")
        if chosen and chosen.isdigit() and int(chosen) > 0:
            self.dbt_threads = int(chosen)
        else:
            self.dbt_threads = 1 if rows >= LARGE_INPUT_ROWS else 2

    @classmethod
    def prepare(cls, building: Path) -> DuckDBSettings:
        spill = building.with_name(building.name + ".tmp")
        base = os.environ.get("UPGRADE_WAREHOUSE_TEMP_DIR")
        if base:
            Path(base).mkdir(parents=True, exist_ok=True)
            target = tempfile.mkdtemp(prefix=f"upgrade-warehouse-{os.getpid()}-", dir=base)
            spill.symlink_to(target, target_is_directory=True)
        return cls(
            memory_limit=os.environ.get("UPGRADE_WAREHOUSE_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
            temp_directory=spill,
        )

    def apply(self, con: duckdb.DuckDBPyConnection) -> None:
        try:
            con.execute(f"set memory_limit = '{self.memory_limit}'")
        except duckdb.Error:
            raise UserError(
                f"UPGRADE_WAREHOUSE_MEMORY_LIMIT={self.memory_limit!r} is not a DuckDB memory "
                "limit (e.g. 8GB or 40%)"
            ) from None
        con.execute(f"set temp_directory = {loader.lit(str(self.temp_directory))}")

    def env(self) -> dict[str, str]:
        """The same for dbt's connection: profiles.yml reads the memory limit and the
        threads; DuckDB's default spill folder for the file is ``<file>.tmp`` already."""
        return {
            "UPGRADE_WAREHOUSE_MEMORY_LIMIT": self.memory_limit,
            "UPGRADE_WAREHOUSE_DBT_THREADS": str(self.dbt_threads),
        }


class DuckDBEngine:
    """Load with :mod:`upgrade_warehouse.loader` into the new file; dbt-duckdb writes its
    models there too, so the file holds every table once dbt is done."""

    name = "duckdb"
    dbt_target = "duckdb"

    def __init__(self) -> None:
        self.settings: DuckDBSettings | None = None

    def check(self, sources: list[loader.SourceFile]) -> None:
        """Nothing beyond the loader's own checks."""

    def credentials(self) -> type:
        from dbt.adapters.duckdb.credentials import DuckDBCredentials

        return DuckDBCredentials

    def load(self, job: LoadJob) -> tuple[dict[str, dict], Parameters]:
        """Load every table into ``raw.*``, compute as_of, write ``raw.build_info``."""
        data_dir, params, mapped = job.data_dir, job.params, job.mapped
        settings = self.settings = DuckDBSettings.prepare(job.new.path)
        with duckdb.connect(str(job.new.path)) as con:
            settings.apply(con)
            phase = job.progress.phase(
                "load", loader.input_rows(con, loader.discover(data_dir)), "rows"
            )
            tables = loader.load_data_dir(
                data_dir, con, progress=phase, profile=job.profile["load"]
            )
            if mapped is not None:
                from ..sources import finish_duckdb

                finish_duckdb(con, tables, mapped)
            else:
                create_source_report(con)
            settings.size_for(sum(t["read"] for t in tables.values()))
            params, from_data = resolve_as_of(params, data_dir, lambda: loader.compute_as_of(con))
            as_of = params.as_of
            con.execute(
                "create table raw.build_info as select ? as as_of, ? as reporting_currency, "
                "? as parameters_json, ? as as_of_from_data",
                [
                    as_of,
                    params.reporting_currency,
                    json.dumps(params.as_json(), sort_keys=True),
                    from_data,
                ],
            )
            quarantined = sum(t["quarantined"] for t in tables.values())
            phase.finish(f"{quarantined:,} rows quarantined")
        return tables, params

    def dbt_env(self) -> dict[str, str] | None:
        return self.settings.env() if self.settings else None

    def serve(self, new: Building, progress: Progress) -> None:
        """Nothing to do: dbt wrote into the new file."""

    def close(self) -> None:
        """Nothing held between the phases (each opens and closes its connection)."""

    def publish_folder(self, new: Building) -> Path | None:
        """Only the file is published."""
        return None
