"""`transformers` judge: a local Qwen2-VL-family vision-language model (default Qwen2.5-VL-3B-Instruct).

Weights are never downloaded at run time: the model is a local folder, given as a path or as a folder
name under Settings.models_dir (Settings.judge.vlm_model, env EVALVERSE_VLM_MODEL), and it must be whole
(`evalverse.models.folder_problems`: an interrupted pull is refused with the command that finishes it).
The pictures (the reference first, labelled as such, then the clip's frames with their times) go in
as images resized to at most `max_pixels` each; the reply streams through `TextIteratorStreamer` from
`generate` running in a thread. CUDA in bf16 when available (Settings.judge.vlm_device:
auto|cpu|cuda), else CPU in float32. Decoding is greedy; the result's backend_version records the
model, the decoding settings and the transformers version.

Inputs come from the model's own processor (`AutoProcessor`: chat template, image processor, image-pad
expansion and `mm_token_type_ids`, which transformers >= 5.3 needs to give image tokens their 3D
multimodal RoPE positions; without it they silently get plain text positions). The processor classes
import torchvision, which loads here only through evalverse.compat; where that fails, or the folder has
no processor, the inputs are assembled from the PIL image processor and the tokenizer, and
`mm_token_type_ids` is computed the same way (image-pad tokens are 1, everything else 0). Whatever the
path, only the inputs the installed model's `forward` accepts are passed.

Supported transformers: TRANSFORMERS_RANGE (also in pyproject.toml; checked at run time).
"""
from __future__ import annotations

import inspect
import threading
from pathlib import Path
from typing import Any, ClassVar, Iterator

from evalverse.config import Settings
from evalverse.errors import UnavailableError
from evalverse.judge.backends.chat import ChatJudge, JudgeCallError, Message
from evalverse.judge.backends.images import Shown
from evalverse.registry import Backend, register

DEFAULT_MODEL = "Qwen2.5-VL-3B-Instruct"
HF_REPO = "Qwen/Qwen2.5-VL-3B-Instruct"
# Measured with the tiny-model tests in tests/test_judge_transformers.py against each release's wheel:
# 5.3 makes the model take mm_token_type_ids for M-RoPE, 5.4 adds the PIL image processor
# (Qwen2VLImageProcessorPil, no torchvision), and 5.6 is the first release whose Qwen2.5-VL gives still
# images their M-RoPE temporal position (5.3-5.5 put it at 0: huggingface/transformers#45325, fixed by
# #45400). < 6: the next major version may change these APIs again. Also stated in pyproject.toml.
TRANSFORMERS_RANGE = ">=5.6,<6"
VISION_START, IMAGE_PAD, VISION_END = "<|vision_start|>", "<|image_pad|>", "<|vision_end|>"

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


def transformers_problem() -> str | None:
    """Why the installed transformers cannot serve this backend (outside TRANSFORMERS_RANGE), or None."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.specifiers import SpecifierSet

    try:
        installed = version("transformers")
    except PackageNotFoundError:
        return None  # reported as a missing module
    if SpecifierSet(TRANSFORMERS_RANGE).contains(installed, prereleases=True):
        return None
    return (f"transformers {installed} is installed, but the transformers judge supports transformers{TRANSFORMERS_RANGE} "
            f"(fix: pip install -c requirements/constraints.txt 'transformers{TRANSFORMERS_RANGE}')")


def weights_problem(folder: Path, name: str) -> str | None:
    from evalverse.models import folder_problems

    problems = folder_problems(folder)
    if not problems:
        return None
    return (f"the VLM weights in {folder} are incomplete ({'; '.join(problems[:3])}"
            + (f"; {len(problems) - 3} more" if len(problems) > 3 else "") + f"); {_pull_fix(name)}")


def _model_name(settings: Settings | None, options: dict[str, Any]) -> str:
    conf = getattr(settings, "judge", None)
    return str(options.get("model") or (conf.vlm_model if conf is not None else DEFAULT_MODEL))


def _pull_fix(name: str) -> str:
    from evalverse.models import load_manifest

    for entry in load_manifest():
        if entry.kind == "hf" and entry.target == name:
            return f"fix: `evalverse models pull {entry.name}` (it fetches what is missing)"
    return "fix: copy the complete model folder again (every file of the model repository)"


def _problem(settings: Settings | None, name: str) -> str | None:
    folder = resolve_model_dir(name, settings)
    if folder is None:
        where = settings.models_dir / name if settings is not None else Path("<models_dir>") / name
        return f"VLM weights not found: {name} is neither a folder with config.json nor {where}. " + _fix(settings, name)
    return transformers_problem() or weights_problem(folder, name)


def _probe(settings: Settings) -> str | None:
    return _problem(settings, _model_name(settings, {}))


def _fix(settings: Settings | None, name: str) -> str:
    target = (settings.models_dir / name) if settings is not None else Path("<models_dir>") / name
    return (f"download the weights once: `evalverse models pull qwen2.5-vl-3b` "
            f"(or `huggingface-cli download {HF_REPO} --local-dir {target}`), "
            "or set EVALVERSE_VLM_MODEL to a local Qwen2-VL/Qwen2.5-VL folder")


def _own_processor(path: Path) -> tuple[Any, str | None]:
    """The model's own multimodal processor, or (None, why not)."""
    try:
        from transformers import AutoProcessor, ProcessorMixin

        proc = AutoProcessor.from_pretrained(path)
    except Exception as exc:  # noqa: BLE001 - a folder without processor files fails in many ways
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if isinstance(proc, ProcessorMixin) and getattr(proc, "image_processor", None) is not None \
            and getattr(proc, "tokenizer", None) is not None:
        return proc, None
    return None, f"the folder has no multimodal processor (AutoProcessor gave {type(proc).__name__})"


