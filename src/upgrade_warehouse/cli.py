"""The ``upgrade-warehouse`` command (``shared/spec/cli.md``).

Each subcommand lives in its own module; this file only wires them together and turns
:class:`UserError` into exit code 2 with one message on stderr (never a traceback); any
other failure (a disk that is full or read-only, a file-size limit) is one message and
exit 1 (``UPGRADE_WAREHOUSE_TRACEBACK=1`` prints the traceback too, for debugging).
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import sys
import traceback
import warnings

import typer

from .errors import UserError, failure_message

app = typer.Typer(
    name="upgrade-warehouse",
    help="Analytics warehouse for self-serve subscription upgrades.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from .build import build_command
    from .dashboard.command import dashboard_command
    from .docs_site import docs_command
    from .experiments import experiments_command
    from .generator.command import generate_command
    from .metrics import metrics_command
    from .movers import movers_command
    from .review_pack import review_command
    from .simulator.command import quote_command
    from .winback.command import winback_command

    app.command("generate")(generate_command)
    app.command("build")(build_command)
    app.command("metrics")(metrics_command)
    app.command("movers")(movers_command)
    app.command("review")(review_command)
    app.command("quote")(quote_command)
    app.command("dashboard")(dashboard_command)
    app.command("winback")(winback_command)
    app.command("experiments")(experiments_command)
    app.command("docs")(docs_command)


def _register_build_only() -> None:
    """Only ``build``: it needs neither the simulator's nor the generator's libraries
    (numpy, polars, half a second to import), and every build would pay for them."""
    from .build import build_command

    app.callback()(_group)  # `build` stays a subcommand, not the app's only command
    app.command("build")(build_command)


def _group() -> None:
    pass


def _json_requested(argv: list[str]) -> bool:
    return "--format=json" in argv or ("--format", "json") in itertools.pairwise(argv)


def main() -> None:
    try:
        _main()
    except SystemExit as exc:
        pipeline = sys.modules.get(f"{__package__}.pipeline.run")  # loaded by `build` only
        if pipeline is not None and pipeline.imports_under_way():
            # A build that stops early (a load error) while it still imports dbt and
            # scikit-learn in a thread (pipeline/run.py): Python's shutdown would freeze that
            # thread mid-import, holding DuckDB's module constants, which DuckDB's
            # bindings then report on stderr as leaked ("nanobind: leaked 27
            # instances!") after the error message. Everything the build opened is
            # closed by now (its with-blocks have exited): end here.
            code = exc.code
            if code is not None and not isinstance(code, int):
                print(code, file=sys.stderr)
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code or 0)
        raise


def _main() -> None:
    # Great Expectations imports pyspark when it is installed (the `spark` extra), which
    # warns about pandas 3 on every build; nothing here uses pandas on Spark.
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    if hasattr(signal, "SIGXFSZ"):
        # A file-size limit (ulimit -f) makes a write fail with EFBIG instead of killing
        # the process, so the build reports it like any other failed write.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    if sys.argv[1:2] == ["build"]:
        _register_build_only()
    else:
        _register()
    try:
        app()  # standalone: click handles --help, usage errors (exit 2) and typer.Exit
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        message = _failure_message(exc)
        if _json_requested(sys.argv[1:]):
            print(json.dumps({"status": "error", "error": message}))
        print(f"error: {message}", file=sys.stderr)
        if os.environ.get("UPGRADE_WAREHOUSE_TRACEBACK"):
            traceback.print_exc()
        sys.exit(1)


def _failure_message(exc: BaseException) -> str:
    """One line: an OS error with its file and reason, anything else with its type."""
    return failure_message(exc)
