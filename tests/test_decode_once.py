"""The recording is decoded once per meeting folder (a memory-mapped 16 kHz mono float32 file),
by the CLI's loop and across the Prefect flow's tasks alike; the recording is never written."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from meeting_notes import audio as audio_module
from meeting_notes import stages
from meeting_notes.pipeline import process_meeting
from meeting_notes.runner import StageReport
from meeting_notes.stages import transcript as transcript_stages
from meeting_notes.stages.lifecycle import prepare_meeting
from meeting_notes.audio import decode_to_file, load_audio, open_decoded
from meeting_notes.context import ProcessOptions
from meeting_notes.schema import AsrResult, Diarization
from meeting_notes.settings import AudioSettings, Settings


def _recording(path: Path, seconds: float = 7.0, sr: int = 44100, channels: int = 2) -> Path:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    data = np.stack([0.3 * np.sin(2 * np.pi * 220 * (c + 1) * t) for c in range(channels)], axis=1)
    data += 0.01 * rng.standard_normal(data.shape)
    sf.write(path, data.astype(np.float32), sr, subtype="PCM_16")
    return path


def _fingerprint(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_size


@pytest.mark.parametrize("suffix", [".wav", ".m4a"])
def test_decoded_file_holds_the_same_samples_and_the_source_is_untouched(tmp_path: Path, suffix: str) -> None:
    src = _recording(tmp_path / "in.wav")
    if suffix == ".m4a":  # decoded by PyAV, not libsndfile
        import av

        m4a = tmp_path / "in.m4a"
        data, sr = sf.read(src, dtype="float32", always_2d=True)
        with av.open(str(m4a), "w") as out:
            stream = out.add_stream("aac", rate=sr)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data.T), format="fltp", layout="stereo")
            frame.sample_rate = sr
            for packet in stream.encode(frame):
                out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        src = m4a
    before = _fingerprint(src)
    settings = AudioSettings(decode_block_s=2.0)
    target = tmp_path / "meeting" / ".audio-16k-f32.raw"
    target.parent.mkdir()
    n = decode_to_file(src, settings, target)
    mapped = open_decoded(target)
    expected = load_audio(src, settings)
    assert isinstance(mapped, np.memmap) and mapped.dtype == np.float32 and n == expected.size == mapped.size
    assert target.stat().st_size == 4 * n
    np.testing.assert_array_equal(np.asarray(mapped), expected)
    mapped[:10] = 5.0  # a consumer writing into the waveform changes its own copy only
    assert np.fromfile(target, dtype="<f4", count=10).max() < 1.0
    assert _fingerprint(src) == before
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary file left


def _stub_models(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """transcribe/diarize that record the waveform they got (the stages around them are real)."""
    import meeting_notes.asr as asr
    import meeting_notes.diarize as diarize

    seen: list[Any] = []

    def transcribe(waveform: Any, **kw: Any) -> AsrResult:
        seen.append(("transcribe", type(waveform), waveform.size))
        return AsrResult(language="en", duration=waveform.size / 16000, segments=[])

    def fake_diarize(waveform: Any, **kw: Any) -> Diarization:
        seen.append(("diarize", type(waveform), waveform.size))
        return Diarization(turns=[], exclusive_turns=[], speakers=[])

    monkeypatch.setattr(asr, "transcribe", transcribe)
    monkeypatch.setattr(diarize, "diarize", fake_diarize)
    monkeypatch.setattr(stages, "STAGES", tuple(s for s in stages.STAGES if s.name in ("transcribe", "diarize")))
    return seen


def _count_decodes(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    calls: Counter[str] = Counter()
    real = audio_module.load_audio

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls["decode"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(audio_module, "load_audio", counted)
    return calls


def test_stages_in_separate_tasks_decode_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path) -> None:
    """What the flow does: each stage task rebuilds the context and passes no waveform."""
    seen = _stub_models(monkeypatch)
    calls = _count_decodes(monkeypatch)
    src = _recording(tmp_path / "call.wav")
    before = _fingerprint(src)
    settings = Settings(cache_dir=model_cache)
    ctx = prepare_meeting(src, tmp_path / "out", ProcessOptions(notes=False, language="en"), settings)
    assert transcript_stages.transcribe_stage(ctx, StageReport()).status == "done"
    assert transcript_stages.diarize_stage(ctx, StageReport()).status == "done"
    assert calls["decode"] == 1
    assert [s[0] for s in seen] == ["transcribe", "diarize"] and all(s[1] is np.memmap for s in seen)
    assert seen[0][2] == seen[1][2] == 7 * 16000
    # a damaged decoded file is not trusted: its checksum no longer matches, it is decoded again
    raw = ctx.workspace.decoded_audio
    data = bytearray(raw.read_bytes())
    data[100] ^= 0xFF
    raw.write_bytes(bytes(data))
    ctx.workspace.forget("diarize")
    assert transcript_stages.diarize_stage(ctx, StageReport()).status == "done"
    assert calls["decode"] == 2
    assert _fingerprint(src) == before


def test_cli_loop_decodes_once_and_drops_the_copy_when_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path) -> None:
    _stub_models(monkeypatch)
    calls = _count_decodes(monkeypatch)
    src = _recording(tmp_path / "call.wav")
    before = _fingerprint(src)
    run = process_meeting(src, tmp_path / "out", ProcessOptions(notes=False, language="en"), Settings(cache_dir=model_cache))
    assert run.status == "done" and calls["decode"] == 1
    folder = tmp_path / "out" / run.meeting_id
    assert not (folder / ".audio-16k-f32.raw").exists()
    assert _fingerprint(src) == before


def test_flow_decodes_once_across_its_tasks(prefect_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path) -> None:
    from prefect.settings import PREFECT_RESULTS_LOCAL_STORAGE_PATH, temporary_settings

    from flows.meeting import process_meeting
    from meeting_notes.settings import get_settings

    seen = _stub_models(monkeypatch)
    calls = _count_decodes(monkeypatch)
    monkeypatch.setenv("MEETING_NOTES_ORCHESTRATION__GPU_LIMIT_NAME", "")
    monkeypatch.setenv("MEETING_NOTES_CACHE_DIR", str(model_cache))
    get_settings.cache_clear()
    src = _recording(tmp_path / "call.wav")
    before = _fingerprint(src)
    try:
        with temporary_settings({PREFECT_RESULTS_LOCAL_STORAGE_PATH: str(tmp_path / "results")}):
            run = process_meeting(str(src), str(tmp_path / "out"), language="en", notes=False)
    finally:
        get_settings.cache_clear()
    assert run.status == "done"
    assert calls["decode"] == 1 and [s[0] for s in seen] == ["transcribe", "diarize"]
    assert not (tmp_path / "out" / run.meeting_id / ".audio-16k-f32.raw").exists()
    assert _fingerprint(src) == before


def _rss_file_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1])
    pytest.skip("no RssFile in /proc/self/status")


def test_release_pages_drops_read_pages_and_keeps_the_samples(tmp_path: Path) -> None:
    """A stage that has read part of a mapped recording gives those pages back; reading them
    again gives the same samples (copy-on-write mapping, nothing written). Ordinary arrays are
    never touched (madvise on anonymous memory would zero it)."""
    raw = tmp_path / "decoded.raw"
    samples = np.random.default_rng(1).standard_normal(16000 * 600).astype("<f4")  # 38 MB
    samples.tofile(raw)
    mapped = open_decoded(raw)
    total = float(np.sum(mapped, dtype=np.float64))
    touched = _rss_file_kib()
    assert audio_module.release_pages(mapped[5:], 0, 4_000_000)  # a view, about 16 MB of it
    part = _rss_file_kib()
    assert touched - part > 12_000
    assert audio_module.release_pages(mapped)
    assert touched - _rss_file_kib() > 30_000
    assert float(np.sum(mapped, dtype=np.float64)) == total
    np.testing.assert_array_equal(mapped[:1000], samples[:1000])
    plain = samples.copy()
    assert not audio_module.release_pages(plain)
    np.testing.assert_array_equal(plain, samples)
    assert audio_module.release_pages(mapped, 10, 5)  # an empty range is fine


@pytest.mark.slow
def test_diarization_of_a_mapped_recording_gives_pages_back_in_order(tmp_path: Path, sample_wav: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same turns from the mapped recording as from memory; the embedding pass releases what
    it has read, front to back (batch by batch of 32 chunks), and the whole recording is
    released after the segmentation and at the end."""
    from meeting_notes import diarize

    monkeypatch.setattr(diarize, "_PIPELINES", {})
    settings = Settings(cpu_threads=2, diarization={"embedding_block_s": 6.0})
    raw = tmp_path / "decoded.raw"
    wav, _ = sf.read(sample_wav, dtype="float32")
    np.tile(wav, 3).astype("<f4").tofile(raw)  # 90 s: three batches of 32 chunks
    mapped = open_decoded(raw)
    calls: list[tuple[int, int | None]] = []
    real = audio_module.release_pages

    def spy(audio: np.ndarray, start: int = 0, stop: int | None = None) -> bool:
        calls.append((start, stop))
        return real(audio, start, stop)

    monkeypatch.setattr(diarize, "release_pages", spy)
    from_file = diarize.diarize(mapped, settings, device="cpu")
    in_memory = diarize.diarize(np.array(mapped), settings, device="cpu")
    assert from_file == in_memory
    stops = [stop for start, stop in calls if stop not in (0, None)]
    assert len(stops) >= 2 and stops == sorted(stops) and stops[-1] >= 16000 * 40
    assert calls.count((0, None)) >= 3  # after the segmentation and at the end of each run


