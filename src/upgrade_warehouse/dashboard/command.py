"""`upgrade-warehouse dashboard`: serve the Streamlit dashboard.

Runs ``streamlit run dashboards/app.py`` (from the repository, found with
:func:`upgrade_warehouse.paths.project_dir`) as a child process with the warehouse path in
``$UPGRADE_WAREHOUSE_DASHBOARD_WAREHOUSE``. The app reads the warehouse through
short-lived read-only connections, so ``build`` can publish a new one while it serves.

- ``--host`` (default 127.0.0.1): on an address that is not loopback the command refuses
  to start unless a login is configured (:mod:`.access`).
- With a login, the OIDC settings go to Streamlit in a secrets file in a private
  temporary directory (mode 0700, removed when the server stops) and the access policy
  (no secret) to the app in ``$UPGRADE_WAREHOUSE_DASHBOARD_ACCESS``.
- The port is checked before anything starts; "Serving ..." is printed once the server
  answers its health check.
- SIGINT / SIGTERM / SIGHUP are passed on to the server, which runs in its own process
  group and is told to stop if this process dies (Linux ``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ast
import contextlib
import ctypes
import errno
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Annotated

import typer

from ..errors import UserError
from ..formats import WarehouseOption, port_option
from ..paths import DEFAULT_WAREHOUSE, project_dir
from ..warehouse import check as check_warehouse
from . import access

WAREHOUSE_ENV = "UPGRADE_WAREHOUSE_DASHBOARD_WAREHOUSE"  # read by dashboard/data.py
START_TIMEOUT_SECONDS = 120


def app_path() -> Path:
    return project_dir() / "dashboards" / "app.py"


def app_page_ids(app: Path) -> list[str]:
    """The ``url_path`` of every ``st.Page`` in the app (the ids the login config's
    ``pages`` use), read from its source without running it."""
    tree = ast.parse(app.read_text(encoding="utf-8"))
    ids = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "url_path" and isinstance(keyword.value, ast.Constant):
                    ids.append(str(keyword.value.value))
    return ids


def streamlit_command(app: Path, host: str, port: int, secrets: Path | None) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--client.toolbarMode",
        "viewer",
        # Streamlit runs a full garbage collection after every script run by default:
        # 0.1 s or more on each page change, holding the lock the server thread needs
        # to send the run's last messages (docs/dashboard.md, "Speed").
        "--runner.postScriptGC",
        "false",
    ]
    if secrets is not None:
        command += ["--secrets.files", str(secrets)]
    return command


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _local_host(host: str) -> str:
    """Where this machine reaches a server bound to ``host``."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def check_port(host: str, port: int) -> None:
    """Exit 2 with a clear message when the port cannot be bound on ``host``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UserError(f"--host {host}: not an address of this machine ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(
                    f"port {port} on {host} is already in use: stop what is "
                    "serving there or pick another port with --port N"
                ) from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise UserError(f"--host {host} is not an address of this machine") from None
            if exc.errno == errno.EACCES:
                raise UserError(
                    f"port {port} needs privileges: pick a port above 1023 with --port N"
                ) from None
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def login_config(
    auth_config: Path | None, host: str, loopback: bool, app: Path
) -> access.LoginConfig | None:
    """The validated login settings, or None (only allowed on a loopback address)."""
    path = access.find_config_file(auth_config, os.environ)
    config = access.load_login_config(
        path, os.environ, pages=app_page_ids(app), repository=project_dir()
    )
    if config is None and not loopback:
        raise UserError(
            f"--host {host} is not a loopback address: the dashboard shows revenue data, so "
            f"it only serves the network behind a login. To serve it there, {access.HOW_TO}"
            ". Without a login, keep the default --host 127.0.0.1."
        )
    if config is not None and path is not None and access.insecure_permissions(path):
        print(
            f"warning: {path} holds secrets and other users can read it (chmod 600 {path})",
            file=sys.stderr,
        )
    if config is not None and not loopback and config.oidc["redirect_uri"].startswith("http://"):
        print(
            "warning: redirect_uri is plain http: serve the dashboard behind a reverse "
            f"proxy with TLS ({access.DOCS})",
            file=sys.stderr,
        )
    return config


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_until_listening(proc: subprocess.Popen, host: str, port: int) -> bool:
    """True once the server answers its health check; False if it exited first."""
    url = f"http://{_url_host(_local_host(host))}:{port}/_stcore/health"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return True
        time.sleep(0.2)
    return proc.poll() is None


def serve(command: list[str], env: dict, cwd: Path, host: str, port: int, banner: str) -> int:
    """Run the server until it stops; pass signals on; print ``banner`` once it answers."""
    # preexec_fn is safe here: this process runs one thread.
    proc = subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        process_group=0,
        preexec_fn=_die_with_parent,  # noqa: PLW1509
    )
    stopping = []

    def forward(signum, _frame):
        stopping.append(signum)
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM if signum == signal.SIGHUP else signum)

    previous = {
        s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    try:
        if _wait_until_listening(proc, host, port):
            print(banner, file=sys.stderr, flush=True)
        elif not stopping:
            code = proc.wait()
            print(
                f"error: the dashboard server stopped before it answered (exit {code}); "
                "its messages are above",
                file=sys.stderr,
            )
            return 1
        code = proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return 0 if stopping else code


def dashboard_command(
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    port: port_option("The port to listen on (1-65535).") = 8501,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="The address to listen on. Any address that is not loopback "
            "(0.0.0.0, the machine's LAN address, ...) needs a login (see docs/deploy.md).",
        ),
    ] = "127.0.0.1",
    auth_config: Annotated[
        Path | None,
        typer.Option(
            "--auth-config",
            help="The login settings (OIDC provider, allow-list, groups); "
            f"default ${access.AUTH_CONFIG_ENV} or ~/.config/upgrade-warehouse/auth.toml.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the Streamlit dashboard (127.0.0.1 by default; a login elsewhere)."""
    warehouse = Path(warehouse).expanduser()
    if not warehouse.is_file():
        raise UserError(
            f"no warehouse at {warehouse}: run `upgrade-warehouse build` first "
            "(or pass --warehouse PATH)"
        )
    app = app_path()
    if not app.is_file():
        raise UserError(f"the dashboard app is missing: {app} (run from the repository)")
    loopback = access.is_loopback(host)
    config = login_config(auth_config, host, loopback, app)
    check_port(host, port)
    check_warehouse(warehouse)  # no server for a file that is not a warehouse

    env = {
        k: v for k, v in os.environ.items() if k not in access.OIDC_ENV.values()
    }  # the secrets go in the secrets file only
    env[WAREHOUSE_ENV] = str(warehouse.resolve())
    env.pop(access.POLICY_ENV, None)
    banner = f"Serving the dashboard on http://{_url_host(host)}:{port} ("
    if host in ("0.0.0.0", "::"):
        banner += "every address of this machine; "
    banner += f"warehouse {warehouse}"
    if config is None:
        banner += "; no login, this machine only)"
    else:
        banner += (
            f"; login with {config.policy.provider}, open {config.origin}; "
            f"settings from {config.source})"
        )
    banner += "; Ctrl+C stops it."
    with tempfile.TemporaryDirectory(prefix="upgrade-warehouse-dashboard-") as private:
        secrets = None
        if config is not None:
            secrets = access.write_streamlit_secrets(config, Path(private))
            env[access.POLICY_ENV] = config.policy.to_json()
        command = streamlit_command(app, host, port, secrets)
        code = serve(command, env, app.parent, host, port, banner)
    raise typer.Exit(code)
