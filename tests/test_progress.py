"""Progress of long work: phases with counts, rate and ETA, as plain lines when stderr is
not a terminal and as a rich bar when it is."""

from __future__ import annotations

import io
import re

from rich.console import Console

from upgrade_warehouse import progress as progress_module
from upgrade_warehouse.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_show_count_share_rate_and_eta(monkeypatch, capsys):
    clock = Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", clock)
    with Progress(enabled=True) as p:  # pytest's stderr is not a terminal
        phase = p.phase("load", 1_000_000, "rows")
        clock.now += 10
        phase.set(250_000, "product_events")  # 25,000 rows/s: 750,000 left take 30 s
        clock.now += 1
        phase.set(260_000)  # within PLAIN_INTERVAL of the last line: no new line
        clock.now += 29
        phase.set(1_000_000)
        record = phase.finish("0 rows quarantined")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith("load: started (1,000,000 rows)")
    assert re.search(
        r"load: 250,000 of 1,000,000 rows \(25%\), 25,000 rows/s, ETA 30s \(product_events\)$",
        lines[1],
    )
    assert re.search(r"load: 1,000,000 of 1,000,000 rows \(100%\)", lines[2])
    assert re.search(r"load: done in 40\.0s \(1,000,000 rows, 25,000 rows/s\); 0 rows", lines[3])
    assert len(lines) == 4
    assert (record.name, record.amount, round(record.seconds)) == ("load", 1_000_000, 40)
    assert p.phases == [record]


def test_a_phase_without_a_total_shows_its_rate():
    stream = io.StringIO()
    p = Progress(enabled=True)
    p.console = Console(file=stream)
    lines = []
    p._line = lines.append  # what the plain output would print, without its timestamp
    phase = p.phase("dbt", None, "nodes")
    phase.set_total(75)
    phase.finish()
    assert lines[0] == "dbt: started"
    assert lines[-1].startswith("dbt: done in ") and "(75 nodes" in lines[-1]


def test_on_a_terminal_a_rich_bar_shows_each_phase():
    stream = io.StringIO()
    p = Progress(enabled=True)
    p.console = Console(file=stream, force_terminal=True, width=120)
    with p:
        phase = p.phase("load", 100, "rows")
        phase.set(50, "accounts")
        phase.finish()
        p.update("publishing")
    out = stream.getvalue()
    assert "load" in out and "publishing" in out and "100/100" in out


def test_disabled_progress_prints_nothing(capsys):
    with Progress(enabled=False) as p:
        p.phase("load", 10).finish()
        p.update("publishing")
    assert capsys.readouterr().err == ""
