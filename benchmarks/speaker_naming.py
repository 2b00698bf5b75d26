"""Speaker naming: calibrate speakers.match_threshold and measure naming with enrollment.

Data: ami-debug (12 excerpts of AMI meetings, 30 s each; five speakers talk in two excerpts
each: FEE083 trn06/trn09, FEE087 trn07/trn08, MEE009 dev00/dev01, MEE012 dev00/dev01,
MÉO069 trn00/trn03), with the reference RTTMs; as extra unknown voices the pyannote sample's
two speakers, LibriSpeech, JFK and five Common Voice Japanese clips.

1. Trials on reference turns (who spoke when from the RTTM, only one-speaker-at-a-time speech):
   a profile from a speaker's speech in one excerpt (>= 5 s, the enrollment minimum) against
   every speaker with >= 2 s in every other excerpt (genuine: the same person; impostor:
   anyone else, incl. the other speakers of the same meeting, and the extra voices). False
   accept / false reject per threshold.
2. ``--e2e``: our diarization of each excerpt that has an enrolled speaker from another
   excerpt; every speaker with >= 5 s in the other excerpt is enrolled (so the excerpt's other
   speakers are impostors for each other's profiles); identify_speakers names the diarized
   speakers; a name is correct when the diarized speaker's most-overlapping reference
   speaker is that person.

    .venv/bin/python benchmarks/speaker_naming.py [--e2e]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from meeting_notes.analytics import read_rttm  # noqa: E402
from meeting_notes.audio import load_audio  # noqa: E402
from meeting_notes.schema import SpeakerTurn  # noqa: E402
from meeting_notes.settings import Settings  # noqa: E402
from meeting_notes.speakers import (  # noqa: E402
    Profile,
    SpeakerSettings,
    embed_speech,
    identify_speakers,
    load_embedder,
)

EVAL = ROOT.parent / "shared" / "eval"
for candidate in (Path("/work/shared/eval"), ROOT / "shared" / "eval"):
    if candidate.is_dir():
        EVAL = candidate
AMI = EVAL / "ami-debug"
ENROLL_MIN_S = 5.0
TRIAL_MIN_S = 2.0
EXTRA = [
    ("pyannote-sample", EVAL / "pyannote-sample" / "sample.wav", EVAL / "pyannote-sample" / "sample.rttm"),
    ("librispeech", EVAL / "librispeech" / "1272-128104-0000.wav", None),
    ("jfk", EVAL / "faster-whisper" / "jfk.flac", None),
] + [(f"cv-ja-{p.stem}", p, None) for p in sorted((EVAL / "commonvoice-ja").glob("*.wav"))]


def exclusive(turns: list[SpeakerTurn]) -> list[SpeakerTurn]:
    """Stretches where exactly one reference speaker talks."""
    events = sorted([(t.start, 1, t.speaker) for t in turns] + [(t.end, -1, t.speaker) for t in turns],
                    key=lambda e: (e[0], e[1]))
    active: dict[str, int] = {}
    out, prev = [], None
    for time_, delta, spk in events:
        if prev is not None and time_ > prev and len(active) == 1:
            out.append(SpeakerTurn(start=prev, end=time_, speaker=next(iter(active))))
        prev = time_
        n = active.get(spk, 0) + delta
        if n > 0:
            active[spk] = n
        else:
            active.pop(spk, None)
    return out


def reference() -> dict[str, list[SpeakerTurn]]:
    by: dict[str, list[SpeakerTurn]] = {}
    for rttm in ("debug.train.rttm", "debug.development.rttm"):
        for line in (AMI / rttm).read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 8:
                s, d = float(parts[3]), float(parts[4])
                by.setdefault(parts[1], []).append(SpeakerTurn(start=s, end=s + d, speaker=parts[7]))
    return by


def speech_of(wave: np.ndarray, turns: list[SpeakerTurn], spk: str, sr: int) -> np.ndarray:
    parts = [wave[int(t.start * sr): int(t.end * sr)] for t in turns if t.speaker == spk]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--e2e", action="store_true", help="also name speakers on our own diarization")
    args = ap.parse_args()
    settings = Settings()
    cfg = SpeakerSettings()
    sr = settings.audio.sample_rate
    embedder = load_embedder(settings)
    ref = reference()
    waves = {uri: load_audio(AMI / f"{uri}.wav", settings.audio) for uri in ref}

    # (file, speaker) -> (embedding, seconds)
    emb: dict[tuple[str, str], tuple[np.ndarray, float]] = {}
    t0 = time.perf_counter()
    for uri, turns in ref.items():
        ex = exclusive(turns)
        for spk in sorted({t.speaker for t in turns}):
            audio = speech_of(waves[uri], ex, spk, sr)
            if len(audio) / sr >= TRIAL_MIN_S:
                e = embed_speech(audio, embedder, cfg, sr)
                if e is not None:
                    emb[(uri, spk)] = (e, len(audio) / sr)
    extra: dict[str, np.ndarray] = {}
    for name, path, rttm in EXTRA:
        if not path.exists():
            continue
        wave = load_audio(path, settings.audio)
        if rttm is not None:
            turns = read_rttm(rttm.read_text())
            ex = exclusive(turns)
            for spk in sorted({t.speaker for t in turns}):
                e = embed_speech(speech_of(wave, ex, spk, sr), embedder, cfg, sr)
                if e is not None:
                    extra[f"{name}:{spk}"] = e
        else:
            e = embed_speech(wave, embedder, cfg, sr)
            if e is not None:
                extra[name] = e
    embed_s = time.perf_counter() - t0

    genuine, impostor = [], []
    enrolled = [(k, v) for k, v in emb.items() if v[1] >= ENROLL_MIN_S]
    for (uri, spk), (e, _) in enrolled:
        for (uri2, spk2), (e2, _) in emb.items():
            if uri2 == uri:
                if spk2 != spk:
                    impostor.append(float(np.dot(e, e2)))
                continue
            (genuine if spk2 == spk else impostor).append(float(np.dot(e, e2)))
        impostor += [float(np.dot(e, x)) for x in extra.values()]
    print(f"profiles (>= {ENROLL_MIN_S:g} s): {len(enrolled)}; trial speakers (>= {TRIAL_MIN_S:g} s): {len(emb)} "
          f"+ {len(extra)} extra voices; genuine trials {len(genuine)}, impostor trials {len(impostor)}; "
          f"embedding {embed_s:.1f} s")
    print(f"genuine scores: min {min(genuine):.3f} median {np.median(genuine):.3f}; "
          f"impostor scores: max {max(impostor):.3f} median {np.median(impostor):.3f}")
    print("\n| threshold | false accept | false reject |\n|---|---|---|")
    for thr in np.arange(0.20, 0.81, 0.05):
        fa = sum(s >= thr for s in impostor) / len(impostor)
        fr = sum(s < thr for s in genuine) / len(genuine)
        mark = " (default)" if abs(thr - cfg.match_threshold) < 1e-6 else ""
        print(f"| {thr:.2f}{mark} | {100 * fa:.1f} % ({sum(s >= thr for s in impostor)}/{len(impostor)}) "
              f"| {100 * fr:.1f} % ({sum(s < thr for s in genuine)}/{len(genuine)}) |")

    if not args.e2e:
        return
    from meeting_notes.diarize import diarize

    print("\n| excerpt | enrolled from | diarized speakers | named right | named wrong | enrolled, not named | time s |")
    print("|---|---|---|---|---|---|---|")
    tot = {"right": 0, "wrong": 0, "missed": 0, "speakers": 0, "false": 0, "strangers": 0}
    for target in sorted(ref):
        partners = [u for u in ref if u != target and any(
            k[0] == u and k[1] in {t.speaker for t in ref[target]} and v[1] >= ENROLL_MIN_S for k, v in emb.items())]
        if not partners:
            continue
        source = partners[0]
        profiles = [
            Profile(id=i, name=spk, model=embedder.identity, speech_seconds=v[1], clips=1, created_at="",
                    embedding=v[0].tolist())
            for i, ((u, spk), v) in enumerate(sorted(emb.items())) if u == source and v[1] >= ENROLL_MIN_S
        ]
        t0 = time.perf_counter()
        d = diarize(waves[target], settings, sample_rate=sr)
        matches = identify_speakers(waves[target], d, settings, profiles=profiles, sr=sr)
        took = time.perf_counter() - t0
        # each diarized speaker's reference identity: most shared time
        truth = {}
        for spk in d.speakers:
            shared: dict[str, float] = {}
            for a in d.turns:
                if a.speaker != spk:
                    continue
                for b in ref[target]:
                    o = min(a.end, b.end) - max(a.start, b.start)
                    if o > 0:
                        shared[b.speaker] = shared.get(b.speaker, 0.0) + o
            truth[spk] = max(shared, key=shared.get) if shared else None
        right = sum(1 for s, m in matches.items() if truth.get(s) == m.name)
        wrong = len(matches) - right
        names_present = {p.name for p in profiles} & set(truth.values())
        missed = len(names_present - {m.name for s, m in matches.items() if truth.get(s) == m.name})
        tot["right"] += right
        tot["wrong"] += wrong
        tot["missed"] += missed
        tot["speakers"] += len(d.speakers)
        # false names: a name on a diarized speaker who is mostly someone not enrolled
        strangers = [s for s in d.speakers if truth.get(s) not in {p.name for p in profiles}]
        tot["strangers"] += len(strangers)
        tot["false"] += sum(1 for s in strangers if s in matches)
        print(f"| {target} | {source} ({', '.join(p.name for p in profiles)}) | {len(d.speakers)} | {right} | {wrong} "
              f"| {missed} | {took:.1f} |")
    print(f"| all | | {tot['speakers']} | {tot['right']} | {tot['wrong']} | {tot['missed']} | |")
    print(f"\nfalse names on diarized speakers who are mostly a person not enrolled: {tot['false']} of {tot['strangers']}; "
          f"an enrolled person named as another: {tot['wrong'] - tot['false']}")


if __name__ == "__main__":
    main()
