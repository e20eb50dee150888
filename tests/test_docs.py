"""The README and the metric catalog stay true to the spec."""

from __future__ import annotations

import csv
import re

import pytest

from conftest import REPO
from upgrade_warehouse.params import PARAM_NAMES

CATALOG = REPO / "seeds" / "metric_catalog.csv"
SPEC = REPO.parent / "shared" / "spec" / "metrics.md"


def catalog_ids(experiments: bool = False) -> list[str]:
    """The catalog's metric ids: the monthly ones, or those of section ``experiments``."""
    with open(CATALOG, newline="") as f:
        return [
            row["metric_id"]
            for row in csv.DictReader(f)
            if (row["section"] == "experiments") == experiments
        ]


def test_catalog_columns_are_filled_and_in_their_lists():
    # The seed's rules (seeds/_seeds.yml), checked here once rather than by dbt tests on
    # every build.
    with open(CATALOG, newline="") as f:
        rows = list(csv.DictReader(f))
    units = {"count", "rate", "money", "hours", "seconds", "days", "rate_by_key", "count_by_key"}
    for row in rows:
        assert row["metric_id"].strip() and row["label"].strip(), row
        assert row["unit"] in units, row
        assert row["direction"] in {"higher", "lower", "neutral"}, row
    assert len({row["metric_id"] for row in rows}) == len(rows)


def test_readme_starts_with_the_two_commands():
    text = (REPO / "README.md").read_text()
    first_block = text.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["make demo", "make test"]


def test_readme_lists_every_metric_of_the_catalog():
    text = (REPO / "README.md").read_text()
    for metric_id in catalog_ids():
        assert f"| `{metric_id}` |" in text, metric_id


@pytest.mark.skipif(not SPEC.is_file(), reason="shared/spec is not beside the repository")
def test_catalog_has_exactly_the_metric_ids_of_the_spec():
    spec_ids = []
    # The monthly metrics only: "Experiments" (and what follows) has its own command.
    monthly = SPEC.read_text().split("\n## Experiments")[0]
    for line in monthly.splitlines():
        match = re.match(r"\| `([a-z0-9_]+)`(?:, `(_[a-z0-9_]+)`)*", line)
        if not match:
            continue
        cells = re.findall(r"`([a-z0-9_]+)`", line.split("|")[1])
        base = cells[0]
        spec_ids.append(base)
        for suffix in cells[1:]:
            spec_ids.append(base.rsplit("_", 1)[0] + suffix if suffix.startswith("_") else suffix)
    # Parameters are in a table too (params.PARAM_NAMES): keep metric ids only (those are
    # in sections after it).
    spec_ids = [i for i in spec_ids if i not in PARAM_NAMES]
    assert sorted(spec_ids) == sorted(catalog_ids())
    assert len(catalog_ids()) == len(set(catalog_ids()))
    # "Experiments" has its own table of metric ids (step_reach.<step> is one per step,
    # named by the configured steps: not a catalog row).
    section = SPEC.read_text().split("\n## Experiments")[1].split("\n## ")[0]
    experiment_ids = [
        m.group(1)
        for m in (re.match(r"\| `([a-z0-9_]+)` \|", line) for line in section.splitlines())
        if m
    ]
    assert experiment_ids and sorted(experiment_ids) == sorted(catalog_ids(experiments=True))


def test_readme_is_short_and_links_the_users_docs():
    """A user's clone has no ../shared: the README links docs/, which has the contract,
    the metric definitions and the command line reference."""
    text = (REPO / "README.md").read_text()
    assert "shared/spec" not in text
    assert len(text.splitlines()) <= 160
    for page in ("data-contract.md", "metrics.md", "cli.md", "performance.md"):
        assert f"(docs/{page})" in text, page
        assert (REPO / "docs" / page).is_file(), page
    # Benchmark tables live in docs/performance.md now.
    assert "bench_scale.py" not in text
    assert "bench/bench_scale.py" in (REPO / "docs" / "performance.md").read_text()


def test_no_user_doc_points_outside_the_repository():
    """A user's clone has no ../shared: neither the README nor any page of docs/ sends
    users there (each page says what a user needs in the project's words)."""
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    assert len(pages) > 10
    for page in pages:
        text = page.read_text()
        for pointer in ("shared/spec", "../shared", "/work/shared"):
            assert pointer not in text, (page.name, pointer)
    # the simulator's page carries the rules and the worked examples itself
    simulator = (REPO / "docs" / "simulator.md").read_text()
    for needed in ("## Inputs", "## Rules", "### Worked examples", "f = 16/31", "57000"):
        assert needed in simulator, needed


def test_cli_reference_has_every_command_and_option():
    """docs/cli.md names every command of the CLI and every option of each."""
    import typer.main

    from upgrade_warehouse import cli

    if not cli.app.registered_commands:
        cli._register()
    app = cli.app
    text = (REPO / "docs" / "cli.md").read_text()
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        if command.hidden:
            continue
        assert f"## {name}" in text, name
        section = text.split(f"## {name}", 1)[1].split("\n## ", 1)[0]
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help":
                    assert f"`{opt}" in section, (name, opt)


HEADLINE_MARTS = ("fct_monthly_metrics", "fct_monthly_metrics_by_segment")


def documented_columns(model: str) -> dict[str, str]:
    """The columns of a marts model with their description in its schema YAML."""
    import yaml

    for path in (REPO / "models" / "marts").rglob("*.yml"):
        for entry in yaml.safe_load(path.read_text()).get("models") or []:
            if entry["name"] == model:
                return {c["name"]: c.get("description") or "" for c in entry.get("columns", [])}
    raise AssertionError(f"{model} is not in any schema YAML")


def test_headline_marts_document_their_metric_columns_from_the_catalog():
    """Each metric column of the headline marts (dbt's docs site) says the catalog's label,
    unit and definition; a rate's __numerator and __denominator name their metric."""
    with open(CATALOG, newline="") as f:
        catalog = {r["metric_id"]: r for r in csv.DictReader(f)}
    scalar = [
        m
        for m, r in catalog.items()
        if r["section"] != "experiments" and not r["unit"].endswith("_by_key")
    ]
    for model in HEADLINE_MARTS:
        columns = documented_columns(model)
        assert all(text.strip() for text in columns.values()), model
        for metric_id in scalar:
            text = columns[metric_id]
            row = catalog[metric_id]
            assert text.startswith(f"{row['label']} ("), (model, metric_id)
            assert row["definition"] in text and row["grain"] in text, (model, metric_id)
        for name, text in columns.items():
            if "__" in name:
                base = name.rsplit("__", 1)[0]
                assert base in scalar and f"`{base}`" in text, (model, name)
                assert catalog[base]["definition"] in text, (model, name)
