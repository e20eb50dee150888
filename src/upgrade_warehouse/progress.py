"""Progress for long work: a live status line on a terminal, plain lines otherwise (stderr)."""

from __future__ import annotations

import sys
import time

from rich.console import Console


class Progress:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.console = Console(stderr=True)
        self._status = None
        self._start = time.monotonic()
        self._last = ""

    def __enter__(self) -> Progress:
        if self.enabled and self.console.is_terminal:
            self._status = self.console.status("starting")
            self._status.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)
            self._status = None

    def update(self, message: str) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self._start
        if self._status is not None:
            self._status.update(f"{message} [{elapsed:.0f}s]")
        elif not message.startswith("dbt:") or message.split("(")[0] != self._last:
            # Plain output: one line per step (dbt node counts only every 10 nodes).
            if message.startswith("dbt:"):
                count = int(message.split()[1])
                if count % 10:
                    return
            print(f"[{elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)
        self._last = message.split("(")[0]
