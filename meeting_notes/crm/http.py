"""JSON over HTTP with retries: 429, 5xx, timeouts and connection errors are retried with
exponential backoff (honouring Retry-After); any other 4xx fails at once with the CRM's message."""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from meeting_notes.crm.errors import CRMAuthError, CRMRejectedError, CRMUnavailableError
from meeting_notes.settings import CRMSettings

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (now if now is not None else time.time()), 0.0)


def crm_message(response: httpx.Response) -> tuple[str, str | None]:
    """The CRM's error text and, when it names one, the field (Salesforce and HubSpot error shapes)."""
    try:
        data: Any = response.json()
    except (json.JSONDecodeError, ValueError):
        return (response.text or response.reason_phrase or "")[:500], None
    return error_text(data)


def error_text(data: Any) -> tuple[str, str | None]:
    """Message and field from a Salesforce error list or a HubSpot error object."""
    if isinstance(data, list) and data and isinstance(data[0], dict):  # Salesforce: [{message, errorCode, fields}]
        first = data[0]
        fields = first.get("fields") or []
        code = first.get("errorCode") or first.get("statusCode") or ""
        return f"{code}: {first.get('message', '')}".strip(": "), (fields[0] if fields else None)
    if isinstance(data, dict):
        if "errors" in data and isinstance(data["errors"], list) and data["errors"]:
            err = data["errors"][0] if isinstance(data["errors"][0], dict) else {}
            ctx = err.get("context") or {}
            names = ctx.get("propertyName") if isinstance(ctx, dict) else None
            field = names[0] if isinstance(names, list) and names else None
            msg = data.get("message") or err.get("message") or ""
            return f"{data.get('category', '')}: {msg}".strip(": "), field
        if "message" in data:
            return f"{data.get('category') or data.get('errorCode') or ''}: {data['message']}".strip(": "), None
    return json.dumps(data, ensure_ascii=False)[:500], None


class RetryingClient:
    """An ``httpx.Client`` whose :meth:`request` retries what is worth retrying.

    ``secrets`` are masked in every message this class raises or logs.
    """

    def __init__(
        self,
        settings: CRMSettings,
        headers: dict[str, str] | None = None,
        secrets: tuple[str, ...] = (),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.secrets = tuple(s for s in secrets if s)
        self.sleep = sleep
        self.client = httpx.Client(timeout=settings.timeout_s, headers=headers or {})
        self.attempts = 0

    def __enter__(self) -> RetryingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        s = self.settings
        after = retry_after_s(response.headers.get("Retry-After")) if response is not None else None
        if after is not None:
            if after > s.retry_after_max_s:
                raise CRMUnavailableError(
                    f"the CRM asked to wait {after:.0f} s (Retry-After), longer than crm.retry_after_max_s; push again later"
                )
            return after
        base = min(s.backoff_base_s * (2**attempt), s.backoff_max_s)
        return base * (0.5 + random.random() / 2)

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """The response of a 2xx (or a 207 multi-status); raises a typed error otherwise."""
        s = self.settings
        last = ""
        for attempt in range(s.max_retries + 1):
            self.attempts += 1
            response: httpx.Response | None = None
            try:
                response = self.client.request(method, url, **kw)
            except httpx.TimeoutException as exc:
                last = f"timeout after {s.timeout_s:g} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last = self.mask(f"connection error: {type(exc).__name__}: {exc}")
            else:
                if response.status_code < 400:
                    return response
                message, field = crm_message(response)
                message = self.mask(message)
                if response.status_code in (401, 403):
                    raise CRMAuthError(f"HTTP {response.status_code} from {self._where(url)}: {message}")
                if response.status_code not in RETRY_STATUSES:
                    raise CRMRejectedError(
                        f"HTTP {response.status_code} from {self._where(url)}: {message}"
                        + (f" (field {field})" if field else ""),
                        status=response.status_code,
                        field=field,
                    )
                last = f"HTTP {response.status_code}: {message}"
            if attempt == s.max_retries:
                break
            delay = self._delay(attempt, response)
            log.warning(
                "CRM request %s %s failed (%s); retry %d/%d in %.1f s", method, self._where(url), last, attempt + 1, s.max_retries, delay
            )
            self.sleep(delay)
        raise CRMUnavailableError(f"{method} {self._where(url)} failed after {s.max_retries + 1} attempts: {last}")

    @staticmethod
    def _where(url: str) -> str:
        return httpx.URL(url).copy_with(query=None).path
