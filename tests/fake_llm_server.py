"""A small OpenAI-compatible chat server for tests, on 127.0.0.1 and a free port.

`/v1/chat/completions` answers with scripted replies, whole or streamed as server-sent events, the
way OpenAI, vLLM and Ollama do. Modes: "ok", "error" (HTTP 500), "slow" (waits `delay` seconds before
answering, to trip the client's timeout). Every request body is kept in `requests` so a test can
check what the prompt looked like. `respond`, when set, writes the reply from the request body once
the scripted replies run out (a test that cannot know the passage numbers in advance reads them).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_REPLY = "The archive does not appear to cover this."


class FakeLLM:
    def __init__(self) -> None:
        self.replies: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []
        self.mode = "ok"
        self.delay = 2.0  # seconds, slow mode
        self.chunk_delay = 0.0  # seconds between streamed pieces
        self.respond: Callable[[dict[str, Any]], str] | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def script(self, *replies: str) -> None:
        self.replies.extend(replies)

    def start(self) -> FakeLLM:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_reply(self, body: dict[str, Any]) -> str:
        if self.replies:
            return self.replies.popleft()
        return self.respond(body) if self.respond else DEFAULT_REPLY

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append(body)
                if fake.mode == "error":
                    self._json(500, {"error": {"message": "model crashed", "type": "server_error"}})
                    return
                if fake.mode == "slow":
                    time.sleep(fake.delay)
                reply = fake._next_reply(body)
                if body.get("stream"):
                    self._stream(body.get("model", "fake"), reply)
                else:
                    self._json(200, _completion(body.get("model", "fake"), reply))

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def _stream(self, model: str, reply: str) -> None:
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Cache-Control", "no-cache")
                    self.end_headers()
                    for piece in _pieces(reply):
                        self._event(_chunk(model, {"content": piece}, None))
                        if fake.chunk_delay:
                            time.sleep(fake.chunk_delay)
                    self._event(_chunk(model, {}, "stop"))
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

        return Handler


def _pieces(text: str) -> list[str]:
    """Word-sized pieces, spaces kept, like a tokenizer's deltas."""
    out: list[str] = []
    for i, word in enumerate(text.split(" ")):
        out.append(word if i == 0 else " " + word)
    return out


def _chunk(model: str, delta: dict[str, str], finish: str | None) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _completion(model: str, reply: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}
