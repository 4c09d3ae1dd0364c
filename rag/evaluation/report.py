"""Write an evaluation as Markdown, JSON and PNG, stamped so every number can be traced; compare runs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import EvalInputError

FORMAT_VERSION = 1
_STAMP_KEYS = ("settings_hash", "model", "index", "date", "versions")


@dataclass(frozen=True)
class ModeScores:
    """One retrieval mode's results: IR metrics, latency and, for QA files, answer checks."""

    metrics: dict[str, float]
    latency: dict[str, float]
    recall_curve: dict[int, float]
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalReport:
    kind: str  # "beir" or "qa"
    dataset: dict[str, Any]  # name, path, split, fingerprint, n_queries, n_docs
    stamp: dict[str, Any]  # settings_hash, model, index, date, versions
    settings: dict[str, Any]
    k: int
    modes: dict[str, ModeScores]
    notes: list[str] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)  # answer-level checks (QA files only)
    answer_records: list[dict[str, Any]] = field(default_factory=list)  # one per question: answer, checks

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["format_version"] = FORMAT_VERSION
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EvalReport:
        modes = {
            name: ModeScores(
                metrics=m["metrics"],
                latency=m["latency"],
                recall_curve={int(k): v for k, v in m["recall_curve"].items()},
                extra=m.get("extra", {}),
            )
            for name, m in d["modes"].items()
        }
        return cls(
            kind=d["kind"],
            dataset=d["dataset"],
            stamp=d["stamp"],
            settings=d["settings"],
            k=d["k"],
            modes=modes,
            notes=d.get("notes", []),
            answer=d.get("answer", {}),
            answer_records=d.get("answer_records", []),
        )


def load_report(path: str | Path) -> EvalReport:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format_version {data.get('format_version')!r}, expected {FORMAT_VERSION}")
        return EvalReport.from_dict(data)
    except FileNotFoundError:
        raise EvalInputError(f"{path} not found.", help="Pass the .json files written by rag eval.") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EvalInputError(
            f"{path} is not a rag eval result ({exc}).", help="Pass a .json written by rag eval."
        ) from exc


def _fmt(value: float) -> str:
    return f"{value:.4f}"


def render_markdown(report: EvalReport, plot_name: str | None = None) -> str:
    ds = report.dataset
    title = f"# Retrieval evaluation: {ds['name']} ({ds['split']} split, {ds['n_queries']} queries)"
    names = list(next(iter(report.modes.values())).metrics) if report.modes else []
    extra_names = sorted({n for m in report.modes.values() for n in m.extra})
    header = ["mode", *names, *extra_names, "p50 ms", "p95 ms"]
    lines = [title, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for mode, scores in report.modes.items():
        cells = [mode, *(_fmt(scores.metrics[n]) for n in names)]
        cells += [_fmt(scores.extra[n]) if n in scores.extra else "" for n in extra_names]
        cells += [f"{scores.latency.get('p50_ms', 0):.1f}", f"{scores.latency.get('p95_ms', 0):.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    if report.answer:
        lines += ["", "Final answers (default retrieval mode, `rag.answer.answer_question`):", ""]
        lines += ["| check | value |", "|---|---|"]
        lines += [
            f"| {name} | {_fmt(v) if isinstance(v, float) else v} |" for name, v in report.answer.items()
        ]
    if report.kind == "beir":
        lines += [
            "",
            f"Held-out discipline: these figures are on the **{ds['split']}** split; "
            "tune parameters on train or dev, never on the split reported here.",
            "",
        ]
    else:
        lines += [
            "",
            f"QA file: metrics on gold articles (MaxP); 'passage' columns on gold passage ids; 'answer' "
            f"columns count a top-{report.k} passage that contains a gold answer string.",
            "",
        ]
    if plot_name:
        lines += [f"![Recall@k per mode]({plot_name})", ""]
    st = report.stamp
    lines += [
        f"- dataset: `{ds.get('path', '')}` fingerprint `{ds['fingerprint']}`, "
        f"{ds.get('n_docs', '?')} documents",
        f"- settings hash `{st['settings_hash']}`, model `{st['model']}`, index `{st['index']}`",
        f"- {report.k} is the cut-off; documents are scored by their best passage (MaxP)",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in sorted(st["versions"].items())),
        f"- date: {st['date']}",
    ]
    lines += [f"- note: {n}" for n in report.notes]
    return "\n".join(lines) + "\n"


def write_plot(report: EvalReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in tests
    import matplotlib.pyplot as plt

    panels = 3 if report.answer else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.2))
    left, right = axes[0], axes[1]
    for mode, scores in report.modes.items():
        ks = sorted(scores.recall_curve)
        left.plot(ks, [scores.recall_curve[k] for k in ks], marker="o", label=mode)
    left.set_xscale("log")
    ks_all = sorted({k for m in report.modes.values() for k in m.recall_curve})
    left.set_xticks(ks_all, [str(k) for k in ks_all])
    left.minorticks_off()
    left.set_xlabel("k (documents)")
    left.set_ylabel("Recall@k")
    left.set_ylim(0, 1.02)
    left.grid(True, alpha=0.3)
    left.legend()
    left.set_title("Recall@k per mode")
    key = f"nDCG@{report.k}"
    modes = list(report.modes)
    values = [report.modes[m].metrics.get(key, 0.0) for m in modes]
    colors = [f"C{i}" for i in range(len(modes))]  # the same colour as the mode's curve
    bars = right.bar(modes, values, color=colors)
    right.bar_label(bars, labels=[f"{v:.3f}" for v in values])
    right.set_ylim(0, 1.1)
    right.set_title(key)
    if report.answer:
        answer_panel(axes[2], report.answer)
    ds = report.dataset
    fig.suptitle(
        f"{ds['name']} ({ds['split']}, {ds['n_queries']} queries) - "
        f"settings {report.stamp['settings_hash']}, "
        f"{report.stamp['model']}, {report.stamp['date'][:10]}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def answer_panel(ax: Any, answer: dict[str, Any]) -> None:
    """Bars of the answer table's shares: accuracy per kind and type, rejection, false refusals."""
    rows = [(name.replace(": accuracy", "").replace(": rejection", " (rejected)"), v)
            for name, v in answer.items() if isinstance(v, float) and "ms" not in name
            and name != "citations exact (quote == article slice)"]
    if not rows:
        return
    names, values = zip(*rows, strict=True)
    bars = ax.barh(range(len(values)), values, color="C2")
    ax.set_yticks(range(len(names)), names, fontsize=6)
    ax.invert_yaxis()
    ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=6)
    ax.set_xlim(0, 1.15)
    ax.set_title("Final answers")


