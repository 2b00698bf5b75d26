"""Settings of the notes' LLM: the endpoint, the embedded server, the passes, prices."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_serializer

from meeting_notes.settings.base import PROJECT_ROOT


class ModelPrice(BaseModel):
    """Price of one model in USD per million tokens."""

    prompt_per_million: float = Field(description="USD per million prompt tokens.")
    completion_per_million: float = Field(description="USD per million completion tokens.")


def _default_prices() -> dict[str, ModelPrice]:
    # USD per 1M tokens as published by OpenAI when this table was written; check the current
    # price list and override with MEETING_NOTES_LLM__PRICES='{"model": {...}}'.
    return {
        "gpt-4o-mini": ModelPrice(prompt_per_million=0.15, completion_per_million=0.60),
        "gpt-4o": ModelPrice(prompt_per_million=2.50, completion_per_million=10.00),
        "gpt-4.1-mini": ModelPrice(prompt_per_million=0.40, completion_per_million=1.60),
        "gpt-4.1": ModelPrice(prompt_per_million=2.00, completion_per_million=8.00),
    }


StructuredOutput = Literal["auto", "json_schema", "tool", "llama_json_schema", "llama_grammar", "json_object"]


def public_url(url: str) -> str:
    """``url`` without what may be secret (user and password, query string, fragment): the form
    that goes into run.json, notes, cache keys and artifacts."""
    from urllib.parse import urlparse

    parts = urlparse(url.rstrip("/"))
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc, query="", fragment="").geturl()


class LLMSettings(BaseModel):
    """OpenAI-compatible LLM endpoint for the notes step (issue: CRM notes)."""

    @field_serializer("base_url")
    def _base_url_public(self, value: str | None) -> str | None:
        return public_url(value) if value else value


    base_url: str | None = Field(
        None,
        repr=False,
        description="OpenAI-compatible base URL (e.g. https://api.openai.com/v1, "
        "http://gpu-box:8000/v1 for vLLM, http://localhost:11434/v1 for Ollama). "
        "None: start (or reuse) the embedded llama.cpp server on 127.0.0.1.",
    )
    api_key: SecretStr | None = Field(
        None, description="API key; OPENAI_API_KEY is used when unset. Never written to run.json, notes or logs."
    )
    model: str | None = Field(
        None,
        description="Model name at base_url (the deployment name on Azure). Not used by the "
        "embedded server, which serves local_model.",
    )
    api_version: str | None = Field(
        None, description="Set for Azure OpenAI (e.g. '2024-10-21'): base_url is then the Azure endpoint."
    )
    temperature: float = Field(0.0, description="Sampling temperature (0: as deterministic as the server allows).")
    timeout_s: float | None = Field(
        None,
        description="Per-call timeout in seconds; None: 1200 for the embedded server (a 30-minute "
        "meeting takes minutes on 2 CPU cores), 300 elsewhere.",
    )
    max_retries: int = Field(3, description="Retries of retryable errors (429, 5xx, timeouts, connection).")
    backoff_base_s: float = Field(1.0, description="First retry delay; doubles each retry, with jitter.")
    backoff_max_s: float = Field(30.0, description="Longest delay between retries.")
    max_output_tokens: int = Field(2048, description="Completion token limit per call.")
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = Field(
        "max_tokens", description="'max_completion_tokens' for OpenAI reasoning models."
    )
    structured_output: StructuredOutput = Field(
        "auto",
        description="How JSON is requested: 'json_schema' (OpenAI response_format), 'tool' (forced "
        "tool call; OpenAI, Azure, vLLM, Ollama), 'llama_json_schema' (llama.cpp's json_object + "
        "schema), 'llama_grammar' (llama.cpp: the schema as a compact GBNF grammar, no pretty-printing "
        "whitespace), 'json_object' (JSON mode, schema in the prompt). 'auto': llama_grammar for "
        "the embedded server, tool elsewhere; a server that rejects it gets JSON mode.",
    )
    context_tokens: int | None = Field(
        None,
        description="Context window of the model; None: local_context for the embedded server, "
        "32768 elsewhere. Longer transcripts are map-reduced in chunks.",
    )
    chunk_tokens: int | None = Field(
        None, description="Cap on transcript tokens per call (forces map-reduce above it); None: as fits."
    )
    tokens_per_word: float = Field(
        1.6, description="Token estimate per space-separated word (English transcript lines, Qwen).")
    tokens_per_cjk_char: float = Field(
        0.8, description="Token estimate per Japanese/Chinese character (measured 0.71 with Qwen).")
    redact: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Redact emails, phone and card-like numbers before sending the transcript; "
        "'auto': on for every endpoint that is not on this machine.",
    )
    prompt_version: str = Field("v1", description="Folder under prompts/notes/ for notes_method=single.")
    notes_method: Literal["passes", "single"] = Field(
        "passes",
        description="'passes': focused questions (people, money, dates, competitors, next steps, the "
        "rest) sharing one cached prompt prefix, with amounts and dates found by rule; 'single': one "
        "call fills the whole schema (map-reduce over chunks for long meetings).",
    )
    passes_prompt_version: str = Field("v3", description="Folder under prompts/notes/ for notes_method=passes.")
    passes_transcript_tokens: int | None = Field(
        None,
        description="notes_method=passes: most transcript tokens in one prompt; a longer meeting is read "
        "in windows of this size (see passes_whole). None: 2500 on the embedded server (speed on 2 cores), "
        "what fits the context elsewhere.",
    )
    passes_whole: bool = Field(
        True,
        description="notes_method=passes: read a meeting longer than passes_transcript_tokens whole, in "
        "windows (every segment reaches the model); false: condense it to the opening, the close and the "
        "lines with the most cues (faster; the notes then warn how much was read).",
    )
    passes_max_output_tokens: int = Field(700, description="notes_method=passes: completion token limit per pass.")
    prompts_dir: Path = Field(PROJECT_ROOT / "prompts" / "notes", description="Folder of the versioned prompt files.")
    cache: bool = Field(True, description="Cache LLM responses by (model, prompt version, input hash).")
    cache_dir: Path | None = Field(None, description="None: <cache_dir>/llm-responses.")
    prices: dict[str, ModelPrice] = Field(
        default_factory=_default_prices, description="USD per million tokens by model name."
    )
    local_model: str = Field(
        "qwen2.5-coder-1.5b-instruct-q4km", description="Registry name or GGUF path for the embedded server."
    )
    local_port: int | None = Field(
        None,
        description="Port of the embedded server on 127.0.0.1; None: a free random port. A server "
        "already there is used only if this tool started it (checked by pid, command and API key).",
    )
    local_threads: int = Field(
        0,
        description="llama.cpp threads; 0: the cpu_threads setting (all cores by default: the notes "
        "step runs after transcription, and on 2 cores 2 threads answered 1.75x faster than 1). Set it "
        "lower on a host where other busy processes share the cores: llama.cpp slows down several-fold "
        "when its threads compete for them.",
    )
    local_runtime: Literal["auto", "llama-server", "llama-cpp-python"] = Field(
        "auto",
        description="Server program of the embedded model: 'llama-server' (llama.cpp's C++ server, "
        "built by scripts/install_local_llm.sh from the sources llama-cpp-python ships; faster JSON "
        "sampling), 'llama-cpp-python' (its Python server), 'auto': llama-server when installed.",
    )
    llama_server_path: Path | None = Field(
        None, description="The llama-server program; None: 'llama-server' beside this Python (the venv's bin/)."
    )
    local_context: int = Field(16384, description="Context window the embedded server is started with.")
    local_startup_timeout_s: float = Field(180.0, description="How long to wait for the embedded server to answer.")
