"""`openai` judge: any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp server,
LM Studio, Ollama's /v1, ...), streaming.

Pictures go as base64 JPEG `image_url` parts of the first user message, each after its text label (the
reference first, labelled as the reference, then the clip's frames with their times). The reply streams
as server-sent events (`data: {...}` chunks, `data: [DONE]`); a server that answers with one JSON
completion instead is read as such. A stream that stops before `[DONE]` or a finish reason is an error,
never a shorter reply. Connection errors, timeouts, 429 and 5xx are retried with exponential backoff,
but only before the first token arrived (a retry after that would repeat text the user has already
seen); other HTTP errors fail at once with the server's message.

Reproducibility: temperature, seed and max_tokens are sent and recorded in the result's backend_version,
with the model name and system fingerprint the endpoint reported (when it reports them).

Configuration (Settings.judge, filled from the environment by Settings.from_env, or options):
base_url (EVALVERSE_OPENAI_BASE_URL, default https://api.openai.com/v1), model
(EVALVERSE_OPENAI_MODEL, default gpt-4o-mini), API key (EVALVERSE_OPENAI_API_KEY or OPENAI_API_KEY;
optional for local servers), timeout_s, retries, backoff_s, max_tokens, temperature, seed (default 0;
None sends none), image_side.
"""
from __future__ import annotations

import base64
import io
import json
import os
import time
from typing import Any, ClassVar, Iterator

from evalverse.errors import InputError
from evalverse.judge.backends.chat import ChatJudge, JudgeCallError, Message
from evalverse.judge.backends.images import Shown
from evalverse.registry import Backend, register

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


def _api_key(options: dict[str, Any]) -> str | None:
    # the key is a secret: read where it lives (the environment) at call time, never stored in Settings
    return options.get("api_key") or os.environ.get("EVALVERSE_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")


