"""Make the CUDA-only torchvision wheel importable beside CPU torch.

PyPI ships torchvision 0.28 only as a CUDA build: its `_C.so` links CUDA libraries, fails to load beside
the CPU torch we pin, and then `import torchvision` dies in its meta registrations with
"operator torchvision::nms does not exist". Ultralytics and transformers' video processors import
torchvision, and YOLO's post-processing calls `torchvision.ops.nms`.

`ensure_torchvision()` fixes exactly that: when the native ops cannot load, it defines the
`torchvision::nms` and `torchvision::qnms` schemas with a pure-torch CPU kernel *before* the first
import, then points `torchvision.ops.nms` at them (torchvision's own wrapper refuses to run without its
C++ extension). Other C++ ops (roi_align, deform_conv2d, the image/video decoders) stay unavailable.
Where the native extension does load (a matching torch build), nothing is changed. Idempotent.
"""
from __future__ import annotations

import importlib.util
import logging
import sys
import threading
from pathlib import Path
from types import ModuleType

from evalverse.errors import UnavailableError

log = logging.getLogger(__name__)

_FIX = "pip install -c requirements/constraints.txt torchvision==0.28.0 (or run scripts/bootstrap.sh)"
_lock = threading.Lock()
_library = None  # keeps our torch.library registrations alive (they are dropped when the Library is collected)
_patched = False


def nms_reference(boxes, scores, iou_threshold: float):
    """Greedy NMS as torchvision defines it: indices of kept boxes (x1, y1, x2, y2), by decreasing score;
    a box is dropped when its IoU with a kept, higher-scoring box is strictly above `iou_threshold`."""
    import torch

    boxes = boxes.detach().to(torch.float64) if boxes.dtype != torch.float64 else boxes.detach()
    scores = scores.detach()
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.long, device=boxes.device)
    order = torch.argsort(scores, descending=True, stable=True)
    x1, y1, x2, y2 = boxes.unbind(1)
    areas = (x2 - x1) * (y2 - y1)
    keep = []
    while order.numel() > 0:
        i = order[0]
        keep.append(i)
        if order.numel() == 1:
            break
        rest = order[1:]
        w = (torch.minimum(x2[i], x2[rest]) - torch.maximum(x1[i], x1[rest])).clamp(min=0)
        h = (torch.minimum(y2[i], y2[rest]) - torch.maximum(y1[i], y1[rest])).clamp(min=0)
        inter = w * h
        iou = inter / (areas[i] + areas[rest] - inter)
        # iou is NaN for two zero-area boxes; torchvision keeps such boxes, and so does `<=` being False
        order = rest[~(iou > iou_threshold)]
    return torch.stack(keep).to(torch.long)


def _qnms_kernel(dets, scores, iou_threshold: float):
    """qnms receives the integer representation of quantized boxes and scores."""
    import torch

    return nms_reference(dets.to(torch.float64), scores.to(torch.float64), iou_threshold)


def _native_extension_loads() -> bool:
    """True when torchvision's own `_C` extension loads here (then its real ops are used)."""
    import torch

    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return False
    for root in spec.submodule_search_locations:
        for lib in sorted(Path(root).glob("_C*.so")) + sorted(Path(root).glob("_C*.pyd")):
            try:
                torch.ops.load_library(str(lib))
                return True
            except (OSError, RuntimeError) as exc:  # CUDA libraries missing beside CPU torch
                log.debug("torchvision native extension does not load: %s", exc)
                return False
    return False


def _op_defined(name: str) -> bool:
    import torch

    try:
        getattr(torch.ops.torchvision, name)
        return True
    except (AttributeError, RuntimeError):
        return False


def _define_ops() -> None:
    """Define torchvision::nms / qnms with CPU kernels, unless they exist already."""
    global _library
    import torch

    missing = [n for n in ("nms", "qnms") if not _op_defined(n)]
    if not missing:
        return
    lib = torch.library.Library("torchvision", "FRAGMENT")
    for name in missing:
        lib.define(f"{name}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    if "nms" in missing:
        lib.impl("nms", nms_reference, "CPU")
    if "qnms" in missing:
        lib.impl("qnms", _qnms_kernel, "CPU")
    _library = lib


def _nms(boxes, scores, iou_threshold: float):
    """Stand-in for `torchvision.ops.nms` that calls the op directly (no native-extension check)."""
    import torch

    if not torch.jit.is_scripting() and boxes.is_quantized:
        return torch.ops.torchvision.qnms(boxes.int_repr(), scores.int_repr(), iou_threshold)
    return torch.ops.torchvision.nms(boxes, scores, iou_threshold)


def _patch_module(tv: ModuleType) -> None:
    global _patched
    if _patched or tv.extension._has_ops():
        return
    import torchvision.ops
    import torchvision.ops.boxes

    torchvision.ops.boxes.nms = _nms  # batched_nms looks it up here
    torchvision.ops.nms = _nms
    _patched = True


def ensure_torchvision() -> ModuleType:
    """Import torchvision so that `torchvision.ops.nms` works on CPU; raise UnavailableError when it cannot."""
    with _lock:
        tv = sys.modules.get("torchvision")
        if tv is None:
            if importlib.util.find_spec("torchvision") is None:
                raise UnavailableError(f"torchvision is not installed; fix: {_FIX}")
            try:
                if not _native_extension_loads():
                    _define_ops()
                import torchvision as tv  # noqa: PLC0415 (import after the ops exist is the point)
            except Exception as exc:  # noqa: BLE001 - any import failure becomes one clear message
                sys.modules.pop("torchvision", None)
                raise UnavailableError(
                    f"torchvision does not import beside torch here ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
                    f"fix: {_FIX}"
                ) from exc
        try:
            _patch_module(tv)
        except Exception as exc:  # noqa: BLE001
            raise UnavailableError(f"torchvision imported but its nms could not be set up: {exc}; fix: {_FIX}") from exc
        return tv