def _pil_image_processor(path: Path) -> Any:
    import transformers

    cls = getattr(transformers, "Qwen2VLImageProcessorPil", None) or transformers.Qwen2VLImageProcessor
    return cls.from_pretrained(path)


class LoadedVLM:
    def __init__(self, path: Path, device: str) -> None:
        from evalverse.compat.torchvision_cpu import ensure_torchvision

        self.notes: list[str] = []
        try:
            ensure_torchvision()  # transformers' processors import torchvision when it is installed
            torchvision = True
        except UnavailableError as exc:
            torchvision = False
            self.notes.append(f"no processor classes without torchvision ({exc})")
        import torch
        from transformers import AutoModelForImageTextToText, AutoTokenizer

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda" and not torch.cuda.is_available():
            raise UnavailableError("EVALVERSE_VLM_DEVICE=cuda but torch sees no CUDA device here")
        self.device = device
        self.dtype = torch.bfloat16 if device == "cuda" else torch.float32
        self.processor: Any = None
        try:
            if torchvision:
                self.processor, why = _own_processor(path)
                if why:
                    self.notes.append(f"own processor not used: {why}")
            if self.processor is not None:
                self.tokenizer, self.image_processor = self.processor.tokenizer, self.processor.image_processor
            else:
                self.tokenizer = AutoTokenizer.from_pretrained(path)
                self.image_processor = _pil_image_processor(path)
            self.model = AutoModelForImageTextToText.from_pretrained(path, dtype=self.dtype).to(device).eval()
        except (OSError, ValueError, KeyError, ImportError) as exc:
            raise UnavailableError(f"cannot load the VLM from {path}: {exc}") from exc
        self.merge = int(getattr(self.image_processor, "merge_size", 2))
        self.accepts = set(inspect.signature(self.model.forward).parameters)
        self.image_token_id = int(getattr(self.model.config, "image_token_id", None)
                                  or self.tokenizer.convert_tokens_to_ids(IMAGE_PAD))
        self.inputs_path = "processor" if self.processor is not None else "image-processor"
        self.lock = threading.Lock()  # one generate at a time per model


def chat_text(messages: list[Message], pictures: list[Shown], pads: list[int] | None = None,
              processor: Any = None) -> str:
    """The conversation as the model's prompt text, pictures (label, then image) at the head of the first
    user message. With the processor's chat template when it has one, else the Qwen chat format; image
    blocks hold one pad each (the processor expands them) or `pads[i]` pads when given."""
    conversation = []
    attached = False
    for m in messages:
        parts: list[dict[str, Any]] = []
        if m["role"] == "user" and not attached and pictures:
            for shown in pictures:
                parts += [{"type": "text", "text": shown.label + " "}, {"type": "image"}, {"type": "text", "text": "\n"}]
            attached = True
        parts.append({"type": "text", "text": m["content"]})
        conversation.append({"role": m["role"], "content": parts})
    if pads is None and processor is not None and getattr(processor, "chat_template", None):
        return processor.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
    counts = iter(pads or [])
    text = ""
    for m in conversation:
        body = "".join(p["text"] if p["type"] == "text" else VISION_START + IMAGE_PAD * (next(counts, 1)) + VISION_END
                       for p in m["content"])
        text += f"<|im_start|>{m['role']}\n{body}<|im_end|>\n"
    return text + "<|im_start|>assistant\n"


