"""What machine a speed figure was measured on: CPU model, the flags that decide int8/bf16 speed, cores, load.

Embedding speed is a property of a CPU, not of the code alone (the same build ran 5.3x torch on one
machine and 2.4x on another), so every benchmark result and every cached calibration carries this.
`cpu_line()` gives e.g. 'AMD EPYC, 2 cores, flags: avx2 avx512f avx512_vnni avx512_bf16'.
"""

from __future__ import annotations

import os
import platform
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

# The flags that change which int8 / bf16 kernels the runtimes can use.
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8", "amx_tile")
LIBRARIES = ("onnxruntime", "torch", "sentence-transformers", "transformers", "tokenizers", "numpy",
             "faiss-cpu")


def cores() -> int:
    """CPUs this process may run on (a container's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@cache
def cpu_info() -> dict[str, Any]:
    """{"model", "flags" (those of FLAGS the CPU has), "cores"}; read from /proc/cpuinfo on Linux."""
    model, flags = platform.processor() or platform.machine(), set()
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
            if flags and model:
                break
    return {"model": model, "flags": [f for f in FLAGS if f in flags], "cores": cores()}


def cpu_line(info: dict[str, Any] | None = None) -> str:
    """One line for a results table: 'AMD EPYC, 2 cores, avx512_vnni avx512_bf16'."""
    info = info or cpu_info()
    flags = " ".join(info["flags"]) or "none of " + "/".join(FLAGS)
    return f"{info['model']}, {info['cores']} cores, flags: {flags}"


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def machine_stamp() -> dict[str, Any]:
    """Everything a benchmark result records about where it ran; call it at the start and the end
    of a run (`load_avg` is the 1/5/15-minute load average at that moment)."""
    return {"cpu": cpu_info(), "load_avg": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "libraries": library_versions()}


def stamp_lines(before: dict[str, Any], after: dict[str, Any] | None = None) -> list[str]:
    """Markdown lines naming the machine, its load and the library versions."""
    load = f"load average {before['load_avg'][0]}"
    if after is not None:
        load += f" before, {after['load_avg'][0]} after"
    libs = ", ".join(f"{k} {v}" for k, v in before["libraries"].items() if v)
    return [f"CPU: {cpu_line(before['cpu'])}; {load}.", f"Libraries: Python {before['python']}, {libs}."]
