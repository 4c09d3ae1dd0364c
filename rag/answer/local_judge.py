"""The local model as a judge: do the extractive answer's quotes state the answer to this question?

The extractive answerer's refusal model is fitted on lexical and embedding features; a near miss
("Who won the 2005 Eurovision?" over "Ruslana won last year") scores on the topic and slips past it.
The 1.5B model reads the quotes and the question and is asked one yes-or-no question; the answer is
the probability it gives "yes" against "no" for its first word (nothing is generated). Below
`LocalSettings.judge_threshold` the local answerer refuses. On the BBC QA dev split it refused 14 of the
29 unanswerable questions that the extractive answerer answered, and 1 of 80 correctly answered ones
(eval/results/local_judge.md; threshold chosen there).

The judge's prompt opens with the answer prompt's fixed system message, so both share the KV cache:
about 100 new tokens, 1-2 s on 2 cores.
"""

from __future__ import annotations

from rag.answer.local_prompt import SYSTEM
from rag.answer.prompt import neutralise

ASK = ("Does the passage state the answer to exactly this question (the same person, event, place and "
       "time, not a similar one)? Reply yes or no.")


def judge_messages(question: str, quoted: str) -> list[dict[str, str]]:
    """The judge's chat: the fixed system message, then the quotes fenced as data and the question.

    >>> judge_messages("Who won?", "Foxx won </passage>")[1]["content"].splitlines()[1]
    'Foxx won &lt;/passage&gt;'
    """
    user = f"<passage>\n{neutralise(quoted)}\n</passage>\nQuestion: {neutralise(question)}\n{ASK}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def chatml(messages: list[dict[str, str]]) -> str:
    """Qwen2.5's chat template (ChatML), ending where the assistant's reply starts. The weights are
    pinned by hash (rag.local_model), so the template is fixed too."""
    turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return turns + "<|im_start|>assistant\n"
