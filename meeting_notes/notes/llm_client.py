"""Schema-valid JSON from any OpenAI-compatible chat-completions endpoint.

One code path for OpenAI, Azure OpenAI, vLLM, llama.cpp and Ollama: the ``openai`` client with
its own retries off; this module retries retryable errors (429, 5xx, timeouts, connection
errors) with exponential backoff and jitter, fails at once on permanent ones (401, 403, 404,
400 including context length), validates the JSON against a pydantic model, asks once for a
repair with the validation error, and caches valid responses.
"""

from __future__ import annotations

import functools
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from meeting_notes.errors import MeetingNotesError
from meeting_notes.notes.cache import ResponseCache, cache_key
from meeting_notes.settings import LLMSettings

if TYPE_CHECKING:
    import openai

M = TypeVar("M", bound=BaseModel)

RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}
_CONTEXT_RE = re.compile(
    r"context[ _-]?(length|window)|maximum context|too many tokens|exceed.{0,40}(context|token)|"
    r"prompt is too long|requested tokens",
    re.IGNORECASE,
)


class LLMError(MeetingNotesError):
    """A failed LLM call. ``code`` goes into run.json; ``retryable`` says whether it was."""

    def __init__(self, message: str, code: str, retryable: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.status = status


@dataclass(frozen=True)
class Endpoint:
    """Where requests go and how the endpoint is named in run.json and cache keys."""

    base_url: str = field(repr=False)  # may carry credentials (user:password@): identity is the public form
    model: str
    kind: str  # 'local-embedded', 'openai', 'azure', 'local-compatible', 'remote-compatible'
    identity: str  # the model's identity for cache keys (weights hash for the embedded model)
    api_key: str = field(default="no-key", repr=False)  # never in a repr, log or traceback
    api_version: str | None = None
    #: Called before every request (the embedded server checks it is still ours and up); returns
    #: the key to send now (a restarted server has a new one), or None to keep the client's.
    guard: Callable[[], str | None] | None = field(default=None, repr=False, compare=False)

    @property
    def is_local(self) -> bool:
        return self.kind in ("local-embedded", "local-compatible")


@dataclass
class Usage:
    """Token and call counters of one meeting."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    cached_calls: int = 0
    retries: int = 0
    repairs: int = 0
    invalid_first_responses: int = 0
    format_fallbacks: int = 0
    latency_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "calls": self.calls,
            "cached_calls": self.cached_calls,
            "retries": self.retries,
            "repairs": self.repairs,
            "invalid_first_responses": self.invalid_first_responses,
            "format_fallbacks": self.format_fallbacks,
            "latency_s": round(self.latency_s, 3),
        }


@dataclass
class JSONResult(Generic[M]):
    value: M
    raw: str
    cached: bool
    repaired: bool


def _openai() -> ModuleType:
    """The ``openai`` package, imported when a client is made (it takes about a second: the CLI's
    other commands, the report and the CRM never need it)."""
    import openai

    return openai


def classify_error(exc: BaseException) -> LLMError:
    """Map an ``openai`` exception to an :class:`LLMError` with a stable code."""
    if isinstance(exc, LLMError):
        return exc
    openai = _openai()
    if isinstance(exc, openai.APITimeoutError):
        return LLMError(f"The LLM call timed out: {exc}", "timeout", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(f"Cannot reach the LLM endpoint: {exc}", "connection_error", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        body = exc.body if isinstance(exc.body, dict) else {}
        err = body.get("error", body) if isinstance(body, dict) else {}
        api_code = str(err.get("code") or "") if isinstance(err, dict) else ""
        text = f"{exc.message} {api_code}"
        if status == 429 and api_code == "insufficient_quota":
            return LLMError(f"The API account has no quota left: {exc.message}", "insufficient_quota", status=status)
        if status in (400, 413, 422) and (api_code == "context_length_exceeded" or _CONTEXT_RE.search(text)):
            return LLMError(f"The prompt does not fit the model's context: {exc.message}", "context_length_exceeded", status=status)
        if status == 401:
            return LLMError(f"The LLM endpoint rejected the API key (401): {exc.message}", "auth_error", status=status)
        if status == 403:
            return LLMError(f"Access denied by the LLM endpoint (403): {exc.message}", "permission_denied", status=status)
        if status == 404:
            return LLMError(f"Model or endpoint not found (404): {exc.message}", "not_found", status=status)
        if status in RETRYABLE_STATUS:
            code = "rate_limited" if status == 429 else "server_error" if status >= 500 else f"http_{status}"
            return LLMError(f"LLM endpoint error {status}: {exc.message}", code, retryable=True, status=status)
        if status in (400, 422):
            return LLMError(f"The LLM endpoint rejected the request ({status}): {exc.message}", "bad_request", status=status)
        return LLMError(f"LLM endpoint error {status}: {exc.message}", f"http_{status}", retryable=status >= 500, status=status)
    if isinstance(exc, openai.OpenAIError):
        return LLMError(f"LLM client error: {exc}", "client_error")
    return LLMError(f"{type(exc).__name__}: {exc}", "unexpected_error")


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter: uniform in [d/2, d], d = min(cap, base * 2**attempt);
    a server's Retry-After (capped) is honoured when longer."""
    d = min(cap, base * (2**attempt))
    delay = random.uniform(d / 2, d)
    if retry_after is not None:
        delay = max(delay, min(cap, retry_after))
    return delay


#: Longest JSON string value the compact grammar lets a model write: a 1.5B model sometimes
#: repeats one sentence of a summary until ``max_tokens`` (then the whole answer is cut off and
#: lost); bounded, the value ends and the answer stays valid JSON.
MAX_GRAMMAR_STRING_CHARS = 800
_STRING_RULE = re.compile(r'^string ::= "\\"" char\* "\\"" space$', re.M)


@functools.lru_cache(maxsize=64)
def _compact_gbnf(schema_json: str) -> str | None:
    try:
        from llama_cpp.llama_grammar import json_schema_to_gbnf
    except ImportError:  # llama-cpp-python not installed: the server converts the schema itself
        return None
    bounded = f'string ::= "\\"" char{{0,{MAX_GRAMMAR_STRING_CHARS}}} "\\"" space'
    return _STRING_RULE.sub(lambda _: bounded, str(json_schema_to_gbnf(schema_json)))


def compact_json_grammar(schema: dict[str, Any]) -> str | None:
    """A GBNF grammar for ``schema`` that allows no whitespace but single spaces (None without
    llama-cpp-python; it is the grammar llama-cpp-python's server makes of a schema itself).
    llama-server's own conversion lets the model write newlines and up to 20 spaces of
    indentation between tokens, and the coder model pretty-prints: in the 30-minute speed run
    the rest pass wrote 376 tokens instead of 248, at ~0.1-0.2 s a token on 2 CPU cores. Every
    string value is bounded (:data:`MAX_GRAMMAR_STRING_CHARS`); converted once per schema."""
    return _compact_gbnf(json.dumps(schema))  # key order kept: the grammar writes properties in this order


def strip_keys(node: Any, keys: set[str]) -> Any:
    """A copy of a JSON schema without the given keywords."""
    if isinstance(node, dict):
        return {
            k: (strip_keys(v, keys) if k != "properties" else {p: strip_keys(x, keys) for p, x in v.items()})
            for k, v in node.items()
            if k not in keys
        }
    if isinstance(node, list):
        return [strip_keys(v, keys) for v in node]
    return node


def extract_json(text: str) -> Any:
    """Parse the JSON object in a response (tolerates code fences and raw newlines in strings)."""
    s = text.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", s, re.DOTALL)
    if fence:
        s = fence.group(1).strip()
    start, end = s.find("{"), s.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("no JSON object in the response")
    return json.loads(s[start : end + 1], strict=False)


def _validate(model: type[M], text: str) -> M:
    try:
        data = extract_json(text)
    except (ValueError, json.JSONDecodeError) as exc:
        raise ValueError(f"The response is not valid JSON ({exc}).") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"The JSON does not match the schema: {exc}") from exc


