"""Progress reporting for the CLI: a live line per stage on a terminal, JSON lines otherwise."""

from __future__ import annotations

import json
import sys
import time
from typing import IO, TYPE_CHECKING, Any

from meeting_notes.schema import StageRecord

if TYPE_CHECKING:
    from rich.status import Status


class TerminalProgress:
    """Human progress on a TTY (stderr): one line per finished stage, a spinner while it runs."""

    def __init__(self, stream: IO[str] | None = None):
        from rich.console import Console

        self.console = Console(file=stream or sys.stderr)
        self._status: Status | None = None
        self._label = ""

    def start_file(self, index: int, total: int, path: str) -> None:
        self._label = f"[{index}/{total}] {path}"
        self.console.print(f"[bold]{self._label}[/bold]")

    def stage(self, stage: str, event: str, record: StageRecord | None) -> None:
        """``event``: "start", "end", or "progress:<what it is doing>" while it runs."""
        if event == "start":
            self._status = self.console.status(f"  {stage} …")
            self._status.start()
            return
        if event.startswith("progress:"):
            if self._status is not None:
                self._status.update(f"  {stage} … {event.split(':', 1)[1]}")
            return
        if self._status is not None:
            self._status.stop()
            self._status = None
        if record is None:
            return
        speed = f" ({record.real_time_factor:.1f}x realtime)" if record.real_time_factor and record.wall_s >= 0.1 else ""
        colour = {"done": "green", "cached": "cyan", "failed": "red"}.get(record.status, "white")
        self.console.print(
            f"  [{colour}]{stage:<10}[/{colour}] {record.status:<6} {record.wall_s:7.2f} s{speed}", highlight=False
        )

    def finish_file(self, result: dict[str, Any]) -> None:
        if result["status"] == "done":
            self.console.print(f"  → {result['meeting_dir']}", highlight=False)

    def error(self, message: str) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        self.console.print(f"[red]error:[/red] {message}", highlight=False)


class JsonLinesProgress:
    """Machine-readable output when stdout is not a terminal: one JSON object per input on
    stdout, one-line errors on stderr, no progress chatter."""

    def __init__(self, out: IO[str] | None = None, err: IO[str] | None = None):
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def start_file(self, index: int, total: int, path: str) -> None:
        self._t0 = time.perf_counter()

    def stage(self, stage: str, event: str, record: StageRecord | None) -> None:
        return None

    def finish_file(self, result: dict[str, Any]) -> None:
        self.out.write(json.dumps(result, ensure_ascii=False) + "\n")
        self.out.flush()

    def error(self, message: str) -> None:
        self.err.write(f"error: {message}\n")
        self.err.flush()


def make_progress(force_json: bool = False) -> TerminalProgress | JsonLinesProgress:
    if not force_json and sys.stderr.isatty() and sys.stdout.isatty():
        return TerminalProgress()
    return JsonLinesProgress()
