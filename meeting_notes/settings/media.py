"""Settings of the transcript stages: audio decoding, speech recognition, diarization (with its
clustering and multi-scale groups) and alignment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class AudioSettings(BaseModel):
    """Decoding and input limits."""

    sample_rate: int = Field(16000, description="Rate every recording is resampled to (Whisper and pyannote expect 16 kHz).")
    max_duration_s: float = Field(4 * 3600.0, description="Longer recordings are rejected.")
    min_duration_s: float = Field(0.1, description="Shorter recordings are rejected as empty.")
    silence_rms_dbfs: float = Field(
        -60.0, description="Audio whose overall RMS is below this level counts as silence."
    )
    max_file_mb: float = Field(
        6144.0, description="Larger files are rejected before decoding (4 h of 48 kHz 24-bit stereo WAV is 4 GiB)."
    )
    decode_block_s: float = Field(
        60.0, description="Seconds of audio read, mixed down and resampled at a time (bounds decoding memory)."
    )


class AsrSettings(BaseModel):
    """faster-whisper transcription."""

    model: str = Field(
        "auto",
        description="'auto' (bundled base, or tiny.en for --language en), a registry name, "
        "a local CTranslate2 directory, or a hub name such as 'large-v3'.",
    )
    english_model: str = Field("tiny.en", description="Model used by 'auto' when language is 'en'.")
    multilingual_model: str = Field("base", description="Model used by 'auto' for 'auto'/'ja'.")
    compute_type: str = Field("auto", description="'auto': float16 on CUDA, int8 on CPU.")
    beam_size: int = Field(5, description="Beam width of the decoder.")
    batch_size: int = Field(8, description="Batched-pipeline batch size (used on CUDA).")
    batched_on_cpu: bool = Field(False, description="Use the batched pipeline on CPU as well.")
    vad_filter: bool = Field(True, description="Silero VAD before decoding (guards against loops on silence).")
    vad_min_silence_ms: int = Field(500, description="Silence that splits VAD speech regions.")
    condition_on_previous_text: bool = Field(
        False, description="Off by default: conditioning feeds Whisper's repetition loops."
    )
    compression_ratio_threshold: float = Field(2.4, description="Segments more repetitive than this are re-decoded, then dropped.")
    log_prob_threshold: float = Field(-1.0, description="Average log-probability below which decoding falls back to sampling.")
    no_speech_threshold: float = Field(0.6, description="No-speech probability above which a low-confidence segment counts as silence.")
    block_s: float = Field(
        1200.0,
        description="Longer recordings are transcribed in pieces of about this many seconds, cut at a quiet "
        "moment (faster-whisper computes a whole input's spectrogram at once: bounded memory for long meetings).",
    )
    block_search_s: float = Field(
        60.0, description="How far before a piece's end the quietest half second is looked for."
    )
    hallucination_max_repeats: int = Field(
        4, description="An n-gram repeated more than this many times in a row is cut."
    )
    initial_prompt: str | None = Field(None, description="Text given to Whisper as context (product names, spellings).")
    hint_terms: Literal["hotwords", "initial_prompt", "off"] = Field(
        "hotwords",
        description="How the meeting's names and terms (sidecar participants, companies, account, terms, "
        "the glossary) reach Whisper: 'hotwords' (in every 30 s window's prompt), "
        "'initial_prompt' (first window only, after initial_prompt) or 'off'.",
    )
    glossary: list[str] = Field(
        default_factory=list,
        description="Product and company terms hinted on every recording (after the sidecar's names and terms), "
        "e.g. MEETING_NOTES_ASR__GLOSSARY='[\"ComfyUI\", \"Acme Cloud\"]'.",
    )
    hint_max_terms: int = Field(40, description="At most this many hint terms (the sidecar's names and terms first, then the glossary).")
    hint_max_tokens: int = Field(
        120,
        description="Token budget of the hint text (faster-whisper cuts hotwords at 223 tokens, half "
        "of Whisper's 448-token context); terms that do not fit are left out whole.",
    )
    hint_latin_terms_for_japanese: bool = Field(
        False,
        description="Also hint Latin-script terms on Japanese audio (off: Japanese audio gets only "
        "terms written in Japanese script; English and other Latin-script audio only Latin-script terms).",
    )


ClusteringMethod = Literal["spectral", "agglomerative_auto", "agglomerative", "spectral_pval"]

#: flat diarization settings that moved into ``diarization.clustering`` / ``diarization.multiscale``
#: (old name -> new dotted name); a configuration still using one is refused with the new name.
RENAMED_DIARIZATION_SETTINGS: dict[str, str] = {
    **{f"clustering_{n}": f"clustering.{n}" for n in "method threshold max_speakers merge_threshold max_p_ratio min_silhouette "
       "refine_iterations constrained_assignment max_embeddings center min_p window_lower_bound".split()},
    "min_cluster_size": "clustering.min_cluster_size",
    **{f"multiscale_{n}": f"multiscale.{n}" for n in "window_s hop_s min_alone merge_threshold min_cluster_size vote_weight "
       "long_weight frame_relabel".split()},
}


def _renamed_message(old: str) -> str:
    new = RENAMED_DIARIZATION_SETTINGS[old]
    env = "MEETING_NOTES_DIARIZATION__" + new.upper().replace(".", "__")
    return f"diarization.{old} was renamed diarization.{new} (environment variable {env})"


class ClusteringSettings(BaseModel):
    """How speaker embeddings are grouped (``diarization.clustering``); the parameters of
    :func:`meeting_notes.speaker_clustering.cluster_embeddings`, which takes this model as is."""

    model_config = ConfigDict(frozen=True)

    method: ClusteringMethod = Field(
        "agglomerative",
        description="How speaker embeddings are grouped: 'spectral' (NME-SC: the speaker count "
        "from the normalised maximum eigengap), 'agglomerative_auto' (average linkage cut at the "
        "best silhouette), 'agglomerative' (pyannote centroid linkage with one fixed "
        "threshold, the old default), 'spectral_pval' (3D-Speaker's pruned spectral clustering, "
        "the method of the multi-scale short windows). See docs/diarization.md.",
    )
    threshold: float = Field(
        0.75,
        description="method=agglomerative: distance threshold between centroids of "
        "unit embeddings; tuned on the ami-debug train files (benchmarks/tune_diarization.py).",
    )
    min_cluster_size: int = Field(12, description="Clusters with fewer embeddings are merged into the nearest large one.")
    max_speakers: int = Field(10, description="Largest speaker count the estimate considers when no count hint is given.")
    merge_threshold: float = Field(
        0.5,
        description="method=spectral: clusters whose centroids have at least this "
        "cosine similarity are merged (not applied when the speaker count is given).",
    )
    max_p_ratio: float = Field(0.25, description="method=spectral: largest neighbour count p tried, as a fraction of the embeddings.")
    min_silhouette: float = Field(0.1, description="method=agglomerative_auto: below this best silhouette the recording is one speaker.")
    refine_iterations: int = Field(0, description="Nearest-centroid re-assignment rounds over all embeddings after clustering (0 = off).")
    constrained_assignment: bool = Field(
        True, description="Two local speakers of one 10 s window never go to the same speaker (Hungarian assignment)."
    )
    max_embeddings: int = Field(1500, description="Above this many embeddings the count and clusters are estimated on an even subsample.")
    center: bool = Field(
        False,
        description="Subtract the recording's mean speaker embedding before clustering (removes "
        "what all voices share, e.g. the telephone channel); merge threshold then in centred space.",
    )
    min_p: int = Field(2, description="method=spectral: smallest neighbour count p tried by NME-SC.")
    window_lower_bound: int = Field(
        2,
        description="When at least this many 10 s windows each hold two (or more) local speakers "
        "who both talk alone >= 2 s, the count estimate is at least that many speakers (stops a "
        "two-person call collapsing into one speaker); 0 disables it.",
    )
    pval: float = Field(0.012, description="method=spectral_pval: each affinity row keeps its largest max(pval x N, min_pnum) entries.")
    min_pnum: int = Field(6, description="method=spectral_pval: least entries kept per affinity row.")
    seed: int = Field(0, description="Random seed of the k-means step of the spectral methods.")


class MultiscaleSettings(BaseModel):
    """Multi-scale short-window embeddings (``diarization.multiscale``, docs/diarization.md)."""

    window_s: float = Field(
        1.0,
        description="Also embed short windows of this many seconds where one local "
        "speaker talks alone, cluster those (spectral, 3D-Speaker style), let each 10 s window's "
        "local speaker take the speaker its short windows vote for, and relabel its frames by the "
        "short windows covering them; 0 = off (10 s embeddings only). Chosen by cross-validation, "
        "see docs/diarization.md.",
    )
    hop_s: float = Field(0.5, description="Step between short windows (seconds).")
    min_alone: float = Field(0.6, description="A short window counts for a local speaker who talks alone in at least this fraction of it.")
    merge_threshold: float = Field(
        0.75, description="Short-window clusters whose centroids have at least this cosine similarity are merged."
    )
    min_cluster_size: int = Field(6, description="Short-window clusters smaller than this join the nearest larger one.")
    vote_weight: float = Field(
        0.5,
        description="Weight of the short-window vote against the 10 s embedding's cosine "
        "to the speaker centroid when a window's local speaker is assigned.",
    )
    long_weight: float = Field(
        0.0,
        description="Share of the 10 s embedding's cosine in the short-window affinity "
        "(each window fused with the 10 s embedding it was pooled from); 0 = short windows alone.",
    )
    frame_relabel: bool = Field(True, description="Frames covered by short windows take the speaker those windows were clustered into.")


class DiarizationSettings(BaseModel):
    """pyannote.audio speaker diarization from local checkpoints."""

    @model_validator(mode="before")
    @classmethod
    def _refuse_renamed(cls, data: object) -> object:
        # the flat names would otherwise be ignored without a word (extra keys are ignored)
        if isinstance(data, dict):
            old = [name for name in data if name in RENAMED_DIARIZATION_SETTINGS]
            if old:
                raise ValueError("; ".join(_renamed_message(name) for name in old))
        return data

    pipeline_dir: Path | None = Field(
        None,
        description="A complete local pyannote pipeline directory (e.g. community-1 copied "
        "into models/); used as is when set.",
    )
    segmentation_model: str = Field("segmentation-3.0", description="Registry name or path of a pyannote segmentation checkpoint.")
    embedding_model: str = Field("campplus", description="Registry name or path of the CAM++ speaker-embedding weights.")
    runtime: Literal["auto", "torch", "onnxruntime"] = Field(
        "auto",
        description="What runs segmentation-3.0 and the CAM++ backbone: 'onnxruntime' (CPU only; "
        "exported once from the same weights into <cache_dir>/onnx and checked against torch; "
        "about 1.4x faster per thread), 'torch', or 'auto' (onnxruntime on the CPU, torch on a "
        "GPU; torch with a logged warning when the export fails). Not used with pipeline_dir.",
    )
    clustering: ClusteringSettings = ClusteringSettings()
    multiscale: MultiscaleSettings = MultiscaleSettings()
    segmentation_step: float = Field(0.1, description="Sliding-window step as a fraction of the 10 s segmentation window.")
    segmentation_batch_size: int | None = Field(
        None,
        description="10 s windows per segmentation batch; None: 8 on the CPU (bit-identical output to "
        "32 and 24-32 % less CPU time, docs/diarization.md), 32 on a GPU.",
    )
    embedding_batch_size: int = Field(32, description="Windows per embedding batch.")
    embedding_exclude_overlap: bool = Field(
        True, description="Embed each speaker from frames where they speak alone when there are enough."
    )
    embedding_block_s: float = Field(
        30.0,
        description="> 0: run the CAM++ backbone once over the recording in blocks of this many "
        "seconds and pool each chunk's frames from it (fast); 0: once per 10 s chunk (slow).",
    )


class AlignmentSettings(BaseModel):
    """Word-to-speaker assignment and segment grouping."""

    max_pause_s: float = Field(1.0, description="A pause longer than this starts a new segment.")
    sentence_majority: float = Field(
        0.6,
        description="Words of a sentence go to the speaker holding at least this share of its "
        "words' time (fixes words that drift across a turn change); > 1 disables it.",
    )
    max_drift_s: float = Field(
        1.0,
        description="Only runs of other-speaker words spanning at most this long are moved to a "
        "sentence's main speaker; longer runs are real turns inside a run-on sentence. Chosen on "
        "the pyannote sample (tiny.en cpWER 31.0 -> 18.4 %, base unchanged; any value 0.5-1.5 s "
        "gave the same).",
    )
    max_segment_s: float = Field(30.0, description="Segments are split at sentence ends beyond this.")
    min_segment_s_for_sentence_split: float = Field(
        8.0, description="A sentence end splits a segment once it is at least this long."
    )
    overlap_min_share: float = Field(
        0.3,
        description="A word is flagged as said during overlap when at least two speakers' (overlapping) "
        "turns each cover this share of it.",
    )
    overlap_resolution: bool = Field(
        True,
        description="An overlapped word goes to the active speaker holding most of the "
        "non-overlapped words of its sentence (else its nearest non-overlapped neighbour's "
        "speaker); off: the exclusive turn that covers it most.",
    )
