"""Hostile and odd input to the audio loader: every case ends in audio or a typed InputError.

Seeded cases built from real recordings (truncations, flipped header bytes, random bytes under
audio names, absurd header fields) plus the odd-but-valid ones (NaN samples, 6 channels,
8 kHz mu-law telephony, an hour of silence). No case may hang (each runs under an alarm),
crash the process, or return something that is not finite 16 kHz mono float32.
"""

from __future__ import annotations

import signal
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from meeting_notes.audio import inspect_audio, is_silent, load_audio
from meeting_notes.errors import InputError
from meeting_notes.settings import AudioSettings

AUDIO = AudioSettings()
CASE_TIMEOUT_S = 30


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    def hang(signum, frame):  # pragma: no cover - only on a hang
        raise TimeoutError(f"the loader did not return within {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _load_or_typed_error(path: Path) -> np.ndarray | InputError:
    """The loader's answer for ``path``; anything but audio or an InputError fails the test."""
    with _deadline(CASE_TIMEOUT_S):
        try:
            inspect_audio(path, AUDIO)
            audio = load_audio(path, AUDIO)
        except InputError as exc:
            assert str(exc).startswith(str(path)), "the message names the file"
            return exc
    assert audio.dtype == np.float32 and audio.ndim == 1 and audio.size > 0
    assert np.isfinite(audio).all()
    return audio


def _wav_header(channels: int, rate: int, bits: int, data_bytes: int, fmt_tag: int = 1) -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, min(0xFFFFFFFF, rate * block), block, bits)
    return (
        b"RIFF" + struct.pack("<I", min(0xFFFFFFFF, 36 + data_bytes)) + b"WAVE"
        + b"fmt " + struct.pack("<I", 16) + fmt
        + b"data" + struct.pack("<I", data_bytes)
    )


def _damaged_cases(src_dir: Path, out: Path) -> list[tuple[str, Path]]:
    rng = np.random.default_rng(20261124)
    cases: list[tuple[str, Path]] = []
    sources = [src_dir / "jfk.flac", src_dir / "hotwords.mp3", src_dir / "common_voice_ja_38843402_16k.wav"]
    for src in sources:
        raw = src.read_bytes()
        for k, frac in enumerate((0.001, 0.02, 0.1, 0.3, 0.5, 0.77)):
            path = out / f"trunc{k}-{src.name}"
            path.write_bytes(raw[: max(1, int(len(raw) * frac))])
            cases.append((f"truncated {frac:.0%} {src.suffix}", path))
        for k in range(3):
            data = bytearray(raw)
            for i in rng.integers(0, min(64, len(data)), 8):
                data[i] = int(rng.integers(0, 256))
            path = out / f"header{k}-{src.name}"
            path.write_bytes(bytes(data))
            cases.append((f"flipped header bytes {src.suffix}", path))
        path = out / f"wrongext-{src.stem}.m4a"
        path.write_bytes(raw)
        cases.append((f"{src.suffix} named .m4a", path))
    for suffix in (".wav", ".mp3", ".m4a", ".webm", ".ogg", ".txt"):
        path = out / f"random{suffix}"
        path.write_bytes(rng.integers(0, 256, 30_000, dtype=np.uint8).tobytes())
        cases.append((f"random bytes {suffix}", path))
    pcm = (rng.standard_normal(16000) * 1000).astype("<i2").tobytes()
    absurd = {
        "data size 4 GiB": _wav_header(1, 16000, 16, 0xFFFFFFF0) + pcm,
        "0 channels": _wav_header(0, 16000, 16, len(pcm)) + pcm,
        "0 Hz": _wav_header(1, 0, 16, len(pcm)) + pcm,
        "4 GHz": _wav_header(1, 4_000_000_000, 16, len(pcm)) + pcm,
        "3 bits": _wav_header(1, 16000, 3, len(pcm)) + pcm,
        "unknown codec tag": _wav_header(1, 16000, 16, len(pcm), fmt_tag=0x7777) + pcm,
        "header only": _wav_header(1, 16000, 16, len(pcm)),
    }
    for k, (label, data) in enumerate(absurd.items()):
        path = out / f"absurd{k}.wav"
        path.write_bytes(data)
        cases.append((f"wav header: {label}", path))
    return cases


