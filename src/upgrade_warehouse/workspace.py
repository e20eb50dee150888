"""Where a build writes: its own folder beside the serving file, the lock, the leftovers.

The new warehouse is written into a hidden folder beside the serving file
(``.<name>.building-<pid>/warehouse.duckdb``; DuckDB spills to ``warehouse.duckdb.tmp``
there). It replaces the serving file (one rename, same file system) only after every
phase passed (:mod:`upgrade_warehouse.pipeline.publish`). Readers of the serving file
never see a half-built state; a failed or interrupted build (SIGTERM, SIGINT) removes its
files; a killed one (SIGKILL) leaves them for the next build to remove.

A Spark build also publishes a Parquet folder beside the file: a versioned folder
(``.<stem>.parquet-<time>-<pid>``) that the symlink ``<stem>.parquet`` points at.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from .errors import BuildLocked, UserError

BUILDING_FILE = "warehouse.duckdb"  # inside the build's own folder; always this name


def building_dir(target: Path) -> Path:
    """This build's folder beside the warehouse: ``.<name>.building-<pid>``."""
    return target.with_name(f".{target.name}.building-{os.getpid()}")


def building_path(target: Path) -> Path:
    """The new warehouse file while it is built. Its name never changes (only its folder
    does), so dbt sees the same profile on every build and its cached parse stays valid."""
    return building_dir(target) / BUILDING_FILE


def remove_stale_builds(target: Path) -> None:
    """Delete leftovers of builds that were killed (their process is gone). This
    process's own folder is left alone (the Spark phases call this once the map phase
    has written into it; ``Building`` empties its own folder itself)."""
    for path in target.parent.glob(f".{target.name}.building-*"):
        pid_text = path.name.split(".building-")[1].split(".")[0]
        if pid_text.isdigit() and (int(pid_text) == os.getpid() or _pid_alive(int(pid_text))):
            continue
        remove_path(path)


def remove_stale_temp() -> None:
    """Delete the temporary dbt and Great Expectations folders (``uw-dbt-<pid>-*``,
    ``uw-gx-<pid>-*``) of builds that were killed (their process is gone)."""
    for path in Path(tempfile.gettempdir()).glob("uw-[dg][bx]*-*"):
        parts = path.name.split("-")
        if len(parts) >= 4 and parts[1] in ("dbt", "gx") and parts[2].isdigit():
            pid = int(parts[2])
            if pid != os.getpid() and not _pid_alive(pid):
                shutil.rmtree(path, ignore_errors=True)


def check_target(warehouse: Path) -> None:
    """The warehouse path must be a file we can write beside: a load error otherwise,
    found before anything is read or written (docs/security.md)."""
    if warehouse.is_dir():
        raise UserError(
            f"--warehouse {warehouse}: is a directory (give the path of a .duckdb file)"
        )
    if warehouse.exists() and not warehouse.is_file():
        raise UserError(f"--warehouse {warehouse}: not a regular file")
    try:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"--warehouse {warehouse}: cannot create its folder {warehouse.parent} ({exc.strerror})"
        ) from None
    if not os.access(warehouse.parent, os.W_OK | os.X_OK):
        raise UserError(f"--warehouse {warehouse}: its folder {warehouse.parent} is not writable")


@contextlib.contextmanager
def build_lock(warehouse: Path):
    """One build per warehouse at a time: an exclusive ``fcntl`` lock on
    ``.<name>.lock`` beside it, held for the whole build. A second build exits at once
    (exit 1) naming the process that holds it; the lock goes with the process, even on a
    SIGKILL, so a killed build never blocks the next one.

    The holder removes the file when it is done (still holding the lock); a build that
    locked a file which is no longer at the path (removed meanwhile) tries again, so two
    builds never hold locks on two different files."""
    path = warehouse.with_name(f".{warehouse.name}.lock")
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UserError(
                f"--warehouse {warehouse}: cannot create {path} ({exc.strerror})"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise BuildLocked(
                f"another build of {warehouse} is running (pid {holder}); the serving "
                "warehouse was not touched: try again when it ends"
            ) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)

    def remove_file() -> None:  # also run on SIGTERM/SIGINT, which leave with os._exit
        with contextlib.suppress(OSError):
            os.unlink(path)

    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield remove_file
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_path(path: Path) -> None:
    """A file, or a folder with what it holds (and the spill folder a link points to)."""
    if path.is_dir() and not path.is_symlink():
        for link in path.glob("*.tmp"):
            if link.is_symlink():
                shutil.rmtree(link.resolve(), ignore_errors=True)
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class Building:
    """The new warehouse while it is built, in its own folder beside the serving file.

    The folder is removed when the build fails or gets SIGTERM or SIGINT; after a
    SIGKILL the next build removes it (its process is gone).
    """

    def __init__(self, warehouse: Path) -> None:
        self.warehouse = warehouse
        self.dir = building_dir(warehouse)
        self.path = building_path(warehouse)
        self.on_signal: list = []  # callables run before exiting on a signal

    def __enter__(self) -> Building:
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_builds(self.warehouse)
        remove_path(self.dir)
        self.dir.mkdir()
        self._previous = {
            s: signal.signal(s, self._exit_on_signal) for s in (signal.SIGTERM, signal.SIGINT)
        }
        return self

    def _exit_on_signal(self, signum, frame) -> None:
        # dbt may be mid-query in another thread: remove the files (an open file can be
        # unlinked) and leave at once, without unwinding through dbt.
        for stop in self.on_signal:
            with contextlib.suppress(Exception):
                stop()
        remove_path(self.dir)
        print("interrupted: the serving warehouse was not replaced", file=sys.stderr)
        os._exit(128 + signum)

    def __exit__(self, exc_type, exc, tb) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        remove_path(self.dir)


# ----------------------------------------------------------------------------- Parquet (Spark)


def parquet_link(target: Path) -> Path:
    """The published Parquet folder: a symlink to the current version."""
    return target.with_name(f"{target.stem}.parquet")


def parquet_version(target: Path) -> Path:
    """A new versioned Parquet folder: build time (to the microsecond), then the process id."""
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
    return target.with_name(f".{target.stem}.parquet-{stamp}-{os.getpid()}")


def _pid_of(path: Path) -> int | None:
    tail = path.name.rsplit("-", 1)[-1].split(".")[0]
    return int(tail) if tail.isdigit() else None


def _alive(pid: int | None) -> bool:
    """Whether the build that owns a leftover is still running (this one included)."""
    return pid is not None and (pid == os.getpid() or _pid_alive(pid))


def current_version(target: Path) -> Path | None:
    link = parquet_link(target)
    if not link.is_symlink():
        return None
    return link.with_name(os.readlink(link))


def remove_stale_parquet(target: Path) -> None:
    """Delete what killed builds left: their folders, unpublished Parquet versions."""
    remove_stale_builds(target)
    current = current_version(target)
    leftovers = [
        *target.parent.glob(f".{target.stem}.parquet-*"),
        *target.parent.glob(f".{target.stem}.parquet.link-*"),
    ]
    for path in leftovers:
        if path == current or _alive(_pid_of(path)):
            continue
        rmtree(path)


def rmtree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)
