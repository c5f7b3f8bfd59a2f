"""Start the EvalVerse leaderboard app: `python app.py` (or `make run`).

Settings come from the environment (EVALVERSE_DB, EVALVERSE_DATA, ...); host and port from
GRADIO_SERVER_NAME (default 127.0.0.1) and GRADIO_SERVER_PORT (default 7860). Once the page is served, the
operators' models load and a tiny clip is diagnosed in the background (evalverse.ui.diagnose_session.warm_up),
so the first diagnosis is a warm one.
"""
from __future__ import annotations

import os
import threading

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("YOLO_OFFLINE", "1")


def main() -> None:
    from evalverse.config import Settings
    from evalverse.ui.app import build_app, launch_options

    settings = Settings.from_env()
    demo = build_app(settings)
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        prevent_thread_lock=True,
        **launch_options(settings),  # includes the upload size limit
    )
    ctx = demo.evalverse_context
    threading.Thread(target=_warm_up, args=(ctx.settings, ctx.taxonomy), name="evalverse-warm-up", daemon=True).start()
    demo.block_thread()


def _warm_up(settings, taxonomy) -> None:
    from evalverse.ui.diagnose_session import warm_up

    warm_up(settings, taxonomy)


if __name__ == "__main__":
    main()
