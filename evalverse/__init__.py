"""EvalVerse: pipeline-aware, expert-calibrated evaluation of AI-generated cinematic video."""
__version__ = "0.1.0"
