"""The taxonomy: one validated data file read by the UI, the judge's prompts, the store and the leaderboard."""
from evalverse.taxonomy.loader import load_taxonomy
from evalverse.taxonomy.schema import (
    AnswerType,
    Aspect,
    Dimension,
    EvidenceKind,
    Gate,
    Polarity,
    Question,
    Stage,
    SubDimension,
    TaskMode,
    Taxonomy,
)

__all__ = [
    "AnswerType", "Aspect", "Dimension", "EvidenceKind", "Gate", "Polarity", "Question", "Stage",
    "SubDimension", "TaskMode", "Taxonomy", "load_taxonomy",
]
