"""UI stage, the server's edge: the login check every route goes through, login throttling, and a
cap on the size of a request body. Plain ASGI, so it sits in front of everything Gradio serves.

Gradio guards its own API routes, but not `/openapi.json`, `/gradio_api/heartbeat/*`, `reset`,
`cancel` and a few more; here every path needs the login cookie except what the login page itself
loads (the page, its scripts and styles, and the two calls that answer "not logged in").
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

# What the login page needs before anyone is logged in. /config and login_check answer 401 there,
# which is how the page knows to show the form.
OPEN_PATHS = frozenset({"/", "/login", "/login/", "/config", "/config/", "/gradio_api/login_check",
                        "/gradio_api/login_check/", "/theme.css", "/favicon.ico", "/manifest.json",
                        "/robots.txt", "/gradio_api/startup-events"})  # Gradio calls the last itself
OPEN_PREFIXES = ("/assets/", "/static/", "/svelte/", "/pwa_icon", "/gradio_api/static/")
# A question is capped at rag.ui.session.MAX_QUESTION_CHARS; whole requests (the chat history comes
# back from the browser with each question) at this. A 10 MB question took a worker 63 s and 4 GB.
MAX_BODY_BYTES = 4 * 1024 * 1024
FAIL_DELAY_S = 1.0  # each failed login waits this long, one at a time: ~1 guess a second at most

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


def throttled_login(
    user: str, password: str, delay_s: float | None = None
) -> Callable[..., Awaitable[bool]]:
    """Gradio's `auth` callable: constant-time comparison, and failed attempts answered one at a time
    after `delay_s`, so 50 wrong guesses take 50 s instead of 0.1 s. A right password never waits."""
    lock = asyncio.Lock()

    async def check(name: str, given: str) -> bool:
        ok = hmac.compare_digest(name.encode(), user.encode()) & hmac.compare_digest(
            given.encode(), password.encode())
        if ok:
            return True
        async with lock:
            await asyncio.sleep(FAIL_DELAY_S if delay_s is None else delay_s)
        return False

    return check


def logged_in(scope: Scope, app: Any) -> bool:
    cookie_id = getattr(app, "cookie_id", None)
    tokens = getattr(app, "tokens", {})
    cookies = _cookies(scope)
    return any(cookies.get(f"{name}-{cookie_id}") in tokens
               for name in ("access-token", "access-token-unsecure"))


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


class Guard:
    """ASGI middleware: 401 for any path but the login page's when auth is on and there is no valid
    login cookie; 413 for a body larger than `max_body` (by Content-Length, or as it streams in)."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        server = scope.get("app")
        if getattr(server, "auth", None) and not is_open(scope["path"]) and not logged_in(scope, server):
            await _reply(send, 401, {"detail": {"error": "Not authenticated"}})
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _reply(send, 413, {"detail": f"Request body over {self.max_body // 2**20} MB."})
            return
        await self.app(scope, _capped(receive, self.max_body), send)


def _capped(receive: Callable[[], Awaitable[Any]], limit: int) -> Callable[[], Awaitable[Any]]:
    """A body sent without Content-Length (chunked) is cut off at `limit` bytes."""
    seen = 0

    async def wrapped() -> Any:
        nonlocal seen
        message = await receive()
        if message.get("type") == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise ValueError(f"request body over {limit} bytes")
        return message

    return wrapped


def _cookies(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in scope.get("headers") or []:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                name, _, val = part.strip().partition("=")
                out[name] = val
    return out


async def _reply(send: Callable[[Any], Awaitable[None]], status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})