def write_report(report: EvalReport, out: str | Path) -> dict[str, Path]:
    """Write OUT.md, OUT.json and OUT.png (OUT is a path prefix; a trailing extension is dropped)."""
    out = Path(out)
    if out.suffix in {".md", ".json", ".png"}:
        out = out.with_suffix("")
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = {ext: out.with_name(f"{out.name}.{ext}") for ext in ("md", "json", "png")}
    paths["json"].write_text(json.dumps(report.to_dict(), indent=2, sort_keys=False) + "\n", encoding="utf-8")
    write_plot(report, paths["png"])
    paths["md"].write_text(render_markdown(report, plot_name=paths["png"].name), encoding="utf-8")
    return paths


def compare(a: EvalReport, b: EvalReport) -> str:
    """Per mode and metric: A, B and B - A. Warns when the runs are not on the same data."""
    lines = []
    for what in ("fingerprint", "split"):
        if a.dataset.get(what) != b.dataset.get(what):
            lines.append(f"warning: different dataset {what}: {a.dataset.get(what)} vs {b.dataset.get(what)}")
    lines.append(f"A: settings {a.stamp['settings_hash']} ({a.stamp['date'][:19]})")
    lines.append(f"B: settings {b.stamp['settings_hash']} ({b.stamp['date'][:19]})")
    changed = _settings_diff(a.settings, b.settings)
    if changed:
        lines.append("settings changed: " + "; ".join(changed))
    for mode in [m for m in a.modes if m in b.modes]:
        lines += ["", f"{mode}:", f"  {'metric':<16}{'A':>10}{'B':>10}{'B-A':>10}"]
        ma, mb = a.modes[mode], b.modes[mode]
        rows = [(n, ma.metrics[n], mb.metrics[n]) for n in ma.metrics if n in mb.metrics]
        rows += [(n, ma.extra[n], mb.extra[n]) for n in ma.extra if n in mb.extra]
        rows += [
            (f"latency {n}", ma.latency[n], mb.latency[n])
            for n in ("p50_ms", "p95_ms")
            if n in ma.latency and n in mb.latency
        ]
        for name, va, vb in rows:
            lines.append(f"  {name:<16}{va:>10.4f}{vb:>10.4f}{vb - va:>+10.4f}")
    shared = [n for n, v in a.answer.items()
              if isinstance(v, int | float) and isinstance(b.answer.get(n), int | float)]
    if shared:
        lines += ["", "answers:", f"  {'check':<48}{'A':>10}{'B':>10}{'B-A':>10}"]
        for name in shared:
            va, vb = float(a.answer[name]), float(b.answer[name])
            lines.append(f"  {name:<48}{va:>10.4f}{vb:>10.4f}{vb - va:>+10.4f}")
    only = sorted(set(a.modes) ^ set(b.modes))
    if only:
        lines += ["", f"modes in only one run: {', '.join(only)}"]
    return "\n".join(lines)


def _settings_diff(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += _settings_diff(va, vb, f"{prefix}{key}.")
        elif va != vb:
            out.append(f"{prefix}{key} {va!r} -> {vb!r}")
    return out