@register
class TransformersJudge(ChatJudge):
    name: ClassVar[str] = "transformers"
    version: ClassVar[str] = "1.1"
    description: ClassVar[str] = ("Local Qwen2-VL-family VLM (default Qwen2.5-VL-3B-Instruct) from the models "
                                  "folder; reference and frames as images; streamed; CPU or CUDA (bf16).")
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
        problem = _problem(self.settings, self.model_name)
        if problem:
            raise UnavailableError(f"the transformers judge cannot run: {problem}")

    def version_string(self) -> str:
        from importlib.metadata import version

        text = (f"{self.version} {self.model_name} greedy max_new_tokens={self.max_new_tokens} "
                f"max_pixels={self.max_pixels} transformers={version('transformers')}")
        if self.vlm is None:
            return text
        penalty = getattr(self.vlm.model.generation_config, "repetition_penalty", None)  # the model's own default applies
        if penalty not in (None, 1.0):
            text += f" repetition_penalty={penalty:g}"
        return text + f" inputs={self.vlm.inputs_path} device={self.vlm.device}"

    def output_limit(self) -> int | None:
        return self.max_new_tokens

    def _prepare(self) -> None:
        if self.vlm is not None:
            return
        path = resolve_model_dir(self.model_name, self.settings)
        if path is None:
            raise UnavailableError(f"VLM weights {self.model_name} not found. " + _fix(self.settings, self.model_name))
        problem = transformers_problem() or weights_problem(path, self.model_name)
        if problem:
            raise UnavailableError(problem)
        key = (str(path.resolve()), self.device)
        with _CACHE_LOCK:
            if key not in _CACHE:
                _CACHE[key] = LoadedVLM(path, self.device)
            self.vlm = _CACHE[key]

    def build_inputs(self, messages: list[Message], pictures: list[Shown]) -> dict[str, Any]:
        """What `generate` needs: token ids (chat format, image pads expanded), attention mask, pixel values,
        image grids and, where the installed model takes it, mm_token_type_ids (for the 3D RoPE positions)."""
        from PIL import Image

        vlm = self.vlm
        assert vlm is not None
        images = [_fit(Image.fromarray(p.image).convert("RGB"), self.max_pixels) for p in pictures]
        if vlm.processor is not None:
            text = chat_text(messages, pictures, processor=vlm.processor)
            inputs = dict(vlm.processor(text=[text], images=images or None, return_tensors="pt"))
        else:
            vision: dict[str, Any] = dict(vlm.image_processor(images=images, return_tensors="pt")) if images else {}
            pads = [int(g.prod()) // vlm.merge ** 2 for g in vision.get("image_grid_thw", [])]
            enc = vlm.tokenizer(chat_text(messages, pictures, pads=pads), return_tensors="pt", add_special_tokens=False)
            inputs = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], **vision}
        if images and "mm_token_type_ids" in vlm.accepts and "mm_token_type_ids" not in inputs:
            inputs["mm_token_type_ids"] = (inputs["input_ids"] == vlm.image_token_id).long()
        inputs = {k: v for k, v in inputs.items() if k in vlm.accepts and hasattr(v, "to")}
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(vlm.dtype)
        return {k: v.to(vlm.device) for k, v in inputs.items()}

    def _stream(self, messages: list[Message], pictures: list[Shown]) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        self._prepare()
        vlm = self.vlm
        assert vlm is not None
        inputs = self.build_inputs(messages, pictures)
        streamer = TextIteratorStreamer(vlm.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600)
        failure: list[BaseException] = []
        finish: list[str] = []
        pad = vlm.tokenizer.pad_token_id if vlm.tokenizer.pad_token_id is not None else vlm.tokenizer.eos_token_id
        self.last_finish = None

        def work() -> None:
            import torch

            try:
                with torch.inference_mode():
                    out = vlm.model.generate(**inputs, streamer=streamer, max_new_tokens=self.max_new_tokens,
                                             do_sample=False, pad_token_id=pad)
                finish.append(_finish_reason(out, inputs["input_ids"].shape[1], self.max_new_tokens, vlm))
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
        self.last_finish = finish[0] if finish else None


def _finish_reason(out: Any, prompt_len: int, limit: int, vlm: LoadedVLM) -> str:
    """"length" when generation stopped at max_new_tokens without an end token, else "stop"."""
    seq = getattr(out, "sequences", out)
    new = seq[0, prompt_len:].tolist()
    eos = vlm.model.generation_config.eos_token_id
    eos_ids = set(eos if isinstance(eos, (list, tuple)) else [eos]) | {vlm.tokenizer.eos_token_id}
    return "length" if len(new) >= limit and (not new or new[-1] not in eos_ids) else "stop"


def _fit(img, max_pixels: int):
    w, h = img.size
    if w * h <= max_pixels:
        return img
    scale = (max_pixels / float(w * h)) ** 0.5
    return img.resize((max(28, int(w * scale)), max(28, int(h * scale))))
