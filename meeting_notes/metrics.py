"""Quality metrics: DER (pyannote.metrics), WER/CER and cpWER, plus reference-file readers.

Text normalisation follows the published convention: Whisper's English normaliser for WER
(``whisper_normalizer``, a dev dependency), and for Japanese CER, NFKC with punctuation and
spaces removed.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from meeting_notes.schema import SpeakerTurn


# ---------------------------------------------------------------------------- reference files
def read_rttm(path: Path, uri: str | None = None) -> list[SpeakerTurn]:
    """Speaker turns of one file (or of ``uri`` in a multi-file RTTM)."""
    turns = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) < 8 or parts[0] != "SPEAKER":
            continue
        if uri is not None and parts[1] != uri:
            continue
        start, dur = float(parts[3]), float(parts[4])
        turns.append(SpeakerTurn(start=start, end=start + dur, speaker=parts[7]))
    return turns


def read_uem(path: Path, uri: str) -> list[tuple[float, float]]:
    """Scored regions of ``uri`` from a UEM file."""
    regions = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] == uri:
            regions.append((float(parts[2]), float(parts[3])))
    return regions


@dataclass(frozen=True)
class StmUtterance:
    speaker: str
    start: float
    end: float
    text: str


def read_stm(path: Path) -> list[StmUtterance]:
    """Utterances of an STM file (``file channel speaker start end [<labels>] text``)."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith(";;"):
            continue
        parts = line.split(maxsplit=5)
        rest = parts[5] if len(parts) > 5 else ""
        if rest.startswith("<"):
            rest = rest.split(">", 1)[1] if ">" in rest else ""
        out.append(StmUtterance(parts[2], float(parts[3]), float(parts[4]), rest.strip()))
    return out


# ---------------------------------------------------------------------------- DER
def _annotation(turns: list[SpeakerTurn], uri: str):
    from pyannote.core import Annotation, Segment

    ann = Annotation(uri=uri)
    for i, t in enumerate(turns):
        if t.end > t.start:
            ann[Segment(t.start, t.end), i] = t.speaker
    return ann


@dataclass(frozen=True)
class DerResult:
    der: float
    false_alarm: float
    missed: float
    confusion: float
    total: float


def diarization_error_rate(
    reference: list[SpeakerTurn],
    hypothesis: list[SpeakerTurn],
    collar: float = 0.0,
    skip_overlap: bool = False,
    uem: list[tuple[float, float]] | None = None,
    uri: str = "file",
) -> DerResult:
    """DER with pyannote.metrics (collar in seconds, total around each boundary)."""
    from pyannote.core import Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    metric = DiarizationErrorRate(collar=collar, skip_overlap=skip_overlap)
    kwargs = {}
    if uem:
        kwargs["uem"] = Timeline([Segment(s, e) for s, e in uem], uri=uri)
    comp = metric(
        _annotation(reference, uri), _annotation(hypothesis, uri), detailed=True, **kwargs
    )
    total = comp["total"]
    return DerResult(
        der=comp["diarization error rate"],
        false_alarm=comp["false alarm"] / total if total else 0.0,
        missed=comp["missed detection"] / total if total else 0.0,
        confusion=comp["confusion"] / total if total else 0.0,
        total=total,
    )


# ---------------------------------------------------------------------------- WER / CER
_EN_NORMALIZER = None


def normalize_english(text: str) -> str:
    """Whisper's English text normaliser (lower case, numbers and spellings standardised)."""
    global _EN_NORMALIZER
    if _EN_NORMALIZER is None:
        from whisper_normalizer.english import EnglishTextNormalizer

        _EN_NORMALIZER = EnglishTextNormalizer()
    return _EN_NORMALIZER(text)


_JA_DROP = re.compile(r"[\s\u3000、。，．・「」『』（）()！？!?,.\-ー〜~…:：;；\"'“”‘’]")


def normalize_japanese(text: str) -> str:
    """NFKC, then punctuation and spaces removed (for character error rate)."""
    return _JA_DROP.sub("", unicodedata.normalize("NFKC", text))


def _edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance between token lists (substitutions + deletions + insertions)."""
    if not ref:
        return len(hyp)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(errors, reference words) after English normalisation."""
    ref = normalize_english(reference).split()
    hyp = normalize_english(hypothesis).split()
    return _edit_distance(ref, hyp), len(ref)


def wer(reference: str, hypothesis: str) -> float:
    errors, n = word_errors(reference, hypothesis)
    return errors / max(n, 1)


def cer_japanese(reference: str, hypothesis: str) -> float:
    ref = list(normalize_japanese(reference))
    hyp = list(normalize_japanese(hypothesis))
    return _edit_distance(ref, hyp) / max(len(ref), 1)


def cpwer(reference: dict[str, str], hypothesis: dict[str, str]) -> float:
    """Concatenated minimum-permutation WER (CHiME-6 cpWER).

    ``reference`` and ``hypothesis`` map a speaker to all their words in time order. Each
    reference speaker is paired with one hypothesis speaker (or nobody) so that the total
    number of word errors is smallest; unpaired hypothesis speakers count as insertions.
    """
    return _cp_error_rate(reference, hypothesis, lambda text: normalize_english(text).split())


def cpcer_japanese(reference: dict[str, str], hypothesis: dict[str, str]) -> float:
    """:func:`cpwer` over characters of Japanese text (after :func:`normalize_japanese`): the
    speaker-attributed character error rate, cpCER."""
    return _cp_error_rate(reference, hypothesis, lambda text: list(normalize_japanese(text)))


def _cp_error_rate(reference: dict[str, str], hypothesis: dict[str, str], tokens) -> float:
    from scipy.optimize import linear_sum_assignment

    ref_spk = sorted(reference)
    hyp_spk = sorted(hypothesis)
    ref_tokens = {s: tokens(reference[s]) for s in ref_spk}
    hyp_tokens = {s: tokens(hypothesis[s]) for s in hyp_spk}
    n = max(len(ref_spk), len(hyp_spk))
    cost = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(n):
            r = ref_tokens[ref_spk[i]] if i < len(ref_spk) else []
            h = hyp_tokens[hyp_spk[j]] if j < len(hyp_spk) else []
            cost[i, j] = _edit_distance(r, h)
    rows, cols = linear_sum_assignment(cost)
    total_ref = sum(len(t) for t in ref_tokens.values())
    return float(cost[rows, cols].sum()) / max(total_ref, 1)


def words_by_speaker_from_stm(utterances: list[StmUtterance]) -> dict[str, str]:
    by: dict[str, list[str]] = defaultdict(list)
    for u in sorted(utterances, key=lambda u: u.start):
        by[u.speaker].append(u.text)
    return {k: " ".join(v) for k, v in by.items()}


__all__ = [
    "DerResult",
    "StmUtterance",
    "cer_japanese",
    "cpwer",
    "diarization_error_rate",
    "normalize_english",
    "normalize_japanese",
    "read_rttm",
    "read_stm",
    "read_uem",
    "wer",
    "word_errors",
    "words_by_speaker_from_stm",
]
