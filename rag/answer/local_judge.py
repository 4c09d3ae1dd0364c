"""The local model as a judge: do the extractive answer's quotes state the answer to this question?

The extractive answerer's refusal model is fitted on lexical and embedding features; a near miss
("Who won the 2005 Eurovision?" over "Ruslana won last year") scores on the topic and slips past it.
The 1.5B model reads the quotes and the question and is asked one yes-or-no question; its verdict is
the probability it gives "yes" against "no" for its first word (nothing is generated).

Neither signal alone is the decision: the model says a shy "no" to some quotes that do answer, which
the extractive model is sure of. `confidence` weighs both logits with a logistic model fitted on the
BBC QA dev split (eval/calibrate_local_judge.py writes local_judge.json: weights and the threshold that
keeps dev false refusals at 3%); below the threshold the local answerer refuses.

The judge's prompt opens with the answer prompt's fixed system message, so both share the KV cache:
about 100 new tokens, 1-2 s on 2 cores.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rag.answer.answerhood import sigmoid
from rag.answer.local_prompt import SYSTEM
from rag.answer.markers import strip_markers
from rag.answer.prompt import neutralise
from rag.dates import YEAR
from rag.types import Citation

# The quotes shown at most (about 700 tokens): with the system message and the question this stays well
# inside the model's 2,048-token context, however many quotes an "over time" answer holds.
MAX_CHARS = 3000
# Which answerer an answer refused by the judge names (the UI and eval/bench_local.py read it).
JUDGED_OUT = "local (refused: the quotes found do not answer)"
ASK = ("Does the passage state the answer to exactly this question (the same person, event, place and "
       "time, not a similar one)? Reply yes or no.")


MODEL_FILE = Path(__file__).with_name("local_judge.json")


@dataclass(frozen=True)
class JudgeModel:
    """P(the quotes answer) = sigmoid(w_yes * logit(P yes) + w_support * logit(extractive p) + bias)."""

    w_yes: float
    w_support: float
    bias: float
    threshold: float


@cache
def judge_model() -> JudgeModel:
    data = json.loads(MODEL_FILE.read_text())
    return JudgeModel(*(float(data[k]) for k in ("w_yes", "w_support", "bias", "threshold")))


def logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def confidence(p_yes: float, support: float, model: JudgeModel | None = None) -> float:
    """How likely the quotes answer, from the model's "yes" and the extractive answer's probability.

    >>> m = JudgeModel(2.0, 0.5, -1.0, 0.3)
    >>> confidence(0.3, 0.95, m) > confidence(0.3, 0.6, m)  # a sure extractive answer outweighs a shy "no"
    True
    """
    m = model or judge_model()
    return sigmoid(m.w_yes * logit(p_yes) + m.w_support * logit(support) + m.bias)


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


# "last year", "next season": the quotes place their story in time relative to one they do not name
_RELATIVE_TIME = re.compile(r"\b(?:last|next|previous|this|coming) (?:year|season|month|week|time|edition)\b|"
                            r"\ba year (?:ago|earlier|before|later)\b", re.I)
_ASKED_YEAR = re.compile(rf"(?:\s+(?:in|of|during|for))?\s+{YEAR.pattern}(?:['’]s)?(?!\w)")


def judged_question(question: str, quoted: str) -> str:
    """The question as the judge reads it: without its year when the quotes name no year and place
    themselves in no time. An archive's stories are often undated, and one that names no year can
    neither confirm nor refute the asked one; asked about "the same ... time", the small model says a
    shy "no" to every such quote ("Brown names 16 March for Budget" for his 2005 Budget). The
    extractive answer's probability, the judge's other input, has weighed the year already (the
    story's and the archive's years). A quote that says "last year" keeps the year in the question:
    "Ruslana won last year" does not say who won the 2005 contest.

    >>> judged_question("What date did Gordon Brown set for his 2005 Budget?", "Brown names 16 March.")
    'What date did Gordon Brown set for his Budget?'
    >>> judged_question("Who won in 2005?", "Ruslana won last year.")
    'Who won in 2005?'
    >>> judged_question("Who won in 2005?", "Ruslana won in 2004.")
    'Who won in 2005?'
    """
    if len(YEAR.findall(question)) != 1 or YEAR.search(quoted) or _RELATIVE_TIME.search(quoted):
        return question
    return _ASKED_YEAR.sub("", question)


def judge_messages(question: str, quoted: str) -> list[dict[str, str]]:
    """The judge's chat: the fixed system message, then the quotes fenced as data and the question
    (`judged_question`).

    >>> judge_messages("Who won?", "Foxx won </passage>")[1]["content"].splitlines()[1]
    'Foxx won &lt;/passage&gt;'
    >>> len(judge_messages("Who won?", "x" * 10_000)[1]["content"]) < MAX_CHARS + 300
    True
    """
    quoted = quoted[:MAX_CHARS]
    user = (f"<passage>\n{neutralise(quoted)}\n</passage>\nQuestion: "
            f"{neutralise(judged_question(question, quoted))}\n{ASK}")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def chatml(messages: list[dict[str, str]]) -> str:
    """Qwen2.5's chat template (ChatML), ending where the assistant's reply starts. The weights are
    pinned by hash (rag.local_model), so the template is fixed too."""
    turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return turns + "<|im_start|>assistant\n"
