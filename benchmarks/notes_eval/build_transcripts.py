"""Build the evaluation transcripts (``<id>.transcript.json``) from the hand-written ``src/*.txt``.

Each source line is ``X: text`` with a speaker letter; ``# key: value`` lines give the meeting
id, language and (optionally) the meeting date, which goes to ``<id>.hints.json`` as
``{"date": "YYYY-MM-DD"}`` (the ``Transcript`` model has no date). Timings are synthetic
(speaking rate plus a short pause) and words are split on spaces (English) or per segment
(Japanese): the notes step reads only segment text.
Run: ``python benchmarks/notes_eval/build_transcripts.py`` (both sets: this folder, the
original eight, and ``extra/``, the eight independent meetings of ``notes-dev-extra``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from meeting_notes.schema import AudioInfo, Segment, Speaker, Transcript, Word, write_json

HERE = Path(__file__).resolve().parent


def header(src: Path) -> dict[str, str]:
    """The ``# key: value`` lines of a source file."""
    meta: dict[str, str] = {}
    for raw in src.read_text(encoding="utf-8").splitlines():
        if raw.strip().startswith("#"):
            key, _, value = raw.strip()[1:].partition(":")
            meta[key.strip()] = value.strip()
    return meta


def build(src: Path) -> Transcript:
    meta = header(src)
    rows: list[tuple[str, str]] = []
    for raw in src.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        letter, _, text = line.partition(":")
        rows.append((f"SPEAKER_{ord(letter.strip()) - ord('A'):02d}", text.strip()))
    ja = meta["language"] == "ja"
    t = 0.5
    segments: list[Segment] = []
    speech: dict[str, float] = {}
    for i, (speaker, text) in enumerate(rows):
        pieces = [text] if ja else text.split()
        dur = len(text) / 7.0 if ja else len(pieces) / 2.6
        step = dur / len(pieces)
        words = [
            Word(start=round(t + k * step, 2), end=round(t + (k + 1) * step, 2), text=w, speaker=speaker, probability=0.9)
            for k, w in enumerate(pieces)
        ]
        segments.append(Segment(id=i, start=round(t, 2), end=round(t + dur, 2), speaker=speaker, text=text, words=words))
        speech[speaker] = speech.get(speaker, 0.0) + dur
        t += dur + 0.6
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    return Transcript(
        meeting_id=meta["meeting_id"],
        audio=AudioInfo(path=f"synthetic/{src.stem}.wav", sha256=digest, duration=round(t, 2), sample_rate=16000, channels=1, format="synthetic"),
        language=meta["language"],
        speakers=[Speaker(id=s, speech_seconds=round(v, 2)) for s, v in sorted(speech.items())],
        segments=segments,
    )


#: The evaluation sets: each folder holds ``src/``, ``gold/`` and the built files.
SETS = {"original": HERE, "extra": HERE / "extra"}


def main() -> None:
    for name, folder in SETS.items():
        for src in sorted((folder / "src").glob("*.txt")):
            transcript = build(src)
            write_json(transcript, folder / f"{transcript.meeting_id}.transcript.json")
            date = header(src).get("date")
            if date:
                hints = folder / f"{transcript.meeting_id}.hints.json"
                hints.write_text(json.dumps({"date": date}) + "\n", encoding="utf-8")
            print(f"{name}/{transcript.meeting_id}: {len(transcript.segments)} segments, {transcript.audio.duration / 60:.1f} min")


if __name__ == "__main__":
    main()
