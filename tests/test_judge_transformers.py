"""The `transformers` judge end to end with a tiny randomly initialised Qwen2-VL built from a config
(no download): tokenizer trained here with the Qwen special tokens, PIL image processor, model saved to a
folder that the backend loads like real weights. The output is random text, so the test checks that it
streamed and that the result is `unparsed` with the raw text kept, never a made-up score."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evalverse.errors import UnavailableError
from evalverse.judge import JudgeContext, make_judge
from evalverse.judge.protocol import Frame
from evalverse.taxonomy import load_taxonomy

TAX = load_taxonomy(Path(__file__).parent / "fixtures" / "judge_taxonomy.yaml")
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
           "<|video_pad|>"]


def build_tiny_qwen2vl(folder: Path) -> Path:
    from evalverse.compat.torchvision_cpu import ensure_torchvision

    ensure_torchvision()
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessorPil

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = ["Self-reflection: the frames are sharp and steady. ```json {\"answers\": {}, \"score\": 3} yes no null"] * 20
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=320, special_tokens=SPECIAL,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>").save_pretrained(folder)
    ids = {t: tok.token_to_id(t) for t in SPECIAL}
    config = Qwen2VLConfig(
        text_config=dict(vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                         bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
                         rope_parameters={"rope_type": "default", "mrope_section": [1, 1, 2], "rope_theta": 10000.0}),
        vision_config=dict(depth=1, embed_dim=32, hidden_size=32, num_heads=2, mlp_ratio=2, patch_size=14,
                           spatial_merge_size=2, temporal_patch_size=2, in_channels=3),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(0)
    Qwen2VLForConditionalGeneration(config).save_pretrained(folder)
    Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=112 * 112).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_qwen2vl(tmp_path_factory.mktemp("models") / "tiny-qwen2vl")


def context() -> JudgeContext:
    rng = np.random.default_rng(1)
    frames = [Frame(time=float(t), image=rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)) for t in range(3)]
    return JudgeContext(taxonomy=TAX, frames=frames, prompt="a lighthouse at dusk")


@pytest.mark.slow
def test_tiny_vlm_streams_and_random_output_stays_unparsed(settings, tiny_model):
    s = settings.model_copy(update={"models_dir": tiny_model.parent})
    judge = make_judge("transformers", s, model=tiny_model.name, max_new_tokens=12, device="cpu", max_pixels=112 * 112)
    judge.check_available()
    events = list(judge.judge(TAX.dimension("visual_quality"), context()))
    result = events[-1].data["result"]
    # the model really ran: inputs carried one image block per frame, and it generated text that streamed out
    inputs = judge.build_inputs([{"role": "user", "content": "hi"}], context().frames)
    assert int((inputs["input_ids"] == judge.vlm.tokenizer.convert_tokens_to_ids("<|vision_start|>")).sum()) == 3
    assert inputs["pixel_values"].shape[0] > 0 and inputs["image_grid_thw"].shape == (3, 3)
    assert result.raw_text and len(result.raw_text) > 0
    assert "--- repair ---" in result.raw_text  # unreadable first reply -> one repair request
    assert any(e.kind == "error" and e.data.get("recoverable") for e in events)
    assert result.status == "unparsed" and result.score is None and result.answers == []
    assert result.backend == "transformers" and tiny_model.name in result.backend_version


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
