"""Progress for long work, on stderr: a rich bar on a terminal, plain lines otherwise.

Work is split into phases (load, dbt, expectations, ...). A phase knows its total when it
can (rows in the input files, dbt nodes, suites) and shows how far it is, its rate
(rows/s, nodes/s) and an ETA. Free-form steps go through :meth:`Progress.update`.

Plain output (not a terminal: CI, logs, tests) prints one line when a phase starts, at
most one line every ``PLAIN_INTERVAL`` seconds while it runs, and one when it ends, each
prefixed with the seconds since the start: ``[  12.3s] load: 5,400,000 of 11,835,722
rows (46%), 1.2M rows/s, ETA 5s (product_events)``.

Every finished phase is kept in :attr:`Progress.phases` (name, seconds, amount, unit):
the build's profile and ``make bench`` read them.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

PLAIN_INTERVAL = 5.0  # seconds between two plain progress lines of one phase


@dataclass
class PhaseRecord:
    name: str
    seconds: float
    amount: int
    unit: str
    cpu_seconds: float = 0.0  # of this process (all its threads), not of its children

    @property
    def rate(self) -> float:
        return self.amount / self.seconds if self.seconds > 0 else 0.0


def human(n: float) -> str:
    """1234 -> 1,234; 1.2e6 -> 1.2M (rates and large counts)."""
    if n >= 10_000_000:
        return f"{n / 1e6:,.0f}M"
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    return f"{n:,.0f}"


class _RateColumn(ProgressColumn):
    """rows/s (or nodes/s, ...) of a task."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{human(speed)} {task.fields.get('unit', '')}/s" if speed else "")


class Phase:
    """One phase of work: ``advance`` as it goes, ``detail`` names what runs now."""

    def __init__(self, owner: Progress, name: str, total: int | None, unit: str) -> None:
        self.owner = owner
        self.name = name
        self.total = total
        self.unit = unit
        self.completed = 0
        self.detail = ""
        self.start = time.monotonic()
        self.cpu_start = time.process_time()
        self._last_line = self.start
        self._task = None
        if owner._bar is not None:
            self._task = owner._bar.add_task(name, total=total, detail="", unit=unit)
        else:
            owner._line(f"{name}: started" + (f" ({total:,} {unit})" if total else ""))

    def set_total(self, total: int) -> None:
        self.total = total
        if self._task is not None:
            self.owner._bar.update(self._task, total=total)

    def set(self, completed: int, detail: str | None = None) -> None:
        self.completed = completed
        if detail is not None:
            self.detail = detail
        if self._task is not None:
            self.owner._bar.update(self._task, completed=completed, detail=self.detail)
            return
        now = time.monotonic()
        if now - self._last_line >= PLAIN_INTERVAL:
            self._last_line = now
            self.owner._line(f"{self.name}: {self._status(now)}")

    def _status(self, now: float) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = self.completed / elapsed
        text = f"{self.completed:,}"
        if self.total:
            share = min(self.completed / self.total, 1.0)
            text += f" of {self.total:,} {self.unit} ({share:.0%})"
            if rate > 0 and self.completed < self.total:
                text += f", {human(rate)} {self.unit}/s, ETA {(self.total - self.completed) / rate:.0f}s"
        else:
            text += f" {self.unit}, {human(rate)} {self.unit}/s"
        return text + (f" ({self.detail})" if self.detail else "")

    def finish(self, summary: str = "") -> PhaseRecord:
        seconds = time.monotonic() - self.start
        amount = self.completed if self.total is None else max(self.completed, self.total)
        record = PhaseRecord(
            self.name, seconds, amount, self.unit, time.process_time() - self.cpu_start
        )
        self.owner.phases.append(record)
        if self._task is not None:
            self.owner._bar.update(self._task, completed=amount, detail=summary or "done")
            self.owner._bar.stop_task(self._task)
        else:
            rate = f", {human(record.rate)} {self.unit}/s" if amount else ""
            self.owner._line(
                f"{self.name}: done in {seconds:.1f}s ({amount:,} {self.unit}{rate})"
                + (f"; {summary}" if summary else "")
            )
        return record


class Progress:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.console = Console(stderr=True)
        self.phases: list[PhaseRecord] = []
        self._bar: RichProgress | None = None
        self._start = time.monotonic()

    def __enter__(self) -> Progress:
        if self.enabled and self.console.is_terminal:
            self._bar = RichProgress(
                TextColumn("{task.description:<12}"),
                BarColumn(),
                TaskProgressColumn(),
                MofNCompleteColumn(),
                _RateColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[detail]}"),
                console=self.console,
                transient=False,
            )
            self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def phase(self, name: str, total: int | None = None, unit: str = "rows") -> Phase:
        return Phase(self, name, total, unit)

    def update(self, message: str) -> None:
        """A free-form step (one line)."""
        self._line(message)

    def _line(self, message: str) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.console.print(message, highlight=False)
            return
        elapsed = time.monotonic() - self._start
        print(f"[{elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)
