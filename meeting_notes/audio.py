"""Audio input: check a recording, then decode it to 16 kHz mono float32.

soundfile (libsndfile) reads wav/flac/ogg/mp3 where it can; anything else (m4a/aac, opus,
webm, mp4/mov video, ...) goes through PyAV, the FFmpeg binding faster-whisper already brings.
The input file is only ever opened for reading.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from meeting_notes.errors import (
    AudioTooLongError,
    CorruptAudioError,
    EmptyFileError,
    InputNotFoundError,
    NoAudioError,
    NotAFileError,
    UnsupportedFormatError,
)
from meeting_notes.model_registry import file_sha256
from meeting_notes.schema import AudioInfo
from meeting_notes.settings import AudioSettings

AUDIO_EXTENSIONS = {
    ".wav", ".wave", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".webm",
    ".mp4", ".m4v", ".mov", ".mkv", ".wma", ".aiff", ".aif", ".amr", ".3gp", ".caf",
}


def _check_path(path: Path) -> None:
    if not path.exists():
        raise InputNotFoundError(f"{path}: no such file.")
    if path.is_dir():
        raise NotAFileError(f"{path}: is a folder, not a recording (pass the files inside it).")
    if not path.is_file():
        raise NotAFileError(f"{path}: is not a regular file.")
    if path.stat().st_size == 0:
        raise EmptyFileError(f"{path}: the file is empty (0 bytes); the upload may have failed.")


def _probe_soundfile(path: Path) -> tuple[float, int, int, str] | None:
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:
        return None
    if info.samplerate <= 0:
        return None
    return info.frames / info.samplerate, info.samplerate, info.channels, info.format.lower()


def _probe_av(path: Path) -> tuple[float, int, int, str]:
    import av

    try:
        container = av.open(str(path))
    except av.error.InvalidDataError as exc:
        raise _unreadable(path) from exc
    except (av.error.FFmpegError, OSError) as exc:
        raise _unreadable(path) from exc
    with container:
        streams = container.streams.audio
        if not streams:
            raise UnsupportedFormatError(f"{path}: the file has no audio track.")
        stream = streams[0]
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        if duration is None:
            duration = _decoded_duration(path)
        return duration, stream.rate or 0, stream.channels or 0, container.format.name


def _unreadable(path: Path) -> Exception:
    if path.suffix.lower() in AUDIO_EXTENSIONS:
        return CorruptAudioError(
            f"{path}: the file could not be read as {path.suffix.lstrip('.')} audio; it is "
            f"damaged or incomplete."
        )
    return UnsupportedFormatError(
        f"{path}: not a recording we can read (supported: wav, flac, mp3, m4a/aac, ogg/opus, "
        f"webm, mp4 and other FFmpeg formats)."
    )


def _decoded_duration(path: Path) -> float:
    return len(_decode_av(path, 16000)) / 16000


def inspect_audio(path: Path, settings: AudioSettings) -> AudioInfo:
    """Check that ``path`` is a usable recording and describe it (duration from the header).

    Raises a subclass of :class:`~meeting_notes.errors.InputError` with a plain message.
    """
    path = Path(path)
    _check_path(path)
    probe = _probe_soundfile(path) or _probe_av(path)
    duration, sample_rate, channels, fmt = probe
    if duration <= 0 or duration < settings.min_duration_s:
        raise NoAudioError(f"{path}: the recording is empty ({duration:.2f} s of audio).")
    if duration > settings.max_duration_s:
        raise AudioTooLongError(
            f"{path}: the recording is {duration / 3600:.1f} h long; the limit is "
            f"{settings.max_duration_s / 3600:.1f} h (audio.max_duration_s). Split it first."
        )
    return AudioInfo(
        path=str(path.resolve()),
        sha256=file_sha256(path),
        duration=round(duration, 3),
        sample_rate=sample_rate or None,
        channels=channels or None,
        format=fmt,
    )


def _decode_av(path: Path, sample_rate: int) -> np.ndarray:
    from faster_whisper.audio import decode_audio

    try:
        return decode_audio(str(path), sampling_rate=sample_rate)
    except Exception as exc:  # PyAV raises many error types for damaged streams
        raise CorruptAudioError(f"{path}: decoding failed part-way ({exc}); the file is damaged.") from exc


def _resample(audio: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return audio
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(src, dst)
    return resample_poly(audio, dst // g, src // g).astype(np.float32)


def load_audio(path: Path, settings: AudioSettings) -> np.ndarray:
    """Decode ``path`` to mono float32 at ``settings.sample_rate`` (channels are averaged)."""
    import soundfile as sf

    path = Path(path)
    _check_path(path)
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception:
        audio = _decode_av(path, settings.sample_rate)
    else:
        audio = _resample(data.mean(axis=1), sr, settings.sample_rate)
    if audio.size == 0:
        raise NoAudioError(f"{path}: the recording holds no audio samples.")
    return np.ascontiguousarray(audio, dtype=np.float32)


def is_silent(audio: np.ndarray, settings: AudioSettings) -> bool:
    """True when the whole recording is below ``settings.silence_rms_dbfs`` (digital silence, hiss)."""
    if audio.size == 0:
        return True
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    return 20 * np.log10(max(rms, 1e-12)) < settings.silence_rms_dbfs
