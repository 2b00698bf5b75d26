"""The embedded server's life cycle, with the fake server standing in for llama.cpp."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_openai_server import FakeOpenAIServer

from meeting_notes.notes import local_server
from meeting_notes.notes.llm_client import LLMError
from meeting_notes.notes.local_server import (
    LocalLLMError,
    LocalModel,
    LocalServer,
    _probe,
    ensure_local_server,
    free_port,
    resolve_local_model,
    server_command,
    server_env,
    start_server,
)
from meeting_notes.settings import LLMSettings, Settings

FAKE = str(Path(__file__).with_name("fake_openai_server.py"))


def fake_command(port: int, alias: str = "m") -> list[str]:
    return [sys.executable, FAKE, "--port", str(port), "--model-id", alias]


@pytest.fixture()
def fake_llama(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Settings]:
    """ensure_local_server with the fake server standing in for llama-cpp-python's."""
    monkeypatch.setattr(local_server, "resolve_local_model", lambda s: LocalModel("m", tmp_path / "m.gguf", "0" * 64))
    monkeypatch.setattr(local_server, "server_command", lambda model, settings, port: fake_command(port, model.name))
    monkeypatch.setattr(local_server, "_SERVERS", {})
    yield Settings(cache_dir=tmp_path / "cache", llm=LLMSettings(local_startup_timeout_s=30))
    local_server._stop_all()


def _chat(server: LocalServer) -> None:
    from meeting_notes.notes.llm_client import Endpoint, LLMClient

    endpoint = Endpoint(server.base_url, "m", "local-embedded", "m@x", api_key=server.api_key, guard=server.guard)
    client = LLMClient(endpoint, LLMSettings(max_retries=0, cache=False))
    client._request_with_retries([{"role": "user", "content": "secret transcript"}], {"type": "object"}, "record")


def test_started_server_binds_a_random_port_and_requires_its_key(fake_llama: Settings) -> None:
    server, _ = ensure_local_server(fake_llama)
    assert server.started and server.process is not None and server.process.poll() is None
    assert _probe(server.port) == (401, [])  # no key: refused
    assert _probe(server.port, "wrong") == (401, [])
    assert _probe(server.port, server.api_key) == (200, ["m"])
    assert len(server.api_key) >= 40 and server.api_key not in " ".join(server.command)
    state = fake_llama.cache_dir / "llm-server"
    (state_file,) = state.glob("*.json")
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert json.loads(state_file.read_text())["pid"] == server.pid
    again, _ = ensure_local_server(fake_llama)
    assert again is server
    _chat(server)  # the key reaches the server through the client
    local_server._stop_all()
    assert server.process.poll() is not None and _probe(server.port) is None
    assert not state_file.exists()


def test_key_and_host_never_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "CONFIG_FILE", "API_KEY", "SSL_KEYFILE", "N_GPU_LAYERS", "ROOT_PATH"):
        monkeypatch.setenv(name, "0.0.0.0")
    env = server_env("k" * 43)
    assert env["API_KEY"] == "k" * 43
    assert not {"HOST", "PORT", "CONFIG_FILE", "SSL_KEYFILE", "N_GPU_LAYERS", "ROOT_PATH"} & set(env)


def test_llama_server_takes_neither_its_settings_nor_a_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # llama-server reads LLAMA_ARG_HOST, LLAMA_ARG_PORT, ... and LLAMA_API_KEY from its environment.
    for name in ("LLAMA_ARG_HOST", "LLAMA_ARG_PORT", "LLAMA_ARG_API_KEY_FILE", "LLAMA_API_KEY", "LLAMA_ARG_N_PARALLEL"):
        monkeypatch.setenv(name, "0.0.0.0")
    monkeypatch.setenv("GGML_SCHED_MAX_COPIES", "1")
    env = server_env("k" * 43, "llama-server")
    assert env["LLAMA_API_KEY"] == "k" * 43 and "API_KEY" not in env
    assert not [k for k in env if k.startswith("LLAMA_ARG_")]
    assert env["GGML_SCHED_MAX_COPIES"] == "1"
    assert not [k for k in server_env("k" * 43) if k.startswith("LLAMA_")]


def test_foreign_server_on_the_configured_port_gets_no_transcript(fake_llama: Settings) -> None:
    with FakeOpenAIServer(model_id="m") as foreign:  # answers /v1/models with our alias, takes any key
        settings = fake_llama.model_copy(update={"llm": fake_llama.llm.model_copy(update={"local_port": foreign.port})})
        with pytest.raises(LocalLLMError, match="not an embedded LLM server this tool started"):
            ensure_local_server(settings)
        assert foreign.requests == []


