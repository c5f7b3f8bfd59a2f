"""`transformers` judge: a local Qwen2-VL-family vision-language model (default Qwen2.5-VL-3B-Instruct).

Weights are never downloaded at run time: the model is a local folder, given as a path or as a folder
name under Settings.models_dir (Settings.judge.vlm_model, env EVALVERSE_VLM_MODEL). The sampled frames
go in as images (resized to at most `max_pixels` each), the conversation is written in the Qwen chat
format with one <|vision_start|><|image_pad|>…<|vision_end|> block per frame, and the reply streams
through `TextIteratorStreamer` from `generate` running in a thread. CUDA in bf16 when available
(Settings.judge.vlm_device: auto|cpu|cuda), else CPU in float32.

Inputs are assembled from the PIL image processor and the tokenizer directly, because transformers'
ProcessorMixin classes need torchvision (importable here only through evalverse.compat).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar, Iterator

from evalverse.config import Settings
from evalverse.errors import UnavailableError
from evalverse.judge.backends.chat import ChatJudge, JudgeCallError, Message
from evalverse.judge.protocol import Frame
from evalverse.registry import Backend, register

DEFAULT_MODEL = "Qwen2.5-VL-3B-Instruct"
HF_REPO = "Qwen/Qwen2.5-VL-3B-Instruct"

_CACHE: dict[tuple[str, str], "LoadedVLM"] = {}  # one copy of the weights per process
_CACHE_LOCK = threading.Lock()


def resolve_model_dir(model: str, settings: Settings | None) -> Path | None:
    """The local folder holding `model` (a path, or a name under models_dir), or None."""
    direct = Path(model).expanduser()
    candidates = [direct]
    if settings is not None and not direct.is_absolute():
        candidates.append(settings.models_dir / model)
    for c in candidates:
        if (c / "config.json").is_file():
            return c
    return None


def _model_name(settings: Settings | None, options: dict[str, Any]) -> str:
    conf = getattr(settings, "judge", None)
    return str(options.get("model") or (conf.vlm_model if conf is not None else DEFAULT_MODEL))


def _probe(settings: Settings) -> str | None:
    name = _model_name(settings, {})
    if resolve_model_dir(name, settings) is None:
        return f"VLM weights not found: {name} is neither a folder with config.json nor {settings.models_dir / name}"
    return None


def _fix(settings: Settings | None, name: str) -> str:
    target = (settings.models_dir / name) if settings is not None else Path("<models_dir>") / name
    return (f"download the weights once: `evalverse models pull qwen2.5-vl-3b` "
            f"(or `huggingface-cli download {HF_REPO} --local-dir {target}`), "
            "or set EVALVERSE_VLM_MODEL to a local Qwen2-VL/Qwen2.5-VL folder")


class LoadedVLM:
    def __init__(self, path: Path, device: str) -> None:
        from evalverse.compat.torchvision_cpu import ensure_torchvision

        ensure_torchvision()  # transformers' image utilities import torchvision when it is installed
        import torch
        from transformers import AutoModelForImageTextToText, AutoTokenizer, Qwen2VLImageProcessorPil

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda" and not torch.cuda.is_available():
            raise UnavailableError("EVALVERSE_VLM_DEVICE=cuda but torch sees no CUDA device here")
        self.device = device
        self.dtype = torch.bfloat16 if device == "cuda" else torch.float32
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.image_processor = Qwen2VLImageProcessorPil.from_pretrained(path)
            self.model = AutoModelForImageTextToText.from_pretrained(path, dtype=self.dtype).to(device).eval()
        except (OSError, ValueError, KeyError) as exc:
            raise UnavailableError(f"cannot load the VLM from {path}: {exc}") from exc
        self.merge = int(getattr(self.image_processor, "merge_size", 2))
        self.lock = threading.Lock()  # one generate at a time per model


@register
class TransformersJudge(ChatJudge):
    name: ClassVar[str] = "transformers"
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = ("Local Qwen2-VL-family VLM (default Qwen2.5-VL-3B-Instruct) from the models "
                                  "folder; frames as images; streamed; CPU or CUDA (bf16).")
    backends: ClassVar[tuple[Backend, ...]] = (
        Backend("qwen_vl", weights=f"{HF_REPO} (Hugging Face), placed under the models folder", 
                # the default 3B weights are non-commercial; Qwen2-VL-2B-Instruct (Apache-2.0) is the permissive pick
                licence="Qwen Research License (Qwen2.5-VL-3B, non-commercial); Apache-2.0 for Qwen2-VL-2B",
                modules=("torch", "transformers", "PIL"), probe=_probe,
                fix="evalverse models pull qwen2.5-vl-3b (or qwen2-vl-2b and set EVALVERSE_VLM_MODEL)"),
    )

    def __init__(self, settings: Settings | None = None, **options: Any) -> None:
        super().__init__(settings, **options)
        self.model_name = _model_name(settings, options)
        conf = getattr(settings, "judge", None)
        self.device = str(options.get("device") or (conf.vlm_device if conf is not None else "auto"))
        self.max_new_tokens = int(options.get("max_new_tokens", 1024))
        self.max_pixels = int(options.get("max_pixels", 448 * 448))
        self.vlm: LoadedVLM | None = None

    def check_available(self) -> None:
        from evalverse.registry import _has_module

        missing = [m for m in self.backends[0].modules if not _has_module(m)]
        if missing:
            raise UnavailableError(f"the transformers judge needs the Python packages {', '.join(missing)} "
                                   "(pip install -c requirements/constraints.txt -e '.[perception]')")
        if resolve_model_dir(self.model_name, self.settings) is None:
            raise UnavailableError(f"the transformers judge needs local VLM weights: {self.model_name} was not found. "
                                   + _fix(self.settings, self.model_name))

    def version_string(self) -> str:
        return f"{self.version} {self.model_name}"

    def _prepare(self) -> None:
        if self.vlm is not None:
            return
        path = resolve_model_dir(self.model_name, self.settings)
        if path is None:
            raise UnavailableError(f"VLM weights {self.model_name} not found. " + _fix(self.settings, self.model_name))
        key = (str(path.resolve()), self.device)
        with _CACHE_LOCK:
            if key not in _CACHE:
                _CACHE[key] = LoadedVLM(path, self.device)
            self.vlm = _CACHE[key]

    def build_inputs(self, messages: list[Message], frames: list[Frame]) -> dict[str, Any]:
        """Token ids (Qwen chat format, image pads expanded) and pixel tensors for `generate`."""
        from PIL import Image

        vlm = self.vlm
        assert vlm is not None
        images = [_fit(Image.fromarray(f.image).convert("RGB"), self.max_pixels) for f in frames]
        vision: dict[str, Any] = {}
        pads: list[int] = []
        if images:
            vision = dict(vlm.image_processor(images=images, return_tensors="pt"))
            pads = [int(g.prod()) // vlm.merge ** 2 for g in vision["image_grid_thw"]]
        text = ""
        attached = False
        for m in messages:
            content = m["content"]
            if m["role"] == "user" and not attached and frames:
                blocks = [f"Frame at t={f.time:.2f} s: <|vision_start|>" + "<|image_pad|>" * n + "<|vision_end|>\n"
                          for f, n in zip(frames, pads)]
                content = "".join(blocks) + content
                attached = True
            text += f"<|im_start|>{m['role']}\n{content}<|im_end|>\n"
        text += "<|im_start|>assistant\n"
        enc = vlm.tokenizer(text, return_tensors="pt", add_special_tokens=False)
        inputs = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
        if vision:
            inputs["pixel_values"] = vision["pixel_values"].to(vlm.dtype)
            inputs["image_grid_thw"] = vision["image_grid_thw"]
        return {k: v.to(vlm.device) for k, v in inputs.items()}

    def _stream(self, messages: list[Message], frames: list[Frame]) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        self._prepare()
        vlm = self.vlm
        assert vlm is not None
        inputs = self.build_inputs(messages, frames)
        streamer = TextIteratorStreamer(vlm.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600)
        failure: list[BaseException] = []

        def work() -> None:
            import torch

            try:
                with torch.inference_mode():
                    vlm.model.generate(**inputs, streamer=streamer, max_new_tokens=self.max_new_tokens, do_sample=False,
                                       pad_token_id=vlm.tokenizer.pad_token_id or vlm.tokenizer.eos_token_id)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                failure.append(exc)
                streamer.end()

        with vlm.lock:
            thread = threading.Thread(target=work, name="evalverse-vlm-generate", daemon=True)
            thread.start()
            for text in streamer:
                if text:
                    yield text
            thread.join()
        if failure:
            raise JudgeCallError(f"generation failed: {type(failure[0]).__name__}: {failure[0]}")


def _fit(img, max_pixels: int):
    w, h = img.size
    if w * h <= max_pixels:
        return img
    scale = (max_pixels / float(w * h)) ** 0.5
    return img.resize((max(28, int(w * scale)), max(28, int(h * scale))))
