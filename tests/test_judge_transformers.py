"""The `transformers` judge with tiny randomly initialised Qwen2-VL / Qwen2.5-VL models built from a config
(no download): tokenizer trained here with the Qwen special tokens, PIL image processor, model saved to a
folder that the backend loads like real weights.

What is specified here: the inputs the judge builds give image tokens the same 3D multimodal RoPE
positions as the transformers reference processor path (through the model's own processor, and through
the PIL fallback used when the processor classes cannot load); the reference of a reference-to-video clip
reaches the model as labelled images; an incomplete weights folder or an unsupported transformers
version is refused with the fix. Random weights give random text, so the end-to-end test checks that
it streamed and that the result is `unparsed` with the raw text kept, never a made-up score."""
from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from evalverse.errors import UnavailableError
from evalverse.judge import JudgeContext, make_judge
from evalverse.judge.backends.images import Shown, frame_pictures
from evalverse.judge.protocol import Frame
from evalverse.taxonomy import TaskMode, load_taxonomy

TAX = load_taxonomy(Path(__file__).parent / "fixtures" / "judge_taxonomy.yaml")
REPO = Path(__file__).resolve().parents[1]
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
           "<|video_pad|>"]
# the Qwen chat format (as the Qwen2-VL / Qwen2.5-VL chat templates render it when a system message is given)
TEMPLATE = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
            "{{ message['content'] }}{% else %}{% for part in message['content'] %}{% if part['type'] == 'image' %}"
            "<|vision_start|><|image_pad|><|vision_end|>{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
            "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n"
            "{% endif %}")
FAMILIES = ("qwen2_vl", "qwen2_5_vl")


def build_tiny_qwen(folder: Path, family: str = "qwen2_vl", chat_template: str | None = None) -> Path:
    from evalverse.compat.torchvision_cpu import ensure_torchvision

    ensure_torchvision()
    import torch
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2VLImageProcessorPil

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = ["Self-reflection: the frames are sharp and steady. ```json {\"answers\": {}, \"score\": 3} yes no null"] * 20
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=320, special_tokens=SPECIAL,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    if chat_template:
        fast.chat_template = chat_template
    fast.save_pretrained(folder)
    ids = {t: tok.token_to_id(t) for t in SPECIAL}
    text = dict(vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
                rope_parameters={"rope_type": "default", "mrope_section": [1, 1, 2], "rope_theta": 10000.0})
    tokens = dict(image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
                  vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    if family == "qwen2_vl":
        config = transformers.Qwen2VLConfig(text_config=text, vision_config=dict(
            depth=1, embed_dim=32, hidden_size=32, num_heads=2, mlp_ratio=2, patch_size=14, spatial_merge_size=2,
            temporal_patch_size=2, in_channels=3), **tokens)
        cls = transformers.Qwen2VLForConditionalGeneration
    else:
        config = transformers.Qwen2_5_VLConfig(text_config=text, vision_config=dict(
            depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=32, patch_size=14,
            spatial_merge_size=2, temporal_patch_size=2, window_size=56, fullatt_block_indexes=[1], in_channels=3),
            **tokens)
        cls = transformers.Qwen2_5_VLForConditionalGeneration
    torch.manual_seed(0)
    cls(config).save_pretrained(folder)
    Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=112 * 112).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {f: build_tiny_qwen(root / f"tiny-{f}", f, chat_template=TEMPLATE if f == "qwen2_5_vl" else None)
            for f in FAMILIES}


def pictures(n: int = 3) -> list[Shown]:
    rng = np.random.default_rng(1)
    sizes = [(60, 80), (84, 56), (56, 112)]  # different grids, so each image has its own 2D layout
    return frame_pictures([Frame(time=float(t), image=rng.integers(0, 255, (*sizes[t % 3], 3), dtype=np.uint8))
                           for t in range(n)])


def context(**kw) -> JudgeContext:
    return JudgeContext(taxonomy=TAX, frames=[Frame(time=float(t), image=p.image) for t, p in enumerate(pictures())],
                        prompt="a lighthouse at dusk", **kw)


def judge_for(settings, folder: Path, **kw):
    s = settings.model_copy(update={"models_dir": folder.parent})
    return make_judge("transformers", s, model=folder.name, max_new_tokens=kw.pop("max_new_tokens", 12), device="cpu",
                      max_pixels=112 * 112, **kw)


