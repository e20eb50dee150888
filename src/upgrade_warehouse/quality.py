"""Data expectations: Great Expectations suites as the publish gate.

The suites are defined here (``build_suites``) and kept as JSON in ``expectations/``
(``write_suites`` regenerates them; a test checks they are current). The gate loads the
committed JSON, builds one pandas frame per suite from the freshly built warehouse (GX's
SQL path does not work with DuckDB here) and validates it. Expectations carry a
``severity`` in their meta: ``blocking`` failures stop the publish, ``warning`` failures
are reported. Results go to ``quality.expectation_results`` in the new warehouse and to
Data Docs HTML next to it.

Every frame is small (monthly aggregates, per-table counts, key columns of the marts),
so the gate costs about a second on top of Great Expectations' import, which ``build``
overlaps with dbt.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import io
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from . import warehouse
from .errors import Failure, failure_message
from .paths import docs_folder, project_dir  # noqa: F401 - docs_folder is re-exported

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

BLOCKING = "blocking"
WARNING = "warning"
EPSILON = 1e-9  # relative: the movements and net new MRR are rounded to 6 decimals
FRESHNESS_MAX_DAYS = 3
# An as_of computed from the data more than this many days after the build's clock means
# a row dated in the future (docs/loader.md): blocking. An explicit --var as_of is the
# user's choice and is not held to it.
AS_OF_MAX_DAYS_AHEAD = 2
QUARANTINE_MAX_SHARE = 0.05


def expectations_dir() -> Path:
    return project_dir() / "expectations"


# Keys of the marts: unique and not null.
MART_KEYS = {
    "fct_monthly_metrics": ["month"],
    "fct_upgrade_attempts": ["attempt_id"],
    "fct_subscription_changes": ["change_id"],
    "dim_accounts": ["account_id"],
    "fct_payment_attempts": ["attempt_id"],
    "fct_sync_handoffs": ["change_id", "target_system"],
    "fct_revenue_attribution": ["change_id"],
    "fct_eligibility_checks": ["check_id"],
    "fct_upsell_offers": ["offer_id"],
    "fct_orders": ["order_id"],
    "fct_proration_checks": ["change_id"],
}

# Dated facts of the marts: none may be after as_of.
MART_TIMESTAMPS = {
    "fct_upgrade_attempts": "started_at",
    "fct_subscription_changes": "changed_at",
    "fct_payment_attempts": "attempted_at",
    "fct_eligibility_checks": "checked_at",
    "fct_upsell_offers": "offered_at",
    "fct_orders": "current_status_at",
    "dim_accounts": "activated_at",
    "fct_proration_checks": "changed_at",
}


# ----------------------------------------------------------------------------- frames


def catalog_rate_columns() -> list[str]:
    """The catalog's rate metric ids of the monthly metrics (not the experiments'), from
    the seed (the gate is prepared before the warehouse it validates exists; the seed is
    what the warehouse's catalog is built from)."""
    import csv

    with (project_dir() / "seeds" / "metric_catalog.csv").open(newline="") as f:
        return [
            row["metric_id"]
            for row in csv.DictReader(f)
            if row["unit"] == "rate" and row["section"] != "experiments"
        ]


def _rate_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select metric_id from reference.metric_catalog "
            "where unit = 'rate' and section <> 'experiments'"
        ).fetchall()
    ]


