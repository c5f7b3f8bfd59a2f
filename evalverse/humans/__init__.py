"""Human judgments: import from files, annotation tasks with roles and review, scheduling, agreement,
export. Reads the store and the taxonomy; below `ui/`, so it never imports gradio.

- `importers`, `mapping`: FETV / pointwise / pairwise files → validated judgments (axis → taxonomy data).
- `report`: raters, items, agreement (Krippendorff's alpha, leave-one-rater-out SRCC), careless-work flags.
- `roles`, `tasks`, `service`: people with role tokens; tasks of one case and several outputs; the
  token-checked API the Annotate and Review tabs call (submit, review, audit, finalise, next task).
- `scheduling`, `simulation`: which task next (Bradley–Terry interval overlap with a coverage floor), and
  a simulation of it against uniform random scheduling.
- `suite_tasks`: tasks from a benchmark suite and two or more models' clips, gates from stored evidence.
- `exchange`: JSONL export and import of everything above.
- `results`: the judgments that count (finalised), as win ratios and frames for alignment and calibration.
"""