def test_damaged_and_random_files_end_in_audio_or_a_typed_error(tmp_path: Path, data_dir: Path) -> None:
    cases = _damaged_cases(data_dir, tmp_path)
    assert len(cases) >= 40
    outcomes = {label: _load_or_typed_error(path) for label, path in cases}
    # random bytes are never taken for speech
    for label, outcome in outcomes.items():
        if label.startswith("random bytes") or label in ("wav header: 0 channels", "wav header: 0 Hz"):
            assert isinstance(outcome, InputError), label
    # a recording under the wrong extension still decodes
    assert isinstance(outcomes[".flac named .m4a"], np.ndarray)


def _write(path: Path, make: Callable[[Path], None]) -> Path:
    make(path)
    return path


def test_nan_samples_become_silence_and_all_nan_is_rejected(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    signal_ = (0.1 * rng.standard_normal(16000 * 3)).astype(np.float32)
    signal_[8000:9000] = np.nan
    signal_[20000] = np.inf
    path = _write(tmp_path / "nan.wav", lambda p: sf.write(p, signal_, 16000, subtype="FLOAT"))
    audio = load_audio(path, AUDIO)
    assert np.isfinite(audio).all() and audio[8000:9000].max() == 0.0
    assert len(audio) == len(signal_)
    all_nan = np.full(16000, np.nan, dtype=np.float32)
    path = _write(tmp_path / "allnan.wav", lambda p: sf.write(p, all_nan, 16000, subtype="FLOAT"))
    assert isinstance(_load_or_typed_error(path), InputError)


def test_six_channels_and_telephony_decode(tmp_path: Path, sample_wav: Path) -> None:
    speech = load_audio(sample_wav, AUDIO)[: 16000 * 4]
    six = np.stack([speech * (k + 1) / 6 for k in range(6)], axis=1)
    path = _write(tmp_path / "six.wav", lambda p: sf.write(p, six, 16000))
    assert np.allclose(load_audio(path, AUDIO), six.mean(axis=1), atol=1e-3)

    from meeting_notes.audio import _resample

    phone = _resample(speech, 16000, 8000)
    path = _write(tmp_path / "phone.wav", lambda p: sf.write(p, phone, 8000, subtype="ULAW"))
    back = load_audio(path, AUDIO)
    assert abs(len(back) - len(speech)) <= 2
    assert 0.6 < np.std(back) / np.std(speech) < 1.4


def test_block_decoding_equals_one_pass(tmp_path: Path, data_dir: Path) -> None:
    """Blocks with context give the samples of one resampling pass over the whole file."""
    from meeting_notes.audio import _resample

    data, rate = sf.read(data_dir / "jfk.flac", dtype="float32", always_2d=True)
    whole = _resample(data.mean(axis=1), rate, 16000)
    blocked = load_audio(data_dir / "jfk.flac", AudioSettings(decode_block_s=0.7))
    assert len(blocked) == len(whole)
    assert np.max(np.abs(blocked - whole)) < 1e-5


def test_an_hour_of_silence_is_silence(tmp_path: Path) -> None:
    path = tmp_path / "hour.wav"
    with sf.SoundFile(path, "w", samplerate=8000, channels=1, subtype="ULAW") as f:
        zeros = np.zeros(8000 * 60, dtype=np.float32)
        for _ in range(60):
            f.write(zeros)
    info = inspect_audio(path, AUDIO)
    assert info.duration == pytest.approx(3600, abs=1)
    audio = load_audio(path, AUDIO)
    assert len(audio) == pytest.approx(3600 * 16000, abs=4) and is_silent(audio, AUDIO)


def test_file_size_limit_is_a_clear_error(sample_wav: Path) -> None:
    from meeting_notes.errors import FileTooLargeError

    with pytest.raises(FileTooLargeError, match="audio.max_file_mb"):
        inspect_audio(sample_wav, AudioSettings(max_file_mb=0.1))
