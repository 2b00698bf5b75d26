"""One way to write a file so that readers never see half of it: the atomic write; the modes of
the files and folders this project creates; the fences that stop a run which lost its folder.

The text goes to a uniquely named temporary file in the same folder (so two writers never
share one), is flushed and fsync'd, then renamed over the target (atomic on POSIX file
systems), and the folder is fsync'd so that the rename itself survives a power cut.

Modes: meeting data (transcripts, notes, the LLM cache, the voiceprint store) is personal data,
so files are created ``0600`` and folders ``0700`` unless :func:`set_data_modes` says otherwise
(``storage.file_mode`` / ``storage.dir_mode``, e.g. ``0640`` / ``0750`` for a group that shares
the output folder). :func:`set_data_modes` also sets the process umask to match, which covers
what other libraries create (SQLite, decoded audio, server logs).

Fences: :func:`fence` registers a check for a folder (the meeting folder's lease, see
:mod:`meeting_notes.leases`); every atomic write into that folder calls it just before the
rename, so a run that lost its lease fails before its next write lands.
Imports nothing from the project.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

DEFAULT_FILE_MODE = 0o600
DEFAULT_DIR_MODE = 0o700
_modes = {"file": DEFAULT_FILE_MODE, "dir": DEFAULT_DIR_MODE}
_fences: dict[str, Callable[[], None]] = {}
_fences_lock = threading.Lock()


def set_data_modes(file_mode: int, dir_mode: int) -> None:
    """Use ``file_mode`` for new data files and ``dir_mode`` for new folders from now on, and set
    the process umask to what ``dir_mode`` leaves out (``0700`` -> ``077``, ``0750`` -> ``027``)."""
    _modes["file"], _modes["dir"] = file_mode & 0o777, dir_mode & 0o777
    os.umask(0o777 & ~_modes["dir"])


def data_file_mode() -> int:
    """The permission bits of a new data file (``0600`` unless :func:`set_data_modes` changed it)."""
    return _modes["file"]


def data_dir_mode() -> int:
    """The permission bits of a new folder (``0700`` unless :func:`set_data_modes` changed it)."""
    return _modes["dir"]


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with :func:`data_dir_mode`; ``path`` itself gets that
    mode even when it existed (a meeting folder or cache made by an earlier version, ``0755``)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=_modes["dir"])
    try:
        os.chmod(path, _modes["dir"])
    except PermissionError:  # not ours (a shared folder someone else made): leave it as it is
        pass
    return path


def fence(folder: Path, check: Callable[[], None]) -> Callable[[], None]:
    """Call ``check`` before every atomic write into ``folder`` (not its subfolders) in this
    process; it raises to stop the write. Returns the function that removes the fence."""
    key = os.path.abspath(folder)
    with _fences_lock:
        _fences[key] = check

    def remove() -> None:
        with _fences_lock:
            if _fences.get(key) is check:
                del _fences[key]

    return remove


def _check_fence(path: Path) -> None:
    check = _fences.get(os.path.abspath(path.parent))
    if check is not None:
        check()


def write_bytes_atomic(path: Path, data: bytes, mode: int | None = None, *, fenced: bool = True) -> None:
    """Replace ``path`` with ``data`` in one step (see the module docstring). ``mode``: the new
    file's permission bits, set when the temporary file is created, so the content is never
    readable by others, even for a moment; default: :func:`data_file_mode`. ``fenced=False``
    skips the folder's fence (the lease file itself)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    bits = _modes["file"] if mode is None else mode
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, bits)
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), bits)  # exactly these bits, whatever the umask
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if fenced:
            _check_fence(path)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str, mode: int | None = None, *, fenced: bool = True) -> None:
    """:func:`write_bytes_atomic` for UTF-8 text."""
    write_bytes_atomic(path, text.encode("utf-8"), mode, fenced=fenced)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not supported here (some network file systems): the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
