"""Engineering hygiene as a gate (issue 17): lint catches violations, the dbt project is
described once, exposures name every reader, and `docs` serves dbt's site."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from conftest import REPO, run_cli, sha256, start_cli

BIN = Path(sys.executable).parent


# ------------------------------------------------------------------------------- lint


def _scratch_copy(tmp_path: Path) -> Path:
    """The lint configs and a few files of the repository in a scratch folder."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("pyproject.toml", ".sqlfluff"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "lint", root / "lint")
    shutil.copytree(REPO / "macros", root / "macros")
    (root / "models").mkdir()
    shutil.copy(REPO / "models/marts/quality/fct_load_report.sql", root / "models")
    (root / "src").mkdir()
    shutil.copy(REPO / "src/upgrade_warehouse/currencies.py", root / "src")
    return root


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)


def test_lint_passes_on_the_scratch_copy_and_catches_a_violation(tmp_path):
    root = _scratch_copy(tmp_path)
    ruff, sqlfluff = str(BIN / "ruff"), str(BIN / "sqlfluff")
    assert _run(ruff, "check", "src", cwd=root).returncode == 0
    assert _run(ruff, "format", "--check", "src", cwd=root).returncode == 0
    clean = _run(sqlfluff, "lint", "models", cwd=root)
    assert clean.returncode == 0, clean.stdout

    model = root / "models" / "fct_load_report.sql"
    model.write_text(model.read_text().replace("select", "SELECT", 1))
    dirty = _run(sqlfluff, "lint", "models", cwd=root)
    assert dirty.returncode == 1 and "CP01" in dirty.stdout, dirty.stdout

    module = root / "src" / "currencies.py"
    module.write_text(module.read_text() + "\nimport os\n")
    found = _run(ruff, "check", "src", cwd=root)
    assert found.returncode == 1 and "F401" in found.stdout, found.stdout
    module.write_text(module.read_text() + "x = {  'a':1}\n")
    assert _run(ruff, "format", "--check", "src", cwd=root).returncode == 1


def test_import_contracts_pass_on_a_copy_and_catch_an_upward_import(tmp_path):
    """`lint-imports` (pyproject.toml [tool.importlinter], docs/architecture.md "Layers")
    on a copy of the package: kept as it is; broken by a planted upward import (the
    loader importing the build command), which also closes a cycle."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "src" / "upgrade_warehouse", root / "src" / "upgrade_warehouse")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    env = {**os.environ, "PYTHONPATH": str(root / "src")}  # the copy, not the installed one

    def lint() -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "lint-imports"), "--no-cache"],
            cwd=root, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip

    clean = lint()
    assert clean.returncode == 0, clean.stdout
    assert "2 kept, 0 broken" in clean.stdout, clean.stdout
    loader = root / "src" / "upgrade_warehouse" / "loader.py"
    loader.write_text(loader.read_text() + "\nfrom upgrade_warehouse import build  # noqa\n")
    dirty = lint()
    assert dirty.returncode == 1, dirty.stdout
    assert "0 kept, 2 broken" in dirty.stdout, dirty.stdout
    assert "upgrade_warehouse.loader -> upgrade_warehouse.build" in dirty.stdout, dirty.stdout


def test_make_test_runs_lint_first():
    makefile = (REPO / "Makefile").read_text()
    test_rule = re.search(r"^test: (.*)$", makefile, re.M).group(1).split()
    assert "lint" in test_rule
    lint_rule = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    for tool in ("ruff check", "ruff format --check", "sqlfluff lint", "lint-imports"):
        assert tool in lint_rule, tool


# ---------------------------------------------------------------------- the dbt project


def _yaml_files() -> list[Path]:
    return sorted((REPO / "models").rglob("*.yml"))


def test_one_models_yaml_per_model_folder_describing_each_of_its_models():
    folders = sorted({p.parent for p in (REPO / "models").rglob("*.sql")})
    for folder in folders:
        ymls = sorted(folder.glob("_*__models.yml"))
        assert [y.name for y in ymls] == [f"_{folder.name}__models.yml"], folder
        described = {m["name"] for m in yaml.safe_load(ymls[0].read_text())["models"]}
        assert described == {p.stem for p in folder.glob("*.sql")}, folder


def test_doc_blocks_are_defined_once_and_used():
    blocks = re.findall(r"{%\s*docs\s+(\w+)\s*%}", (REPO / "models" / "docs.md").read_text())
    assert len(blocks) == len(set(blocks))
    text = "".join(p.read_text() for p in _yaml_files())
    used = set(re.findall(r"doc\('(\w+)'\)", text))
    assert len(used) >= 10
    assert used <= set(blocks)
    # A column described in several places says it with its doc block.
    assert "The account." not in text


def test_every_macro_is_documented_with_its_arguments():
    documented = {
        m["name"]: m for m in yaml.safe_load((REPO / "macros/_macros.yml").read_text())["macros"]
    }
    for path in (REPO / "macros").glob("*.sql"):
        text = path.read_text()
        for kind, name, args in re.findall(r"{%-?\s*(macro|test)\s+(\w+)\((.*?)\)", text):
            if re.match(r"(default|duckdb|spark)__", name):
                continue
            entry = documented[("test_" if kind == "test" else "") + name]
            assert entry["description"], name
            names = [a.split("=")[0].strip() for a in args.split(",") if a.strip()]
            assert [a["name"] for a in entry.get("arguments", [])] == names, name


def _exposures() -> dict[str, dict]:
    found = {}
    for path in _yaml_files():
        for e in yaml.safe_load(path.read_text()).get("exposures", []):
            found[e["name"]] = e
    return found


def test_an_exposure_per_dashboard_page_and_command():
    app = (REPO / "dashboards" / "app.py").read_text()
    pages = re.findall(r'url_path="([\w-]+)"', app)
    assert len(pages) >= 10
    exposures = _exposures()
    expected = {f"dashboard_{p.replace('-', '_')}" for p in pages} | {
        "cli_metrics",
        "cli_winback",
        "cli_movers",
        "cli_review",
        "cli_experiments",
    }
    assert set(exposures) == expected
    models = {p.stem for p in (REPO / "models").rglob("*.sql")}
    for name, exposure in exposures.items():
        refs = re.findall(r"ref\('(\w+)'\)", " ".join(exposure["depends_on"]))
        assert refs and set(refs) <= models, name


# ------------------------------------------------------------------------ docs command


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_docs_serves_dbt_site_of_the_warehouse_without_touching_it(golden_warehouse):
    before = sha256(golden_warehouse)
    port = _free_port()
    proc = start_cli(
        *("docs", "--warehouse", golden_warehouse, "--port", port),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 300
        page = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    page = r.read().decode()
                break
            except OSError:
                time.sleep(1)
        assert page is not None, proc.stderr.read() if proc.poll() is not None else "timeout"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # The static site embeds the manifest and the catalog: exposures, doc blocks, columns.
    assert "dashboard_overview" in page and "cli_winback" in page
    assert "The subscription change (`change_id` of the subscription_changes export)." in page
    assert '"fct_monthly_metrics"' in page or "fct_monthly_metrics" in page
    assert sha256(golden_warehouse) == before
    site = golden_warehouse.parent / f"{golden_warehouse.stem}_dbt_docs" / "index.html"
    assert site.is_file()
    # Not a warehouse: one message, exit 2.
    bad = run_cli("docs", "--warehouse", golden_warehouse.parent / "none.duckdb", "--no-serve")
    assert bad.returncode == 2 and "no warehouse" in bad.stderr
