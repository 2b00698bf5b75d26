"""Name recall with and without hint terms (faster-whisper hotwords / initial prompt); prints Markdown tables.

    python benchmarks/name_recall.py [--models base,tiny.en] [--threads 2]

Recordings where a name is said, the names taken from their references (shared/eval):

- faster-whisper/hotwords.mp3: "ComfyUI" is spoken (SOURCES.md; no full reference, so only
  whether it appears at least once is scored);
- pyannote-sample: the participants "Diane" and "Sheila" (hinted), and the places Chicago,
  Texas, New Jersey and Yankee (never hinted: a hint must not cost them);
- librispeech 1272-128104-0000: "Quilter";
- commonvoice-ja: ヘンゼル and フリーダ (Japanese, multilingual models only);
- long: the pyannote sample, jfk, librispeech and hotwords.mp3 in a row, so that "ComfyUI"
  comes after ~40 s of speech, in Whisper's second 30 s window (the initial prompt only
  reaches the first window; hotwords reach every window). Hinted: Diane, Sheila, Quilter,
  ComfyUI; scored: ComfyUI only (the others are scored in their own rows).

Conditions: ``off`` (no hints), ``hotwords`` and ``initial_prompt`` (the file's names plus
three unrelated ones, as a sidecar with other participants would give), ``unrelated`` (only
names that are not said: does a hint list hurt WER on files without those names?). "Hint names
written too often" counts, over every name given, the occurrences in the transcript beyond
those in the reference (a hint the decoder copied where it was not said); ComfyUI, whose count
in hotwords.mp3 is unknown, is left out of it. Each file is
transcribed by ``meeting_notes.asr.transcribe`` as the pipeline does, with the hints as a
sidecar would pass them (participants).

Recall counts each name occurrence in the reference found in the hypothesis (case-insensitive,
as a whole word sequence for English, a substring for Japanese). WER is over the three English
files with full references (pyannote sample, jfk, librispeech), after Whisper's normaliser.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_data import EVAL_DIR  # noqa: E402

from meeting_notes.metrics import cer_japanese, read_stm, wer  # noqa: E402
from meeting_notes.schema import MeetingFacts  # noqa: E402
from meeting_notes.settings import Settings  # noqa: E402

#: names that none of the recordings say (a realistic sidecar lists more people than speak)
UNRELATED = ["Priya Raman", "Northwind Traders", "Kubernetes"]
UNRELATED_JA = ["山田太郎", "北風商事", "クバネティス"]
CONDITIONS = ("off", "hotwords", "initial_prompt", "unrelated")


@dataclass(frozen=True)
class Item:
    name: str
    audio: Path
    language: str
    reference: str | None  # full reference text (None: only the names are known)
    hinted: dict[str, int]  # hinted name -> occurrences in the reference
    other: dict[str, int]  # names said but never hinted -> occurrences
    also_given: dict[str, int] = field(default_factory=dict)  # hinted too (scored elsewhere) -> occurrences
    waveform: object | None = None  # built in code (None: read ``audio``)


def _count_en(text: str, name: str) -> int:
    tokens = re.findall(r"[\w']+", unicodedata.normalize("NFKC", text).casefold())
    needle = re.findall(r"[\w']+", name.casefold())
    return sum(tokens[i : i + len(needle)] == needle for i in range(len(tokens) - len(needle) + 1))


def _count(text: str, name: str, language: str) -> int:
    if language == "ja":
        return unicodedata.normalize("NFKC", text).count(unicodedata.normalize("NFKC", name))
    return _count_en(text, name)


def items() -> list[Item]:
    stm = sorted(read_stm(EVAL_DIR / "pyannote-sample" / "sample.stm"), key=lambda u: u.start)
    sample_ref = " ".join(u.text for u in stm)
    fw = {r["file"]: r for r in csv.DictReader(open(EVAL_DIR / "faster-whisper" / "reference.tsv"), delimiter="\t")}
    libri = next(csv.DictReader(open(EVAL_DIR / "librispeech" / "reference.tsv"), delimiter="\t"))
    ja = {r["file"]: r["text"] for r in csv.DictReader(open(EVAL_DIR / "commonvoice-ja" / "reference.tsv"), delimiter="\t")}

    def counts(ref: str, names: list[str], lang: str = "en") -> dict[str, int]:
        return {n: _count(ref, n, lang) for n in names}

    out = [
        Item("hotwords.mp3", EVAL_DIR / "faster-whisper" / "hotwords.mp3", "en", None, {"ComfyUI": 1}, {}),
        Item(
            "pyannote sample",
            EVAL_DIR / "pyannote-sample" / "sample.wav",
            "en",
            sample_ref,
            counts(sample_ref, ["Diane", "Sheila"]),
            counts(sample_ref, ["Chicago", "Texas", "New Jersey", "Yankee"]),
        ),
        Item("jfk.flac", EVAL_DIR / "faster-whisper" / "jfk.flac", "en", fw["jfk.flac"]["reference_text"], {}, {}),
        Item(
            "librispeech",
            EVAL_DIR / "librispeech" / libri["file"],
            "en",
            libri["reference_text"],
            counts(libri["reference_text"], ["Quilter"]),
            {},
        ),
    ]
    for file, name in (("common_voice_ja_38864552_16k.wav", "ヘンゼル"), ("common_voice_ja_38898180_16k.wav", "フリーダ")):
        out.append(Item(f"cv-ja {file[16:24]}", EVAL_DIR / "commonvoice-ja" / file, "ja", ja[file], counts(ja[file], [name], "ja"), {}))
    return out


def long_item(settings: Settings) -> Item:
    """sample + jfk + librispeech + hotwords.mp3 in a row (ComfyUI after ~40 s of speech)."""
    import numpy as np

    from meeting_notes.audio import load_audio

    parts = [
        EVAL_DIR / "pyannote-sample" / "sample.wav",
        EVAL_DIR / "faster-whisper" / "jfk.flac",
        EVAL_DIR / "librispeech" / "1272-128104-0000.wav",
        EVAL_DIR / "faster-whisper" / "hotwords.mp3",
    ]
    wave = np.concatenate([load_audio(p, settings.audio) for p in parts])
    said = {n: sum(it.hinted.get(n, 0) for it in items()) for n in ("Diane", "Sheila", "Quilter")}
    return Item("long (ComfyUI at ~48 s)", parts[-1], "en", None, {"ComfyUI": 1}, {}, said, wave)


def _facts(item: Item, condition: str) -> MeetingFacts:
    unrelated = UNRELATED_JA if item.language == "ja" else UNRELATED
    if condition == "off":
        return MeetingFacts()
    names = unrelated if condition == "unrelated" else [*item.hinted, *item.also_given, *unrelated]
    return MeetingFacts.model_validate({"participants": [{"name": n} for n in names]})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="base,tiny.en")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
    from meeting_notes.asr import transcribe
    from meeting_notes.audio import load_audio

    base_settings = Settings(cpu_threads=args.threads)
    all_items = [*items(), long_item(base_settings)]
    audio = {it.name: it.waveform if it.waveform is not None else load_audio(it.audio, base_settings.audio) for it in all_items}
    summary: list[str] = []
    detail: list[str] = []
    for model in args.models.split(","):
        english_only = model.endswith(".en")
        for condition in CONDITIONS:
            mode = condition if condition in ("hotwords", "initial_prompt") else "hotwords"
            settings = base_settings.model_copy(
                update={"asr": base_settings.asr.model_copy(update={"hint_terms": "off" if condition == "off" else mode})}
            )
            found = total = other_found = other_total = inserted = 0
            werr = wwords = 0.0
            cerr = cchars = 0.0
            for it in all_items:
                if it.language == "ja" and english_only:
                    continue
                language = "en" if english_only else ("ja" if it.language == "ja" else "auto")
                res = transcribe(audio[it.name], language, settings, model=model, facts=_facts(it, condition))
                sep = "" if it.language == "ja" else " "
                hyp = sep.join(s.text for s in res.segments)
                hits = {n: min(_count(hyp, n, it.language), k) for n, k in it.hinted.items()}
                if condition != "unrelated":
                    found += sum(hits.values())
                    total += sum(it.hinted.values())
                other_found += sum(min(_count(hyp, n, it.language), k) for n, k in it.other.items())
                other_total += sum(it.other.values())
                said = {**{n: 0 for n in (UNRELATED_JA if it.language == "ja" else UNRELATED)}, **it.also_given}
                if it.reference is not None:
                    said.update(it.hinted)
                inserted += sum(max(0, _count(hyp, n, it.language) - k) for n, k in said.items())
                error = "-"
                if it.reference is not None and it.language == "en":
                    n = len(it.reference.split())
                    e = wer(it.reference, hyp)
                    werr += e * n
                    wwords += n
                    error = f"WER {100 * e:.1f} %"
                if it.language == "ja":
                    n = len(it.reference or "")
                    e = cer_japanese(it.reference or "", hyp)
                    cerr += e * n
                    cchars += n
                    error = f"CER {100 * e:.1f} %"
                names = ", ".join(f"{n} {h}/{it.hinted[n]}" for n, h in hits.items()) or "-"
                shown = hyp.strip() if len(hyp.strip()) <= 100 else "... " + hyp.strip()[-100:]
                detail.append(
                    f"| {it.name} | {model} | {condition} | {names} | {error} | {', '.join(res.hint_terms) or '-'} | {shown} |"
                )
            recall = f"{found}/{total} ({100 * found / total:.0f} %)" if total else "-"
            other = f"{other_found}/{other_total}" if other_total else "-"
            cer = f"{100 * cerr / cchars:.1f} %" if cchars else "-"
            summary.append(
                f"| {model} | {condition} | {recall} | {other} | {inserted} | "
                f"{100 * werr / wwords:.1f} % | {cer} |"
            )
    print("\n## Name recall (hinted names found / said)\n")
    print(
        "| model | hints | hinted-name recall | unhinted names (sample) | hint names written too often | "
        "WER English (3 files) | CER ja (2 clips) |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(summary))
    print("\n## Per file\n")
    print("| file | model | hints | hinted names found | error rate | terms given to Whisper | hypothesis (end) |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(detail))


if __name__ == "__main__":
    main()