def positions_used(model, inputs: dict) -> "torch.Tensor":  # noqa: F821
    """The (3, seq) rope positions the language model receives for the prompt during `generate`."""
    seen = []

    def hook(module, args, kwargs):
        if not seen:
            seen.append(kwargs.get("position_ids"))

    handle = model.model.language_model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        model.generate(**inputs, max_new_tokens=1, do_sample=False)
    finally:
        handle.remove()
    pos = seen[0]
    assert pos is not None
    return pos[-3:, 0]  # transformers >= 5.3 prepends a text-position row


def reference_inputs(judge, messages, shown):
    """The transformers reference path: the family's own Processor class, built here from the model's
    tokenizer and image processor, on the same text and images."""
    import transformers
    from PIL import Image

    from evalverse.judge.backends.transformers_vlm import _fit, chat_text

    vlm = judge.vlm
    cls = {"qwen2_vl": transformers.Qwen2VLProcessor, "qwen2_5_vl": transformers.Qwen2_5_VLProcessor}[
        vlm.model.config.model_type]
    tokenizer = transformers.AutoTokenizer.from_pretrained(vlm.model.name_or_path)
    processor = cls(image_processor=transformers.Qwen2VLImageProcessorPil.from_pretrained(vlm.model.name_or_path),
                    tokenizer=tokenizer, video_processor=transformers.Qwen2VLVideoProcessor())
    text = chat_text(messages, shown)  # one pad per image; the processor expands them
    images = [_fit(Image.fromarray(s.image).convert("RGB"), judge.max_pixels) for s in shown]
    return dict(processor(text=[text], images=images, return_tensors="pt"))


def expected_image_positions(input_ids, grids, image_token_id: int, merge: int = 2) -> dict[int, tuple[int, int, int]]:
    """Qwen2-VL M-RoPE for still images, written out: an image's tokens sit on a (h/merge, w/merge) grid
    starting at the position after the preceding text; t is constant, h and w run over rows and columns;
    the text after the image resumes at start + max(h, w)/merge."""
    ids = input_ids.tolist()
    out, pos, i, k = {}, 0, 0, 0
    while i < len(ids):
        if ids[i] != image_token_id:
            pos, i = pos + 1, i + 1
            continue
        _, h, w = (int(v) for v in grids[k])
        gh, gw = h // merge, w // merge
        for r in range(gh):
            for c in range(gw):
                out[i + r * gw + c] = (pos, pos + r, pos + c)
        i, pos, k = i + gh * gw, pos + max(gh, gw), k + 1
    return out


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("path", ["processor", "image-processor"])
def test_image_tokens_get_the_reference_3d_rope_positions(settings, tiny_models, family, path, monkeypatch):
    import evalverse.compat.torchvision_cpu as compat
    import evalverse.judge.backends.transformers_vlm as tv

    monkeypatch.setattr(tv, "_CACHE", {})
    if path == "image-processor":  # the processor classes cannot load (no usable torchvision)
        def no_torchvision():
            raise UnavailableError("torchvision is not installed (test)")
        monkeypatch.setattr(compat, "ensure_torchvision", no_torchvision)
    judge = judge_for(settings, tiny_models[family])
    judge._prepare()
    assert judge.vlm.inputs_path == path
    messages = [{"role": "system", "content": "You judge."}, {"role": "user", "content": "Rate the frames."}]
    shown = pictures()
    inputs = judge.build_inputs(messages, shown)
    ref = reference_inputs(judge, messages, shown)
    assert inputs["input_ids"].tolist() == ref["input_ids"].tolist()
    assert inputs["image_grid_thw"].tolist() == ref["image_grid_thw"].tolist()
    ours = positions_used(judge.vlm.model, inputs)
    theirs = positions_used(judge.vlm.model, ref)
    assert ours.tolist() == theirs.tolist()
    # and they are the M-RoPE layout, not text positions: every image token where the spec puts it
    expected = expected_image_positions(inputs["input_ids"][0], inputs["image_grid_thw"], judge.vlm.image_token_id)
    assert len(expected) == int((inputs["input_ids"] == judge.vlm.image_token_id).sum()) > 0
    assert all(tuple(ours[:, i].tolist()) == want for i, want in expected.items())
    text_like = ours[0].tolist() == list(range(ours.shape[1]))
    assert not text_like


