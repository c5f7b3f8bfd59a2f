"""The diagnose endpoint over HTTP: the real app on a free local port, called with gradio_client, streaming."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from evalverse.media.hashing import sha256_file
from evalverse.media.synthetic import cuts_clip
from browser_support import free_port

pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from evalverse.config import Settings
    from evalverse.ui.app import build_app

    root = tmp_path_factory.mktemp("client")
    settings = Settings(data_dir=root, db_path=root / "ev.duckdb", models_dir=root / "models")
    demo = build_app(settings)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
        demo.evalverse_context.store.close()


def test_diagnose_streams_through_gradio_client(app_url, tmp_path):
    from gradio_client import Client, handle_file

    clip = cuts_clip(tmp_path / "client_clip.mp4", cut_frames=(20,), n=50).path
    client = Client(app_url, verbose=False, download_files=str(tmp_path / "downloads"))
    started = time.perf_counter()
    job = client.submit(video=handle_file(str(clip)), judge="evidence", use_cache=False, api_name="/diagnose")
    updates = [out for out in job]  # iterating a job yields every streamed output as it arrives
    final = job.result()
    elapsed = time.perf_counter() - started
    assert len(updates) > 1, "the endpoint must stream more than the final result"
    progress = [u[0] for u in updates]
    assert any("Evidence" in p for p in progress[:-1]) and "Done in" in final[0]
    report = json.loads(Path(final[5]).read_text())  # progress, overview, cards, evidence, radar, report, link
    assert report["content_hash"] == sha256_file(clip)
    assert report["evidence"]["shots"]["results"]["n_shots"] == 2
    assert elapsed < 240


def test_bad_upload_is_an_answer_not_a_crash(app_url, tmp_path):
    from gradio_client import Client, handle_file

    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello\n" * 10)
    client = Client(app_url, verbose=False)
    final = client.predict(video=handle_file(str(bogus)), api_name="/diagnose")
    assert 'id="diagnose-error"' in final[0] and "notes.txt" in final[0]
    # the server still answers
    assert client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/diagnose"]
