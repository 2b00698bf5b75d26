"""report.html for long meetings: file size, render time, and how fast headless Chromium opens it.

Builds synthetic meetings (seeded: speakers taking turns with short overlaps and pauses,
segments of 3-12 s with realistic word counts, notes with evidence) of the given lengths, runs
compute_analytics and write_report, then opens each report from a file:// URL in Debian's
chromium (playwright) and reads the page's own navigation timing.

    .venv/bin/python benchmarks/report_size.py            # 0.5 h, 2 h, 4 h; en and ja
    .venv/bin/python benchmarks/report_size.py --hours 2
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from meeting_notes.analytics import SpeakerLabel, compute_analytics  # noqa: E402
from meeting_notes.report import write_report  # noqa: E402
from meeting_notes.schema import (  # noqa: E402
    AudioInfo,
    Diarization,
    Segment,
    Speaker,
    SpeakerTurn,
    Transcript,
    Word,
    write_json,
)

EN_WORDS = (
    "we need the reports by march and the budget is around twenty thousand dollars so can you send "
    "a proposal with pricing for fifty seats our team uses spreadsheets today integration with salesforce "
    "matters security review takes two weeks who else is involved in the decision next step demo friday"
).split()
JA_CHUNKS = [
    "来月", "までに", "導入", "したい", "と", "考えて", "います", "予算", "は", "年間", "二百万円", "程度",
    "です", "見積もり", "を", "送って", "いただけ", "ますか", "セキュリティ", "審査", "に", "二週間", "かかります",
]


def synthetic_meeting(hours: float, language: str, seed: int = 0) -> tuple[Transcript, Diarization, dict]:
    rng = random.Random(seed)
    duration = hours * 3600
    speakers = ["SPEAKER_00", "SPEAKER_01", "SPEAKER_02", "SPEAKER_03"]
    t, i, prev = 0.5, 0, None
    segments: list[Segment] = []
    turns: list[SpeakerTurn] = []
    while t < duration - 15:
        spk = rng.choice([s for s in speakers if s != prev])
        length = rng.uniform(3, 12)
        end = min(duration, t + length)
        n = max(1, int(length * (2.6 if language == "en" else 1.2)))
        toks = [rng.choice(EN_WORDS if language == "en" else JA_CHUNKS) for _ in range(n)]
        step = (end - t) / n
        words = [
            Word(start=round(t + k * step, 2), end=round(t + (k + 1) * step, 2),
                 text=(" " + w if language == "en" else w), speaker=spk, probability=0.9)
            for k, w in enumerate(toks)
        ]
        text = ("".join(w.text for w in words)).strip() + ("?" if rng.random() < 0.1 else ".")
        segments.append(Segment(id=i, start=round(t, 2), end=round(end, 2), speaker=spk, text=text, words=words))
        turns.append(SpeakerTurn(start=round(t, 2), end=round(end, 2), speaker=spk))
        i += 1
        prev = spk
        t = end + rng.choice([-0.6, -0.2, 0.3, 0.8, 2.0])  # overlaps and pauses
    transcript = Transcript(
        meeting_id=f"bench-{hours}h-{language}",
        audio=AudioInfo(path="/nonexistent/recording.wav", sha256="0" * 64, duration=duration),
        language=language,
        speakers=[Speaker(id=s) for s in speakers],
        segments=segments,
    )
    excl = [SpeakerTurn(start=x.start, end=min(x.end, turns[k + 1].start) if k + 1 < len(turns) else x.end,
                        speaker=x.speaker) for k, x in enumerate(turns)]
    diarization = Diarization(turns=turns, exclusive_turns=excl, speakers=speakers)
    ids = rng.sample(range(len(segments)), 40)
    item = lambda k: {"text": f"item {k}", "evidence": [{"segment_ids": [ids[k]], "quote": segments[ids[k]].text[:80]}]}  # noqa: E731
    notes = {"meeting_id": transcript.meeting_id, "title": "Benchmark meeting", "language": language,
             "summary": "A long meeting. " * 40,
             **{f: [item(k) for k in range(j * 4, j * 4 + 4)] for j, f in enumerate(
                 ["needs", "budget", "decision_process", "timeline", "competitors", "pricing", "next_steps",
                  "risks", "open_questions", "decision_makers"])}}
    return transcript, diarization, notes


def open_times(paths: list[Path], repeats: int) -> dict[Path, tuple[float, float]]:
    """Median (DOMContentLoaded, load) in ms from the page's navigation timing."""
    from browser_support import chromium

    out = {}
    with chromium() as context:
        for path in paths:
            dcl, load = [], []
            for _ in range(repeats):
                page = context.new_page()
                page.goto(path.as_uri(), wait_until="load")
                nav = page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")
                nav = json.loads(nav)
                dcl.append(nav["domContentLoadedEventEnd"])
                load.append(nav["loadEventEnd"])
                page.close()
            out[path] = (sorted(dcl)[len(dcl) // 2], sorted(load)[len(load) // 2])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, nargs="*", default=[0.5, 2.0, 4.0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for hours in args.hours:
            for lang in ("en", "ja"):
                transcript, diarization, notes = synthetic_meeting(hours, lang)
                folder = Path(tmp) / transcript.meeting_id
                folder.mkdir()
                write_json(transcript, folder / "transcript.json")
                write_json(diarization, folder / "diarization.json")
                (folder / "notes.json").write_text(json.dumps(notes, ensure_ascii=False), encoding="utf-8")
                t0 = time.perf_counter()
                labels = {"SPEAKER_00": SpeakerLabel(name="Rep", side="seller")}
                analytics = compute_analytics(transcript, diarization, labels)
                t_an = time.perf_counter() - t0
                write_json(analytics, folder / "analytics.json")
                t0 = time.perf_counter()
                report = write_report(folder)
                t_rep = time.perf_counter() - t0
                paths.append(report)
                rows.append([hours, lang, len(transcript.segments), len(diarization.turns),
                             sum(len(s.words) for s in transcript.segments), t_an * 1000, t_rep * 1000,
                             report.stat().st_size / 1e6, report])
        timings = open_times(paths, args.repeats)
    print("| hours | lang | segments | turns | words | analytics ms | write_report ms | report MB | "
          "DOMContentLoaded ms | load ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for h, lang, nseg, nturn, nword, t_an, t_rep, mb, path in rows:
        dcl, load = timings[path]
        print(f"| {h:g} | {lang} | {nseg} | {nturn} | {nword} | {t_an:.0f} | {t_rep:.0f} | {mb:.2f} | {dcl:.0f} | {load:.0f} |")


if __name__ == "__main__":
    main()