def test_the_models_own_decoding_defaults_are_recorded(settings, tiny_models, monkeypatch):
    import evalverse.judge.backends.transformers_vlm as tv

    monkeypatch.setattr(tv, "_CACHE", {})
    judge = judge_for(settings, tiny_models["qwen2_vl"])
    judge._prepare()
    assert "repetition_penalty" not in judge.version_string()
    monkeypatch.setattr(judge.vlm.model.generation_config, "repetition_penalty", 1.05)  # a model folder that sets one
    assert "greedy max_new_tokens=12 max_pixels=12544" in judge.version_string()
    assert "repetition_penalty=1.05" in judge.version_string()


def test_the_chat_template_is_the_models_own_when_it_has_one(settings, tiny_models, monkeypatch):
    import evalverse.judge.backends.transformers_vlm as tv

    monkeypatch.setattr(tv, "_CACHE", {})
    judge = judge_for(settings, tiny_models["qwen2_5_vl"])
    judge._prepare()
    assert judge.vlm.processor is not None and judge.vlm.processor.chat_template == TEMPLATE
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    text = tv.chat_text(messages, pictures(1), processor=judge.vlm.processor)
    assert text == tv.chat_text(messages, pictures(1))  # the built-in format is the same Qwen format
    assert text == ("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nFrame at t=0.00 s: <|vision_start|><|image_pad|>"
                    "<|vision_end|>\nU<|im_end|>\n<|im_start|>assistant\n")


def test_the_reference_reaches_the_model_as_labelled_images(settings, tiny_models, tmp_path, monkeypatch):
    from PIL import Image

    import evalverse.judge.backends.transformers_vlm as tv

    ref = tmp_path / "ref.png"
    Image.fromarray(np.full((70, 90, 3), 200, dtype=np.uint8)).save(ref)
    judge = judge_for(settings, tiny_models["qwen2_vl"], max_new_tokens=4)
    sent: list[tuple[list, list[Shown]]] = []
    real = tv.TransformersJudge.build_inputs

    def spy(self, messages, shown):
        sent.append((messages, shown))
        return real(self, messages, shown)

    monkeypatch.setattr(tv.TransformersJudge, "build_inputs", spy)
    events = list(judge.judge(TAX.dimension("visual_quality"), context(reference=ref, mode=TaskMode.r2v)))
    assert events[-1].data["result"].status in ("unparsed", "scored")
    messages, shown = sent[0]
    assert [s.kind for s in shown] == ["reference", "frame", "frame", "frame"]
    assert shown[0].label.startswith("Reference image (ref.png)") and shown[0].image.shape == (70, 90, 3)
    assert "shown before the video frames: 1 picture(s)" in messages[1]["content"]
    inputs = real(judge, messages, shown)
    vs = judge.vlm.tokenizer.convert_tokens_to_ids("<|vision_start|>")
    assert int((inputs["input_ids"] == vs).sum()) == 4 and inputs["image_grid_thw"].shape == (4, 3)
    text = judge.vlm.tokenizer.decode(inputs["input_ids"][0])
    assert text.index("Reference image (ref.png)") < text.index("Frame at t=")


@pytest.mark.slow
def test_tiny_vlm_streams_and_random_output_stays_unparsed(settings, tiny_models):
    judge = judge_for(settings, tiny_models["qwen2_vl"])
    judge.check_available()
    events = list(judge.judge(TAX.dimension("visual_quality"), context()))
    result = events[-1].data["result"]
    inputs = judge.build_inputs([{"role": "user", "content": "hi"}], pictures())
    assert int((inputs["input_ids"] == judge.vlm.tokenizer.convert_tokens_to_ids("<|vision_start|>")).sum()) == 3
    assert inputs["pixel_values"].shape[0] > 0 and inputs["image_grid_thw"].shape == (3, 3)
    assert result.raw_text and len(result.raw_text) > 0
    assert "--- repair ---" in result.raw_text  # unreadable first reply -> one repair request
    assert any(e.kind == "error" and e.data.get("recoverable") for e in events)
    assert result.status == "unparsed" and result.score is None and result.answers == []
    assert result.backend == "transformers" and "tiny-qwen2_vl" in result.backend_version
    # what decoded it is recorded, and the 12-token limit cut the reply: the error says so
    assert "greedy max_new_tokens=12" in result.backend_version and "transformers=" in result.backend_version
    assert judge.last_finish == "length" and "cut off at the output limit of 12 tokens" in result.rationale
    assert "inputs=processor device=cpu" in result.backend_version