def test_forged_or_stale_state_file_is_never_trusted(fake_llama: Settings) -> None:
    with FakeOpenAIServer(model_id="m") as foreign:
        first, _ = ensure_local_server(fake_llama)
        (state_file,) = (fake_llama.cache_dir / "llm-server").glob("*.json")
        real = json.loads(state_file.read_text())
        first.release()
        local_server._SERVERS.clear()
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            forgeries = [
                # our own pid and start time, the foreign port: the pid does not hold that socket
                {**real, "port": foreign.port, "pid": os.getpid(), "start": local_server._proc_start(os.getpid())},
                # a live process with another command line
                {**real, "port": foreign.port, "pid": sleeper.pid, "start": local_server._proc_start(sleeper.pid)},
                # the recorded pid is dead, a foreign server took its port
                {**real, "port": foreign.port},
            ]
            for forged in forgeries:
                state_file.write_text(json.dumps(forged))
                os.chmod(state_file, 0o600)
                server, _ = ensure_local_server(fake_llama)
                assert server.started and server.port != foreign.port
                _chat(server)
                server.release()
                local_server._SERVERS.clear()
            assert foreign.requests == [] and foreign.gets == 0
        finally:
            sleeper.kill()
            sleeper.wait()


def test_state_file_readable_by_others_is_ignored(fake_llama: Settings) -> None:
    first, _ = ensure_local_server(fake_llama)
    (state_file,) = (fake_llama.cache_dir / "llm-server").glob("*.json")
    os.chmod(state_file, 0o644)
    local_server._SERVERS.clear()  # as if another run
    second, _ = ensure_local_server(fake_llama)
    assert second.started and second.port != first.port
    second.release()
    first.release()
    assert first.process is not None and first.process.poll() is not None


def test_a_second_run_reuses_the_verified_server_and_the_last_one_out_stops_it(fake_llama: Settings) -> None:
    first, _ = ensure_local_server(fake_llama)
    # Another live run registered as a user of the same server (a child process stands in).
    (users,) = (fake_llama.cache_dir / "llm-server").glob("*.users")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (users / f"{socket.gethostname()}-{other.pid}").write_text(local_server._proc_start(other.pid) or "")
        local_server._SERVERS.clear()
        second, _ = ensure_local_server(fake_llama)
        assert not second.started and second.port == first.port and second.pid == first.pid
        _chat(second)
        first.release()  # the run that started it ends: the other runs still use it
        assert first.process is not None and first.process.poll() is None
        second.release()
        assert first.process.poll() is None  # the child stand-in is still a live user
    finally:
        other.kill()
        other.wait()
    local_server._SERVERS.clear()
    third, _ = ensure_local_server(fake_llama)
    assert not third.started
    third.release()  # the last live user: stops it
    first.process.wait(timeout=15)
    assert _probe(first.port) is None


def test_crashed_server_is_restarted_once_on_the_same_port_with_a_new_key(fake_llama: Settings) -> None:
    server, _ = ensure_local_server(fake_llama)
    port, key = server.port, server.api_key
    assert server.process is not None
    server.process.kill()
    server.process.wait()
    assert server.checked_key() == server.api_key  # the guard before a request restarts it
    assert server.restarts == 1 and server.port == port and server.api_key != key
    assert _probe(port, key) == (401, [])  # the old key opens nothing
    _chat(server)
    assert server.process.poll() is None
    server.process.kill()
    server.process.wait()
    with pytest.raises(LLMError, match="stopped again after one restart"):
        _chat(server)


def test_a_client_made_before_a_restart_sends_the_new_key(fake_llama: Settings) -> None:
    from meeting_notes.notes.llm_client import Endpoint, LLMClient

    server, _ = ensure_local_server(fake_llama)
    endpoint = Endpoint(server.base_url, "m", "local-embedded", "m@x", api_key=server.api_key, guard=server.checked_key)
    client = LLMClient(endpoint, LLMSettings(max_retries=0, cache=False))
    ask = [{"role": "user", "content": "hello"}]
    client._request_with_retries(ask, {"type": "object"}, "record")
    assert server.process is not None
    server.process.kill()
    server.process.wait()
    client._request_with_retries(ask, {"type": "object"}, "record")  # restarted mid-meeting: a new key, still answered
    assert server.restarts == 1


