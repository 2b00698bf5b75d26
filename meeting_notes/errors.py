"""Typed errors with messages a sales rep can act on."""

from __future__ import annotations


class MeetingNotesError(Exception):
    """Base class of every error this project raises on purpose."""


class InputError(MeetingNotesError):
    """The recording given cannot be processed. The message says why, in plain words."""


class InputNotFoundError(InputError):
    """The path does not exist."""


class NotAFileError(InputError):
    """The path is a directory or another non-file."""


class EmptyFileError(InputError):
    """The file has zero bytes."""


class UnsupportedFormatError(InputError):
    """The container or codec is not audio we can decode."""


class CorruptAudioError(InputError):
    """The file looks like audio but cannot be decoded."""


class NoAudioError(InputError):
    """The file decodes but holds no (or almost no) audio samples."""


class AudioTooLongError(InputError):
    """The recording is longer than the configured limit."""


class FileTooLargeError(InputError):
    """The file is larger than the configured size limit."""


class ModelNotFoundError(MeetingNotesError):
    """A model named in the settings cannot be found locally (and cannot be downloaded)."""


class ModelIntegrityError(MeetingNotesError):
    """Model weights on disk do not match the checksum recorded in the registry."""
