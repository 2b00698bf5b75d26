"""Export formats: RTTM (who spoke when), SRT and WebVTT subtitles, and a Markdown transcript."""

from __future__ import annotations

from pathlib import Path

from meeting_notes.atomic import write_text_atomic
from meeting_notes.markdown import escape_markdown, escape_vtt
from meeting_notes.schema import Segment, Speaker, SpeakerTurn, Transcript
from meeting_notes.speaker_map import display_labels
from meeting_notes.workspace import MeetingWorkspace

MAX_CUE_SECONDS = 7.0
MAX_CUE_CHARS = 84
#: a Markdown paragraph is marked "overlapping speech" when at least this share of it was said during overlap
OVERLAP_MARK_SHARE = 0.5


def _write_text(path: Path, text: str) -> None:
    write_text_atomic(path, text)


def rttm_lines(turns: list[SpeakerTurn], uri: str) -> list[str]:
    """Standard RTTM: ``SPEAKER uri 1 start duration <NA> <NA> speaker <NA> <NA>``."""
    uri = uri.replace(" ", "_")
    return [
        f"SPEAKER {uri} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.speaker} <NA> <NA>"
        for t in turns
        if t.end > t.start
    ]


def write_rttm(turns: list[SpeakerTurn], uri: str, path: Path) -> None:
    lines = rttm_lines(turns, uri)
    _write_text(path, "\n".join(lines) + ("\n" if lines else ""))


def _timestamp(seconds: float, sep: str) -> str:
    ms = int(round(max(seconds, 0.0) * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


UNSPACED_LANGUAGES = {"ja", "zh", "th", "lo", "my", "km", "yue"}


def subtitle_cues(
    segments: list[Segment], language: str, labels: dict[str, str] | None = None
) -> list[tuple[float, float, str | None, str]]:
    """Segments cut into readable cues (at most ~7 s / 84 characters), on word boundaries; the
    speaker as its label in ``labels`` (the speaker map) when given."""
    spaced = language not in UNSPACED_LANGUAGES
    labels = labels or {}
    cues = []
    for seg in segments:
        if not seg.words:
            continue
        chunk: list = []
        who = labels.get(seg.speaker, seg.speaker) if seg.speaker else None
        for w in seg.words:
            if chunk:
                text = _join([*chunk, w], spaced)
                if w.end - chunk[0].start > MAX_CUE_SECONDS or len(text) > MAX_CUE_CHARS:
                    cues.append((chunk[0].start, chunk[-1].end, who, _join(chunk, spaced)))
                    chunk = []
            chunk.append(w)
        cues.append((chunk[0].start, chunk[-1].end, who, _join(chunk, spaced)))
    return cues


def _join(words: list, spaced: bool) -> str:
    return (" " if spaced else "").join(w.text for w in words).strip()


def _label(speaker: str | None) -> str:
    return f"{speaker}: " if speaker else ""


def to_srt(transcript: Transcript) -> str:
    blocks = []
    for i, (start, end, speaker, text) in enumerate(subtitle_cues(transcript.segments, transcript.language, display_labels(transcript)), 1):
        blocks.append(f"{i}\n{_timestamp(start, ',')} --> {_timestamp(end, ',')}\n{_label(speaker)}{text}\n")
    return "\n".join(blocks)


def to_vtt(transcript: Transcript) -> str:
    lines = ["WEBVTT", ""]
    for start, end, speaker, text in subtitle_cues(transcript.segments, transcript.language, display_labels(transcript)):
        voice = f"<v {escape_vtt(speaker)}>" if speaker else ""
        lines += [f"{_timestamp(start, '.')} --> {_timestamp(end, '.')}", f"{voice}{escape_vtt(_label(speaker) + text)}", ""]
    return "\n".join(lines)


def to_markdown(transcript: Transcript) -> str:
    """A readable transcript: header, speakers with talk time, then one paragraph per segment."""
    a = transcript.audio
    labels = display_labels(transcript)
    lines = [
        f"# Transcript: {escape_markdown(transcript.meeting_id)}",
        "",
        f"- Recording: {escape_markdown(Path(a.path).name)} ({_clock(a.duration)})",
        f"- Language: {escape_markdown(transcript.language)}",
        "- Speakers: "
        + (", ".join(_speaker_entry(s, labels[s.id]) for s in transcript.speakers) or "none detected"),
        "",
    ]
    if not transcript.segments:
        lines.append("_No speech was detected in this recording._")
    for seg in transcript.segments:
        mark = ", overlapping speech" if seg.overlap >= OVERLAP_MARK_SHARE else ""
        who = labels.get(seg.speaker, seg.speaker) if seg.speaker else "unknown"
        lines.append(f"**{escape_markdown(who)}** [{_clock(seg.start)}{mark}]: {escape_markdown(seg.text)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _speaker_entry(s: Speaker, label: str) -> str:
    """``Kenji Sato (seller, enrolled; 0:01:02)`` / ``Speaker 2 (0:00:40)``."""
    what = ", ".join(x for x in (s.side if s.side != "unknown" else "", s.source or "") if x)
    return f"{escape_markdown(label)} ({escape_markdown(what) + '; ' if what else ''}{_clock(s.speech_seconds)})"


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}"


def write_exports(transcript: Transcript, workspace: MeetingWorkspace) -> None:
    """Write ``transcript.srt``, ``transcript.vtt`` and ``transcript.md``."""
    _write_text(workspace.srt, to_srt(transcript))
    _write_text(workspace.vtt, to_vtt(transcript))
    _write_text(workspace.markdown, to_markdown(transcript))
