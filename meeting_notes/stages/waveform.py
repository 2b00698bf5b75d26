"""The decoded recording, shared by the stages that read samples (decoded once per folder)."""

from __future__ import annotations

from typing import Any

from meeting_notes.audio import decode_to_file, open_decoded
from meeting_notes.context import MeetingContext
from meeting_notes.runner import Waveform, run_cached


def decoded_waveform(ctx: MeetingContext) -> Any:
    """The recording as 16 kHz mono float32, decoded once per meeting folder.

    The first stage that needs the waveform decodes the recording into the folder
    (``.audio-16k-f32.raw``, through :func:`run_cached` like any stage output: keyed on the audio's
    sha256 and the decoder's settings, its checksum recorded); every later stage, in this process
    or in another Prefect task, memory-maps that file instead of decoding again. The recording
    itself is only read. The file is removed when the run finishes (:func:`drop_decoded`).
    """
    ws = ctx.workspace
    audio = ctx.settings.audio
    params = {"sample_rate": audio.sample_rate, "decode_block_s": audio.decode_block_s}
    run_cached(ctx, "decode", params, [ws.decoded_audio], lambda: decode_to_file(ctx.audio_path, audio, ws.decoded_audio))
    return open_decoded(ws.decoded_audio)


def drop_decoded(ctx: MeetingContext) -> None:
    """Remove the decoded copy of the recording (a finished meeting needs it no more; a failed
    run keeps it for the run that resumes)."""
    ctx.workspace.forget("decode")
    ctx.workspace.decoded_audio.unlink(missing_ok=True)


def waveform_of(ctx: MeetingContext, waveform: Waveform | None) -> Any:
    """The decoded recording: the run's shared copy when it has one, else from the folder."""
    return waveform() if waveform is not None else decoded_waveform(ctx)


__all__ = ["decoded_waveform", "drop_decoded", "waveform_of"]
