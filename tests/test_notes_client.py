"""The LLM client against a fake OpenAI-compatible server: retries, permanent errors,
timeouts, structured-output formats, repair round-trip and the response cache."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_openai_server import FakeOpenAIServer, chat_reply, error_reply
from pydantic import BaseModel

from meeting_notes.notes.cache import ResponseCache
from meeting_notes.notes.llm_client import Endpoint, LLMClient, LLMError, backoff_delay, extract_json
from meeting_notes.settings import LLMSettings


class Answer(BaseModel):
    name: str
    items: list[str]


SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 20}, "items": {"type": "array", "items": {"type": "string"}}},
    "required": ["name", "items"],
}
GOOD = json.dumps({"name": "fruits", "items": ["apple", "pear"]})
MESSAGES = [{"role": "user", "content": "List fruits."}]


@pytest.fixture()
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


def make_client(
    server: FakeOpenAIServer,
    tmp_path: Path | None = None,
    kind: str = "local-compatible",
    **overrides: object,
) -> tuple[LLMClient, list[float]]:
    values: dict[str, object] = {
        "base_url": server.base_url,
        "model": "fake-model",
        "timeout_s": 2.0,
        "max_retries": 2,
        "backoff_base_s": 0.5,
        "backoff_max_s": 4.0,
        "structured_output": "json_object",
    }
    settings = LLMSettings.model_validate(values | overrides)
    endpoint = Endpoint(server.base_url, "fake-model", kind, f"test:{server.base_url}|fake-model")
    sleeps: list[float] = []
    cache = ResponseCache(tmp_path / "cache") if tmp_path is not None else None
    return LLMClient(endpoint, settings, cache, sleep=sleeps.append), sleeps


def ask(client: LLMClient, version: str = "v-test") -> Answer:
    return client.complete(MESSAGES, Answer, SCHEMA, "record", version).value


def test_rate_limit_and_server_errors_are_retried_with_backoff(server: FakeOpenAIServer) -> None:
    server.script([error_reply(429, "slow down"), error_reply(503, "overloaded"), chat_reply(GOOD)])
    client, sleeps = make_client(server)
    assert ask(client) == Answer(name="fruits", items=["apple", "pear"])
    assert len(server.requests) == 3
    assert client.usage.retries == 2
    assert client.usage.errors == ["rate_limited", "server_error"]
    # exponential with jitter: attempt 0 in [0.25, 0.5], attempt 1 in [0.5, 1.0]
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0


def test_retry_after_header_is_honoured(server: FakeOpenAIServer) -> None:
    server.script([error_reply(429, "slow down", headers={"Retry-After": "3"}), chat_reply(GOOD)])
    client, sleeps = make_client(server)
    ask(client)
    assert sleeps == [3.0]


def test_retries_give_up_with_the_error_code(server: FakeOpenAIServer) -> None:
    server.script([error_reply(500, "boom")] * 3)
    client, _ = make_client(server)
    with pytest.raises(LLMError) as info:
        ask(client)
    assert info.value.code == "server_error" and info.value.retryable
    assert "gave up after 3 attempts" in str(info.value)
    assert len(server.requests) == 3  # 1 + max_retries


def test_timeout_is_retried(server: FakeOpenAIServer) -> None:
    server.script([chat_reply(GOOD, delay_s=1.5), chat_reply(GOOD)])
    client, _ = make_client(server, timeout_s=0.5)
    assert ask(client).name == "fruits"
    assert client.usage.errors == ["timeout"]
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (error_reply(401, "Incorrect API key provided"), "auth_error"),
        (error_reply(403, "forbidden"), "permission_denied"),
        (error_reply(404, "The model `x` does not exist"), "not_found"),
        (error_reply(400, "This model's maximum context length is 16384 tokens", "context_length_exceeded"), "context_length_exceeded"),
        (error_reply(400, "Requested tokens (20000) exceed context window of 16384"), "context_length_exceeded"),
        (error_reply(429, "You exceeded your current quota", "insufficient_quota"), "insufficient_quota"),
    ],
)
def test_permanent_errors_fail_at_once(server: FakeOpenAIServer, reply: object, code: str) -> None:
    server.script([reply, chat_reply(GOOD)])  # type: ignore[list-item]
    client, sleeps = make_client(server)
    with pytest.raises(LLMError) as info:
        ask(client)
    assert info.value.code == code and not info.value.retryable
    assert len(server.requests) == 1 and sleeps == []


def test_invalid_json_gets_one_repair_round_trip(server: FakeOpenAIServer) -> None:
    server.script([chat_reply('{"name": "fruits", "items": "apple"'), chat_reply(GOOD)])
    client, _ = make_client(server)
    result = client.complete(MESSAGES, Answer, SCHEMA, "record", "v-test")
    assert result.repaired and result.value.items == ["apple", "pear"]
    repair = server.requests[1]["messages"]
    assert repair[:1] == MESSAGES
    assert repair[1] == {"role": "assistant", "content": '{"name": "fruits", "items": "apple"'}
    assert "rejected" in repair[2]["content"] and "not valid JSON" in repair[2]["content"]
    assert client.usage.invalid_first_responses == 1 and client.usage.repairs == 1


def test_schema_violation_is_reported_to_the_repair(server: FakeOpenAIServer) -> None:
    server.script([chat_reply(json.dumps({"name": "fruits"})), chat_reply(GOOD)])
    client, _ = make_client(server)
    ask(client)
    assert "items" in server.requests[1]["messages"][-1]["content"]


def test_invalid_twice_is_a_clear_failure(server: FakeOpenAIServer) -> None:
    server.script([chat_reply("sorry, I cannot"), chat_reply('{"name": 3}')])
    client, _ = make_client(server)
    with pytest.raises(LLMError) as info:
        ask(client)
    assert info.value.code == "invalid_output"
    assert len(server.requests) == 2


def test_cache_hit_sends_nothing(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.script([chat_reply(GOOD)])
    client, _ = make_client(server, tmp_path)
    first = client.complete(MESSAGES, Answer, SCHEMA, "record", "v-test")
    again, _ = make_client(server, tmp_path)
    second = again.complete(MESSAGES, Answer, SCHEMA, "record", "v-test")
    assert not first.cached and second.cached and second.value == first.value
    assert len(server.requests) == 1
    assert again.usage.cached_calls == 1 and again.usage.prompt_tokens == 0


def test_cache_writes_from_threads_never_collide(tmp_path: Path) -> None:
    """Threads of one process writing the same key each use their own temporary file (a
    pid-named one was shared, and one thread's rename could take another's half-written file)."""
    from concurrent.futures import ThreadPoolExecutor

    cache = ResponseCache(tmp_path / "cache")
    values = [{"n": n, "text": "x" * 20_000} for n in range(32)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda v: cache.put("ab" * 32, v), values))
    assert cache.get("ab" * 32) in values
    assert [p.name for p in (tmp_path / "cache" / "ab").iterdir()] == ["ab" * 32 + ".json"]


def test_cache_key_follows_prompt_version_and_model(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.script([chat_reply(GOOD)] * 2)
    client, _ = make_client(server, tmp_path)
    ask(client, "v1")
    ask(client, "v2")
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("mode", "expect"),
    [
        ("tool", "tools"),
        ("llama_json_schema", "json_object+schema"),
        ("llama_grammar", "grammar"),
        ("json_schema", "json_schema"),
        ("json_object", "json_object"),
    ],
)
def test_structured_output_request_shapes(server: FakeOpenAIServer, mode: str, expect: str) -> None:
    reply = chat_reply(tool_args=GOOD) if mode == "tool" else chat_reply(GOOD)
    server.script([reply])
    client, _ = make_client(server, structured_output=mode)
    assert ask(client).name == "fruits"
    req = server.requests[0]
    if expect == "tools":
        assert req["tools"][0]["function"]["parameters"] == SCHEMA
        assert req["tool_choice"] == {"type": "function", "function": {"name": "record"}}
    elif expect == "json_object+schema":
        # the same schema minus maxLength (llama.cpp's grammar parser fails on long limits)
        assert req["response_format"]["type"] == "json_object"
        sent = req["response_format"]["schema"]
        assert sent["properties"]["name"] == {"type": "string"} and sent["required"] == SCHEMA["required"]
    elif expect == "grammar":
        # the schema as a GBNF grammar whose only whitespace is an optional single space
        # (llama-server's own conversion allows newlines and indentation: slower answers)
        assert "response_format" not in req
        rules = dict(line.split(" ::= ", 1) for line in req["grammar"].splitlines() if " ::= " in line)
        assert rules["space"] == '" "?' and "\\n" not in req["grammar"]  # no newline anywhere
        assert rules["name-kv"].startswith('"\\"name\\""') and "root" in rules
        # every string value is bounded: a model repeating a sentence cannot run into max_tokens
        assert rules["string"] == '"\\"" char{0,800} "\\"" space'
    elif expect == "json_schema":
        assert req["response_format"]["type"] == "json_schema"
        assert req["response_format"]["json_schema"]["schema"] == SCHEMA
    else:
        assert req["response_format"] == {"type": "json_object"}
    assert req["model"] == "fake-model" and req["temperature"] == 0.0 and req["max_tokens"] == 2048


def test_auto_mode_uses_tools_remotely_and_falls_back_to_json_mode(server: FakeOpenAIServer) -> None:
    server.script([error_reply(400, "tools are not supported by this model"), chat_reply(GOOD)])
    client, _ = make_client(server, kind="remote-compatible", structured_output="auto")
    assert client.mode == "tool"
    assert ask(client).name == "fruits"
    assert "tools" in server.requests[0] and server.requests[1]["response_format"] == {"type": "json_object"}
    assert client.mode == "json_object" and client.usage.format_fallbacks == 1


def test_auto_mode_for_the_embedded_server_is_a_compact_grammar(server: FakeOpenAIServer) -> None:
    client, _ = make_client(server, kind="local-embedded", structured_output="auto")
    assert client.mode == "llama_grammar"


def test_connection_refused_is_retryable_then_fails(tmp_path: Path) -> None:
    with FakeOpenAIServer() as srv:
        client, sleeps = make_client(srv)
    # the server is gone: every attempt is refused
    with pytest.raises(LLMError) as info:
        ask(client)
    assert info.value.code == "connection_error" and len(sleeps) == 2


def test_extract_json_tolerates_fences_and_raw_newlines() -> None:
    assert extract_json('```json\n{"a": "x\ny"}\n```') == {"a": "x\ny"}
    assert extract_json('Here: {"a": 1} done') == {"a": 1}
    with pytest.raises(ValueError):
        extract_json("no json here")


def test_backoff_is_capped() -> None:
    for attempt in range(10):
        assert backoff_delay(attempt, 1.0, 5.0) <= 5.0
