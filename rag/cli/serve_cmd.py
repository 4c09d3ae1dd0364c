"""`rag serve`: start the chat UI over an existing index."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import tempfile
from pathlib import Path

from rag.errors import SettingsError
from rag.settings import DEFAULT_INDEX, Settings


def add_server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=None, help="port (default 7860)")
    p.add_argument("--auth-file", default=None, metavar="FILE",
                   help="ask for the user name and password in FILE (one line, user:password); "
                        "or set RAG_UI__AUTH=user:password")
    p.add_argument("--auth", default=None, help=argparse.SUPPRESS)  # refused with the fix: see auth_from


def auth_from(args: argparse.Namespace) -> str | None:
    """The login from --auth-file (first line), or None (then RAG_UI__AUTH applies). A password on the
    command line is visible to every local user in `ps`, so --auth user:pass is refused."""
    if getattr(args, "auth", None):
        raise SettingsError("A password on the command line is visible to every user of this machine (ps).",
                            help="Put user:password in a file only you can read and pass --auth-file FILE, "
                                 "or set RAG_UI__AUTH=user:password.")
    if not getattr(args, "auth_file", None):
        return None
    try:
        line = Path(args.auth_file).read_text(encoding="utf-8").strip().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"Cannot read the --auth-file {args.auth_file}: {exc}.", help="") from exc
    return line[0].strip() if line else ""


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings.from_env(ui={"host": args.host, "port": args.port, "auth": auth_from(args)})


def quiet_environment() -> None:
    """No telemetry and no model downloads: everything the app needs is local. Gradio's file cache
    (exports it serves) goes to a folder only this user can read, removed at exit."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if "GRADIO_TEMP_DIR" not in os.environ:
        private = tempfile.mkdtemp(prefix="rag-gradio-")  # mode 0700
        atexit.register(shutil.rmtree, private, True)
        os.environ["GRADIO_TEMP_DIR"] = private


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
    p.add_argument("--index", default=str(DEFAULT_INDEX), help="index folder (default: index/default)")
    add_server_options(p)
    p.set_defaults(func=run)
