"""``meeting-notes watch DIR`` and ``meeting-notes serve``: the Prefect entry points of the CLI."""

from __future__ import annotations

import argparse
from pathlib import Path

from meeting_notes.settings import Settings, get_settings


def _orchestration_settings(args: argparse.Namespace) -> Settings:
    base = get_settings()
    updates = {
        k: v
        for k, v in {"stable_seconds": args.stable_seconds, "poll_interval_s": args.poll_interval}.items()
        if v is not None
    }
    return base.model_copy(update={"orchestration": base.orchestration.model_copy(update=updates)})


def _watch(args: argparse.Namespace) -> int:
    from flows.deploy import ensure_gpu_limit  # deferred: Prefect takes seconds to import
    from flows.intake import watch  # deferred: Prefect takes seconds to import

    settings = _orchestration_settings(args)
    if not args.deployment:
        message = ensure_gpu_limit(settings)
        if message:
            print(message)
    root = Path(args.dir)
    print(f"Watching {root / 'inbox'} (Ctrl-C to stop); outputs in {args.out or settings.orchestration.out_dir}")
    try:
        watch(root, Path(args.out or settings.orchestration.out_dir), settings, args.deployment, not args.no_notes)
    except KeyboardInterrupt:
        return 130
    return 0


def _serve(args: argparse.Namespace) -> int:
    from flows.deploy import serve_all  # deferred: Prefect takes seconds to import

    settings = _orchestration_settings(args)
    orch = settings.orchestration
    serve_all(
        settings,
        inbox_root=Path(args.inbox or orch.inbox_dir),
        out_dir=Path(args.out or orch.out_dir),
        batch_dir=Path(args.batch_dir) if args.batch_dir else None,
        limit=args.limit,
    )
    return 0


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
