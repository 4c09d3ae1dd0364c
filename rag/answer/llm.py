"""LLM stage: any OpenAI-compatible chat endpoint (Ollama, vLLM, llama.cpp, LM Studio, OpenAI), streamed.

The only module that touches the network. Every failure (refused connection, HTTP error, timeout,
a stream that breaks or stays empty) becomes `LLMUnavailable` with one sentence naming the endpoint
and what went wrong, so the caller can fall back to the offline answerer and say why.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import cast

import httpx
import openai
from openai.types.chat import ChatCompletionMessageParam

from rag.errors import LLMUnavailable
from rag.settings import LLMSettings

# Local servers ignore the key, but the client refuses to start without one.
_PLACEHOLDER_KEY = "not-needed"


def llm_configured(settings: LLMSettings) -> bool:
    return bool(settings.base_url and settings.model)


def _client(settings: LLMSettings) -> openai.OpenAI:
    if not llm_configured(settings):
        raise LLMUnavailable("No LLM endpoint is configured (RAG_LLM__BASE_URL, RAG_LLM__MODEL unset).")
    # No retries: a failing endpoint should fall back at once, not after three back-offs.
    # The timeout bounds connecting and each read, so a silent server is dropped after timeout_s.
    return openai.OpenAI(base_url=settings.base_url, api_key=settings.api_key or _PLACEHOLDER_KEY,
                         timeout=settings.timeout_s, max_retries=0)


def _explain(exc: Exception, settings: LLMSettings) -> LLMUnavailable:
    where = settings.base_url
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        msg = f"no reply from {where} within {settings.timeout_s:g} s"
    elif isinstance(exc, openai.APIStatusError):
        msg = f"{where} answered HTTP {exc.status_code}: {exc.message}"
    elif isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        msg = f"cannot connect to {where} ({type(cause).__name__}: {cause})"
    else:
        msg = f"{where} failed ({type(exc).__name__}: {exc})"
    return LLMUnavailable(msg)


def stream_chat(messages: Sequence[dict[str, str]], settings: LLMSettings) -> Iterator[str]:
    """Yield the reply's text deltas as the endpoint produces them."""
    client = _client(settings)
    produced = False
    try:
        stream = client.chat.completions.create(
            model=str(settings.model), messages=cast(list[ChatCompletionMessageParam], list(messages)),
            temperature=settings.temperature, stream=True,
        )
        for chunk in stream:
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta.content
            if delta:
                produced = True
                yield delta
    except (openai.OpenAIError, httpx.HTTPError) as exc:
        raise _explain(exc, settings) from exc
    finally:
        client.close()
    if not produced:
        raise LLMUnavailable(f"{settings.base_url} returned an empty reply")


def complete(messages: Sequence[dict[str, str]], settings: LLMSettings) -> str:
    """The whole reply at once (short calls such as query rewriting)."""
    client = _client(settings)
    try:
        reply = client.chat.completions.create(
            model=str(settings.model), messages=cast(list[ChatCompletionMessageParam], list(messages)),
            temperature=0.0, stream=False,
        )
    except (openai.OpenAIError, httpx.HTTPError) as exc:
        raise _explain(exc, settings) from exc
    finally:
        client.close()
    text = (reply.choices[0].message.content or "").strip() if reply.choices else ""
    if not text:
        raise LLMUnavailable(f"{settings.base_url} returned an empty reply")
    return text
