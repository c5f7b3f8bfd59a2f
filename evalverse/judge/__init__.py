"""Expert-guided chain-of-thought judge (paper §6.1.2): gating, prompts from the taxonomy, backends
(`evidence`, `transformers`, `openai`), robust parsing, scoring.

    from evalverse.judge import make_judge, JudgeContext
    judge = make_judge("evidence", settings)
    for event in judge.judge(taxonomy.dimension("visual_quality"), context): ...
"""
from evalverse.judge.protocol import Frame, JudgeBackend, JudgeContext, judge_names, make_judge, sample_frames
from evalverse.judge.types import DimensionResult, JudgeEvent, QuestionAnswer

__all__ = [
    "DimensionResult", "Frame", "JudgeBackend", "JudgeContext", "JudgeEvent", "QuestionAnswer", "judge_names",
    "make_judge", "sample_frames",
]
