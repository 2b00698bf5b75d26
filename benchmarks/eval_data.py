"""The shared evaluation recordings and their references (see ../shared/eval/SOURCES.md), and
longer diarization test recordings built from them in code (no audio is committed).

Built recordings (:func:`diarization_suite`), all 16 kHz mono with exact references:

- ``ami-trn00-03``: ami-debug trn00..trn03 concatenated (2 min; the issue's file), and other
  groupings (``ami-trn04-06``, ``ami-trn07-09``, ``ami-train-all``, ``ami-dev``), reference and UEM
  offset by each excerpt's start. AMI speaker ids are global, so a person in two excerpts is one
  reference speaker.
- ``sample-tel``: the pyannote sample band-limited to telephone (8 kHz, 300-3400 Hz, mu-law) and
  back to 16 kHz.
- ``call-*``: synthetic two-person phone calls from real voices: the clips of two different
  speakers cut into pieces at pauses and alternated, with pauses and a few short overlaps,
  telephone quality. Reference turns = where each piece's speech is (energy VAD inside the piece,
  pauses > 0.3 s left out), known from the construction, not from any diarization output.
- ``ja-5spk``: the five Common Voice ja clips in a row with pauses and short overlaps. The clip
  ids differ; the reference.tsv names no speaker (client) ids, so "five different speakers" is
  an assumption (Common Voice clips with different ids are usually, not surely, different people).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import butter, resample_poly, sosfiltfilt

from meeting_notes.metrics import read_rttm, read_uem
from meeting_notes.schema import SpeakerTurn

EVAL_DIR = Path(os.environ.get("MEETING_NOTES_EVAL_DIR", Path(__file__).resolve().parents[1] / ".." / "shared" / "eval")).resolve()
SR = 16000


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


# ---------------------------------------------------------------------------- built recordings
@dataclass
class Recording:
    """An in-memory test recording with its reference."""

    uri: str
    kind: str  # "meeting", "telephone", "call", "japanese"
    waveform: np.ndarray  # float32, 16 kHz mono
    reference: list[SpeakerTurn]
    uem: list[tuple[float, float]] | None = None
    #: names of the source files: a file used to tune a parameter taints every recording built from it
    sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def num_speakers(self) -> int:
        return len({t.speaker for t in self.reference})

    @property
    def duration(self) -> float:
        return len(self.waveform) / SR


def _read(path: Path) -> np.ndarray:
    wav, sr = sf.read(path, dtype="float32", always_2d=True)
    wav = wav.mean(axis=1)
    if sr != SR:
        wav = resample_poly(wav, SR, sr).astype(np.float32)
    return wav


def telephone(wav: np.ndarray, mu: int = 255) -> np.ndarray:
    """16 kHz -> 300-3400 Hz band, 8 kHz, 8-bit mu-law -> back to 16 kHz float."""
    sos = butter(6, [300, 3400], btype="bandpass", fs=SR, output="sos")
    x = resample_poly(sosfiltfilt(sos, wav), 1, 2)
    x = np.clip(x / max(1e-9, np.abs(x).max()) * 0.9, -1, 1)
    q = np.round((np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu) + 1) / 2 * mu)  # 256 levels
    y = (q / mu) * 2 - 1
    y = np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu
    return resample_poly(y, 2, 1).astype(np.float32)


def _speech_spans(wav: np.ndarray, min_pause: float = 0.3, rel_db: float = -35.0) -> list[tuple[float, float]]:
    """Energy VAD (20 ms frames, within rel_db of the clip's loud frames); pauses < min_pause bridged."""
    hop = SR // 50
    n = len(wav) // hop
    if n == 0:
        return []
    rms = np.sqrt(np.mean(wav[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    db = 20 * np.log10(rms)
    active = db > np.percentile(db, 95) + rel_db
    spans: list[list[float]] = []
    for i in np.flatnonzero(active):
        t0, t1 = i * hop / SR, (i + 1) * hop / SR
        if spans and t0 - spans[-1][1] < min_pause:
            spans[-1][1] = t1
        else:
            spans.append([t0, t1])
    return [(a, b) for a, b in spans if b - a >= 0.1]


def _pieces(wav: np.ndarray, target_s: float) -> list[np.ndarray]:
    """Cut a clip into pieces of about target_s at its pauses (or quietest frame), edges trimmed."""
    spans = _speech_spans(wav)
    if not spans:
        return []
    pad = int(0.05 * SR)
    start, end = max(0, int(spans[0][0] * SR) - pad), min(len(wav), int(spans[-1][1] * SR) + pad)
    wav = wav[start:end]
    cuts = [0]
    hop = SR // 50
    while len(wav) - cuts[-1] > 1.6 * target_s * SR:
        lo, hi = cuts[-1] + int(0.7 * target_s * SR), cuts[-1] + int(1.3 * target_s * SR)
        seg = wav[lo:hi]
        m = len(seg) // hop
        energy = (seg[: m * hop].reshape(m, hop) ** 2).mean(axis=1)
        cuts.append(lo + int(np.argmin(energy)) * hop + hop // 2)
    cuts.append(len(wav))
    return [wav[a:b] for a, b in zip(cuts, cuts[1:]) if b - a > 0.3 * SR]


def _assemble(uri, kind, parts, rng, overlap_every: int = 4, overlap_s: float = 0.6, pause=(0.3, 1.2), tel=False, sources=()):
    """Lay (speaker, audio) parts end to end with random pauses; every overlap_every-th part
    starts overlap_s before the previous one ends. Reference = speech spans of each part."""
    total = sum(len(a) for _, a in parts) + int(len(parts) * pause[1] * SR) + SR
    mix = np.zeros(total, dtype=np.float64)
    ref: list[SpeakerTurn] = []
    pos = int(0.5 * SR)
    for i, (spk, audio) in enumerate(parts):
        if i and overlap_every and i % overlap_every == 0:
            pos = max(0, pos - int(overlap_s * SR))
        audio = audio / max(1e-9, np.sqrt(np.mean(audio**2))) * 0.05  # equal loudness
        mix[pos : pos + len(audio)] += audio
        for a, b in _speech_spans(audio):
            ref.append(SpeakerTurn(start=round(pos / SR + a, 3), end=round(pos / SR + b, 3), speaker=spk))
        pos += len(audio) + int(rng.uniform(*pause) * SR)
    mix = mix[: pos + int(0.5 * SR)]
    mix = (mix / max(1e-9, np.abs(mix).max()) * 0.8).astype(np.float32)
    if tel:
        mix = telephone(mix)[: len(mix)]
    return Recording(uri, kind, mix, sorted(ref, key=lambda t: (t.start, t.speaker)), None, tuple(sources))


def concat_ami(uri: str, names: list[str]) -> Recording:
    """ami-debug excerpts in a row; references and UEM offset by each start."""
    items = {i.uri: i for i in ami_items("train") + ami_items("development")}
    waves, ref, uem, t = [], [], [], 0.0
    for name in names:
        item = items[name]
        wav = _read(item.audio)
        waves.append(wav)
        ref += [SpeakerTurn(start=round(x.start + t, 3), end=round(x.end + t, 3), speaker=x.speaker) for x in item.reference]
        uem += [(a + t, b + t) for a, b in (item.uem or [(0.0, len(wav) / SR)])]
        t += len(wav) / SR
    return Recording(uri, "meeting", np.concatenate(waves), ref, uem, tuple(names))


def _ja_clips() -> list[tuple[str, np.ndarray]]:
    base = EVAL_DIR / "commonvoice-ja"
    rows = list(csv.DictReader(open(base / "reference.tsv", encoding="utf-8"), delimiter="\t"))
    return [(row["file"].split("_")[3], _read(base / row["file"])) for row in rows]


def ja_texts() -> dict[str, str]:
    """Each Common Voice ja clip's sentence, keyed like the speakers of the built recordings."""
    base = EVAL_DIR / "commonvoice-ja"
    rows = csv.DictReader(open(base / "reference.tsv", encoding="utf-8"), delimiter="\t")
    return {row["file"].split("_")[3]: row["text"] for row in rows}


def _solo_pieces(wav: np.ndarray, reference: list[SpeakerTurn], spk: str) -> list[np.ndarray]:
    """``spk``'s solo speech in ``wav`` (their turns minus everyone else's, spans over 0.4 s),
    each span followed by 0.4 s of silence."""
    mask = np.zeros(len(wav), bool)
    for t in reference:
        if t.speaker == spk:
            mask[int(t.start * SR) : int(t.end * SR)] = True
    for t in reference:
        if t.speaker != spk:
            mask[int(t.start * SR) : int(t.end * SR)] = False
    pieces = []
    idx = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    for a, b in zip(idx[::2], idx[1::2]):
        if b - a > 0.4 * SR:
            pieces += [wav[a:b], np.zeros(int(0.4 * SR), np.float32)]
    return pieces


def _sample_speaker_audio() -> dict[str, np.ndarray]:
    """Each pyannote-sample speaker's solo speech (reference turns minus the other's), joined."""
    item = sample_item()
    wav = _read(item.audio)
    return {spk: np.concatenate(_solo_pieces(wav, item.reference, spk)) for spk in sorted({t.speaker for t in item.reference})}


def _ami_speaker_audio(speakers: list[str]) -> dict[str, np.ndarray]:
    """Each named AMI speaker's solo speech across all ami-debug excerpts, joined."""
    out: dict[str, list[np.ndarray]] = {spk: [] for spk in speakers}
    for item in ami_items("train") + ami_items("development"):
        if any(t.speaker in out for t in item.reference):
            wav = _read(item.audio)
            for spk in out:
                out[spk] += _solo_pieces(wav, item.reference, spk)
    return {spk: np.concatenate(parts) for spk, parts in out.items() if parts}


def many_speakers_recording(uri: str = "many-9spk", turn_s: float = 7.0, seed: int = 7) -> Recording:
    """Nine voices, each speaking twice in turn (A..I, then A..I again), no overlap, short
    pauses: the broadcast-news shape (many speakers, long turns, every voice returns), where a
    clustering that under-counts merges people. Voices: four ami-debug speakers with the most
    solo speech (far field), the two pyannote-sample speakers (telephone), the LibriSpeech
    reader, JFK, the faster-whisper hotwords.mp3 speaker. Each turn is about ``turn_s`` of the
    voice's speech, cut at a pause; the reference is each turn's speech spans."""
    ami = _ami_speaker_audio(["FEE083", "MÉO069", "MEE009", "FEE078"])
    sample = _sample_speaker_audio()
    fw = EVAL_DIR / "faster-whisper"
    voices = list(ami.items()) + [(f"sample-{k}", v) for k, v in sorted(sample.items())] + [
        ("libri1272", _read(EVAL_DIR / "librispeech" / "1272-128104-0000.wav")),
        ("jfk", _read(fw / "jfk.flac")),
        ("hotwords", _read(fw / "hotwords.mp3")),
    ]
    turns: dict[str, list[np.ndarray]] = {}
    for name, wav in voices:
        pieces = _pieces(wav, turn_s)
        turns[name] = [pieces[0], pieces[1] if len(pieces) > 1 else pieces[0][len(pieces[0]) // 2 :]]
    parts = [(name, turns[name][r]) for r in (0, 1) for name, _ in voices]
    sources = ("ami-train", "ami-dev", "sample", "libri", "jfk", "hotwords")
    return _assemble(uri, "many", parts, np.random.default_rng(seed), overlap_every=0, pause=(0.3, 0.8), sources=sources)


def _call(uri: str, a: tuple[str, np.ndarray], b: tuple[str, np.ndarray], seed: int, piece_s: float, sources) -> Recording:
    rng = np.random.default_rng(seed)
    pa, pb = _pieces(a[1], piece_s), _pieces(b[1], piece_s)
    parts = []
    for i in range(max(len(pa), len(pb))):
        if i < len(pa):
            parts.append((a[0], pa[i]))
        if i < len(pb):
            parts.append((b[0], pb[i]))
    return _assemble(uri, "call", parts, rng, overlap_every=5, overlap_s=0.5, tel=True, sources=sources)


def diarization_suite(include_train_excerpts: bool = False, include_train_all: bool = False) -> list[Recording]:
    """The built diarization recordings (see the module docstring); the 5-minute all-train file
    only on request (it is the same audio as the three train groupings)."""
    recs: list[Recording] = []
    if include_train_excerpts:
        for item in ami_items("train"):
            recs.append(Recording(item.uri, "meeting", _read(item.audio), item.reference, item.uem, (item.uri,)))
    for item in ami_items("development"):
        recs.append(Recording(item.uri, "meeting", _read(item.audio), item.reference, item.uem, (item.uri,)))
    recs.append(concat_ami("ami-dev", ["dev00", "dev01"]))
    recs.append(concat_ami("ami-trn00-03", ["trn00", "trn01", "trn02", "trn03"]))
    recs.append(concat_ami("ami-trn04-06", ["trn04", "trn05", "trn06"]))
    recs.append(concat_ami("ami-trn07-09", ["trn07", "trn08", "trn09"]))
    if include_train_all:
        recs.append(concat_ami("ami-train-all", [f"trn{i:02d}" for i in range(10)]))

    s = sample_item()
    sample = _read(s.audio)
    recs.append(Recording("sample", "telephone", sample, s.reference, None, ("sample",)))
    recs.append(Recording("sample-tel", "telephone", telephone(sample)[: len(sample)], s.reference, None, ("sample",)))

    ja = _ja_clips()
    libri = ("libri1272", _read(EVAL_DIR / "librispeech" / "1272-128104-0000.wav"))
    spk = _sample_speaker_audio()
    sp = sorted(spk)
    recs.append(_call("call-ja-12", ja[0], ja[1], 1, 2.5, ("ja",)))
    recs.append(_call("call-ja-34", ja[2], ja[3], 2, 2.5, ("ja",)))
    recs.append(_call("call-ja5-libri", ja[4], libri, 3, 2.0, ("ja", "libri")))
    recs.append(_call("call-libri-sample", libri, (sp[1], spk[sp[1]]), 4, 2.5, ("libri", "sample")))
    recs.append(_call("call-sample-remix", (sp[0], spk[sp[0]]), (sp[1], spk[sp[1]]), 5, 3.0, ("sample",)))

    rng = np.random.default_rng(6)
    recs.append(_assemble("ja-5spk", "japanese", [(n, w) for n, w in ja], rng, overlap_every=2, overlap_s=0.7, pause=(0.4, 1.0), sources=("ja",)))
    return recs
