"""Load test of the chat UI: N simultaneous sessions through Gradio's own client.

Starts the app on a free localhost port (the sample index, built first if missing), opens one
`gradio_client.Client` per session (each has its own `gr.State`), releases them all at once,
and has every session ask two questions: its own question, then a follow-up. Checks per turn:
no error; the chat echoes this session's question; the sources panel is for this session's
question; the follow-up's chat holds exactly this session's two turns (state never crosses);
each cited quote appears in the sources panel. Reports latency p50/p95/max for the first
streamed update and the finished answer, and writes eval/results/load_ui.{md,json}.

    .venv/bin/python eval/load_ui.py [--sessions 20] [--index DIR]
"""

from __future__ import annotations

import argparse
import html
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.evaluation.harness import cpu_line, machine_stamp, write_results  # noqa: E402
from rag.settings import DEFAULT_INDEX, PROJECT_ROOT, SAMPLE_CORPUS, Settings  # noqa: E402

RESULTS = PROJECT_ROOT / "eval" / "results"
QUESTIONS = [
    "How many soldiers will the US, Germany and Britain each contribute?",
    "How many additional troops is NATO sending to Eastern Europe?",
    "Who is the Secretary General of NATO?",
    "What is Operation Anaconda 2016?",
    "How many of the 30,000 soldiers in the Poland war drill are American?",
    "What did Obama promise the Baltic states in September 2014?",
    "What did Lithuanian defense official Juozas Olekas tell the Daily Express?",
    "What did Estonia's military chief demand?",
    "Which country is slated to be integrated into NATO at the Warsaw summit?",
    "What did German and Danish militaries rehearse in Lithuania?",
    "Which countries intended to evoke Article 4 of the NATO charter?",
    "How did Russia respond to NATO's military threats at the Belarus border?",
    "What did Lukashenko threaten to cut off?",
    "How many refugees have died at the Polish-Belarusian border?",
    "What did the 61st infantry division of the Ukrainian army declare?",
    "Which US ships were sent to the Black Sea?",
    "How did Putin describe the US warship deployment to the Black Sea?",
    "How many troops has Kiev deployed to its border with Russia?",
    "What did the Russian Foreign ministry say about US activities in the Black Sea?",
    "What does the agreement say about Ukraine's entry to NATO?",
]
FOLLOW_UP = "And what happened next?"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: percentile([1, 2, 3, 4], 0.5) -> 2."""
    if not values:
        return float("nan")
    ranked = sorted(values)
    return ranked[max(0, min(len(ranked) - 1, int(-(-q * len(ranked) // 1)) - 1))]


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):  # gradio_client returns [{"type": "text", "text": ...}]
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def _plain(fragment: str) -> str:
    """The chat/panel HTML with tags dropped and entities decoded, for text comparisons."""
    out, inside = [], False
    for ch in fragment:
        if ch == "<":
            inside = True
        elif ch == ">":
            inside = False
        elif not inside:
            out.append(ch)
    return html.unescape("".join(out))


def ask(client: Any, question: str, history: list[dict[str, Any]]) -> dict[str, Any]:
    start = time.perf_counter()
    job = client.submit(question, history, "", "", [], [], "hybrid", 8, "Offline (extractive)",
                        api_name="/ask")
    first = None
    for _ in job:  # intermediate outputs of the streaming generator
        if first is None:
            first = time.perf_counter() - start
    outputs = job.outputs()
    total = time.perf_counter() - start
    chat, panel = outputs[-1][0], outputs[-1][1]
    return {"first_s": first if first is not None else total, "total_s": total, "chat": chat,
            "panel": panel if isinstance(panel, str) else ""}


def check(question: str, turn: dict[str, Any], expect_turns: int, own: list[str]) -> list[str]:
    """What is wrong with one finished turn (empty list: all good)."""
    problems = []
    chat = turn["chat"]
    # the question itself, without the notes the UI adds under it (rewritten query, dates)
    users = [_plain(_text(m).split('<div class="q-notes">')[0]).strip()
             for m in chat if m.get("role") == "user"]
    if len(chat) != 2 * expect_turns:
        problems.append(f"crossed: chat has {len(chat)} messages, expected {2 * expect_turns}")
    if users != own:
        problems.append(f"crossed: chat questions {users!r} are not this session's {own!r}")
    panel = _plain(turn["panel"])
    if f"Sources for: {question}" not in panel:
        problems.append("crossed: the sources panel is for another question")
    return problems


def answers_of(t1: dict[str, Any], t2: dict[str, Any]) -> list[str]:
    """The two answers' text as shown (tags dropped), for comparison with the baseline."""
    return [_plain(_text(t["chat"][-1])) for t in (t1, t2)]


def conversation(client: Any, question: str) -> tuple[dict[str, Any], dict[str, Any]]:
    t1 = ask(client, question, [])
    return t1, ask(client, FOLLOW_UP, t1["chat"])


