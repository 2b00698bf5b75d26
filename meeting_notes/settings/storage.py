"""Settings of what this project writes and whom it trusts to say where: the modes of data
files and folders (``storage``) and the folders a Prefect flow run started through the API may
read recordings from and write meetings to (``flows``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator


def _octal(value: object, name: str) -> str:
    """A mode as four octal digits (``"0640"``): from ``"0640"``, ``"640"`` or ``"0o640"``
    (environment variables, TOML strings) or a TOML integer (``0o640``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        bits = value
    else:
        text = str(value).strip().lower().removeprefix("0o")
        try:
            bits = int(text, 8)
        except ValueError:
            raise ValueError(f"{name} {value!r} is not an octal file mode such as 0600 or 0640") from None
    return f"{bits:04o}"


def _owner_mode(value: object, name: str, owner: int, owner_needs: str) -> str:
    """:func:`_octal`, refused unless the owner has the ``owner`` bits and others cannot write."""
    mode = _octal(value, name)
    bits = int(mode, 8)
    if bits & ~0o777 or bits & owner != owner or bits & 0o002:
        raise ValueError(f"{name} {mode}: {owner_needs}, others must not write")
    return mode


class StorageSettings(BaseModel):
    """Permissions of what the project creates: meeting folders and their files (transcripts,
    notes, decoded audio kept after a failure), the LLM response cache, the voiceprint store."""

    file_mode: str = Field(
        "0600",
        description="Mode of new data files, octal (0640 lets a shared group read them); only the owner "
        "by default: meeting data is personal data.",
    )
    dir_mode: str = Field(
        "0700",
        description="Mode of new folders, octal (0750 for a shared group); also sets the process umask "
        "(0700 -> 077), which covers what libraries create (SQLite, logs).",
    )

    @field_validator("file_mode", mode="before")
    @classmethod
    def _file(cls, value: object) -> str:
        return _owner_mode(value, "storage.file_mode", 0o600, "the owner must read and write")

    @field_validator("dir_mode", mode="before")
    @classmethod
    def _dir(cls, value: object) -> str:
        return _owner_mode(value, "storage.dir_mode", 0o700, "the owner needs rwx")

    @property
    def file_bits(self) -> int:
        return int(self.file_mode, 8)

    @property
    def dir_bits(self) -> int:
        return int(self.dir_mode, 8)


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
