"""Settings of what this project writes and whom it trusts to say where: the modes of data
files and folders (``storage``) and the folders a Prefect flow run started through the API may
read recordings from and write meetings to (``flows``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator


def _octal(value: object) -> object:
    """``"0640"``, ``"640"`` and ``"0o640"`` (environment variables, TOML strings) are octal; a
    TOML integer (``0o640``) is taken as it is."""
    if isinstance(value, str):
        text = value.strip().lower().removeprefix("0o")
        try:
            return int(text, 8)
        except ValueError:
            raise ValueError(f"{value!r} is not an octal file mode such as 0600 or 0640") from None
    return value


class StorageSettings(BaseModel):
    """Permissions of what the project creates: meeting folders and their files (transcripts,
    notes, decoded audio kept after a failure), the LLM response cache, the voiceprint store."""

    file_mode: int = Field(
        0o600,
        description="Mode of new data files, octal (MEETING_NOTES_STORAGE__FILE_MODE=0640 lets a shared "
        "group read them); only the owner by default: meeting data is personal data.",
    )
    dir_mode: int = Field(
        0o700,
        description="Mode of new folders, octal (0750 for a shared group); also sets the process umask "
        "(0700 -> 077), which covers what libraries create (SQLite, logs).",
    )

    @field_validator("file_mode", "dir_mode", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        return _octal(value)

    @field_validator("file_mode")
    @classmethod
    def _file(cls, value: int) -> int:
        if value & ~0o777 or value & 0o600 != 0o600 or value & 0o002:
            raise ValueError(f"storage.file_mode {value:04o}: the owner must read and write, others must not write")
        return value

    @field_validator("dir_mode")
    @classmethod
    def _dir(cls, value: int) -> int:
        if value & ~0o777 or value & 0o700 != 0o700 or value & 0o002:
            raise ValueError(f"storage.dir_mode {value:04o}: the owner needs rwx, others must not write")
        return value


class FlowInputSettings(BaseModel):
    """What a flow run started through the Prefect API (a deployment run: the UI, ``prefect
    deployment run``, another program) may name in its parameters. Runs started by this
    machine's own ``meeting-notes watch`` or a parent flow pass paths they checked already."""

    input_roots: list[Path] = Field(
        default_factory=list,
        description="Folders under which a deployment run's audio_path, inbox_root and source_dir must lie "
        "(symbolic links resolved); empty: orchestration.inbox_dir only. Add the nightly batch's folder here.",
    )
    output_roots: list[Path] = Field(
        default_factory=list,
        description="Folders under which a deployment run's out_dir must lie; empty: orchestration.out_dir only.",
    )
    crm_ids_from_parameters: bool = Field(
        False,
        description="Take hints.crm_ids of a deployment run as given; off: they must equal the crm_ids of the "
        "sidecar beside the recording (the API cannot point a meeting at another customer's records).",
    )
