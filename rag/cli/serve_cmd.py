"""`rag serve`: start the chat UI over an existing index."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rag.settings import DEFAULT_INDEX, Settings


def add_server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=None, help="port (default 7860)")
    p.add_argument("--auth", default=None, metavar="USER:PASS", help="ask for this user name and password")


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings.from_env(ui={"host": args.host, "port": args.port, "auth": args.auth})


def quiet_environment() -> None:
    """No telemetry and no model downloads: everything the app needs is local."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def run(args: argparse.Namespace) -> int:
    quiet_environment()
    settings = settings_from(args)
    from rag.ui.app import serve  # Gradio loads in seconds; only pay for it when serving

    index_dir = Path(args.index)
    print(f"Serving {index_dir} on http://{settings.ui.host}:{settings.ui.port} (Ctrl+C stops)")
    serve(settings, index_dir)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="start the chat UI over an index")
    p.add_argument("--index", default=str(DEFAULT_INDEX), help=f"index folder (default {DEFAULT_INDEX})")
    add_server_options(p)
    p.set_defaults(func=run)
