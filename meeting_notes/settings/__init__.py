"""The one settings object of the project.

Every tunable lives here. Values come from (highest priority first):
keyword arguments, environment variables ``MEETING_NOTES_*`` (nested groups use ``__``,
e.g. ``MEETING_NOTES_DIARIZATION__CLUSTERING__THRESHOLD=0.6``), a TOML file named by
``MEETING_NOTES_CONFIG`` (or ``meeting-notes.toml`` in the working directory), then the
defaults below. docs/configuration.md documents each field (scripts/settings_table.py).
"""

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from meeting_notes.atomic import set_data_modes
from meeting_notes.settings.base import PROJECT_ROOT, Device, Language
from meeting_notes.settings.delivery import (
    CRMSettings,
    HubSpotSettings,
    OrchestrationSettings,
    SalesforceSettings,
    WebhookSettings,
)
from meeting_notes.settings.llm import LLMSettings, ModelPrice, public_url
from meeting_notes.settings.media import (
    AlignmentSettings,
    AsrSettings,
    AudioSettings,
    ClusteringSettings,
    DiarizationSettings,
    MultiscaleSettings,
)
from meeting_notes.settings.people import AnalyticsSettings, SpeakerSettings
from meeting_notes.settings.storage import FlowInputSettings, StorageSettings


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
    storage: StorageSettings = StorageSettings()
    flows: FlowInputSettings = FlowInputSettings()

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


def apply_storage_modes(settings: Settings) -> None:
    """Make ``storage.file_mode`` / ``storage.dir_mode`` the modes of what this process creates
    from now on (and the umask: what libraries create, SQLite included)."""
    set_data_modes(settings.storage.file_bits, settings.storage.dir_bits)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once; their file modes apply to this process from then on,
    :func:`apply_storage_modes`)."""
    settings = Settings()
    apply_storage_modes(settings)
    return settings


__all__ = [
    "PROJECT_ROOT",
    "AlignmentSettings",
    "AnalyticsSettings",
    "AsrSettings",
    "AudioSettings",
    "CRMSettings",
    "ClusteringSettings",
    "Device",
    "DiarizationSettings",
    "FlowInputSettings",
    "HubSpotSettings",
    "LLMSettings",
    "Language",
    "ModelPrice",
    "MultiscaleSettings",
    "OrchestrationSettings",
    "SalesforceSettings",
    "Settings",
    "SpeakerSettings",
    "StorageSettings",
    "WebhookSettings",
    "apply_storage_modes",
    "get_settings",
    "public_url",
]
