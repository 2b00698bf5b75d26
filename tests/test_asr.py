"""Transcription: runtime selection, the batched (GPU) code path, and the loop guards."""

from __future__ import annotations

from pathlib import Path

import pytest

from meeting_notes.asr import clean_segment_words, resolve_asr_model, select_runtime, transcribe
from meeting_notes.audio import load_audio
from meeting_notes.metrics import wer
from meeting_notes.schema import AsrWord, MeetingFacts

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


def _words(text: str) -> list[AsrWord]:
    return [AsrWord(start=i, end=i + 0.5, text=" " + t, probability=0.9) for i, t in enumerate(text.split())]


def test_repetition_loop_is_cut_to_one_occurrence() -> None:
    words = _words("we can ship in March " + "thank you " * 12 + "bye")
    kept = " ".join(w.text.strip() for w in clean_segment_words(words, max_repeats=4))
    assert kept == "we can ship in March thank you bye"


def test_normal_repetition_is_kept() -> None:
    words = _words("no no no that is fine")
    assert len(clean_segment_words(words, max_repeats=4)) == 6


def test_runtime_auto_picks_cuda_float16_when_a_gpu_is_visible(monkeypatch, settings) -> None:
    import ctranslate2

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    rt = select_runtime("auto", settings)
    assert (rt.device, rt.compute_type) == ("cuda", "float16")
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 0)
    assert select_runtime("auto", settings).compute_type == "int8"
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        select_runtime("cuda", settings)


def test_model_names_resolve(settings) -> None:
    assert resolve_asr_model("auto", "en", settings).name == "tiny.en"
    assert resolve_asr_model("auto", "ja", settings).name == "base"
    assert resolve_asr_model("large-v3", "auto", settings).origin == "hub"


def test_hub_model_without_network_fails_clearly(settings, monkeypatch) -> None:
    from meeting_notes.errors import ModelNotFoundError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match="models/"):
        transcribe(load_audio(Path(__file__).parent / "data" / "jfk.flac", settings.audio), "en", settings, model="large-v3-not-here")


@pytest.mark.slow
@pytest.mark.parametrize("batched", [False, True])
def test_jfk_both_code_paths(data_dir: Path, settings, batched: bool) -> None:
    """The sequential (CPU) and batched (GPU default) faster-whisper paths both work."""
    s = settings.model_copy(update={"asr": settings.asr.model_copy(update={"batched_on_cpu": batched})})
    result = transcribe(load_audio(data_dir / "jfk.flac", s.audio), "auto", s, model="base")
    assert result.language == "en"
    assert wer(JFK, " ".join(seg.text for seg in result.segments)) <= 0.1
    words = result.words
    assert words and all(0 <= w.start <= w.end <= 11.1 for w in words)


# ------------------------------------------------------------------ hint terms (hotwords)
def test_hint_terms_come_from_the_sidecar_in_priority_order_deduplicated(settings) -> None:
    from meeting_notes.asr import collect_hint_terms
    from meeting_notes.sidecar import MeetingSidecar

    cfg = settings.asr.model_copy(update={"glossary": ["ComfyUI", "acme  corp", "Kubernetes"]})
    sidecar = MeetingSidecar.model_validate({
        "participants": ["Diane  Smith", {"name": "Sheila", "company": "Acme Corp", "email": "s@x.org"}, {"name": ""}],
        "account": "ＡＣＭＥ Corp",  # full width: the same company once folded
        "terms": ["ComfyUI"],
        "title": "Quarterly review",  # not a term source
        "crm_ids": {"account_id": "001XX"},  # nor are CRM ids, e-mails or roles
    })
    assert collect_hint_terms(sidecar.facts(), cfg) == ["Diane Smith", "Sheila", "Acme Corp", "ComfyUI", "Kubernetes"]
    assert collect_hint_terms(None, settings.asr) == []
    # a participant written "Name (Company)" is read as the typed participant: name, then company
    facts = MeetingFacts.model_validate({"participants": ["Kenji Sato (Helix)"], "account": "Acme"})
    assert collect_hint_terms(facts, settings.asr) == ["Kenji Sato", "Helix", "Acme"]
    assert collect_hint_terms(MeetingFacts(terms=["ComfyUI"]), settings.asr) == ["ComfyUI"]


def test_the_transcribe_stage_hints_the_typed_sidecar_facts(settings, tmp_path: Path) -> None:
    from meeting_notes.context import MeetingContext, ProcessOptions
    from meeting_notes.schema import AudioInfo
    from meeting_notes.stages.transcript import transcribe_params
    from meeting_notes.workspace import MeetingWorkspace

    facts = MeetingFacts.model_validate({"participants": ["Kenji Sato (Acme)"], "account": "Globex", "terms": ["Acme Cloud"]})
    audio = AudioInfo(path="x.wav", sha256="0" * 64, duration=1)

    def params(options: ProcessOptions) -> dict:
        return transcribe_params(MeetingContext(Path("x.wav"), audio, MeetingWorkspace(tmp_path), options, settings))

    assert params(ProcessOptions(facts=facts))["hint_terms"][:4] == ["Kenji Sato", "Acme", "Globex", "Acme Cloud"]
    assert params(ProcessOptions()).get("hint_terms", []) == list(dict.fromkeys(settings.asr.glossary))


