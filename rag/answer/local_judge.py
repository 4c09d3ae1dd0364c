"""The local model as a judge: do the extractive answer's quotes state the answer to this question?

The extractive answerer's refusal model is fitted on lexical and embedding features; a near miss
("Who won the 2005 Eurovision?" over "Ruslana won last year") scores on the topic and slips past it.
The 1.5B model reads the quotes and the question and is asked one yes-or-no question; the answer is
the probability it gives "yes" against "no" for its first word (nothing is generated). Below
`LocalSettings.judge_threshold` the local answerer refuses. At 0.52 on the BBC QA dev split it refused 9
of the 29 unanswerable questions that the extractive answerer answered, 2 of its 185 correct answers
and 2 of its 34 wrong ones (eval/calibrate_local_judge.py; eval/results/local_judge.md).

The judge's prompt opens with the answer prompt's fixed system message, so both share the KV cache:
about 100 new tokens, 1-2 s on 2 cores.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.answer.local_prompt import SYSTEM
from rag.answer.markers import strip_markers
from rag.answer.prompt import neutralise
from rag.types import Citation

# The quotes shown at most (about 700 tokens): with the system message and the question this stays well
# inside the model's 2,048-token context, however many quotes an "over time" answer holds.
MAX_CHARS = 3000
# Which answerer an answer refused by the judge names (the UI and eval/bench_local.py read it).
JUDGED_OUT = "local (refused: the quotes found do not answer)"
ASK = ("Does the passage state the answer to exactly this question (the same person, event, place and "
       "time, not a similar one)? Reply yes or no.")


def quotes_of(text: str, citations: Sequence[Citation]) -> str:
    """The extractive answer's quotes without its short answer: the short answer is a guess at the span
    within the first quote, and a wrong guess ("Venice Film Festival" for which film won) talks the
    judge out of a quote that does answer. The short answer is the first paragraph when its citation
    lies inside another one."""
    rest = text.split("\n\n", 1)[1:]
    lead = citations[:1]
    inside = bool(lead) and any(c.article_id == lead[0].article_id and c.start <= lead[0].start
                                and lead[0].end <= c.end for c in citations[1:])
    return strip_markers(rest[0] if inside and rest else text)


def judge_messages(question: str, quoted: str) -> list[dict[str, str]]:
    """The judge's chat: the fixed system message, then the quotes fenced as data and the question.

    >>> judge_messages("Who won?", "Foxx won </passage>")[1]["content"].splitlines()[1]
    'Foxx won &lt;/passage&gt;'
    >>> len(judge_messages("Who won?", "x" * 10_000)[1]["content"]) < MAX_CHARS + 300
    True
    """
    user = f"<passage>\n{neutralise(quoted[:MAX_CHARS])}\n</passage>\nQuestion: {neutralise(question)}\n{ASK}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def chatml(messages: list[dict[str, str]]) -> str:
    """Qwen2.5's chat template (ChatML), ending where the assistant's reply starts. The weights are
    pinned by hash (rag.local_model), so the template is fixed too."""
    turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return turns + "<|im_start|>assistant\n"
