"""A scriptable fake OpenAI-compatible HTTP server on 127.0.0.1 for the notes tests.

In process: ``with FakeOpenAIServer() as srv:`` then ``srv.script([...])`` queues responses for
``POST /v1/chat/completions`` (one per request, in order); when the queue is empty
``srv.responder(request_json)`` answers. Every request body is kept in ``srv.requests``.
``GET /v1/models`` lists ``model_id``.

As a process (for the local-server start/stop tests)::

    API_KEY=secret python tests/fake_openai_server.py --port 8799 --model-id NAME
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def chat_reply(
    content: str | None = None,
    tool_args: str | None = None,
    prompt_tokens: int = 100,
    completion_tokens: int = 50,
    finish_reason: str = "stop",
    delay_s: float = 0.0,
) -> Reply:
    """A chat.completion answer with ``content`` or a tool call carrying ``tool_args``."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_args is not None:
        message["content"] = None
        message["tool_calls"] = [
            {"id": "call_1", "type": "function", "function": {"name": "record", "arguments": tool_args}}
        ]
        finish_reason = "tool_calls" if finish_reason == "stop" else finish_reason
    return Reply(
        body={
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "fake-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        },
        delay_s=delay_s,
    )


def error_reply(status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None) -> Reply:
    """An OpenAI-style error body."""
    return Reply(
        status=status,
        body={"error": {"message": message, "type": "invalid_request_error", "code": code}},
        headers=headers or {},
    )


def _default_responder(request: dict[str, Any]) -> Reply:
    return chat_reply(content=json.dumps({"title": "fake"}))


class FakeOpenAIServer:
    """Threaded HTTP server implementing the two endpoints the client uses."""

    def __init__(self, port: int = 0, model_id: str = "fake-model", api_key: str | None = None) -> None:
        self.model_id = model_id
        self.api_key = api_key  # when set, like llama.cpp's --api_key: 401 without "Bearer <key>"
        self.gets = 0
        self.requests: list[dict[str, Any]] = []
        self._queue: list[Reply] = []
        self._lock = threading.Lock()
        self.responder: Callable[[dict[str, Any]], Reply] = _default_responder
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                return

            def _send(self, reply: Reply) -> None:
                data = json.dumps(reply.body).encode("utf-8")
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and closed the connection

            def _authorized(self) -> bool:
                if outer.api_key is None or self.headers.get("Authorization") == f"Bearer {outer.api_key}":
                    return True
                self._send(error_reply(401, "Invalid API key"))
                return False

            def do_GET(self) -> None:
                outer.gets += 1
                if not self._authorized():
                    return
                if self.path.rstrip("/").endswith("/models"):
                    self._send(Reply(body={"object": "list", "data": [{"id": outer.model_id, "object": "model"}]}))
                else:
                    self._send(error_reply(404, "not found"))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self._authorized():
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(error_reply(404, "not found"))
                    return
                with outer._lock:
                    outer.requests.append(body)
                    reply = outer._queue.pop(0) if outer._queue else None
                if reply is None:
                    reply = outer.responder(body)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                self._send(reply)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, replies: list[Reply]) -> None:
        with self._lock:
            self._queue.extend(replies)

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model-id", default="fake-model")
    args = parser.parse_args()
    # Like llama-cpp-python's server, the key comes from the API_KEY environment variable.
    server = FakeOpenAIServer(args.port, args.model_id, api_key=os.environ.get("API_KEY"))
    server._server.serve_forever()


if __name__ == "__main__":
    main()
