"""Benchmark runs: suites of cases (JSONL data), a model's submission folder, the batch run that sends every
case through `evalverse.pipeline` on an engine (local or Ray), win ratios with confidence intervals from the
stored results, and the reward API.

Nothing here is a second pipeline: every clip goes through `pipeline.diagnose`; engines only schedule it.
Modules import heavy libraries inside functions, so `import evalverse.bench` stays cheap.
"""
