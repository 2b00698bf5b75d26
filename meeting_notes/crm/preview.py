"""The CRM preview as text: what ``meeting-notes crm preview`` prints and the report shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from meeting_notes.crm.errors import CRMError
from meeting_notes.crm.models import TARGETS, DeliveryPlan
from meeting_notes.crm.service import preview
from meeting_notes.settings import CRMSettings

VALUE_WIDTH = 70
EVIDENCE_WIDTH = 110


def _short(value: Any, width: int = VALUE_WIDTH) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\n", "⏎ ")
    return text if len(text) <= width else text[: width - 1] + "…"


def format_plan(plan: DeliveryPlan) -> str:
    """The preview as text: every record, every field with its value and evidence."""
    out = [f"{plan.target} preview of {plan.meeting_id} (notes sha256 {plan.notes_hash[:12]})", ""]
    for problem in plan.problems:
        out.append(f"MISSING/WRONG: {problem}")
    for warning in plan.warnings:
        out.append(f"note: {warning}")
    if plan.problems or plan.warnings:
        out.append("")
    for rec in plan.records:
        if rec.action != "upsert":
            how = "deleted" if rec.action == "delete" else "closed: " + ", ".join(f"{f.name}={f.value}" for f in rec.fields)
            out.append(f"{rec.object} {rec.record_id} (key {rec.key}) will be removed ({how})  [{rec.item}]")
            out.append("")
            continue
        out.append(f"{rec.object} upsert by key {rec.key}  [{rec.item}]")
        for f in rec.fields:
            cut = "  (truncated)" if f.truncated else ""
            out.append(f"  {f.name:<24} {_short(f.value)}{cut}")
            for ev in f.evidence:
                out.append(f"  {'':<24}   <- {_short(ev, EVIDENCE_WIDTH)}")
        for to_type, ids in rec.associations.items():
            out.append(f"  {'associated with':<24} {to_type}: {', '.join(ids)}")
        for to_type, ids in rec.remove_associations.items():
            out.append(f"  {'association removed':<24} {to_type}: {', '.join(ids)} (will be removed: no longer in the crm_ids)")
        out.append("")
    verdict = "cannot be pushed until the problems above are fixed" if plan.problems else "ready to approve and push"
    removed = sum(1 for r in plan.records if r.action != "upsert")
    out.append(f"{len(plan.records) - removed} record(s)" + (f", {removed} will be removed" if removed else "") + f"; {verdict}.")
    return "\n".join(out)


def preview_texts(meeting_dir: Path, settings: CRMSettings) -> dict[str, str]:
    """The preview of each CRM target, as text; a target whose preview cannot be built says
    why. Empty without notes."""
    if not (Path(meeting_dir) / "notes.json").is_file():
        return {}
    out: dict[str, str] = {}
    for target in TARGETS:
        try:
            out[target] = format_plan(preview(Path(meeting_dir), target, settings))
        except CRMError as exc:
            out[target] = str(exc)
        except Exception as exc:  # the page never fails for its preview section
            out[target] = f"The preview could not be built: {type(exc).__name__}: {exc}"
    return out


__all__ = ["format_plan", "preview_texts"]
