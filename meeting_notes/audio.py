"""Audio input: check a recording, then decode it to 16 kHz mono float32.

soundfile (libsndfile) reads wav/flac/ogg/mp3 where it can; anything else (m4a/aac, opus,
webm, mp4/mov video, ...) goes through PyAV, the FFmpeg binding faster-whisper already brings.
The input file is only ever opened for reading.

Memory stays bounded by the decoded result (16 kHz mono float32: 230 MB an hour): soundfile
input is read, mixed down and resampled block by block (``decode_block_s``), each block with
enough context on both sides that the polyphase filter gives the same samples as one pass over
the whole file; PyAV resamples as it decodes. Non-finite samples (NaN/inf in a float WAV) become
silence, and a file with nothing else is rejected. The silence check works in blocks too.
"""

from __future__ import annotations

import mmap
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

from meeting_notes.errors import (
    AudioTooLongError,
    CorruptAudioError,
    EmptyFileError,
    FileTooLargeError,
    InputNotFoundError,
    NoAudioError,
    NotAFileError,
    UnsupportedFormatError,
)
from meeting_notes.hashing import file_sha256
from meeting_notes.schema import AudioInfo
from meeting_notes.settings import AudioSettings

AUDIO_EXTENSIONS = {
    ".wav", ".wave", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".webm",
    ".mp4", ".m4v", ".mov", ".mkv", ".wma", ".aiff", ".aif", ".amr", ".3gp", ".caf",
}


def _check_path(path: Path, settings: AudioSettings | None = None) -> None:
    if not path.exists():
        raise InputNotFoundError(f"{path}: no such file.")
    if path.is_dir():
        raise NotAFileError(f"{path}: is a folder, not a recording (pass the files inside it).")
    if not path.is_file():
        raise NotAFileError(f"{path}: is not a regular file.")
    size = path.stat().st_size
    if size == 0:
        raise EmptyFileError(f"{path}: the file is empty (0 bytes); the upload may have failed.")
    if settings is not None and size > settings.max_file_mb * 2**20:
        raise FileTooLargeError(
            f"{path}: the file is {size / 2**30:.1f} GiB; the limit is {settings.max_file_mb / 1024:.1f} GiB "
            f"(audio.max_file_mb). Export the audio only, or split the recording."
        )


def _probe_soundfile(path: Path) -> tuple[float, int, int, str] | None:
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:
        return None
    if info.samplerate <= 0 or info.channels <= 0 or info.frames < 0:
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
            duration = _demuxed_duration(path)
        return duration, _stream_attr(stream, "sample_rate", "rate"), _stream_attr(stream, "channels"), container.format.name


def _stream_attr(stream, *names: str) -> int:
    """An audio stream's rate or channel count; 0 when FFmpeg knows none (an unknown codec tag)."""
    for owner in (stream, getattr(stream, "codec_context", None)):
        for name in names:
            try:
                value = getattr(owner, name)
            except Exception:  # PyAV raises on attributes a codec-less stream lacks
                continue
            if isinstance(value, int):
                return value
    return 0


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


def _demuxed_duration(path: Path) -> float:
    """Duration from the packets' timestamps, for containers without one in the header (a WebM
    from a browser recorder): the file is read but not decoded."""
    import av

    end = 0.0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            base = stream.time_base
            for packet in container.demux(stream):
                if packet.pts is not None and base is not None:
                    end = max(end, float((packet.pts + (packet.duration or 0)) * base))
    except (av.error.FFmpegError, OSError) as exc:
        raise _unreadable(path) from exc
    return end


def inspect_audio(path: Path, settings: AudioSettings) -> AudioInfo:
    """Check that ``path`` is a usable recording and describe it (duration from the header).

    Raises a subclass of :class:`~meeting_notes.errors.InputError` with a plain message.
    """
    path = Path(path)
    _check_path(path, settings)
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


def _ratio(src: int, dst: int) -> tuple[int, int]:
    from math import gcd

    g = gcd(src, dst)
    return dst // g, src // g