def test_hint_terms_follow_the_language_script(settings) -> None:
    from meeting_notes.asr import term_script, terms_for_language

    terms = ["Diane", "José Núñez", "田中太郎", "セールスフォース", "Acme株式会社", "Иван", "ComfyUI 2"]
    assert [term_script(t) for t in terms] == ["latin", "latin", "ja", "ja", "ja", "other", "latin"]
    cfg = settings.asr
    assert terms_for_language(terms, "en", cfg) == ["Diane", "José Núñez", "ComfyUI 2"]
    assert terms_for_language(terms, "de", cfg) == ["Diane", "José Núñez", "ComfyUI 2"]
    assert terms_for_language(terms, "ja", cfg) == ["田中太郎", "セールスフォース", "Acme株式会社"]
    both = cfg.model_copy(update={"hint_latin_terms_for_japanese": True})
    assert terms_for_language(terms, "ja", both) == ["Diane", "José Núñez", "田中太郎", "セールスフォース", "Acme株式会社", "ComfyUI 2"]
    assert terms_for_language(terms, "ru", cfg) == [] and terms_for_language(terms, None, cfg) == []


def test_hint_terms_are_bounded_by_count_and_tokens() -> None:
    from meeting_notes.asr import bound_terms

    def words(text: str) -> int:
        return len(text.split())

    terms = ["Ann", "Bob Lee", "Carl Maria von Weber", "Dee"]
    assert bound_terms(terms, 10, 100, words) == terms
    assert bound_terms(terms, 2, 100, words) == ["Ann", "Bob Lee"]
    # 'Carl Maria von Weber' does not fit in 5 words after 'Ann, Bob Lee': left out whole, 'Dee' fits
    assert bound_terms(terms, 10, 5, words) == ["Ann", "Bob Lee", "Dee"]
    # Japanese lists are joined with the ideographic comma, which counts as part of the text
    assert bound_terms(["田中", "山田", "佐藤"], 10, 5, len, "、") == ["田中", "山田"]


@pytest.mark.slow
def test_hotwords_spell_the_spoken_product_name(data_dir: Path, settings) -> None:
    """tests/data/hotwords.mp3 says "ComfyUI"; tiny.en writes it otherwise unless hinted."""
    audio = load_audio(data_dir / "hotwords.mp3", settings.audio)
    facts = MeetingFacts.model_validate({"participants": ["Priya Raman"], "terms": ["ComfyUI"]})
    hinted = transcribe(audio, "en", settings, model="tiny.en", facts=facts)
    off = settings.model_copy(update={"asr": settings.asr.model_copy(update={"hint_terms": "off"})})
    unhinted = transcribe(audio, "en", off, model="tiny.en", facts=facts)
    assert "comfyui" not in " ".join(s.text for s in unhinted.segments).lower()
    assert "ComfyUI" in " ".join(s.text for s in hinted.segments)
    assert hinted.hint_terms == ["Priya Raman", "ComfyUI"] and unhinted.hint_terms == []


def test_long_recordings_are_split_at_quiet_moments_without_losing_samples() -> None:
    import numpy as np

    from meeting_notes.asr import split_for_memory

    rng = np.random.default_rng(0)
    audio = (0.3 * rng.standard_normal(16000 * 80)).astype(np.float32)
    audio[16000 * 36 : 16000 * 37] = 0.0  # a quiet second 4 s before the first 40 s boundary
    pieces = split_for_memory(audio, block_s=40, search_s=10)
    assert len(pieces) == 2
    (t0, first), (t1, second) = pieces
    assert t0 == 0.0 and 36.0 <= t1 <= 37.0  # cut inside the quiet second
    assert len(first) + len(second) == len(audio) and np.shares_memory(first, audio)
    assert len(split_for_memory(audio[: 16000 * 45], block_s=40, search_s=10)) == 1  # under 1.25 blocks


@pytest.mark.slow
def test_pieces_give_the_same_words_with_the_right_times(data_dir: Path, settings) -> None:
    audio = load_audio(data_dir / "jfk.flac", settings.audio)
    whole = transcribe(audio, "en", settings, model="tiny.en")
    blocked_settings = settings.model_copy(update={"asr": settings.asr.model_copy(update={"block_s": 4.0, "block_search_s": 2.0})})
    pieces = transcribe(audio, "en", blocked_settings, model="tiny.en")
    words = [w for s in pieces.segments for w in s.words]
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert words[-1].end > 8.0 and words[-1].end <= len(audio) / 16000 + 0.1  # later pieces are offset
    text = lambda r: " ".join(s.text for s in r.segments)  # noqa: E731
    assert wer(text(whole), text(pieces)) < 0.25  # cut at pauses: about the same words