class LLMClient:
    """Chat completions that return a validated pydantic model."""

    def __init__(
        self,
        endpoint: Endpoint,
        settings: LLMSettings,
        cache: ResponseCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint
        self.settings = settings
        self.cache = cache
        self.sleep = sleep
        self.usage = Usage()
        self.mode = self._initial_mode()
        self.timeout_s = settings.timeout_s or (1200.0 if endpoint.kind == "local-embedded" else 300.0)
        library = _openai()
        if endpoint.api_version:
            self._client: openai.OpenAI = library.AzureOpenAI(
                azure_endpoint=endpoint.base_url,
                api_key=endpoint.api_key,
                api_version=endpoint.api_version,
                timeout=self.timeout_s,
                max_retries=0,
            )
        else:
            self._client = library.OpenAI(
                base_url=endpoint.base_url,
                api_key=endpoint.api_key,
                timeout=self.timeout_s,
                max_retries=0,
            )

    def _initial_mode(self) -> str:
        mode = self.settings.structured_output
        if mode != "auto":
            return mode
        return "llama_grammar" if self.endpoint.kind == "local-embedded" else "tool"

    # -- one HTTP call -------------------------------------------------------------------
    def _request(
        self, messages: list[dict[str, Any]], schema: dict[str, Any], name: str, max_tokens: int | None = None
    ) -> tuple[str, str | None]:
        kwargs: dict[str, Any] = {
            "model": self.endpoint.model,
            "messages": messages,
            "temperature": self.settings.temperature,
            "timeout": self.timeout_s,
            self.settings.max_tokens_param: max_tokens or self.settings.max_output_tokens,
        }
        if self.mode == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": False},
            }
        elif self.mode == "llama_grammar" and (grammar := compact_json_grammar(strip_keys(schema, {"maxLength"}))):
            kwargs["extra_body"] = {"grammar": grammar}
        elif self.mode in ("llama_json_schema", "llama_grammar"):
            # llama.cpp unrolls maxLength into nested grammar rules; long limits crash its
            # grammar parser, so string lengths are left to the prompt and max_tokens.
            kwargs["response_format"] = {"type": "json_object", "schema": strip_keys(schema, {"maxLength"})}
        elif self.mode == "tool":
            kwargs["tools"] = [
                {"type": "function", "function": {"name": name, "description": "Record the result.", "parameters": schema}}
            ]
            kwargs["tool_choice"] = {"type": "function", "function": {"name": name}}
        elif self.mode == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        if self.endpoint.guard is not None:
            key = self.endpoint.guard()
            if key and key != self._client.api_key:
                self._client.api_key = key  # the embedded server was restarted with a new key
        t0 = time.perf_counter()
        try:
            resp = self._client.chat.completions.create(**kwargs)
        finally:
            self.usage.latency_s += time.perf_counter() - t0
        self.usage.calls += 1
        if resp.usage is not None:
            self.usage.prompt_tokens += resp.usage.prompt_tokens or 0
            self.usage.completion_tokens += resp.usage.completion_tokens or 0
        if not resp.choices:
            raise LLMError("The LLM endpoint returned no choices.", "empty_response")
        choice = resp.choices[0]
        msg = choice.message
        text = ""
        if msg.tool_calls:
            text = msg.tool_calls[0].function.arguments or ""
        if not text:
            text = msg.content or ""
        return text, choice.finish_reason

    def _request_with_retries(
        self, messages: list[dict[str, Any]], schema: dict[str, Any], name: str, max_tokens: int | None = None
    ) -> tuple[str, str | None]:
        attempt = 0
        while True:
            try:
                return self._request(messages, schema, name, max_tokens)
            except Exception as exc:  # classified below; unknown errors are permanent
                err = classify_error(exc)
                self.usage.errors.append(err.code)
                if err.code == "bad_request" and self.mode != "json_object":
                    # The server does not accept this structured-output format: JSON mode.
                    self.mode = "json_object"
                    self.usage.format_fallbacks += 1
                    continue
                if not err.retryable or attempt >= self.settings.max_retries:
                    if err.retryable:
                        err.args = (f"{err.args[0]} (gave up after {attempt + 1} attempts)",)
                    raise err from exc
                self.sleep(
                    backoff_delay(attempt, self.settings.backoff_base_s, self.settings.backoff_max_s, _retry_after(exc))
                )
                attempt += 1
                self.usage.retries += 1

    # -- validated JSON ------------------------------------------------------------------
    def complete(
        self,
        messages: list[dict[str, Any]],
        model: type[M],
        schema: dict[str, Any],
        name: str,
        prompt_version: str,
        max_tokens: int | None = None,
    ) -> JSONResult[M]:
        """Ask for JSON matching ``schema``, validate it as ``model``; one repair round-trip.
        ``max_tokens`` overrides the completion limit of the settings for this call."""
        key = cache_key(
            self.endpoint.identity,
            prompt_version,
            {
                "messages": messages,
                "schema": schema,
                "temperature": self.settings.temperature,
                "max_output_tokens": max_tokens or self.settings.max_output_tokens,
                "mode": self.mode,
            },
        )
        if self.cache is not None and self.settings.cache:
            hit = self.cache.get(key)
            if hit is not None:
                try:
                    value = _validate(model, hit["raw"])
                except ValueError:
                    value = None
                if value is not None:
                    self.usage.cached_calls += 1
                    return JSONResult(value, hit["raw"], cached=True, repaired=bool(hit.get("repaired")))

        text, finish = self._request_with_retries(messages, schema, name, max_tokens)
        repaired = False
        try:
            value = _validate(model, text)
        except ValueError as first_error:
            self.usage.invalid_first_responses += 1
            self.usage.repairs += 1
            repaired = True
            problem = str(first_error)[:1500]
            if finish == "length":
                problem += " The output was cut off at the token limit: be shorter (fewer, shorter items)."
            repair_messages = messages + [
                {"role": "assistant", "content": text[:6000]},
                {
                    "role": "user",
                    "content": f"Your previous answer was rejected: {problem}\n"
                    "Return the complete corrected JSON object only, matching the schema.",
                },
            ]
            text, finish = self._request_with_retries(repair_messages, schema, name, max_tokens)
            try:
                value = _validate(model, text)
            except ValueError as second_error:
                raise LLMError(
                    f"The LLM did not return valid notes JSON, even after one repair round-trip: {second_error}"[:2000],
                    "invalid_output",
                ) from second_error
        if self.cache is not None and self.settings.cache:
            self.cache.put(key, {"raw": text, "repaired": repaired, "model": self.endpoint.identity})
        return JSONResult(value, text, cached=False, repaired=repaired)
