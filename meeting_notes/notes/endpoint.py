"""The LLM endpoint the settings name: which kind it is, its key, the embedded server started
when it is the one, the client, and what a meeting's tokens cost there. Used by the notes and by
the names stage's reading of introductions."""

from __future__ import annotations

import os
from urllib.parse import urlparse

from meeting_notes.notes.cache import ResponseCache
from meeting_notes.notes.llm_client import Endpoint, LLMClient, LLMError, Usage
from meeting_notes.notes.local_server import HOST, ensure_local_server, resolve_local_model
from meeting_notes.settings import LLMSettings, Settings, public_url

LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


def endpoint_kind(base_url: str | None, api_version: str | None = None) -> str:
    """'local-embedded', 'azure', 'openai', 'local-compatible' or 'remote-compatible'."""
    if base_url is None:
        return "local-embedded"
    if api_version:
        return "azure"
    host = (urlparse(base_url).hostname or "").lower()
    if host == "api.openai.com":
        return "openai"
    if host in LOOPBACK:
        return "local-compatible"
    return "remote-compatible"


def _api_key(llm: LLMSettings, kind: str) -> str:
    key = (llm.api_key.get_secret_value() if llm.api_key else None) or os.environ.get(
        "AZURE_OPENAI_API_KEY" if kind == "azure" else "OPENAI_API_KEY"
    )
    if key:
        return key
    if kind in ("openai", "azure"):
        raise LLMError(
            f"No API key for the {kind} endpoint: set MEETING_NOTES_LLM__API_KEY "
            f"(or {'AZURE_OPENAI_API_KEY' if kind == 'azure' else 'OPENAI_API_KEY'}).",
            "auth_error",
        )
    return "no-key"  # vLLM, llama.cpp, Ollama usually need none


def describe_endpoint(settings: Settings) -> Endpoint:
    """The endpoint the settings name, without starting anything (for cache keys and run.json)."""
    llm = settings.llm
    kind = endpoint_kind(llm.base_url, llm.api_version)
    if kind == "local-embedded":
        model = resolve_local_model(settings)
        # The port is chosen when the server starts (open_endpoint) unless llm.local_port names one.
        return Endpoint(f"http://{HOST}:{llm.local_port or 0}/v1", model.name, kind, model.identity)
    if not llm.model:
        raise LLMError(
            "MEETING_NOTES_LLM__MODEL must name the model (the deployment on Azure) when "
            "MEETING_NOTES_LLM__BASE_URL is set.",
            "config_error",
        )
    assert llm.base_url is not None
    return Endpoint(
        base_url=llm.base_url.rstrip("/"),
        model=llm.model,
        kind=kind,
        identity=f"{kind}:{public_url(llm.base_url)}|{llm.model}",
        api_key=_api_key(llm, kind),
        api_version=llm.api_version,
    )


def open_endpoint(settings: Settings) -> Endpoint:
    """:func:`describe_endpoint`, starting (or reusing) the embedded server when it is the one."""
    endpoint = describe_endpoint(settings)
    if endpoint.kind == "local-embedded":
        server, _ = ensure_local_server(settings)
        endpoint = Endpoint(
            server.base_url, endpoint.model, endpoint.kind, endpoint.identity, api_key=server.api_key, guard=server.checked_key
        )
    return endpoint


def make_client(settings: Settings, endpoint: Endpoint) -> LLMClient:
    cache_root = settings.llm.cache_dir or (settings.cache_dir / "llm-responses")
    return LLMClient(endpoint, settings.llm, ResponseCache(cache_root) if settings.llm.cache else None)


def should_redact(llm: LLMSettings, endpoint: Endpoint) -> bool:
    return llm.redact == "on" or (llm.redact == "auto" and not endpoint.is_local)


def context_tokens(llm: LLMSettings, endpoint: Endpoint) -> int:
    if llm.context_tokens:
        return llm.context_tokens
    return llm.local_context if endpoint.kind == "local-embedded" else 32768


def estimate_cost(llm: LLMSettings, endpoint: Endpoint, usage: Usage) -> float | None:
    """USD for this meeting's tokens; 0 on this machine; None when the model has no price."""
    if endpoint.is_local:
        return 0.0
    price = llm.prices.get(endpoint.model)
    if price is None:
        return None
    return round(
        usage.prompt_tokens * price.prompt_per_million / 1e6
        + usage.completion_tokens * price.completion_per_million / 1e6,
        6,
    )


__all__ = [
    "context_tokens",
    "describe_endpoint",
    "endpoint_kind",
    "estimate_cost",
    "make_client",
    "open_endpoint",
    "should_redact",
]
