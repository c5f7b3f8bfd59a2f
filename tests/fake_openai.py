"""A real local HTTP server speaking OpenAI-style chat completions (streamed SSE or one JSON body), for the
`openai` judge's tests and the browser tests that need a judge whose text we choose."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server:
    """Serves scripted replies in order: an int is an HTTP error status, a str a streamed reply, a dict a
    reply with options: {"text", "finish" (finish_reason, None: none sent), "done" (send [DONE]),
    "model", "fingerprint", "json" (one non-streamed completion body)}."""

    def __init__(self, script: list, default: int | str | dict = 500):
        self.script = list(script)
        self.default = default  # the reply once the script is used up
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                outer.headers.append(dict(self.headers))
                step = outer.script.pop(0) if outer.script else outer.default
                if self.path != "/v1/chat/completions":
                    step = 404
                if isinstance(step, int):
                    payload = json.dumps({"error": {"message": f"scripted {step}"}}).encode()
                    self.send_response(step)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                step = {"text": step} if isinstance(step, str) else step
                if step.get("json"):
                    payload = json.dumps({"id": "c", "object": "chat.completion", "model": step.get("model", "m"),
                                          "choices": [{"index": 0, "message": {"role": "assistant", "content": step["text"]},
                                                       "finish_reason": step.get("finish", "stop")}]}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.write(b": keep-alive\n\n")
                text = step["text"]
                pieces = [text[i:i + 7] for i in range(0, len(text), 7)]
                extra = {k: v for k, v in (("model", step.get("model")), ("system_fingerprint", step.get("fingerprint"))) if v}
                for k, piece in enumerate(pieces):
                    chunk = {"id": "c", "object": "chat.completion.chunk", **extra,
                             "choices": [{"index": 0, "delta": ({"role": "assistant"} if k == 0 else {}) | {"content": piece}}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                finish = step.get("finish", "stop")
                if finish:
                    self.wfile.write(f'data: {{"choices": [{{"index": 0, "delta": {{}}, "finish_reason": "{finish}"}}]}}\n\n'.encode())
                if step.get("done", True):
                    self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