def frame_queries(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """SQL of the frame each suite validates (suite name -> query)."""
    rates = ", ".join(f'"{c}"' for c in _rate_columns(con))
    # Only the keys that break a rule (seen twice, or null) reach the frame: every mart's
    # keys would be millions of rows at scale. A key seen n > 1 times appears twice in the
    # frame, so the frame's (mart, key_value) uniqueness fails exactly when a mart's does.
    all_keys = " union all ".join(
        f"select '{mart}' as mart, {' || chr(31) || '.join(f'cast({c} as varchar)' for c in cols)} "
        f"as key_value from marts.{mart}"
        for mart, cols in MART_KEYS.items()
    )
    key_checks = f"""
        with suspect as (
            select mart, key_value, count(*) > 1 as is_repeated
            from ({all_keys}) as k
            group by mart, key_value
            having count(*) > 1 or key_value is null
        )
        select mart, key_value from suspect
        union all
        select mart, key_value from suspect where is_repeated"""
    timestamps = " union all ".join(
        f"select '{mart}' as mart, max({col}) as latest_at from marts.{mart}"
        for mart, col in MART_TIMESTAMPS.items()
    )
    return {
        "monthly_metrics": f"""
            select
                month,
                {rates},
                self_serve_upgrades + sales_assisted_upgrades + automatic_upgrades - upgrades
                    as channel_sum_minus_upgrades,
                (mrr_new + mrr_expansion + mrr_reactivation + mrr_contraction + mrr_churn
                    - net_new_mrr) / greatest(1, abs(net_new_mrr))
                    as movements_minus_net_new_mrr,
                (mrr_start + net_new_mrr + mrr_other - mrr_end) / greatest(1, abs(mrr_end))
                    as bridge_minus_mrr_end,
                attempts_started - attempts_matured as attempts_not_matured
            from marts.fct_monthly_metrics""",
        "keyed_rates": """
            select b.month, b.metric_id, b.breakdown_key, b.metric_value
            from marts.fct_monthly_metric_breakdowns as b
            inner join reference.metric_catalog as c
                on c.metric_id = b.metric_id
            where c.unit = 'rate_by_key'""",
        "abandonment_shares": """
            select month, sum(metric_value) as share_sum
            from marts.fct_monthly_metric_breakdowns
            where metric_id = 'abandonment_by_step' and metric_value is not null
            group by month""",
        "funnel_steps": _funnel_steps_query(con),
        "attribution": """
            select
                m.month,
                m.attributed_changes - round(m.attribution_accuracy * m.attributed_changes)
                    - coalesce(b.mismatches, 0) as mismatches_minus_inaccurate
            from marts.fct_monthly_metrics as m
            left join (
                select month, sum(metric_value) as mismatches
                from marts.fct_monthly_metric_breakdowns
                where metric_id = 'attribution_mismatches'
                group by month
            ) as b on b.month = m.month
            where m.attributed_changes > 0""",
        "load_report": """
            select table_name, rows_read, rows_accepted, rows_quarantined,
                rows_read - rows_accepted - rows_quarantined as read_minus_accepted_quarantined,
                case when rows_read > 0 then rows_quarantined / rows_read end as quarantined_share
            from raw.load_report""",
        "mart_keys": key_checks,
        "timestamps": f"""
            select t.mart, t.latest_at,
                epoch(t.latest_at) - epoch(b.as_of) as seconds_after_as_of
            from ({timestamps}) as t
            cross join raw.build_info as b""",
        # One row: the currencies of changes with a movement that have no fx rate, with
        # their counts ("GBP: 199 changes, JPY: 3 changes"), null when every change
        # converts. Such changes are left out of every MRR figure.
        "fx_coverage": """
            select string_agg(
                    currency || ': ' || changes || case when changes = 1 then ' change'
                        else ' changes' end || ' without an fx rate',
                    ', ' order by changes desc, currency
                ) as changes_without_fx_rate
            from (
                select currency, count(*) as changes
                from marts.fct_subscription_changes
                where not is_converted and movement <> 'none'
                group by currency
            ) as unconverted""",
        "freshness": """
            select as_of,
                (epoch(cast(? as timestamp)) - epoch(as_of)) / 86400.0 as as_of_age_days,
                case when coalesce(as_of_from_data, true)
                    then (epoch(as_of) - epoch(cast(? as timestamp))) / 86400.0
                end as as_of_days_ahead_of_build
            from raw.build_info""",
    }


def _funnel_steps_query(con: duckdb.DuckDBPyConnection) -> str:
    """Attempts reaching each step per month, from each step's own reached_at column."""
    columns = [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'fct_upgrade_attempts' and column_name like 'step\\_%\\_reached\\_at' "
            "escape '\\' order by ordinal_position"
        ).fetchall()
    ]
    steps = [
        (
            "select attempt_month as month, 1 as step_index, count(*) as attempts_reaching "
            "from marts.fct_upgrade_attempts group by attempt_month"
        )
    ]
    for col in columns:
        k = int(col.split("_")[1])
        steps.append(
            f"select attempt_month, {k}, count({col}) from marts.fct_upgrade_attempts "
            "group by attempt_month"
        )
    return f"""
        with reached as ({" union all ".join(steps)})
        select month, step_index, attempts_reaching,
            coalesce(lead(attempts_reaching) over (partition by month order by step_index), 0)
                as attempts_reaching_next_step
        from reached"""


