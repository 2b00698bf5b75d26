"""``meeting-notes crm preview|push|retry``: review what goes to the CRM, then send it.

The lead wires it in with ``from meeting_notes.crm.cli import add_parser; add_parser(sub)``.
Exit codes: 0 sent (or nothing to do), 1 not sent (problems, no approval, failed, rejected).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from meeting_notes.crm.inputs import sidecar_ids
from meeting_notes.crm.ledger import Ledger, default_url
from meeting_notes.crm.models import TARGETS
from meeting_notes.crm.preview import format_plan
from meeting_notes.crm.service import approve, preview, push, remember_ids, retry_failed
from meeting_notes.settings import get_settings

EXIT_OK, EXIT_FAILED = 0, 1


def _crm_id(text: str) -> tuple[str, str]:
    """``KEY=ID`` sets an id; ``KEY=`` (nothing after '=') unsets a wrong one."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=ID (e.g. opportunity_id=006...) or KEY= to unset, got {text!r}")
    return key.strip(), value.strip()


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("meeting_dir", type=Path, metavar="MEETING_DIR", help="A meeting folder (with notes.json).")
    p.add_argument("--target", choices=TARGETS, required=True, help="Where the notes go.")
    p.add_argument("--crm-id", type=_crm_id, action="append", default=[], metavar="KEY=ID",
                   help="A CRM id (account_id, opportunity_id, contact_id, owner_id) when the sidecar gave none or a "
                        "wrong one; KEY= (empty) unsets it. Remembered in crm.json.")
    p.add_argument("--sidecar", type=Path, metavar="FILE",
                   help="Take the CRM ids from this <recording>.meeting.json (remembered in crm.json).")
    p.add_argument("--json", action="store_true", help="Print JSON instead of text.")


def _given_ids(args: argparse.Namespace) -> dict[str, str]:
    """--sidecar's crm_ids, overridden by --crm-id."""
    ids = sidecar_ids(args.sidecar) if args.sidecar else {}
    ids.update(dict(args.crm_id))
    return ids


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``crm`` with its sub-commands to the ``meeting-notes`` parser."""
    crm = subparsers.add_parser("crm", help="Preview, approve and push the notes to Salesforce, HubSpot or a webhook.",
                                description="Deliver a meeting's notes to a CRM after review (docs/crm.md).")
    sub = crm.add_subparsers(dest="crm_command", required=True)
    pre = sub.add_parser("preview", help="Show, field by field with evidence, exactly what would be sent.")
    _common(pre)
    pre.add_argument("--approve", action="store_true", help="Record your approval of this preview in crm.json.")
    pre.add_argument("--by", metavar="NAME", help="Who approves (default: the login name).")
    pre.set_defaults(func=_preview)
    push = sub.add_parser("push", help="Send the approved notes (upserts: a second push updates, never adds).")
    _common(push)
    push.add_argument("--approve", action="store_true", help="Approve what is about to be sent, and send it.")
    push.add_argument("--by", metavar="NAME", help="Who approves (default: the login name).")
    push.add_argument("--force", action="store_true",
                      help="Send again even when the ledger says delivered, or take over a push that still holds the delivery.")
    push.set_defaults(func=_push)
    retry = sub.add_parser("retry", help="Re-send the failed deliveries recorded in the ledger.")
    retry.add_argument(
        "--out", type=Path, metavar="DIR", help="Meetings folder whose SQLite ledger to use (default: the orchestration out_dir)."
    )
    retry.add_argument("--target", choices=TARGETS, help="Only this target.")
    retry.add_argument("--json", action="store_true", help="Print JSON instead of text.")
    retry.set_defaults(func=_retry)
    return crm


def _settings() -> Any:
    return get_settings().crm


def _preview(args: argparse.Namespace) -> int:
    crm_ids = _given_ids(args)
    if crm_ids:
        remember_ids(args.meeting_dir, crm_ids)
    plan = preview(args.meeting_dir, args.target, _settings())
    approval = approve(args.meeting_dir, plan, args.by) if args.approve and not plan.problems else None
    if args.json:
        doc = {**plan.model_dump(mode="json"), "plan_hash": plan.plan_hash, "approval": approval}
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        print(format_plan(plan))
        if approval:
            print(f"Approved by {approval['by']} at {approval['at']}.")
    return EXIT_FAILED if plan.problems else EXIT_OK


def _push(args: argparse.Namespace) -> int:
    import getpass


    result = push(args.meeting_dir, args.target, _settings(), crm_ids=_given_ids(args),
                  approve_as=(args.by or getpass.getuser()) if args.approve else None, force=args.force)
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        print(f"{result.meeting_id} -> {result.target}: {result.status} (attempt {result.attempts})")
        for key, rid in result.record_ids.items():
            print(f"  {key}: {rid}")
        if result.error:
            print(f"error: {result.error}", file=sys.stderr)
    return EXIT_OK if result.status in ("delivered", "already_delivered") else EXIT_FAILED


def _retry(args: argparse.Namespace) -> int:
    settings = get_settings()
    url = settings.crm.ledger_url or default_url(args.out or settings.orchestration.out_dir)
    ledger = Ledger(url)
    try:
        results = retry_failed(settings.crm, ledger, args.target)
    finally:
        ledger.close()
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            print(f"{r.meeting_id} -> {r.target}: {r.status}" + (f" ({r.error})" if r.error else ""))
        print(f"{len(results)} delivery(ies) retried.")
    return EXIT_OK if all(r.status in ("delivered", "already_delivered") for r in results) else EXIT_FAILED
