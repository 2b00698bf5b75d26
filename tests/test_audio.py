"""Audio input: formats, resampling, and a clear typed error for every kind of bad input."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from meeting_notes.audio import inspect_audio, is_silent, load_audio
from meeting_notes.errors import (
    AudioTooLongError,
    CorruptAudioError,
    EmptyFileError,
    InputNotFoundError,
    NoAudioError,
    NotAFileError,
    UnsupportedFormatError,
)
from meeting_notes.hashing import file_sha256
from meeting_notes.settings import AudioSettings

AUDIO = AudioSettings()


def test_flac_44k_stereo_becomes_16k_mono(data_dir: Path) -> None:
    path = data_dir / "jfk.flac"
    info = inspect_audio(path, AUDIO)
    assert info.sample_rate == 44100 and info.channels == 2
    assert info.duration == pytest.approx(11.0, abs=0.1)
    audio = load_audio(path, AUDIO)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) / 16000 == pytest.approx(info.duration, abs=0.05)
    assert np.abs(audio).max() <= 1.0


def test_mp3_loads(data_dir: Path) -> None:
    info = inspect_audio(data_dir / "hotwords.mp3", AUDIO)
    audio = load_audio(data_dir / "hotwords.mp3", AUDIO)
    assert len(audio) / 16000 == pytest.approx(info.duration, abs=0.15)
    assert not is_silent(audio, AUDIO)


def _encode(src: np.ndarray, path: Path, container: str, codec: str, rate: int = 48000) -> None:
    """Encode real audio with PyAV (FFmpeg) into another container, as a phone or Zoom would."""
    import av

    from meeting_notes.audio import _resample

    samples = _resample(src, 16000, rate)
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        frame_size = 960 if codec == "libopus" else 1024
        for i in range(0, len(samples), frame_size):
            block = samples[i : i + frame_size]
            frame = av.AudioFrame.from_ndarray(block[None, :].astype(np.float32), format="flt", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


@pytest.mark.parametrize(
    "suffix,container,codec",
    [(".m4a", "ipod", "aac"), (".mp4", "mp4", "aac"), (".ogg", "ogg", "libopus"), (".webm", "webm", "libopus")],
)
def test_compressed_containers_decode(tmp_path: Path, sample_wav: Path, suffix: str, container: str, codec: str) -> None:
    reference = load_audio(sample_wav, AUDIO)[: 16000 * 5]
    path = tmp_path / f"clip{suffix}"
    _encode(reference, path, container, codec)
    info = inspect_audio(path, AUDIO)
    assert info.duration == pytest.approx(5.0, abs=0.15)
    audio = load_audio(path, AUDIO)
    assert len(audio) / 16000 == pytest.approx(5.0, abs=0.15)
    # the decoded signal carries the same energy as the original speech
    ratio = np.sqrt(np.mean(audio**2)) / np.sqrt(np.mean(reference**2))
    assert 0.7 < ratio < 1.3


def test_missing_path() -> None:
    with pytest.raises(InputNotFoundError, match="no such file"):
        inspect_audio(Path("/nonexistent/meeting.wav"), AUDIO)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(NotAFileError, match="folder"):
        inspect_audio(tmp_path, AUDIO)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "upload.m4a"
    path.touch()
    with pytest.raises(EmptyFileError, match="empty"):
        inspect_audio(path, AUDIO)


def test_zero_second_wav(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    with pytest.raises(NoAudioError, match="empty"):
        inspect_audio(path, AUDIO)


def test_not_audio_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK\x03\x04 this is a word document, not a recording" * 50)
    with pytest.raises(UnsupportedFormatError, match="not a recording we can read"):
        inspect_audio(path, AUDIO)


def test_corrupt_audio(tmp_path: Path, sample_wav: Path) -> None:
    path = tmp_path / "broken.mp3"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 40_000, dtype=np.uint8).tobytes())
    with pytest.raises((CorruptAudioError, NoAudioError)):
        inspect_audio(path, AUDIO)
        load_audio(path, AUDIO)


def test_video_without_audio_track(tmp_path: Path) -> None:
    import av

    path = tmp_path / "screen.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with pytest.raises(UnsupportedFormatError, match="no audio track"):
        inspect_audio(path, AUDIO)


def test_too_long(sample_wav: Path) -> None:
    with pytest.raises(AudioTooLongError, match="limit"):
        inspect_audio(sample_wav, AudioSettings(max_duration_s=10))


def test_other_sample_rates_are_resampled(tmp_path: Path, sample_wav: Path) -> None:
    audio = load_audio(sample_wav, AUDIO)[: 16000 * 3]
    from meeting_notes.audio import _resample

    for rate in (8000, 22050, 48000):
        path = tmp_path / f"r{rate}.wav"
        sf.write(path, _resample(audio, 16000, rate), rate)
        back = load_audio(path, AUDIO)
        assert len(back) == pytest.approx(len(audio), abs=rate // 1000 + 2)


def test_input_is_never_modified(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "jfk.flac"
    shutil.copy(data_dir / "jfk.flac", path)
    before = file_sha256(path), path.stat().st_mtime_ns
    inspect_audio(path, AUDIO)
    load_audio(path, AUDIO)
    assert (file_sha256(path), path.stat().st_mtime_ns) == before


def test_silence_detection(sample_wav: Path) -> None:
    assert is_silent(np.zeros(16000, dtype=np.float32), AUDIO)
    assert not is_silent(load_audio(sample_wav, AUDIO), AUDIO)
