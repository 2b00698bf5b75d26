"""Getting recordings into ``process-meeting``: the inbox (watch loop and scheduled sweep) and the nightly batch.

Each recording is either run here as a subflow (single machine) or submitted to the
``process-meeting`` deployment on the GPU pool (``deployment=...``), with an idempotency key so
that a retried submission does not start a second run.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment

from flows.meeting import process_meeting
from flows.params import confined, input_roots, output_roots, started_by_deployment
from meeting_notes.audio import AUDIO_EXTENSIONS
from meeting_notes.context import ProcessOptions
from meeting_notes.hashing import file_sha256
from meeting_notes.inbox import Inbox, InboxItem, StabilityTracker, is_candidate
from meeting_notes.runner import last_run_done
from meeting_notes.schema import RunInfo
from meeting_notes.settings import Settings, get_settings
from meeting_notes.sidecar import options_with_sidecar
from meeting_notes.workspace import MeetingWorkspace, meeting_id_for


def flow_parameters(
    audio_path: Path,
    out_dir: str,
    options: ProcessOptions,
    inbox_root: str | None = None,
    claim_id: str | None = None,
) -> dict[str, Any]:
    """The ``process-meeting`` parameters for one recording (with its inbox claim's owner token).

    Flow parameters are stored on the Prefect server and shown in its UI, so the participants'
    e-mail addresses are left out of the sidecar's facts (``hints``): nothing downstream needs them.
    """
    public = replace(options, facts=options.facts.without_contacts())
    params: dict[str, Any] = {"audio_path": str(audio_path), "out_dir": out_dir, **public.to_dict()}
    if inbox_root:
        params["inbox_root"] = inbox_root
    if claim_id:
        params["claim_id"] = claim_id
    return params


def dispatch(params: dict[str, Any], idempotency_key: str, deployment: str | None) -> dict[str, Any]:
    """Run ``process-meeting`` here, or submit it to ``deployment`` without waiting."""
    if deployment:
        run = run_deployment(
            deployment, parameters=params, timeout=0, idempotency_key=idempotency_key
        )
        # prefect's async_dispatch returns a coroutine only in an async flow or event loop; the
        # sweep, the batch and the watcher are synchronous
        assert isinstance(run, FlowRun)
        return {"file": params["audio_path"], "status": "submitted", "flow_run": str(run.id)}
    try:
        info: RunInfo = process_meeting(**params)
    except Exception as exc:  # recorded; the next file still runs
        return {"file": params["audio_path"], "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    return {"file": params["audio_path"], "status": info.status, "meeting_id": info.meeting_id}


def handle_ready_file(
    path: Path, inbox: Inbox, out_dir: str, deployment: str | None, base: ProcessOptions
) -> dict[str, Any]:
    """Claim one ready file from the inbox and process (or submit) it."""
    outcome, item = inbox.claim(path)
    if item is None:
        return {"file": str(path), "status": outcome}
    try:
        options = options_with_sidecar(item.path, base)
    except Exception as exc:
        inbox.fail(item, f"{type(exc).__name__}: {exc}")
        return {"file": str(path), "status": "failed", "error": str(exc)}
    params = flow_parameters(item.path, out_dir, options, str(inbox.layout.root), item.claim_id)
    return dispatch(params, item.idempotency_key, deployment)


def _inbox_for(settings: Settings, inbox_root: str | None) -> Inbox:
    root = Path(inbox_root or settings.orchestration.inbox_dir)
    return Inbox(root, settings.orchestration.claim_timeout_s, settings.orchestration.queue_timeout_s)


@flow(name="inbox-sweep")
def inbox_sweep(
    inbox_root: str | None = None,
    out_dir: str | None = None,
    deployment: str | None = None,
    notes: bool = True,
) -> list[dict[str, Any]]:
    """Pick up every fully written file in the inbox (a safety net beside ``meeting-notes watch``).

    Files are ready when they keep size and mtime for ``stable_seconds`` (two looks that far
    apart); orphans of crashed runs are put back into the inbox first.
    """
    settings = get_settings()
    if started_by_deployment():  # parameters from the Prefect API: confined first (flows.*)
        inbox_root = confined(inbox_root or settings.orchestration.inbox_dir, input_roots(settings), "inbox_root",
                              "flows.input_roots")
        out_dir = confined(out_dir, output_roots(settings), "out_dir", "flows.output_roots") if out_dir else None
    logger = get_run_logger()
    inbox = _inbox_for(settings, inbox_root)
    for path in inbox.recover():
        logger.warning("Put back into the inbox after a dead run: %s", path.name)
    tracker = StabilityTracker(settings.orchestration.stable_seconds)
    tracker.poll(inbox.layout.inbox)
    time.sleep(settings.orchestration.stable_seconds)
    out = out_dir or str(settings.orchestration.out_dir)
    results = [
        handle_ready_file(path, inbox, out, deployment, ProcessOptions(notes=notes))
        for path in tracker.poll(inbox.layout.inbox)
    ]
    if results:
        create_table_artifact(table=results, key="inbox-sweep", description="Files picked up by the sweep")
    return results


def batch_candidates(source_dir: Path) -> list[Path]:
    """Audio files under ``source_dir`` (recursive), sorted."""
    return sorted(
        p for p in source_dir.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and is_candidate(p)
    )


def already_done(path: Path, out_dir: Path, options: ProcessOptions) -> tuple[str, bool]:
    """The meeting id of ``path`` and whether its last run finished (:func:`~meeting_notes.runner.last_run_done`)."""
    sha = file_sha256(path)
    meeting_id = meeting_id_for(path, sha, options.facts.meeting_id)
    ws = MeetingWorkspace(out_dir / meeting_id)
    # done only for this very recording: a folder of another one with the same name is not
    return meeting_id, last_run_done(ws) and ws.recorded_sha256() in (None, sha)


@flow(name="nightly-batch")
def nightly_batch(
    source_dir: str,
    out_dir: str | None = None,
    deployment: str | None = None,
    notes: bool = True,
) -> list[dict[str, Any]]:
    """Process every recording under ``source_dir`` that has no finished meeting folder yet.

    Files stay where they are (the source is e.g. a synced share); sidecars are honoured.
    """
    settings = get_settings()
    if started_by_deployment():  # parameters from the Prefect API: confined first (flows.*)
        source_dir = confined(source_dir, input_roots(settings), "source_dir", "flows.input_roots")
        out_dir = confined(out_dir, output_roots(settings), "out_dir", "flows.output_roots") if out_dir else None
    out = Path(out_dir or settings.orchestration.out_dir)
    results = []
    for path in batch_candidates(Path(source_dir)):
        try:
            options = options_with_sidecar(path, ProcessOptions(notes=notes))
        except Exception as exc:
            results.append({"file": str(path), "status": "failed", "error": str(exc)})
            continue
        meeting_id, done = already_done(path, out, options)
        if done:
            results.append({"file": str(path), "status": "skipped", "meeting_id": meeting_id})
            continue
        key = f"batch-{meeting_id}-{time.strftime('%Y%m%d')}"
        results.append(dispatch(flow_parameters(path, str(out), options), key, deployment))
    create_table_artifact(
        table=results or [{"file": "", "status": "nothing to do"}],
        key="nightly-batch",
        description=f"Nightly batch over {source_dir}",
    )
    return results


def watch(
    inbox_root: Path,
    out_dir: Path,
    settings: Settings,
    deployment: str | None = None,
    notes: bool = True,
    stop: threading.Event | None = None,
) -> None:
    """Poll the inbox and process each file once it is fully written, until ``stop`` is set."""
    inbox = Inbox(inbox_root, settings.orchestration.claim_timeout_s, settings.orchestration.queue_timeout_s)
    inbox.recover()
    tracker = StabilityTracker(settings.orchestration.stable_seconds)
    stop = stop or threading.Event()
    while not stop.is_set():
        for path in tracker.poll(inbox.layout.inbox):
            try:
                result = handle_ready_file(path, inbox, str(out_dir), deployment, ProcessOptions(notes=notes))
            except Exception as exc:  # one bad file never stops the watcher
                result = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
            if result["status"] in ("skipped", "error"):
                tracker.set_aside(path)  # offered again only once it changes
            print(f"{path.name}: {result['status']}" + (f" ({result['error']})" if "error" in result else ""), flush=True)
        stop.wait(settings.orchestration.poll_interval_s)


__all__ = ["InboxItem", "dispatch", "handle_ready_file", "inbox_sweep", "nightly_batch", "watch"]
