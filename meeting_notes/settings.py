"""The one settings object of the project.

Every tunable lives here. Values come from (highest priority first):
keyword arguments, environment variables ``MEETING_NOTES_*`` (nested groups use ``__``,
e.g. ``MEETING_NOTES_DIARIZATION__CLUSTERING__THRESHOLD=0.6``), a TOML file named by
``MEETING_NOTES_CONFIG`` (or ``meeting-notes.toml`` in the working directory), then the
defaults below. docs/configuration.md documents each field (scripts/settings_table.py).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_serializer, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]

Device = Literal["auto", "cpu", "cuda"]
Language = Literal["auto", "en", "ja"]


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
        description="How the meeting's names and terms (sidecar participants, companies, account, "
        "the glossary) reach Whisper: 'hotwords' (in every 30 s window's prompt), "
        "'initial_prompt' (first window only, after initial_prompt) or 'off'.",
    )
    glossary: list[str] = Field(
        default_factory=list,
        description="Product and company terms hinted on every recording (after the sidecar's names), "
        "e.g. MEETING_NOTES_ASR__GLOSSARY='[\"ComfyUI\", \"Acme Cloud\"]'.",
    )
    hint_max_terms: int = Field(40, description="At most this many hint terms (sidecar names first, then the glossary).")
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


class ModelPrice(BaseModel):
    """Price of one model in USD per million tokens."""

    prompt_per_million: float = Field(description="USD per million prompt tokens.")
    completion_per_million: float = Field(description="USD per million completion tokens.")


def _default_prices() -> dict[str, ModelPrice]:
    # USD per 1M tokens as published by OpenAI when this table was written; check the current
    # price list and override with MEETING_NOTES_LLM__PRICES='{"model": {...}}'.
    return {
        "gpt-4o-mini": ModelPrice(prompt_per_million=0.15, completion_per_million=0.60),
        "gpt-4o": ModelPrice(prompt_per_million=2.50, completion_per_million=10.00),
        "gpt-4.1-mini": ModelPrice(prompt_per_million=0.40, completion_per_million=1.60),
        "gpt-4.1": ModelPrice(prompt_per_million=2.00, completion_per_million=8.00),
    }


StructuredOutput = Literal["auto", "json_schema", "tool", "llama_json_schema", "llama_grammar", "json_object"]


def public_url(url: str) -> str:
    """``url`` without what may be secret (user and password, query string, fragment): the form
    that goes into run.json, notes, cache keys and artifacts."""
    from urllib.parse import urlparse

    parts = urlparse(url.rstrip("/"))
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc, query="", fragment="").geturl()


class LLMSettings(BaseModel):
    """OpenAI-compatible LLM endpoint for the notes step (issue: CRM notes)."""

    @field_serializer("base_url")
    def _base_url_public(self, value: str | None) -> str | None:
        return public_url(value) if value else value


    base_url: str | None = Field(
        None,
        repr=False,
        description="OpenAI-compatible base URL (e.g. https://api.openai.com/v1, "
        "http://gpu-box:8000/v1 for vLLM, http://localhost:11434/v1 for Ollama). "
        "None: start (or reuse) the embedded llama.cpp server on 127.0.0.1.",
    )
    api_key: SecretStr | None = Field(
        None, description="API key; OPENAI_API_KEY is used when unset. Never written to run.json, notes or logs."
    )
    model: str | None = Field(
        None,
        description="Model name at base_url (the deployment name on Azure). Not used by the "
        "embedded server, which serves local_model.",
    )
    api_version: str | None = Field(
        None, description="Set for Azure OpenAI (e.g. '2024-10-21'): base_url is then the Azure endpoint."
    )
    temperature: float = Field(0.0, description="Sampling temperature (0: as deterministic as the server allows).")
    timeout_s: float | None = Field(
        None,
        description="Per-call timeout in seconds; None: 1200 for the embedded server (a 30-minute "
        "meeting takes minutes on 2 CPU cores), 300 elsewhere.",
    )
    max_retries: int = Field(3, description="Retries of retryable errors (429, 5xx, timeouts, connection).")
    backoff_base_s: float = Field(1.0, description="First retry delay; doubles each retry, with jitter.")
    backoff_max_s: float = Field(30.0, description="Longest delay between retries.")
    max_output_tokens: int = Field(2048, description="Completion token limit per call.")
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = Field(
        "max_tokens", description="'max_completion_tokens' for OpenAI reasoning models."
    )
    structured_output: StructuredOutput = Field(
        "auto",
        description="How JSON is requested: 'json_schema' (OpenAI response_format), 'tool' (forced "
        "tool call; OpenAI, Azure, vLLM, Ollama), 'llama_json_schema' (llama.cpp's json_object + "
        "schema), 'llama_grammar' (llama.cpp: the schema as a compact GBNF grammar, no pretty-printing "
        "whitespace), 'json_object' (JSON mode, schema in the prompt). 'auto': llama_grammar for "
        "the embedded server, tool elsewhere; a server that rejects it gets JSON mode.",
    )
    context_tokens: int | None = Field(
        None,
        description="Context window of the model; None: local_context for the embedded server, "
        "32768 elsewhere. Longer transcripts are map-reduced in chunks.",
    )
    chunk_tokens: int | None = Field(
        None, description="Cap on transcript tokens per call (forces map-reduce above it); None: as fits."
    )
    tokens_per_word: float = Field(
        1.6, description="Token estimate per space-separated word (English transcript lines, Qwen).")
    tokens_per_cjk_char: float = Field(
        0.8, description="Token estimate per Japanese/Chinese character (measured 0.71 with Qwen).")
    redact: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Redact emails, phone and card-like numbers before sending the transcript; "
        "'auto': on for every endpoint that is not on this machine.",
    )
    prompt_version: str = Field("v1", description="Folder under prompts/notes/ for notes_method=single.")
    notes_method: Literal["passes", "single"] = Field(
        "passes",
        description="'passes': focused questions (people, money, dates, competitors, next steps, the "
        "rest) sharing one cached prompt prefix, with amounts and dates found by rule; 'single': one "
        "call fills the whole schema (map-reduce over chunks for long meetings).",
    )
    passes_prompt_version: str = Field("v3", description="Folder under prompts/notes/ for notes_method=passes.")
    passes_transcript_tokens: int | None = Field(
        None,
        description="notes_method=passes: most transcript tokens in one prompt; a longer meeting is read "
        "in windows of this size (see passes_whole). None: 2500 on the embedded server (speed on 2 cores), "
        "what fits the context elsewhere.",
    )
    passes_whole: bool = Field(
        True,
        description="notes_method=passes: read a meeting longer than passes_transcript_tokens whole, in "
        "windows (every segment reaches the model); false: condense it to the opening, the close and the "
        "lines with the most cues (faster; the notes then warn how much was read).",
    )
    passes_max_output_tokens: int = Field(700, description="notes_method=passes: completion token limit per pass.")
    prompts_dir: Path = Field(PROJECT_ROOT / "prompts" / "notes", description="Folder of the versioned prompt files.")
    cache: bool = Field(True, description="Cache LLM responses by (model, prompt version, input hash).")
    cache_dir: Path | None = Field(None, description="None: <cache_dir>/llm-responses.")
    prices: dict[str, ModelPrice] = Field(
        default_factory=_default_prices, description="USD per million tokens by model name."
    )
    local_model: str = Field(
        "qwen2.5-coder-1.5b-instruct-q4km", description="Registry name or GGUF path for the embedded server."
    )
    local_port: int | None = Field(
        None,
        description="Port of the embedded server on 127.0.0.1; None: a free random port. A server "
        "already there is used only if this tool started it (checked by pid, command and API key).",
    )
    local_threads: int = Field(
        0,
        description="llama.cpp threads; 0: the cpu_threads setting (all cores by default: the notes "
        "step runs after transcription, and on 2 cores 2 threads answered 1.75x faster than 1). Set it "
        "lower on a host where other busy processes share the cores: llama.cpp slows down several-fold "
        "when its threads compete for them.",
    )
    local_runtime: Literal["auto", "llama-server", "llama-cpp-python"] = Field(
        "auto",
        description="Server program of the embedded model: 'llama-server' (llama.cpp's C++ server, "
        "built by scripts/install_local_llm.sh from the sources llama-cpp-python ships; faster JSON "
        "sampling), 'llama-cpp-python' (its Python server), 'auto': llama-server when installed.",
    )
    llama_server_path: Path | None = Field(
        None, description="The llama-server program; None: 'llama-server' beside this Python (the venv's bin/)."
    )
    local_context: int = Field(16384, description="Context window the embedded server is started with.")
    local_startup_timeout_s: float = Field(180.0, description="How long to wait for the embedded server to answer.")


class OrchestrationSettings(BaseModel):
    """Prefect flows, the watched inbox and the deployments (``flows/``, ``meeting-notes watch|serve``)."""

    inbox_dir: Path = Field(
        Path("inbox"),
        description="Inbox root: files are dropped into <inbox_dir>/inbox and moved through "
        "processing/ to done/ or failed/.",
    )
    out_dir: Path = Field(Path("out"), description="Where the watcher and the flows write meeting folders.")
    poll_interval_s: float = Field(5.0, description="How often `watch` scans the inbox.")
    stable_seconds: float = Field(
        10.0, description="A file is picked up once its size and mtime did not change for this long."
    )
    claim_timeout_s: float = Field(
        6 * 3600.0,
        description="A claimed file whose run sent no heartbeat for this long goes back to the inbox.",
    )
    lock_lease_s: float = Field(
        300.0,
        description="Length of the leases that keep two runs out of one meeting folder and one stage "
        "task; renewed every third of it while the holder lives, so a killed worker (SIGKILL, a lost "
        "container or host) frees its meeting after at most this long.",
    )
    queue_timeout_s: float = Field(
        24 * 3600.0,
        description="Lease of a claim whose run has not started yet (waiting in a work-pool queue); "
        "after it the file goes back to the inbox, and the late run, if it ever starts, stops "
        "without touching it.",
    )
    gpu_limit_name: str = Field(
        "gpu", description="Global concurrency limit held around model inference; '' disables it."
    )
    gpu_limit_slots: int = Field(1, description="Slots of that limit when `serve`/`watch` create it.")
    nightly_cron: str = Field("0 2 * * *", description="Schedule of the nightly batch under `serve`.")
    sweep_interval_s: float = Field(300.0, description="Schedule of the inbox sweep under `serve`.")


class SalesforceSettings(BaseModel):
    """Salesforce target of ``meeting-notes crm`` (REST API, composite upserts by external id)."""

    instance_url: str | None = Field(
        None,
        description="https://<MyDomain>.my.salesforce.com; None: the instance_url returned by the JWT bearer flow.",
    )
    api_version: str = Field("v62.0", description="REST API version in the request paths (/services/data/<version>/...).")
    activity_object: Literal["auto", "Event", "Task"] = Field(
        "auto",
        description="The meeting's record: 'Event' (start/end), 'Task' (TaskSubtype=Call, ActivityDate + "
        "CallDurationInSeconds) or 'auto' (Event when the meeting's start time is known, else Task).",
    )
    event_external_id_field: str = Field(
        "Meeting_Notes_Key__c", description="External-id field on Activity (Event) that holds the meeting's key."
    )
    task_external_id_field: str = Field(
        "Meeting_Notes_Key__c", description="External-id field on Activity (Task) that holds the call's and next steps' keys."
    )
    field_map: dict[str, str] = Field(
        default_factory=dict,
        description="Rename or drop mapped fields: {standard API name: your API name, or '' to leave it out}, "
        "e.g. {\"Description\": \"Call_Notes__c\"}.",
    )
    description_limit: int = Field(32000, description="Characters of Description (the notes); longer is cut with '…(truncated)'.")
    subject_limit: int = Field(255, description="Characters of Subject.")
    user_ids: dict[str, str] = Field(
        default_factory=dict,
        description="Next-step owner names (as said in the meeting) -> Salesforce User ids (005...), for task OwnerId.",
    )
    access_token_env: str = Field("SALESFORCE_ACCESS_TOKEN", description="Environment variable holding an OAuth access token.")
    access_token_file: Path | None = Field(None, description="File holding an OAuth access token (used when the variable is unset).")
    jwt_client_id: str | None = Field(None, description="JWT bearer flow: the connected app's consumer key.")
    jwt_username: str | None = Field(None, description="JWT bearer flow: the Salesforce username the token is issued for.")
    jwt_private_key_file: Path | None = Field(
        None, description="JWT bearer flow: PEM RSA private key whose certificate is on the connected app."
    )
    login_url: str = Field(
        "https://login.salesforce.com", description="JWT bearer flow: token endpoint host (https://test.salesforce.com for sandboxes)."
    )


class HubSpotSettings(BaseModel):
    """HubSpot target of ``meeting-notes crm`` (CRM v3 batch upsert by a unique property, v4 associations)."""

    base_url: str = Field("https://api.hubapi.com", description="API host.")
    id_property: str = Field(
        "meeting_notes_key",
        description="Custom property with unique values (hasUniqueValue) on meetings and tasks that holds the keys.",
    )
    field_map: dict[str, str] = Field(
        default_factory=dict,
        description="Rename or drop mapped properties: {standard name: your name, or '' to leave it out}.",
    )
    body_limit: int = Field(65536, description="Characters of hs_meeting_body / hs_task_body; longer is cut with '…(truncated)'.")
    title_limit: int = Field(255, description="Characters of hs_meeting_title / hs_task_subject.")
    owner_ids: dict[str, str] = Field(
        default_factory=dict, description="Next-step owner names -> HubSpot owner ids, for the task's hubspot_owner_id."
    )
    access_token_env: str = Field("HUBSPOT_ACCESS_TOKEN", description="Environment variable holding a private-app or OAuth access token.")
    access_token_file: Path | None = Field(None, description="File holding the access token (used when the variable is unset).")


class WebhookSettings(BaseModel):
    """Generic webhook target: a signed JSON POST of the notes."""

    url: str | None = Field(None, description="Where the JSON is POSTed; None: the webhook target is not configured.")
    secret_env: str = Field("MEETING_NOTES_WEBHOOK_SECRET", description="Environment variable holding the HMAC-SHA256 key.")
    secret_file: Path | None = Field(None, description="File holding the HMAC key (used when the variable is unset).")
    signature_header: str = Field("X-Meeting-Notes-Signature", description="Header carrying 'sha256=<hex HMAC of the body>'.")
    delivery_header: str = Field("X-Meeting-Notes-Delivery", description="Header carrying the delivery id (stable across retries).")


class CRMSettings(BaseModel):
    """Delivery of the notes to Salesforce, HubSpot or a webhook (``meeting-notes crm``, docs/crm.md)."""

    auto_push: bool = Field(
        False, description="Send after every processed meeting without review (to auto_push_targets); off: preview and approve first."
    )
    auto_push_targets: list[str] = Field(
        default_factory=list, description="Targets ('salesforce', 'hubspot', 'webhook') that auto_push sends to."
    )
    ledger_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the delivery ledger, e.g. postgresql+psycopg://user@host/db for workers "
        "on several machines; None: SQLite file <meetings folder>/.crm-ledger.sqlite.",
    )
    report_base_url: str | None = Field(
        None, description="Base URL the meeting folders are served under, for the link to the meeting's report.html; None: its local path."
    )
    timeout_s: float = Field(30.0, description="Per-request timeout in seconds.")
    max_retries: int = Field(4, description="Retries of 429, 5xx, timeouts and connection errors per request.")
    backoff_base_s: float = Field(1.0, description="First retry delay; doubles each retry, with jitter.")
    backoff_max_s: float = Field(60.0, description="Longest delay between retries without Retry-After.")
    retry_after_max_s: float = Field(
        300.0, description="Longest Retry-After honoured; a longer one ends the push as failed (retried later by crm-retry)."
    )
    retry_max_attempts: int = Field(10, description="crm-retry stops re-sending a delivery after this many pushes.")
    salesforce: SalesforceSettings = SalesforceSettings()
    hubspot: HubSpotSettings = HubSpotSettings()
    webhook: WebhookSettings = WebhookSettings()


class AnalyticsSettings(BaseModel):
    """How turns, monologues and interruptions are delimited."""

    turn_gap_s: float = Field(
        1.5, description="Analytics: a speaker's pieces separated by a pause up to this many seconds are one turn."
    )
    backchannel_max_s: float = Field(
        1.0,
        description="Analytics: another speaker talking at most this long (\"mm-hmm\") does not end a monologue.",
    )
    interruption_min_overlap_s: float = Field(
        0.5,
        description="Analytics: a turn counts as an interruption only if it overlaps the other speaker's turn "
        "at least this long (shorter overlaps are ordinary turn-taking).",
    )


def _default_speaker_store() -> Path:
    base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "meeting-notes" / "speakers.sqlite"


class SpeakerSettings(BaseModel):
    """Voice enrollment and speaker naming."""

    store_path: Path = Field(default_factory=_default_speaker_store, description="SQLite file of enrolled speaker profiles.")
    match_threshold: float = Field(
        0.5,
        description="Cosine similarity at or above which a diarized speaker is named after a profile "
        "(calibrated on ami-debug: benchmarks/speaker_naming.py).",
    )
    min_speech_s: float = Field(5.0, description="Enrollment: least clean speech over all clips (seconds).")
    max_other_voice_s: float = Field(
        1.5, description="Enrollment: a clip where another voice talks longer than this is refused."
    )
    window_s: float = Field(10.0, description="Speech is embedded in windows of this length, then averaged.")
    min_window_s: float = Field(1.5, description="Shorter leftover windows are not embedded.")
    max_embed_s: float = Field(
        180.0, description="At most this much of a speaker's speech (longest turns first) is embedded."
    )
    embed_threads: int = Field(
        1,
        description="CPU threads for speaker embeddings (a small model: one thread is as fast and avoids "
        "thread contention on a busy machine; 0: torch's default).",
    )
    seller_companies: list[str] = Field(
        default_factory=list,
        description="Your own company names: a sidecar participant or a self-introduction from one of them "
        "is on the seller side (the companies of enrolled reps count too), e.g. '[\"Helix Analytics\"]'.",
    )
    intro_segments: int = Field(
        8, description="Self-introductions are looked for in each speaker's first this many segments."
    )
    llm_introductions: bool = Field(
        False,
        description="Also ask the notes LLM for self-introductions of speakers still unnamed; a name is kept only "
        "with a verbatim quote of that speaker's segment holding it. Off-machine endpoints that must get "
        "redacted text are never asked.",
    )


class Settings(BaseSettings):
    """All configuration of the workflow."""

    model_config = SettingsConfigDict(
        env_prefix="MEETING_NOTES_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    models_dir: Path = Field(PROJECT_ROOT / "models", description="Local model directories.")
    cache_dir: Path = Field(
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "meeting-notes",
        description="Where assembled bundled models are written.",
    )
    device: Device = Field("auto", description="'auto' (CUDA when visible), 'cpu' or 'cuda' (--device).")
    cpu_threads: int = Field(0, description="0: all cores.")
    language: Language = Field("auto", description="'auto' (detect), 'en' or 'ja' (--language).")

    audio: AudioSettings = AudioSettings()
    asr: AsrSettings = AsrSettings()
    diarization: DiarizationSettings = DiarizationSettings()
    alignment: AlignmentSettings = AlignmentSettings()
    llm: LLMSettings = LLMSettings()
    orchestration: OrchestrationSettings = OrchestrationSettings()
    crm: CRMSettings = CRMSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()
    speakers: SpeakerSettings = SpeakerSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    def threads(self) -> int:
        """Number of CPU threads to use."""
        return self.cpu_threads if self.cpu_threads > 0 else (os.cpu_count() or 1)


def _config_file() -> Path | None:
    named = os.environ.get("MEETING_NOTES_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise FileNotFoundError(f"MEETING_NOTES_CONFIG points to a missing file: {path}")
        return path
    local = Path.cwd() / "meeting-notes.toml"
    return local if local.is_file() else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
