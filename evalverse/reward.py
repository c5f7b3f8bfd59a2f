"""Reward API (`from evalverse import reward`): see evalverse/bench/reward.py for what each entry holds."""
from evalverse.bench.reward import MAX_BATCH, Scorer, score

__all__ = ["MAX_BATCH", "Scorer", "score"]