@register
class OpenAIJudge(ChatJudge):
    name: ClassVar[str] = "openai"
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = ("Any OpenAI-compatible chat endpoint with vision (frames as JPEG image parts), "
                                  "streamed; retries on 429/5xx; one repair request for an unreadable verdict.")
    backends: ClassVar[tuple[Backend, ...]] = (
        Backend("http", weights="remote: whatever model the endpoint serves", licence="per the provider's terms",
                modules=("httpx", "PIL"), fix="pip install httpx pillow; set EVALVERSE_OPENAI_BASE_URL / _MODEL / _API_KEY"),
    )

    def __init__(self, settings=None, **options: Any) -> None:
        super().__init__(settings, **options)
        conf = getattr(settings, "judge", None)

        def pick(key: str, default: Any) -> Any:
            if options.get(key) is not None:
                return options[key]
            value = getattr(conf, f"openai_{key}", None) if conf is not None else None
            return default if value is None else value

        self.base_url = str(pick("base_url", DEFAULT_BASE_URL)).rstrip("/")
        self.model = str(pick("model", DEFAULT_MODEL))
        self.timeout_s = float(pick("timeout_s", 120.0))
        self.retries = int(pick("retries", 3))
        self.backoff_s = float(pick("backoff_s", 1.0))
        self.max_tokens = int(pick("max_tokens", 2048))
        self.temperature = float(pick("temperature", 0.0))
        seed = options.get("seed", 0)
        self.seed = None if seed is None else int(seed)
        self.served: dict[str, str] = {}  # what the endpoint said about itself in its last reply
        self.image_side = int(pick("image_side", 768))
        if not self.base_url.startswith(("http://", "https://")):
            raise InputError(f"openai judge: base URL must start with http:// or https://, got {self.base_url!r}")

    def version_string(self) -> str:
        text = (f"{self.version} {self.model}@{self.base_url} temperature={self.temperature:g} "
                f"seed={'none' if self.seed is None else self.seed} max_tokens={self.max_tokens}")
        if self.served.get("model") and self.served["model"] != self.model:
            text += f" served={self.served['model']}"
        if self.served.get("fingerprint"):
            text += f" fingerprint={self.served['fingerprint']}"
        return text

    def output_limit(self) -> int | None:
        return self.max_tokens

    def complete(self, messages: list[Message]) -> str:
        """A plain text chat completion (no pictures) through the same HTTP, streaming and retry code as the
        judge: what the suite builder's language-model prompt writer calls. JudgeCallError when it fails."""
        return "".join(self._stream(messages, []))

    def _stream(self, messages: list[Message], pictures: list[Shown]) -> Iterator[str]:
        import httpx

        body = {"model": self.model, "messages": self._wire_messages(messages, pictures), "stream": True,
                "max_tokens": self.max_tokens, "temperature": self.temperature}
        if self.seed is not None:
            body["seed"] = self.seed
        self.last_finish, self.served = None, {}
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        key = _api_key(self.options)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url = f"{self.base_url}/chat/completions"
        timeout = httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 10.0))
        last_problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            received = False
            info: dict[str, Any] = {}
            try:
                with httpx.Client(timeout=timeout) as client, client.stream("POST", url, json=body, headers=headers) as resp:
                    if resp.status_code != 200:
                        detail = _error_detail(resp)
                        last_problem = f"HTTP {resp.status_code} from {url}: {detail}"
                        if resp.status_code in RETRY_STATUS:
                            continue
                        raise JudgeCallError(last_problem + _hint(resp.status_code))
                    if resp.headers.get("content-type", "").split(";")[0].strip() == "application/json":
                        pieces: Iterator[str] = _completion_text(resp, info)  # the server ignored "stream"
                    else:
                        pieces = _sse_text(resp.iter_lines(), info)
                    for piece in pieces:
                        received = True
                        yield piece
                    self._served(info)
                    if info.get("done") or info.get("finish_reason"):
                        return
                    last_problem = f"the stream from {url} ended before the reply was complete (no [DONE], no finish reason)"
                    if received:
                        raise JudgeCallError(last_problem)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last_problem = f"{type(exc).__name__} talking to {url}: {exc}"
                if info.get("finish_reason"):  # the reply was complete; only the stream's tail was lost
                    self._served(info)
                    return
                if received:
                    raise JudgeCallError(f"the stream broke after it started ({last_problem})") from exc
        raise JudgeCallError(f"gave up after {self.retries + 1} attempts: {last_problem}")

    def _served(self, info: dict[str, Any]) -> None:
        self.last_finish = info.get("finish_reason") or ("stop" if info.get("done") else None)
        self.served = {k: str(info[k]) for k in ("model", "fingerprint") if info.get(k)}

    def _wire_messages(self, messages: list[Message], pictures: list[Shown]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        first_user = True
        for m in messages:
            if m["role"] == "user" and first_user and pictures:
                parts: list[dict[str, Any]] = []
                for shown in pictures:
                    parts.append({"type": "text", "text": shown.label})
                    parts.append({"type": "image_url", "image_url": {"url": jpeg_data_url(shown.image, self.image_side)}})
                parts.append({"type": "text", "text": m["content"]})
                out.append({"role": "user", "content": parts})
                first_user = False
            else:
                out.append({"role": m["role"], "content": m["content"]})
                first_user = first_user and m["role"] != "user"
        return out


def jpeg_data_url(image, max_side: int = 768, quality: int = 85) -> str:
    from PIL import Image

    img = Image.fromarray(image)
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _sse_text(lines: Iterator[str], info: dict[str, Any]) -> Iterator[str]:
    """Content deltas from an SSE chat-completions stream; stops at `data: [DONE]` (then info["done"]).
    `info` also gets the finish reason, the served model name and the system fingerprint when sent."""
    for line in lines:
        line = line.strip()
        if not line or line.startswith(":") or not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            info["done"] = True
            return
        try:
            chunk = json.loads(payload)
        except ValueError:
            continue  # a keep-alive or a provider's odd line: not text
        if not isinstance(chunk, dict):
            continue
        if chunk.get("error"):
            raise JudgeCallError(f"the endpoint reported an error mid-stream: {chunk['error']}")
        yield from _choices_text(chunk, info, "delta")


def _completion_text(resp, info: dict[str, Any]) -> Iterator[str]:
    """The text of a non-streamed chat completion (one JSON body)."""
    resp.read()
    try:
        data = resp.json()
    except ValueError as exc:
        raise JudgeCallError(f"the endpoint answered with unreadable JSON: {exc}") from None
    if isinstance(data, dict) and data.get("error"):
        raise JudgeCallError(f"the endpoint reported an error: {data['error']}")
    if isinstance(data, dict):
        yield from _choices_text(data, info, "message")


def _choices_text(chunk: dict[str, Any], info: dict[str, Any], field: str) -> Iterator[str]:
    for key, name in (("model", "model"), ("system_fingerprint", "fingerprint")):
        if chunk.get(key):
            info[name] = chunk[key]
    for choice in chunk.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        if choice.get("finish_reason"):
            info["finish_reason"] = str(choice["finish_reason"])
        delta = choice.get(field) or choice.get("message") or choice.get("delta") or {}
        text = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(text, str) and text:
            yield text


def _error_detail(resp) -> str:
    try:
        resp.read()
        data = resp.json()
        err = data.get("error", data)
        return str(err.get("message", err) if isinstance(err, dict) else err)[:300]
    except Exception:  # noqa: BLE001 - the body is only for the message
        return (resp.text or resp.reason_phrase or "")[:300]


def _hint(status: int) -> str:
    if status in (401, 403):
        return " (set EVALVERSE_OPENAI_API_KEY or OPENAI_API_KEY)"
    if status == 404:
        return " (check EVALVERSE_OPENAI_BASE_URL, which should end in /v1, and the model name)"
    return ""