def test_diarize_releases_a_mapped_recordings_pages_without_changing_the_shared_pipeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path
) -> None:
    """The release callback travels with the audio file given to pyannote: the pages of a
    memory-mapped recording are dropped as the pipeline finishes with them, and the cached
    pipeline (shared by every call in the process) carries nothing of this call afterwards."""
    from meeting_notes import diarize as dz

    calls: list[tuple[int, int | None]] = []
    real = dz.release_pages

    def counted(waveform: Any, start: int = 0, stop: int | None = None) -> bool:
        calls.append((start, stop))
        return real(waveform, start, stop)

    monkeypatch.setattr(dz, "release_pages", counted)
    src = Path(__file__).resolve().parents[1] / "samples" / "sample.wav"
    target = tmp_path / ".audio-16k-f32.raw"
    decode_to_file(src, AudioSettings(), target)
    settings = Settings(cache_dir=model_cache)
    before = dict(vars(dz.load_pipeline(settings)))
    result = dz.diarize(open_decoded(target), settings)
    assert result.speakers  # it diarized
    assert len(calls) >= 2 and (0, None) in calls  # during the run (segmentation done), and after it
    assert dz.RELEASE_AUDIO not in vars(dz.load_pipeline(settings))
    assert set(vars(dz.load_pipeline(settings))) == set(before)
    calls.clear()
    dz.diarize(load_audio(src, AudioSettings()), settings)  # an in-memory waveform: nothing to release
    assert all(stop is None for _, stop in calls)