def test_foreign_process_on_the_port_after_a_crash_gets_nothing(fake_llama: Settings) -> None:
    server, _ = ensure_local_server(fake_llama)
    assert server.process is not None
    server.process.kill()
    server.process.wait()
    with FakeOpenAIServer(port=server.port, model_id="m") as foreign:
        with pytest.raises(LLMError, match="taken by another process|answered by another process"):
            _chat(server)
        assert foreign.requests == []


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_sigterm_stops_the_server_this_process_started(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(
        f"""
import sys, time
sys.path.insert(0, {str(Path(__file__).parent)!r})
from pathlib import Path
from meeting_notes.notes import local_server
from meeting_notes.notes.local_server import LocalModel
from meeting_notes.settings import Settings
local_server.resolve_local_model = lambda s: LocalModel("m", Path("m.gguf"), "0" * 64)
local_server.server_command = lambda m, s, port: [sys.executable, {FAKE!r}, "--port", str(port), "--model-id", "m"]
server, _ = local_server.ensure_local_server(Settings(cache_dir=Path({str(tmp_path)!r})))
print(server.pid, server.port, flush=True)
time.sleep(120)
"""
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        pid, port = map(int, proc.stdout.readline().split())
        assert local_server._pid_alive(pid) and _probe(port) == (401, [])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == -signal.SIGTERM
        assert _probe(port) is None
        deadline = time.monotonic() + 10
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(pid)
    finally:
        proc.kill()
        proc.wait()


def test_server_that_dies_at_start_reports_its_log(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "import sys; print('bad model file'); sys.exit(3)"]
    with pytest.raises(LocalLLMError, match="exited with code 3") as info:
        start_server(cmd, free_port(), "my-model", 30, tmp_path / "log", "k")
    assert "bad model file" in str(info.value)


def _fake_llama_server(tmp_path: Path) -> Path:
    binary = tmp_path / "llama-server"
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    return binary


def test_llama_server_command_binds_loopback_only_with_one_slot(tmp_path: Path) -> None:
    binary = _fake_llama_server(tmp_path)
    settings = Settings(llm=LLMSettings(local_threads=3, local_context=8192, llama_server_path=binary))
    cmd = server_command(LocalModel("m", Path("/x/m.gguf"), "0" * 64), settings, 9999)
    assert cmd[0] == str(binary) and local_server._runtime_of(cmd) == "llama-server"
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--port") + 1] == "9999"
    assert cmd[cmd.index("--threads") + 1] == "3" and cmd[cmd.index("--threads-batch") + 1] == "3"
    assert cmd[cmd.index("--ctx-size") + 1] == "8192" and cmd[cmd.index("--alias") + 1] == "m"
    assert cmd[cmd.index("--parallel") + 1] == "1"  # one KV cache: the passes share their prefix
    # sampling as under llama-cpp-python's server (repeat penalty 1.1 over 64 tokens)
    assert cmd[cmd.index("--repeat-penalty") + 1] == "1.1" and cmd[cmd.index("--repeat-last-n") + 1] == "64"
    assert not [a for a in cmd if "api-key" in a]  # the key goes in the environment


def test_runtime_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = _fake_llama_server(tmp_path)
    auto = Settings(llm=LLMSettings(llama_server_path=binary))
    assert local_server.server_runtime(auto) == ("llama-server", binary)
    python = Settings(llm=LLMSettings(local_runtime="llama-cpp-python", llama_server_path=binary))
    monkeypatch.setattr(local_server.importlib.util, "find_spec", lambda n, *a: object())
    assert local_server.server_runtime(python) == ("llama-cpp-python", None)
    missing = tmp_path / "nowhere" / "llama-server"
    assert local_server.server_runtime(Settings(llm=LLMSettings(llama_server_path=missing)))[0] == "llama-cpp-python"
    with pytest.raises(LocalLLMError, match="no executable llama-server"):
        local_server.server_runtime(Settings(llm=LLMSettings(local_runtime="llama-server", llama_server_path=missing)))
    binary.chmod(0o644)  # not executable: not used
    assert local_server.find_llama_server(auto) is None


def test_server_command_binds_loopback_only() -> None:
    settings = Settings(llm=LLMSettings(local_threads=3, local_context=8192, local_runtime="llama-cpp-python"))
    cmd = server_command(LocalModel("m", Path("/x/m.gguf"), "0" * 64), settings, 9999)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--port") + 1] == "9999"
    assert cmd[cmd.index("--n_threads") + 1] == "3" and cmd[cmd.index("--n_ctx") + 1] == "8192"
    assert cmd[cmd.index("--model_alias") + 1] == "m"
    assert "--api_key" not in cmd  # the key goes in the environment: /proc/<pid>/cmdline is world-readable


def test_server_threads_default_to_the_cpu_threads_setting() -> None:
    settings = Settings(cpu_threads=5, llm=LLMSettings(local_runtime="llama-cpp-python"))
    cmd = server_command(LocalModel("m", Path("/x/m.gguf"), "0" * 64), settings, 1)
    assert cmd[cmd.index("--n_threads") + 1] == "5" and cmd[cmd.index("--n_threads_batch") + 1] == "5"


def test_missing_llama_cpp_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(local_server.importlib.util, "find_spec", lambda n, *a: None if n == "llama_cpp" else real(n, *a))
    monkeypatch.setattr(local_server, "resolve_local_model", lambda s: LocalModel("m", tmp_path / "m.gguf", "0" * 64))
    settings = Settings(cache_dir=tmp_path, llm=LLMSettings(llama_server_path=tmp_path / "no-llama-server"))
    with pytest.raises(LocalLLMError, match="install_local_llm.sh"):
        ensure_local_server(settings)


def test_user_supplied_gguf_path_is_hashed_once(tmp_path: Path) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 100)
    settings = Settings(cache_dir=tmp_path, llm=LLMSettings(local_model=str(gguf)))
    model = resolve_local_model(settings)
    assert model.sha256 == hashlib.sha256(gguf.read_bytes()).hexdigest()
    assert model.name == "tiny" and model.identity.startswith("tiny@sha256:")
    assert (tmp_path / ".tiny.gguf.sha256").is_file()


def test_unknown_local_model_name_fails(tmp_path: Path) -> None:
    from meeting_notes.errors import ModelNotFoundError

    with pytest.raises(ModelNotFoundError):
        resolve_local_model(Settings(cache_dir=tmp_path, llm=LLMSettings(local_model="no-such-model")))


# -- issue 19: the key goes only to a port our process holds; a new key per start -------------


class _KeyRecorder:
    """A foreign HTTP server on 127.0.0.1 that answers every GET like an open OpenAI server and
    records every Authorization header it is sent."""

    def __init__(self, port: int = 0) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.seen: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                outer.seen.append(self.headers.get("Authorization") or "")
                body = json.dumps({"data": [{"id": "m"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _KeyRecorder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_the_key_is_never_sent_to_a_port_another_process_holds(tmp_path: Path) -> None:
    # our "server" never binds (it is still loading); a foreign process answers on the port
    slow = [sys.executable, "-c", "import time; time.sleep(30)"]
    with _KeyRecorder() as foreign:
        with pytest.raises(LocalLLMError, match="another process"):
            start_server(slow, foreign.port, "m", 10, tmp_path / "log", "the-secret-key")
    assert not [h for h in foreign.seen if "the-secret-key" in h]


def test_each_start_gets_a_new_key_and_the_foreign_port_gets_none(fake_llama: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    keys: list[str] = []
    real_start = local_server.start_server

    def recording_start(command: list[str], port: int, alias: str, timeout_s: float, log_path: Path, api_key: str) -> LocalServer:
        keys.append(api_key)
        return real_start(command, port, alias, timeout_s, log_path, api_key)

    monkeypatch.setattr(local_server, "start_server", recording_start)
    with _KeyRecorder() as foreign:
        ports = iter([foreign.port])
        monkeypatch.setattr(local_server, "free_port", lambda: next(ports, None) or free_port())
        server, _ = ensure_local_server(fake_llama)
        assert server.port != foreign.port and len(keys) == 2 and keys[0] != keys[1] and server.api_key == keys[1]
        assert not [h for h in foreign.seen if any(k in h for k in keys)]
        # a crash: the restart on the same port is a start too, with a new key
        assert server.process is not None
        server.process.kill()
        server.process.wait()
        old = server.api_key
        assert server.checked_key() == server.api_key != old  # the guard hands the new key to the client
        assert len(keys) == 3 and server.api_key == keys[2]
        assert _probe(server.port, old) == (401, []) and _probe(server.port, server.api_key) == (200, ["m"])
        (state_file,) = (fake_llama.cache_dir / "llm-server").glob("*.json")
        assert json.loads(state_file.read_text())["api_key"] == server.api_key