# ----------------------------------------------------------------------------- suites


def rate_expectations(rate_columns: list[str]) -> list:
    """Every rate of the catalog is in [0, 1]: added to the ``monthly_metrics`` suite when
    the gate runs, from the catalog of the warehouse it validates (not kept in the
    committed suite, so that a metric added to the catalog needs no other edit)."""
    import great_expectations as gx

    return [
        gx.expectations.ExpectColumnValuesToBeBetween(
            column=c, min_value=0, max_value=1, meta={"severity": BLOCKING}
        )
        for c in rate_columns
    ]


def build_suites() -> list[dict]:
    """Every suite as GX's JSON (name, expectations with meta.severity)."""
    import great_expectations as gx

    E = gx.expectations

    def exp(cls, severity=BLOCKING, **kwargs):
        return cls(**kwargs, meta={"severity": severity})

    suites = {
        "monthly_metrics": [
            exp(E.ExpectColumnValuesToBeUnique, column="month"),
            exp(E.ExpectColumnValuesToNotBeNull, column="month"),
            exp(
                E.ExpectColumnValuesToBeBetween,
                column="channel_sum_minus_upgrades",
                min_value=0,
                max_value=0,
            ),
            exp(
                E.ExpectColumnValuesToBeBetween,
                column="movements_minus_net_new_mrr",
                min_value=-EPSILON,
                max_value=EPSILON,
            ),
            # metrics.md: mrr_start + the movements + mrr_other = mrr_end, exactly.
            exp(
                E.ExpectColumnValuesToBeBetween,
                column="bridge_minus_mrr_end",
                min_value=-EPSILON,
                max_value=EPSILON,
            ),
            # Matured attempts are some of the attempts started.
            exp(E.ExpectColumnValuesToBeBetween, column="attempts_not_matured", min_value=0),
        ],
        "keyed_rates": [
            exp(E.ExpectColumnValuesToBeBetween, column="metric_value", min_value=0, max_value=1),
        ],
        "abandonment_shares": [
            exp(
                E.ExpectColumnValuesToBeBetween,
                column="share_sum",
                min_value=1 - 1e-9,
                max_value=1 + 1e-9,
            ),
        ],
        "funnel_steps": [
            exp(
                E.ExpectColumnPairValuesAToBeGreaterThanB,
                column_A="attempts_reaching",
                column_B="attempts_reaching_next_step",
                or_equal=True,
            ),
        ],
        "attribution": [
            exp(
                E.ExpectColumnValuesToBeBetween,
                column="mismatches_minus_inaccurate",
                min_value=0,
                max_value=0,
            ),
        ],
        "load_report": [
            exp(
                E.ExpectColumnValuesToBeBetween,
                column="read_minus_accepted_quarantined",
                min_value=0,
                max_value=0,
            ),
            exp(E.ExpectColumnValuesToBeUnique, column="table_name"),
            exp(
                E.ExpectColumnValuesToBeBetween,
                WARNING,
                column="quarantined_share",
                min_value=0,
                max_value=QUARANTINE_MAX_SHARE,
            ),
        ],
        "mart_keys": [
            exp(E.ExpectCompoundColumnsToBeUnique, column_list=["mart", "key_value"]),
            exp(E.ExpectColumnValuesToNotBeNull, column="key_value"),
        ],
        "timestamps": [
            exp(E.ExpectColumnValuesToBeBetween, column="seconds_after_as_of", max_value=0),
        ],
        "fx_coverage": [
            exp(E.ExpectColumnValuesToBeNull, WARNING, column="changes_without_fx_rate"),
        ],
        "freshness": [
            exp(E.ExpectColumnValuesToNotBeNull, column="as_of"),
            exp(
                E.ExpectColumnValuesToBeBetween,
                WARNING,
                column="as_of_age_days",
                max_value=FRESHNESS_MAX_DAYS,
            ),
            exp(
                E.ExpectColumnValuesToBeBetween,
                column="as_of_days_ahead_of_build",
                max_value=AS_OF_MAX_DAYS_AHEAD,
            ),
        ],
    }
    out = []
    for name, expectations in suites.items():
        suite = gx.ExpectationSuite(name=name, expectations=expectations)
        data = suite.to_json_dict()
        data.pop("id", None)
        for e in data["expectations"]:
            e.pop("id", None)
        out.append(data)
    return out


