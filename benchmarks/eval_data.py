"""Where the shared evaluation recordings are, and their references (see ../shared/eval/SOURCES.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from meeting_notes.metrics import read_rttm, read_uem
from meeting_notes.schema import SpeakerTurn

EVAL_DIR = Path(os.environ.get("MEETING_NOTES_EVAL_DIR", Path(__file__).resolve().parents[1] / ".." / "shared" / "eval")).resolve()


@dataclass(frozen=True)
class DiarizationItem:
    uri: str
    audio: Path
    reference: list[SpeakerTurn]
    uem: list[tuple[float, float]] | None

    @property
    def num_speakers(self) -> int:
        return len({t.speaker for t in self.reference})


def ami_items(subset: str) -> list[DiarizationItem]:
    """AMI debug excerpts: subset 'train' (trn00-09, for tuning) or 'development' (dev00-01)."""
    base = EVAL_DIR / "ami-debug"
    uris = (base / f"debug.{subset}.lst").read_text().split()
    rttm, uem = base / f"debug.{subset}.rttm", base / f"debug.{subset}.uem"
    return [DiarizationItem(u, base / f"{u}.wav", read_rttm(rttm, u), read_uem(uem, u)) for u in uris]


def sample_item() -> DiarizationItem:
    base = EVAL_DIR / "pyannote-sample"
    return DiarizationItem("sample", base / "sample.wav", read_rttm(base / "sample.rttm"), None)
