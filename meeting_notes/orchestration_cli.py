"""``meeting-notes watch DIR`` and ``meeting-notes serve``: the Prefect entry points of the CLI.

Both run until stopped. SIGTERM (what systemd, Docker and Kubernetes send) stops them like
Ctrl-C (:func:`stop_on_sigterm`): the main thread unwinds, so every ``finally``, context manager
and ``atexit`` handler runs and the children go with the command: Prefect's temporary server,
the flow-run processes of ``serve``, the embedded LLM server. Without it Python dies on the
spot and leaves Prefect's temporary server running as an orphan.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from meeting_notes.settings import Settings, get_settings


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C's KeyboardInterrupt (which Prefect's
    ``serve`` and the watch loop already stop cleanly on)."""


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Within the block, the first SIGTERM raises :class:`Terminated` in the main thread; later
    ones are ignored while the command shuts down (a second signal must not cut its cleanup short)."""
    def terminate(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _orchestration_settings(args: argparse.Namespace) -> Settings:
    base = get_settings()
    updates = {
        k: v
        for k, v in {"stable_seconds": args.stable_seconds, "poll_interval_s": args.poll_interval}.items()
        if v is not None
    }
    return base.model_copy(update={"orchestration": base.orchestration.model_copy(update=updates)})


def _watch(args: argparse.Namespace) -> int:
    with stop_on_sigterm():
        try:
            return _watch_until_stopped(args)
        except Terminated:  # during start-up (Prefect's temporary server starting)
            return 143


def _watch_until_stopped(args: argparse.Namespace) -> int:
    from flows.deploy import ensure_gpu_limit  # deferred: Prefect takes seconds to import
    from flows.intake import watch  # deferred: Prefect takes seconds to import

    settings = _orchestration_settings(args)
    if not args.deployment:
        message = ensure_gpu_limit(settings)
        if message:
            print(message)
    root = Path(args.dir)
    print(f"Watching {root / 'inbox'} (Ctrl-C to stop); outputs in {args.out or settings.orchestration.out_dir}",
          flush=True)
    try:
        watch(root, Path(args.out or settings.orchestration.out_dir), settings, args.deployment, not args.no_notes)
    except Terminated:
        return 143
    except KeyboardInterrupt:
        return 130
    return 0


def _serve(args: argparse.Namespace) -> int:
    with stop_on_sigterm():
        try:
            return _serve_until_stopped(args)
        except Terminated:  # outside Prefect's own loop (start-up): a clean stop all the same
            return 143


def _serve_until_stopped(args: argparse.Namespace) -> int:
    from flows.deploy import serve_all  # deferred: Prefect takes seconds to import

    settings = _orchestration_settings(args)
    orch = settings.orchestration
    inbox, out = Path(args.inbox or orch.inbox_dir), Path(args.out or orch.out_dir)
    batch = Path(args.batch_dir) if args.batch_dir else None
    authorize_folders(settings, [inbox] + ([batch] if batch else []), [out])
    serve_all(settings, inbox_root=inbox, out_dir=out, batch_dir=batch, limit=args.limit)
    return 0  # Prefect's serve loop stopped (Ctrl-C, SIGTERM)


def authorize_folders(settings: Settings, inputs: list[Path], outputs: list[Path]) -> None:
    """The folders ``serve`` was started with join ``flows.input_roots`` / ``flows.output_roots``
    for the flow runs it executes (subprocesses that inherit this environment): the served
    sweep and batch are deployment runs, confined like any run started through the API."""
    from flows.params import input_roots, output_roots  # deferred: Prefect takes seconds to import

    def joined(current: list[Path], extra: list[Path]) -> str:
        seen = [str(p) for p in current]
        return json.dumps(seen + [str(p) for p in extra if str(p) not in seen])

    os.environ["MEETING_NOTES_FLOWS__INPUT_ROOTS"] = joined(input_roots(settings), inputs)
    os.environ["MEETING_NOTES_FLOWS__OUTPUT_ROOTS"] = joined(output_roots(settings), outputs)
    get_settings.cache_clear()


def add_orchestration_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``watch`` and ``serve`` on the CLI's subparsers; each sets ``func(args) -> int``."""
    timing = argparse.ArgumentParser(add_help=False)
    timing.add_argument("--stable-seconds", type=float, help="Seconds a file must stay unchanged before pickup.")
    timing.add_argument("--poll-interval", type=float, help="Seconds between inbox scans.")

    w = subparsers.add_parser(
        "watch",
        parents=[timing],
        help="Process recordings dropped into DIR/inbox (moved to processing/, done/ or failed/).",
    )
    w.add_argument("dir", metavar="DIR", help="Inbox root; created with inbox/ processing/ done/ failed/.")
    w.add_argument("--out", help="Output folder for meetings (default: settings orchestration.out_dir).")
    w.add_argument(
        "--deployment",
        help="Submit each file to this deployment (e.g. process-meeting/process-meeting-gpu) "
        "instead of running it in this process.",
    )
    w.add_argument("--no-notes", action="store_true", help="Stop after the transcript.")
    w.set_defaults(func=_watch)

    s = subparsers.add_parser(
        "serve",
        parents=[timing],
        help="Serve process-meeting, a scheduled inbox sweep and the nightly batch from this machine "
        "(needs `prefect server start` and PREFECT_API_URL).",
    )
    s.add_argument("--inbox", help="Inbox root swept on a schedule (default: orchestration.inbox_dir).")
    s.add_argument("--out", help="Output folder for meetings.")
    s.add_argument("--batch-dir", help="Folder processed by the nightly batch (no batch without it).")
    s.add_argument("--limit", type=int, default=1, help="Flow runs at once on this machine.")
    s.set_defaults(func=_serve)