Alloc = Callable[[int], np.ndarray]
"""Gives the float32 array of n samples the decoder writes into (``np.empty`` by default)."""


def _empty(n: int) -> np.ndarray:
    return np.empty(n, dtype=np.float32)


def _load_soundfile(path: Path, settings: AudioSettings, alloc: Alloc = _empty) -> np.ndarray | None:
    """Block-wise read, mix-down and resample with libsndfile; None when it cannot open the file."""
    import soundfile as sf

    try:
        f = sf.SoundFile(str(path))
    except Exception:
        return None
    with f:
        sr, channels, frames = f.samplerate, f.channels, f.frames
        if sr <= 0 or channels <= 0 or frames < 0:
            raise CorruptAudioError(f"{path}: the header says {channels} channels at {sr} Hz; the file is damaged.")
        dst = settings.sample_rate
        up, down = _ratio(sr, dst)
        # block and context on the polyphase grid (multiples of `down`) so that block outputs
        # line up exactly with the output of one pass over the whole file
        block = max(down, int(settings.decode_block_s * sr) // down * down)
        context = (sr // down + 1) * down if up != down else 0  # about 1 s: far beyond the filter
        total = -(-frames * up // down)
        out = alloc(total)
        written = bad = 0
        try:
            for b0 in range(0, frames, block):
                s0, s1 = max(0, b0 - context), min(frames, b0 + block + context)
                f.seek(s0)
                data = f.read(s1 - s0, dtype="float32", always_2d=True)
                if data.shape[0] < s1 - s0:  # truncated file: the header promised more
                    frames = s0 + data.shape[0]
                    total = -(-frames * up // down)
                mono = data.mean(axis=1) if channels > 1 else data[:, 0]
                finite = np.isfinite(mono)
                if not finite.all():
                    bad += int((~finite[b0 - s0 : b0 - s0 + block]).sum())
                    mono = np.where(finite, mono, 0.0).astype(np.float32)
                if up == down:
                    piece = mono[b0 - s0 : b0 - s0 + block]
                else:
                    from scipy.signal import resample_poly

                    y = resample_poly(mono, up, down).astype(np.float32)
                    lo = (b0 - s0) * up // down
                    piece = y[lo : lo + min(block * up // down, total - b0 * up // down)]
                piece = piece[: max(0, total - written)]
                out[written : written + len(piece)] = piece
                written += len(piece)
                if s1 - s0 > data.shape[0]:
                    break
        except (RuntimeError, sf.LibsndfileError) as exc:
            if written == 0:
                raise CorruptAudioError(f"{path}: the audio could not be decoded ({exc}); the file is damaged.") from exc
        if bad and bad >= frames:
            raise CorruptAudioError(f"{path}: the file holds no valid samples (all {bad} are NaN or infinite).")
        return out[:written]


def load_audio(path: Path, settings: AudioSettings, alloc: Alloc = _empty) -> np.ndarray:
    """Decode ``path`` to mono float32 at ``settings.sample_rate`` (channels are averaged).

    Memory: the result plus one block; non-finite samples become 0. ``alloc`` gives the array
    the block-wise decoder fills (a memory-mapped file in :func:`decode_to_file`).
    """
    path = Path(path)
    _check_path(path, settings)
    audio = _load_soundfile(path, settings, alloc)
    if audio is None:
        audio = _decode_av(path, settings.sample_rate)
        if not np.isfinite(audio).all():
            audio = np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0)
    if audio.size == 0:
        raise NoAudioError(f"{path}: the recording holds no audio samples.")
    return np.ascontiguousarray(audio, dtype=np.float32)


DECODED_DTYPE = "<f4"


def decode_to_file(path: Path, settings: AudioSettings, target: Path) -> int:
    """Decode ``path`` once into ``target``: raw little-endian float32 samples, mono, at
    ``settings.sample_rate``, written under a unique temporary name in the same folder, fsync'd
    and renamed (readers never see half a file). libsndfile input is decoded straight into the
    memory-mapped temporary file, so the decoded recording never sits in anonymous memory.
    ``path`` is only read. Returns the number of samples."""
    path, target = Path(path), Path(target)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    mapped: list[np.memmap] = []

    def alloc(n: int) -> np.ndarray:
        mm = np.memmap(tmp, dtype=DECODED_DTYPE, mode="w+", shape=(max(n, 1),))
        mapped.append(mm)
        return mm

    try:
        audio = load_audio(path, settings, alloc)
        n = int(audio.size)
        if mapped and np.shares_memory(audio, mapped[0]):
            mapped[0].flush()
            del audio
            mapped.clear()  # unmapped before the file is cut to its length
            os.truncate(tmp, n * 4)
        else:  # decoded by PyAV into memory
            mapped.clear()
            with open(tmp, "wb") as fh:
                np.ascontiguousarray(audio, dtype=DECODED_DTYPE).tofile(fh)
            del audio
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(tmp, target)
    except BaseException:
        mapped.clear()
        tmp.unlink(missing_ok=True)
        raise
    try:
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
    return n


def open_decoded(target: Path) -> np.ndarray:
    """The decoded recording written by :func:`decode_to_file`, memory-mapped copy-on-write:
    pages are read from the file as needed, and a consumer that writes into the array changes
    its own private copy, never the file."""
    return np.memmap(target, dtype=DECODED_DTYPE, mode="c")


def _file_mapping(audio: np.ndarray) -> tuple[mmap.mmap, int] | None:
    """The file mapping under a view of a :func:`open_decoded` array and the address where the
    mapping starts; None for any other array (anonymous memory)."""
    owner, base = audio, getattr(audio, "base", None)
    while base is not None and not isinstance(base, mmap.mmap):
        owner, base = base, getattr(base, "base", None)
    if not isinstance(base, mmap.mmap) or not isinstance(owner, np.memmap):
        return None
    return base, owner.ctypes.data - owner.offset % mmap.ALLOCATIONGRANULARITY


def is_file_mapped(audio: np.ndarray) -> bool:
    """Whether ``audio`` is (a view of) a recording memory-mapped by :func:`open_decoded`."""
    return _file_mapping(audio) is not None


def release_pages(audio: np.ndarray, start: int = 0, stop: int | None = None) -> bool:
    """Drop samples ``[start, stop)`` of a memory-mapped recording (:func:`open_decoded`) from
    this process's resident memory once a stage has read them; the kernel reads them from the
    file again if they are touched later. A stage that reads a long recording front to back
    then holds only what it works on (an hour is 230 MB). The mapping is copy-on-write and
    nobody writes into it, so nothing is lost. Any other array (decoded into ordinary memory)
    is left alone: returns False."""
    found = _file_mapping(audio)
    if found is None or audio.ndim != 1 or not audio.flags.c_contiguous:
        return False
    mapping, origin = found
    stop = audio.size if stop is None else min(int(stop), audio.size)
    start = max(0, int(start))
    if stop <= start:
        return True
    page = mmap.PAGESIZE
    first = audio.ctypes.data + start * audio.itemsize - origin
    last = audio.ctypes.data + stop * audio.itemsize - origin
    first = -(-first // page) * page  # whole pages inside the range only
    last = min(last, len(mapping)) // page * page
    if last > first:
        mapping.madvise(mmap.MADV_DONTNEED, first, last - first)
    return True


def is_silent(audio: np.ndarray, settings: AudioSettings) -> bool:
    """True when the whole recording is below ``settings.silence_rms_dbfs`` (digital silence, hiss)."""
    if audio.size == 0:
        return True
    step = 1 << 20  # no float64 copy of the whole recording
    energy = sum(float(np.dot(audio[i : i + step], audio[i : i + step])) for i in range(0, audio.size, step))
    rms = (energy / audio.size) ** 0.5
    return 20 * np.log10(max(rms, 1e-12)) < settings.silence_rms_dbfs