def write_suites(
    directory: Path | None = None, con: duckdb.DuckDBPyConnection | None = None
) -> list[Path]:
    """Regenerate the committed suite files (``make expectations``)."""
    directory = directory or expectations_dir()
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for suite in build_suites():
        path = directory / f"{suite['name']}.json"
        path.write_text(json.dumps(suite, indent=2, sort_keys=True) + "\n")
        paths.append(path)
    return paths


def load_suites(directory: Path | None = None) -> list[dict]:
    directory = directory or expectations_dir()
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]


# ----------------------------------------------------------------------------- gate


@dataclass
class ExpectationOutcome:
    suite: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    details: str


@dataclass
class GateResult:
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    docs_dir: Path | None = None

    @property
    def passed(self) -> int:
        return sum(o.success for o in self.outcomes)

    @property
    def failed(self) -> int:
        return sum(not o.success for o in self.outcomes)

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == BLOCKING]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == WARNING]


def _describe(result) -> str:
    r = result.result or {}
    parts = []
    for key in ("unexpected_count", "unexpected_percent", "observed_value"):
        if r.get(key) is not None:
            parts.append(f"{key}={r[key]}")
    if r.get("partial_unexpected_list"):
        parts.append(f"examples={r['partial_unexpected_list'][:5]}")
    if result.exception_info and result.exception_info.get("raised_exception"):
        parts.append(f"error={result.exception_info.get('exception_message')}")
    return "; ".join(parts)


class Gate:
    """The committed suites, ready to validate: an in-memory GX context with one pandas
    asset, suite and validation definition per suite, and a Data Docs site in a temporary
    folder. Building it costs about a second; the build's worker does it while dbt runs,
    so that only the validation and the docs are left once the warehouse is ready."""

    def __init__(self) -> None:
        import great_expectations as gx

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self.suites = load_suites()
        # Named after the build's process (the worker's parent), so that the next build
        # removes it if that build was killed (build.remove_stale_temp).
        import multiprocessing

        owner = os.getppid() if multiprocessing.parent_process() else os.getpid()
        self.site_root = Path(tempfile.mkdtemp(prefix=f"uw-gx-{owner}-"))
        self.validations = {}
        # GX prints progress bars and notices: keep the build's output clean.
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            self.context = gx.get_context(mode="ephemeral")
            self.context.variables.progress_bars = {"globally": False, "metric_calculations": False}
            self.context.update_data_docs_site(
                site_name="local_site",
                site_config={
                    "class_name": "SiteBuilder",
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(self.site_root / "site"),
                    },
                },
            )
            source = self.context.data_sources.add_pandas("warehouse")
            for suite_json in self.suites:
                name = suite_json["name"]
                asset = source.add_dataframe_asset(name=name)
                batch_definition = asset.add_batch_definition_whole_dataframe(name)
                suite = self.context.suites.add(gx.ExpectationSuite(**suite_json))
                if name == "monthly_metrics":
                    for expectation in rate_expectations(catalog_rate_columns()):
                        suite.add_expectation(expectation)
                self.validations[name] = self.context.validation_definitions.add(
                    gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
                )

    def run(self, db_path: Path, now: datetime | None = None, docs: bool = True) -> GateResult:
        """Validate the warehouse at ``db_path``; with ``docs``, render Data Docs."""
        now = now or datetime.now(UTC).replace(tzinfo=None)
        with warehouse.connect(db_path) as con:
            queries = frame_queries(con)
            frames = {}
            for suite in self.suites:
                sql = queries[suite["name"]]
                params = [now] * sql.count("?")
                frames[suite["name"]] = con.execute(sql, params).df()

        result = GateResult()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for name, validation in self.validations.items():
                run = validation.run(batch_parameters={"dataframe": frames[name]})
                for r in run.results:
                    cfg = r.expectation_config
                    kwargs = cfg.kwargs
                    column = (
                        kwargs.get("column")
                        or kwargs.get("column_A")
                        or (",".join(kwargs["column_list"]) if kwargs.get("column_list") else None)
                    )
                    result.outcomes.append(
                        ExpectationOutcome(
                            suite=name,
                            expectation=cfg.type,
                            column=column,
                            severity=(cfg.meta or {}).get("severity", BLOCKING),
                            success=bool(r.success),
                            details=_describe(r),
                        )
                    )
        if docs:
            result.docs_dir = self.render_docs()
        return result

    def render_docs(self) -> Path | None:
        """Data Docs of the suites and of the validations run so far."""
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            self.context.build_data_docs()
        site = self.site_root / "site"
        return site if (site / "index.html").is_file() else None