def session(i: int, url: str, gate: threading.Barrier, out: list[dict[str, Any]],
            baseline: dict[str, list[str]]) -> None:
    from gradio_client import Client

    record: dict[str, Any] = {"session": i, "question": QUESTIONS[i % len(QUESTIONS)], "turns": [],
                              "problems": []}
    try:
        client = Client(url, verbose=False)
        gate.wait(timeout=120)
        q1 = record["question"]
        t1, t2 = conversation(client, q1)
        record["problems"] += check(q1, t1, 1, [q1]) + check(FOLLOW_UP, t2, 2, [q1, FOLLOW_UP])
        for n, (got, alone) in enumerate(zip(answers_of(t1, t2), baseline[q1], strict=True), 1):
            if got != alone:
                record["problems"].append(f"crossed: answer {n} to {q1!r} differs from its answer alone")
        record["turns"] = [{"first_s": t["first_s"], "total_s": t["total_s"]} for t in (t1, t2)]
    except Exception as exc:  # any failure is a result to report, not a crash of the run
        record["problems"].append(f"error: {type(exc).__name__}: {exc}")
    out.append(record)


def build_if_missing(index: Path, settings: Settings) -> None:
    if not (index / "manifest.json").is_file():
        from rag.indexer import build_index

        build_index([SAMPLE_CORPUS], index, settings, progress=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--concurrency", type=int, default=None,
                        help="answers computed at a time (default: the app's CONCURRENCY)")
    parser.add_argument("--out", default="load_ui", help="results name under eval/results ('' for none)")
    args = parser.parse_args(argv)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    settings = Settings.from_env(ui={"port": port})
    build_if_missing(args.index, settings)
    import rag.ui.app as ui_app

    if args.concurrency:
        ui_app.CONCURRENCY = args.concurrency  # read when the app is built
    from rag.ui.app import CONCURRENCY, serve

    app = serve(settings, args.index, block=False, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        from gradio_client import Client

        # one conversation per question alone first: the warm-up (model loading is not load) and
        # the reference that each answer under load must equal exactly (the pipeline is deterministic)
        baseline, alone = {}, []
        for q in QUESTIONS:
            t1, t2 = conversation(Client(url, verbose=False), q)
            baseline[q] = answers_of(t1, t2)
            alone += [t1["total_s"], t2["total_s"]]
        records: list[dict[str, Any]] = []
        gate = threading.Barrier(args.sessions)
        started = time.perf_counter()
        threads = [threading.Thread(target=session, args=(i, url, gate, records, baseline))
                   for i in range(args.sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        app.close()

    report = summarise(records, wall, args, CONCURRENCY)
    report["alone_total_s"] = {"p50": percentile(alone[2:], 0.5), "max": max(alone[2:])}  # after warm-up
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.out:
        write_results(RESULTS / args.out, report, markdown(report), indent=1)
    print(markdown(report))
    return 0 if report["errors"] == 0 and report["crossed"] == 0 else 1


def summarise(records: list[dict[str, Any]], wall: float, args: argparse.Namespace,
              concurrency: int) -> dict[str, Any]:
    turns = [t for r in records for t in r["turns"]]
    problems = [p for r in records for p in r["problems"]]
    stats = {}
    for key in ("first_s", "total_s"):
        vals = [t[key] for t in turns]
        stats[key] = {"p50": percentile(vals, 0.5), "p95": percentile(vals, 0.95),
                      "max": max(vals, default=0.0)}
    return {
        "sessions": args.sessions, "turns_per_session": 2, "answers": len(turns), "wall_s": wall,
        "errors": sum(p.startswith("error") for p in problems),
        "crossed": sum(p.startswith("crossed") for p in problems), "problems": problems,
        "latency": stats, "concurrency_limit": concurrency,
        "index": str(args.index.resolve().relative_to(PROJECT_ROOT)) if args.index.resolve().is_relative_to(
            PROJECT_ROOT) else str(args.index),
        "machine": machine_stamp(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def markdown(r: dict[str, Any]) -> str:
    lat = r["latency"]
    rows = "\n".join(f"| {name} | {lat[k]['p50']:.2f} | {lat[k]['p95']:.2f} | {lat[k]['max']:.2f} |"
                     for name, k in (("first streamed update", "first_s"), ("finished answer", "total_s")))
    notes = "\n".join(f"- {p}" for p in r["problems"][:20]) or "- none"
    return (
        f"# UI load test: {r['sessions']} simultaneous chat sessions\n\n"
        f"`.venv/bin/python eval/load_ui.py --sessions {r['sessions']}` on {r['when']}; "
        f"CPU: {cpu_line(r['machine']['cpu'])}, load average {r['machine']['load_avg'][0]} at the end; "
        f"offline extractive answerer, index `{r['index']}`, "
        f"{r['concurrency_limit']} answers computed at a time (the rest wait in Gradio's queue).\n\n"
        f"Each session asks its own question, then a follow-up: {r['answers']} answers in "
        f"{r['wall_s']:.1f} s. Every answer is compared with the one the same conversation got alone, "
        "before the load.\n\n"
        f"| latency (s) | p50 | p95 | max |\n|---|---|---|---|\n{rows}\n\n"
        f"For comparison, one session alone: finished answer p50 {r['alone_total_s']['p50']:.2f} s, "
        f"max {r['alone_total_s']['max']:.2f} s; under load the p50 is "
        f"{lat['total_s']['p50'] / max(r['alone_total_s']['p50'], 1e-9):.1f}x that.\n\n"
        f"Errors: **{r['errors']}**. Crossed answers (another session's question in the chat or "
        f"sources panel): **{r['crossed']}**.\n\nProblems:\n{notes}\n"
    )


if __name__ == "__main__":
    sys.exit(main())
