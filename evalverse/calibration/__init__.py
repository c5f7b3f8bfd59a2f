"""Fusion-level calibration (the paper's section 7.1): learn from human ratings how to combine measures and
judge outputs into a predicted human score per dimension, cross-validated by prompt and reported with intervals
beside the human ceiling; write the result as a versioned artifact the judge applies
(evalverse.judge.calibration_artifact).

spec (specs.yaml: what a dimension's calibration reads) -> ratings (human table) -> dataset (evidence and judge
outputs per clip, cached) -> models + cv (fitting, nested prompt-grouped cross-validation) -> metrics (the
figures and their bootstrap intervals) -> report -> artifacts (build, write, ship rule) -> figures (plotly).
"""