def run_gate(db_path: Path, now: datetime | None = None, docs: bool = True) -> GateResult:
    """Validate the warehouse at ``db_path`` against the committed suites."""
    gate = Gate()
    try:
        return gate.run(db_path, now=now, docs=docs)
    finally:
        if not docs:
            shutil.rmtree(gate.site_root, ignore_errors=True)


def store_results(db_path: Path, result: GateResult) -> None:
    """Write the outcomes into ``quality.expectation_results`` of the new warehouse, and
    the time of the check (UTC, moments before the build publishes) into
    ``quality.gate_run``: the build time the ``stale`` warning compares as_of with."""
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema if not exists quality")
        con.execute("create or replace table quality.gate_run (checked_at timestamp)")
        con.execute(
            "insert into quality.gate_run values (?)", [datetime.now(UTC).replace(tzinfo=None)]
        )
        con.execute(
            "create or replace table quality.expectation_results (suite varchar, "
            "expectation varchar, column_name varchar, severity varchar, success boolean, "
            "details varchar)"
        )
        con.executemany(
            "insert into quality.expectation_results values (?, ?, ?, ?, ?, ?)",
            [
                (o.suite, o.expectation, o.column, o.severity, o.success, o.details)
                for o in result.outcomes
            ],
        )


# A file the build writes into every Data Docs folder it publishes: a folder by that
# name without it was not made by the build and is never replaced or removed.
DOCS_MARKER = ".upgrade-warehouse-data-docs"


def foreign_folder(target: Path) -> bool:
    """Whether something is at ``target`` that the build did not create."""
    return (target.exists() or target.is_symlink()) and not (
        target.is_dir() and not target.is_symlink() and (target / DOCS_MARKER).is_file()
    )


