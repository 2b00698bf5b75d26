"""JSON over HTTP with retries: 429, 5xx, timeouts and connection errors are retried with
exponential backoff (honouring Retry-After); any other 4xx fails at once with the CRM's message."""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from meeting_notes.crm.errors import CRMAuthError, CRMRejectedError, CRMUnavailableError
from meeting_notes.settings import CRMSettings

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class _MaskSecrets(logging.Filter):
    """On httpx's logger (it logs every request's full URL at INFO): the secrets of every
    :class:`RetryingClient` made in this process (a webhook URL's path and query) masked."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            for secret in sorted(self.secrets, key=len, reverse=True):
                text = text.replace(secret, "***")
            record.msg, record.args = text, ()
        return True


_HTTPX_MASK = _MaskSecrets()
logging.getLogger("httpx").addFilter(_HTTPX_MASK)


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None  # 'nan', 'inf': unreadable
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


def json_body(response: httpx.Response, what: str) -> Any:
    """The JSON of a 2xx answer; a 2xx that is not JSON (a proxy's HTML page, an empty body where
    one is needed) is :class:`CRMUnavailableError`: nothing known was saved, push again later."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        kind = response.headers.get("Content-Type", "no content type")
        raise CRMUnavailableError(
            f"{what} answered HTTP {response.status_code} with a body that is not JSON ({kind}, {len(response.content)} bytes)"
        ) from exc


class RetryingClient:
    """An ``httpx.Client`` whose :meth:`request` retries what is worth retrying.

    ``secrets`` are masked in every message this class raises or logs. ``heartbeat`` is called
    before every attempt and every wait (the ledger's proof that the push is alive; it raises
    when the push was taken over, which stops it before its next request).
    """

    def __init__(
        self,
        settings: CRMSettings,
        headers: dict[str, str] | None = None,
        secrets: tuple[str, ...] = (),
        sleep: Callable[[float], None] = time.sleep,
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.secrets = tuple(sorted((s for s in secrets if s), key=len, reverse=True))
        _HTTPX_MASK.secrets.update(s for s in self.secrets if len(s) >= 4)
        self.sleep = sleep
        self.heartbeat = heartbeat or (lambda: None)
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

    def request(self, method: str, url: str, sign: Callable[[], dict[str, str]] | None = None, **kw: Any) -> httpx.Response:
        """The response of a 2xx (or a 207 multi-status); raises a typed error otherwise.
        ``sign`` gives headers made afresh for each attempt (a signed timestamp)."""
        s = self.settings
        last = ""
        for attempt in range(s.max_retries + 1):
            self.attempts += 1
            response: httpx.Response | None = None
            self.heartbeat()
            if sign is not None:
                kw["headers"] = {**(kw.get("headers") or {}), **sign()}
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
            self.heartbeat()
            self.sleep(delay)
        raise CRMUnavailableError(f"{method} {self._where(url)} failed after {s.max_retries + 1} attempts: {last}")

    def _where(self, url: str) -> str:
        """The request's path, as masked as any message (a webhook URL's path is its secret)."""
        return self.mask(httpx.URL(url).copy_with(query=None).path)
