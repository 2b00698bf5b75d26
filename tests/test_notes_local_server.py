"""The embedded server's life cycle, with the fake server standing in for llama.cpp."""

from __future__ import annotations

import hashlib
import importlib.util
import socket
import sys
from pathlib import Path

import pytest
from fake_openai_server import FakeOpenAIServer

from meeting_notes.notes import local_server
from meeting_notes.notes.local_server import (
    LocalLLMError,
    LocalModel,
    _probe,
    ensure_local_server,
    resolve_local_model,
    server_command,
    start_server,
)
from meeting_notes.settings import LLMSettings, Settings

FAKE = str(Path(__file__).with_name("fake_openai_server.py"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_running_server_with_the_alias_is_reused(tmp_path: Path) -> None:
    with FakeOpenAIServer(model_id="my-model") as srv:
        server = start_server(["false"], srv.port, "my-model", 5, tmp_path / "log")
        assert not server.started and server.process is None
        assert server.base_url == f"http://127.0.0.1:{srv.port}/v1"


def test_port_taken_by_another_model_fails_loudly(tmp_path: Path) -> None:
    with FakeOpenAIServer(model_id="other") as srv:
        with pytest.raises(LocalLLMError, match="already serves other models"):
            start_server(["false"], srv.port, "my-model", 5, tmp_path / "log")


def test_started_server_answers_and_is_stopped(tmp_path: Path) -> None:
    port = free_port()
    cmd = [sys.executable, FAKE, "--port", str(port), "--model-id", "my-model"]
    server = start_server(cmd, port, "my-model", 30, tmp_path / "log")
    try:
        assert server.started and server.process is not None and server.process.poll() is None
        assert _probe(port) == ["my-model"]
        assert local_server._SERVERS[port] is server  # stopped at exit by the atexit hook
        again = start_server(cmd, port, "my-model", 30, tmp_path / "log")
        assert not again.started  # a second caller reuses it
    finally:
        local_server._stop_all()
    assert server.process.poll() is not None
    assert _probe(port) is None


def test_server_that_dies_at_start_reports_its_log(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "import sys; print('bad model file'); sys.exit(3)"]
    with pytest.raises(LocalLLMError, match="exited with code 3") as info:
        start_server(cmd, free_port(), "my-model", 30, tmp_path / "log")
    assert "bad model file" in str(info.value)


def test_server_command_binds_loopback_only() -> None:
    settings = Settings(llm=LLMSettings(local_port=9999, local_threads=3, local_context=8192))
    cmd = server_command(LocalModel("m", Path("/x/m.gguf"), "0" * 64), settings)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--port") + 1] == "9999"
    assert cmd[cmd.index("--n_threads") + 1] == "3" and cmd[cmd.index("--n_ctx") + 1] == "8192"
    assert cmd[cmd.index("--model_alias") + 1] == "m"


def test_server_threads_default_to_the_cpu_threads_setting() -> None:
    settings = Settings(cpu_threads=5)
    cmd = server_command(LocalModel("m", Path("/x/m.gguf"), "0" * 64), settings)
    assert cmd[cmd.index("--n_threads") + 1] == "5" and cmd[cmd.index("--n_threads_batch") + 1] == "5"


def test_missing_llama_cpp_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(local_server.importlib.util, "find_spec", lambda n, *a: None if n == "llama_cpp" else real(n, *a))
    monkeypatch.setattr(local_server, "resolve_local_model", lambda s: LocalModel("m", tmp_path / "m.gguf", "0" * 64))
    settings = Settings(cache_dir=tmp_path, llm=LLMSettings(local_port=free_port()))
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
