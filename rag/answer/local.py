"""Local answer stage: a small instruct model in-process (llama.cpp), grammar-bound, every sentence checked.

No server and no network: `llama_cpp.Llama` loads the verified GGUF (rag.local_model) once
per process and per settings, with one thread per core. Generation holds a lock (a llama.cpp context
is not thread-safe; the UI's other sessions wait their turn). llama.cpp reuses the KV cache for the
prompt prefix shared with the previous call, and the prompt starts with the fixed system message, so
that part is read once per process (`warm` reads it ahead of the first question).

The reply is constrained by the grammar of rag.answer.local_prompt (every sentence ends with a
marker, or the whole reply is the refusal), streamed as it is made, then held to the LLM standard:
`citations.verify` maps each marker to a checked span and marks an unsupported sentence.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np

from rag.answer.candidates import candidates
from rag.answer.citations import REFUSAL_SOURCES, Draft, answer_lines, citation_at, refusal_text, verify
from rag.answer.local_judge import chatml, judge_messages
from rag.answer.local_prompt import REFUSAL, SYSTEM, LocalPrompt, build_local_prompt
from rag.answer.markers import parse_markers, strip_markers
from rag.answer.names import NOT_A_NAME
from rag.answer.question import SHORT_TYPES, analyse, known_words
from rag.answer.support import best_span, content_terms
from rag.embedding import Embedder
from rag.local_model import QWEN_1_5B, LocalModelUnavailable, model_file, weights_present
from rag.settings import LocalSettings
from rag.types import Citation, Hit

_models: dict[tuple[Any, ...], LocalModel] = {}
_failures: dict[tuple[Any, ...], LocalModelUnavailable] = {}
_load_lock = threading.Lock()


@atexit.register
def _close_all() -> None:
    # close while llama_cpp's module globals still exist (its __del__ at interpreter exit finds them gone)
    for model in _models.values():
        model.llm.close()
    _models.clear()


def threads(settings: LocalSettings) -> int:
    return settings.threads or len(os.sched_getaffinity(0))


def runtime_missing() -> str | None:
    """Why llama-cpp-python cannot be used here (None when it imports)."""
    # llama.cpp's OpenMP threads spin while they wait. On these shared 2-core machines, where another
    # process always wants a core, spinning made a 16-token reply take 47 s instead of 2.2 s
    # (eval/results/bench_local.md); passive waiting costs nothing measurable on an idle machine.
    # libgomp reads this once, when llama_cpp's library loads it, so it is set before the first import.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp  # noqa: F401
    except Exception as exc:  # ImportError, or OSError from a shared library built for another CPU
        return f"the local model runtime (llama-cpp-python) is not installed ({type(exc).__name__})"
    return None


def local_unavailable(settings: LocalSettings) -> str | None:
    """One plain sentence on why the local answerer cannot run, or None. Cheap: nothing is hashed."""
    key = _key(settings)
    if key in _failures:
        return str(_failures[key].args[0]).rstrip(".")
    return runtime_missing() or weights_present(QWEN_1_5B, settings.model_path)


def _key(settings: LocalSettings) -> tuple[Any, ...]:
    return (settings.model_path, settings.sha256, threads(settings), settings.n_ctx)


class LocalModel:
    """A loaded llama.cpp model that streams grammar-bound chat replies, one at a time."""

    def __init__(self, settings: LocalSettings) -> None:
        reason = runtime_missing()
        if reason:
            raise LocalModelUnavailable(f"{reason}.")
        from llama_cpp import Llama

        path = model_file(QWEN_1_5B, settings.model_path, settings.sha256)
        n = threads(settings)
        self.name = path.name
        self.llm = Llama(model_path=str(path), n_ctx=settings.n_ctx, n_threads=n, n_threads_batch=n,
                         n_batch=512, seed=0, verbose=False)
        self.lock = threading.Lock()
        # the first token of each way to begin the judge's reply (rag.answer.local_judge)
        first = lambda words: [self.llm.tokenize(w.encode(), add_bos=False)[0] for w in words]  # noqa: E731
        self.yes_ids, self.no_ids = first(("yes", "Yes")), first(("no", "No"))
        self.warmed = False
        self.last_perf: dict[str, int] = {}

    def stream(self, messages: Sequence[dict[str, str]], grammar: str, max_tokens: int) -> Iterator[str]:
        import llama_cpp
        from llama_cpp import LlamaGrammar

        rules = LlamaGrammar.from_string(grammar, verbose=False)
        with self.lock:
            llama_cpp.llama_perf_context_reset(self.llm.ctx)
            chunks = self.llm.create_chat_completion(
                messages=cast(Any, list(messages)), grammar=rules, max_tokens=max_tokens, temperature=0.0,
                stream=True,
            )
            for chunk in cast(Iterator[dict[str, Any]], chunks):
                delta = chunk["choices"][0]["delta"].get("content")
                if delta:
                    yield str(delta)
            perf = llama_cpp.llama_perf_context(self.llm.ctx)
            # prompt tokens read this time (the cached prefix is not re-read), tokens written, and times
            self.last_perf = {"prompt_tokens": perf.n_p_eval, "prompt_ms": round(perf.t_p_eval_ms),
                              "generated_tokens": perf.n_eval, "generate_ms": round(perf.t_eval_ms)}

    def yes_probability(self, messages: list[dict[str, str]]) -> float:
        """P("yes") against P("no") as the reply's first word (either case); nothing is generated.
        The prompt's prefix already in the KV cache (the system message) is not read again."""
        import llama_cpp

        llm = self.llm
        tokens = llm.tokenize(chatml(messages).encode("utf-8"), add_bos=False, special=True)
        with self.lock:
            llama_cpp.llama_perf_context_reset(llm.ctx)
            # llama-cpp-python's own prefix reuse (Llama.generate), done here because only the last
            # token's logits are wanted; at least one token is read so the logits are fresh
            shared = 0
            for a, b in zip(llm._input_ids, tokens, strict=False):
                if a != b:
                    break
                shared += 1
            shared = min(shared, len(tokens) - 1)
            llm._ctx.kv_cache_seq_rm(-1, shared, -1)
            llm.n_tokens = shared
            llm.eval(tokens[shared:])
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).astype(np.float64)
            perf = llama_cpp.llama_perf_context(llm.ctx)
            self.last_perf = {"prompt_tokens": perf.n_p_eval, "prompt_ms": round(perf.t_p_eval_ms),
                              "generated_tokens": 0, "generate_ms": 0}
        e = np.exp(logits - logits.max())
        yes, no = e[self.yes_ids].sum(), e[self.no_ids].sum()
        return float(yes / max(yes + no, 1e-30))

    def warm(self) -> None:
        """Read the fixed system message into the KV cache, so the first question pays only its own part."""
        if self.warmed:
            return
        for _ in self.stream([{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Hi"}],
                             f'root ::= "{REFUSAL}"', 1):
            pass
        self.warmed = True


def load(settings: LocalSettings, warm: bool = False) -> LocalModel:
    """The process's model for these settings, loaded on first use; a failure is remembered, so a
    missing or corrupted file is reported once per process rather than re-hashed on every question."""
    key = _key(settings)
    with _load_lock:
        if key in _failures:
            raise _failures[key]
        if key not in _models:
            try:
                _models[key] = LocalModel(settings)
            except LocalModelUnavailable as exc:
                _failures[key] = exc
                raise
            except Exception as exc:  # llama.cpp refusing the file, say
                _failures[key] = LocalModelUnavailable(f"the local model failed to load ({exc}).")
                raise _failures[key] from exc
        model = _models[key]
    if warm:
        model.warm()
    return model


def last_perf(settings: LocalSettings) -> dict[str, int]:
    """Token counts and times of the loaded model's last reply ({} before any), for the benchmarks."""
    model = _models.get(_key(settings))
    return dict(model.last_perf) if model else {}


def prepare(settings: LocalSettings) -> None:
    """Load and warm the model ahead of the first question (the UI runs this in a thread). A failure
    is remembered by `load`; the first local question then reports it and falls back."""
    with contextlib.suppress(LocalModelUnavailable):
        load(settings, warm=True)


def judged_answerable(query: str, quoted: str, settings: LocalSettings) -> float:
    """The model's probability that the quoted text answers the query (rag.answer.local_judge)."""
    return load(settings).yes_probability(judge_messages(query, quoted))


def not_covered(query: str, hits: Sequence[Hit], embedder: Embedder) -> Draft:
    """The model found no answer: say so, citing the sentence of each given passage closest to the
    question, so the reader can judge for themselves."""
    citations: list[Citation] = []
    cache: dict[str, np.ndarray] = {}
    for hit in hits[:REFUSAL_SOURCES]:
        span = best_span(query, hit.passage, embedder, cache)
        if span is not None:
            citations.append(citation_at(len(citations) + 1, hit.passage, span.start, span.end))
    return Draft(refusal_text(citations), citations, grounded=False)


_NAME = re.compile(r"(?<![\w'’])[A-Z][\w'’-]*[a-z][\w'’-]*|\b[A-Z]{2,}\b")


def names(sentence: str) -> list[str]:
    """Capitalised words and acronyms after the first word: the names a sentence asserts.

    >>> names("Google paid a sum to buy YouTube and MGM [3].")
    ['YouTube', 'MGM']
    >>> names("Riggs Bank paid victims of General Augusto Pinochet's regime [1].")  # a title is no name
    ['Bank', 'Augusto', "Pinochet's"]
    """
    return [m.group(0) for m in _NAME.finditer(sentence) if m.start() > 0 and m.group(0) not in NOT_A_NAME]


def check_names(text: str, hits: Sequence[Hit]) -> tuple[str, list[str]]:
    """Strip the markers of each sentence naming someone or something its cited passages never name.

    The support score checks that a sentence is about what its passage says; a 1.5B model asked
    about something the archive lacks will still write a fluent, on-topic sentence with a name from
    the question in it ("Google paid $17m to buy YouTube [3]." over a passage on Google's shares).
    Such a sentence loses its citation, so `verify` marks it unsupported."""
    out: list[str] = []
    warnings: list[str] = []
    for k, (sentence, new_line) in enumerate(answer_lines(text), start=1):
        keys = [n for n in parse_markers(sentence) if 1 <= n <= len(hits)]
        cited = " ".join(f"{hits[n - 1].passage.title} {hits[n - 1].passage.text}" for n in keys).lower()
        absent = [n for n in dict.fromkeys(names(strip_markers(sentence))) if n.lower() not in cited]
        if keys and absent:
            warnings.append(f"sentence {k} names {', '.join(absent)}, which its cited passage does not")
            sentence = strip_markers(sentence)
        out.append(("\n" if new_line else " " if out else "") + sentence)
    return "".join(out), warnings


def complete_sentences(text: str) -> str:
    """The reply up to its last finished sentence (a reply cut off by max_tokens ends mid-sentence;
    the grammar ends every sentence with its marker, before or after the stop).

    >>> complete_sentences("Troops arrive [1]. Ships leave. [2] And then som")
    'Troops arrive [1]. Ships leave. [2]'
    """
    end = text.rfind("]")
    if end < 0:
        return text
    return text[: end + 2] if text[end + 1 : end + 2] == "." else text[: end + 1]


_WHAT = {"person": "person", "date": "date", "number": "figure", "money": "sum", "place": "place",
         "name": "name"}


def unanswered(query: str, text: str, context: str = "") -> str | None:
    """Why a written answer does not answer: it says nothing the question does not already say, or
    (for a factoid) its first sentence, where the prompt's example puts the answer, names nothing of
    the asked type that the question does not ("Dortmund posted record losses [1]." for "How much did
    Dortmund lose?"; "Miliband attended school standards minister [1]. He was a key figure in New
    Labour [2]." for which school he attended). None when it does. `context` (the passages written
    from) says whether a capitalised word that opens the answer is a name: "Sandra [1]." is one where
    a passage writes "his wife, Sandra, ...".

    >>> unanswered("How much money did Dortmund lose?", "Dortmund posted record losses [1].")
    'the written answer names no sum'
    >>> unanswered("How much money did Dortmund lose?", "Dortmund lost 68m euros [1].") is None
    True
    >>> unanswered("What record loss did Dortmund post?", "Dortmund posted record losses [1].")
    'the written answer only restates the question'
    >>> unanswered("How much money did Dortmund lose?", "Dortmund posted losses [1]. It owes 68m euros [1].")
    'the written answer names no sum in its first sentence'
    >>> why = unanswered("What is the first name of Howard's wife?", "Sandra [1].", "Wife, Sandra, spoke.")
    >>> why is None
    True
    """
    plain = strip_markers(text)
    if not set(content_terms(plain)) - set(content_terms(query)):
        return "the written answer only restates the question"
    frame = analyse(query)
    if frame.shape != "factoid" or frame.expects not in SHORT_TYPES:
        return None
    lines = answer_lines(text)
    first = strip_markers(lines[0][0]) if lines else plain
    if candidates(first, frame.expects, known_words(query, frame), f"{first}\n{context}", frame.kind):
        return None
    where = " in its first sentence" if len(lines) > 1 else ""
    return f"the written answer names no {_WHAT[frame.expects]}{where}"


@dataclass(frozen=True)
class LocalResult:
    draft: Draft
    hits: list[Hit]  # the passages the model was given
    dropped: bool = False  # the model wrote an answer, but a sentence did not hold up (draft: a refusal)


def local_answer(query: str, hits: Sequence[Hit], embedder: Embedder, settings: LocalSettings,
                 focus: Sequence[Citation] = ()) -> Iterator[str | LocalResult]:
    """Yield the model's words as they come, then the checked result. `focus`: spans worth showing
    the model (the extractive answer's quotes), each passage cut around them. Raises
    LocalModelUnavailable before yielding anything when the model cannot be loaded."""
    model = load(settings)
    spans = [(c.article_id, c.start, c.end) for c in focus]
    prompt: LocalPrompt = build_local_prompt(query, hits, settings.passages, settings.passage_tokens, spans)
    parts: list[str] = []
    for delta in model.stream(prompt.messages, prompt.grammar, settings.max_tokens):
        parts.append(delta)
        yield delta
    reply = "".join(parts).strip()
    if not reply or reply == REFUSAL:
        yield LocalResult(not_covered(query, prompt.hits, embedder), prompt.hits)
        return
    checked, unnamed = check_names(complete_sentences(reply), prompt.hits)
    # A figure repeated from the question must be in the passage too: "the 2006 Australian Open" over
    # an article on the 2005 one is how a near miss reads, and the figures check is what catches it.
    draft = verify(checked, prompt.hits, embedder)
    draft = replace(draft, warnings=unnamed + draft.warnings)
    if not draft.grounded:
        # a sentence did not hold up against its passage (a small model guessing when the passages are
        # near misses, or adding a claim of its own): the written answer is not shown as an answer,
        # and the warnings say what was thrown away. The caller shows the extractive quotes instead.
        refusal = not_covered(query, prompt.hits, embedder)
        dropped = [f"the local model's answer was dropped: {w}" for w in draft.warnings]
        yield LocalResult(Draft(refusal.text, refusal.citations, False, dropped), prompt.hits, dropped=True)
        return
    yield LocalResult(draft, prompt.hits)