def test_missing_weights_are_reported_with_the_fix(settings):
    judge = make_judge("transformers", settings)
    with pytest.raises(UnavailableError) as err:
        judge.check_available()
    msg = str(err.value)
    assert "Qwen2.5-VL-3B-Instruct" in msg and "huggingface-cli download Qwen/Qwen2.5-VL-3B-Instruct" in msg
    assert str(settings.models_dir) in msg
    # judging without weights gives an error result, never a score
    events = list(judge.judge(TAX.dimension("visual_quality"), context()))
    result = events[-1].data["result"]
    assert result.status == "error" and result.score is None and "not found" in result.rationale


def half_pulled(tiny: Path, target: Path) -> Path:
    """A copy of the tiny model resharded into two files, as an interrupted pull leaves it: the index
    and the first shard there, the second shard missing."""
    from safetensors.torch import load_file, save_file

    shutil.copytree(tiny, target)
    weights = load_file(target / "model.safetensors")
    (target / "model.safetensors").unlink()
    names = sorted(weights)
    half = len(names) // 2
    shards = {"model-00001-of-00002.safetensors": names[:half], "model-00002-of-00002.safetensors": names[half:]}
    for shard, keys in shards.items():
        save_file({k: weights[k].contiguous() for k in keys}, target / shard)
    (target / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {}, "weight_map": {k: shard for shard, keys in shards.items() for k in keys}}))
    return target


def test_a_half_pulled_model_is_refused_with_the_pull_command(settings, tiny_models):
    folder = half_pulled(tiny_models["qwen2_vl"], settings.models_dir / "Qwen2.5-VL-3B-Instruct")
    judge = make_judge("transformers", settings)
    judge.check_available()  # whole: both shards there
    (folder / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(UnavailableError) as err:
        judge.check_available()
    msg = str(err.value)
    assert "incomplete" in msg and "shard model-00002-of-00002.safetensors named by model.safetensors.index.json is missing" in msg
    assert "evalverse models pull qwen2.5-vl-3b" in msg
    events = list(judge.judge(TAX.dimension("visual_quality"), context()))
    assert events[-1].data["result"].status == "error" and "incomplete" in events[-1].data["result"].rationale
    from evalverse.registry import REGISTRY

    avail = REGISTRY.get("judge", "transformers").availability(settings)
    assert not avail.available and "incomplete" in avail.explain()


def test_the_supported_transformers_range_is_stated_and_checked(monkeypatch):
    from importlib.metadata import version

    from packaging.requirements import Requirement

    import evalverse.judge.backends.transformers_vlm as tv

    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["perception"]
    req = next(Requirement(d) for d in deps if Requirement(d).name == "transformers")
    assert str(req.specifier) == str(Requirement(f"transformers{tv.TRANSFORMERS_RANGE}").specifier)
    assert req.specifier.contains(version("transformers"))  # the installed one is inside it
    assert tv.transformers_problem() is None
    import importlib.metadata

    for outside in ("4.57.6", "5.3.0", "5.5.4", "6.0.0"):
        monkeypatch.setattr(importlib.metadata, "version", lambda name, v=outside: v)
        problem = tv.transformers_problem()
        assert problem and f"transformers {outside} is installed" in problem and tv.TRANSFORMERS_RANGE in problem
    # the range's lower end is where the APIs the backend relies on exist
    import transformers

    assert hasattr(transformers, "Qwen2VLImageProcessorPil")
    import inspect

    assert "mm_token_type_ids" in inspect.signature(transformers.Qwen2VLForConditionalGeneration.forward).parameters
    assert re.fullmatch(r">=\d+\.\d+,<\d+", tv.TRANSFORMERS_RANGE)
