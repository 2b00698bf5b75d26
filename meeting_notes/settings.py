"""The one settings object of the project.

Every tunable lives here. Values come from (highest priority first):
keyword arguments, environment variables ``MEETING_NOTES_*`` (nested groups use ``__``,
e.g. ``MEETING_NOTES_DIARIZATION__CLUSTERING_THRESHOLD=0.6``), a TOML file named by
``MEETING_NOTES_CONFIG`` (or ``meeting-notes.toml`` in the working directory), then the
defaults below. The README documents each field.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
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

    sample_rate: int = 16000
    max_duration_s: float = Field(4 * 3600.0, description="Longer recordings are rejected.")
    min_duration_s: float = Field(0.1, description="Shorter recordings are rejected as empty.")
    silence_rms_dbfs: float = Field(
        -60.0, description="Audio whose overall RMS is below this level counts as silence."
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
    beam_size: int = 5
    batch_size: int = Field(8, description="Batched-pipeline batch size (used on CUDA).")
    batched_on_cpu: bool = Field(False, description="Use the batched pipeline on CPU as well.")
    vad_filter: bool = True
    vad_min_silence_ms: int = 500
    condition_on_previous_text: bool = Field(
        False, description="Off by default: conditioning feeds Whisper's repetition loops."
    )
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    hallucination_max_repeats: int = Field(
        4, description="An n-gram repeated more than this many times in a row is cut."
    )
    initial_prompt: str | None = None


class DiarizationSettings(BaseModel):
    """pyannote.audio speaker diarization from local checkpoints."""

    pipeline_dir: Path | None = Field(
        None,
        description="A complete local pyannote pipeline directory (e.g. community-1 copied "
        "into models/); used as is when set.",
    )
    segmentation_model: str = Field(
        "segmentation-3.0", description="Registry name or path of a pyannote segmentation checkpoint."
    )
    embedding_model: str = Field(
        "campplus", description="Registry name or path of the CAM++ speaker-embedding weights."
    )
    clustering_threshold: float = Field(
        0.70, description="Agglomerative clustering threshold (cosine distance); tuned on ami-debug train."
    )
    min_cluster_size: int = 12
    segmentation_step: float = Field(
        0.1, description="Sliding-window step as a fraction of the 10 s segmentation window."
    )
    segmentation_batch_size: int = 32
    embedding_batch_size: int = 32
    embedding_exclude_overlap: bool = True


class AlignmentSettings(BaseModel):
    """Word-to-speaker assignment and segment grouping."""

    max_pause_s: float = Field(1.0, description="A pause longer than this starts a new segment.")
    max_segment_s: float = Field(30.0, description="Segments are split at sentence ends beyond this.")
    min_segment_s_for_sentence_split: float = Field(
        8.0, description="A sentence end splits a segment once it is at least this long."
    )


class LLMSettings(BaseModel):
    """OpenAI-compatible LLM endpoint for the notes step (issue: CRM notes)."""

    base_url: str | None = Field(None, description="None: start the embedded local server.")
    api_key: str | None = None
    model: str = "local"
    temperature: float = 0.0
    timeout_s: float = 600.0
    max_retries: int = 3


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
    device: Device = "auto"
    cpu_threads: int = Field(0, description="0: all cores.")
    language: Language = "auto"

    audio: AudioSettings = AudioSettings()
    asr: AsrSettings = AsrSettings()
    diarization: DiarizationSettings = DiarizationSettings()
    alignment: AlignmentSettings = AlignmentSettings()
    llm: LLMSettings = LLMSettings()

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


def settings_with(base: Settings, **overrides: Any) -> Settings:
    """A copy of ``base`` with top-level fields replaced."""
    return base.model_copy(update=overrides)