def publish_docs(result: GateResult, target: Path) -> Path | None:
    """Move the Data Docs site to ``target``, replacing the build's previous one. A folder
    (or file) there that the build did not create is left alone: None, no docs."""
    if result.docs_dir is None:
        return None
    if foreign_folder(target):
        shutil.rmtree(result.docs_dir.parent, ignore_errors=True)
        return None
    (result.docs_dir / DOCS_MARKER).write_text(
        "Data Docs written by upgrade-warehouse build; replaced by the next build.\n"
    )
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    shutil.move(str(result.docs_dir), target)
    shutil.rmtree(result.docs_dir.parent, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    return target / "index.html"


# ----------------------------------------------------------------------------- worker


class GateWorker:
    """The gate in its own process, started when a build starts.

    Importing Great Expectations costs seconds of CPU. In a separate process that import
    (and the suites' set-up) overlaps the load and dbt on another core instead of
    competing with dbt (which runs in the build's process) for one interpreter. Once the
    warehouse is ready it validates, sends the outcomes, and renders the Data Docs while
    the build stores the outcomes and publishes. The process exits when the build does:
    it waits on a pipe and stops when the pipe closes (even after a SIGKILL of the build).
    """

    def __init__(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child,), daemon=True)
        self.process.start()
        child.close()

    def validate(self, db_path: Path) -> GateResult:
        """The outcomes; the worker then renders the Data Docs (``docs``) meanwhile."""
        self._conn.send(str(db_path))
        return self._receive()

    def docs(self) -> Path | None:
        """The Data Docs folder of the last validation, once rendered."""
        return self._receive()

    def _receive(self):
        try:
            ok, payload = self._conn.recv()
        except (EOFError, OSError):  # the worker died (killed, out of memory)
            self.process.join(timeout=5)
            ok, payload = False, f"the worker process stopped (exit code {self.process.exitcode})"
        if not ok:
            # The worker's one line (errors.failure_message), printed by the CLI as it is.
            raise Failure(f"data expectations could not run: {payload}")
        return payload

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)

    def kill(self) -> None:
        """On a signal: stop at once, whatever it is doing."""
        with contextlib.suppress(Exception):
            self.process.kill()


class _HidePyspark(importlib.abc.MetaPathFinder):
    """Great Expectations imports pyspark (and ``pyspark.sql.connect``) when it is
    installed, the `spark` extra: 1.2 s of CPU per build that the gate, which validates
    pandas frames, has no use for. Installed in the worker's process only."""

    def find_spec(self, name, path=None, target=None):
        if name == "pyspark" or name.startswith("pyspark."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def hide_pyspark() -> None:
    """Make ``import pyspark`` fail in this process (GX then treats it as absent)."""
    if not any(isinstance(f, _HidePyspark) for f in sys.meta_path):
        sys.meta_path.insert(0, _HidePyspark())


# Modules Great Expectations imports for expectations the gate does not use: executed
# only if something uses them (scipy.stats: 1.0-1.4 s of CPU, a quarter of GX's import;
# GX's three expectations that need it are not in our suites).
LAZY_MODULES = ("scipy.stats",)


def import_lazily(name: str) -> None:
    """Register module ``name`` so that it executes on the first use of one of its
    attributes (``importlib.util.LazyLoader``), and set it on its package, so that
    ``from package import name`` binds it without executing it."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    package, _, child = name.rpartition(".")
    if package:
        setattr(sys.modules[package], child, module)


def _worker_main(conn) -> None:
    """The worker process: every failure goes to the build as one line (the build reports
    it the way it reports its own); nothing is printed here, no traceback, even when the
    build is gone (a closed pipe) or Ctrl+C reaches the whole process group (the build
    stops the worker itself)."""
    with contextlib.suppress(Exception):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _worker_loop(conn)
    except BaseException:  # the pipe is closed: nobody is listening for an answer
        os._exit(1)


def _worker_loop(conn) -> None:
    hide_pyspark()
    for name in LAZY_MODULES:
        with contextlib.suppress(Exception):  # then imported as usual
            import_lazily(name)
    # GX's validation makes tqdm bars (disabled ones too), and tqdm's default lock is a
    # named multiprocessing semaphore, which the quick exit below would leave behind
    # ("resource_tracker: ... leaked semaphore objects"): this one process needs only a
    # thread lock.
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())
    gate = None
    with contextlib.suppress(Exception):
        gate = Gate()  # imports GX and prepares the suites before the warehouse is ready
    while True:
        try:
            db_path = conn.recv()
        except (EOFError, OSError):  # the build is over: its Data Docs were moved away
            if gate is not None:
                shutil.rmtree(gate.site_root, ignore_errors=True)
            # Nothing is left to flush or close: skip the interpreter's shutdown (a
            # second with Great Expectations loaded), which the build waits for.
            os._exit(0)
        try:
            gate = gate or Gate()
            conn.send((True, gate.run(Path(db_path), docs=False)))
            conn.send((True, gate.render_docs()))
        except Exception as exc:
            conn.send((False, failure_message(exc)))
