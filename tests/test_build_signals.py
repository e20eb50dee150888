"""A build stopped by SIGTERM or SIGINT while dbt runs in its process removes its own
files, stops its Great Expectations worker, exits 128 + the signal, and leaves the
serving warehouse byte-for-byte as it was (SIGKILL: tests/test_build.py)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from conftest import serving_copy, sha256, start_build

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def serving_copy_source(basic_warehouse):
    return basic_warehouse[0]


def _descendants(pid: int) -> set[int]:
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    children = {int(c) for c in f.read().split()}
                out |= children
                todo += list(children)
        except OSError:
            pass
    return out


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_dbt_removes_the_new_files_and_keeps_serving(
    tmp_path, basic_dir, serving_copy_source, signum
):
    serving, before = serving_copy(serving_copy_source, tmp_path)
    proc = start_build(basic_dir, serving)
    try:
        for line in proc.stderr:  # plain progress lines: stderr is a pipe
            if "dbt: started" in line:
                break
        time.sleep(1.0)  # dbt is importing, reading its parse or running nodes
        assert proc.poll() is None, "the build ended before it was stopped"
        workers = _descendants(proc.pid)
        assert workers, "the Great Expectations worker should be running"
        os.kill(proc.pid, signum)
        rest = proc.communicate(timeout=60)[1]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 128 + signum
    assert "serving warehouse was not replaced" in rest
    assert sha256(serving) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb"]
    time.sleep(0.5)
    assert not [pid for pid in workers if _running(pid)]
