"""The annotation data model: a task is one test case (prompt, mode, reference clip, ground truth) with two
or more model outputs. Per dimension that applies (the taxonomy's modes and gates decide; its expert
questions are the guidance), an annotator gives a strict ranking of the outputs, or for two outputs
left / right / tie / both_bad, with an optional note and the time spent.

Outputs have fixed *slots* (0 = a, 1 = b, ...: the order they were given in); they are *shown* in a
left-to-right order drawn at random for each task and stored with it (`display_order[position] = slot`).
Labels arrive in display terms (positions, left/right) and are stored in slot terms, with the display
order the annotator saw, so position bias stays measurable. Text (prompt, notes) is plain text.
"""
from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evalverse.errors import InputError
from evalverse.humans.importers import uid_of
from evalverse.taxonomy import Dimension, TaskMode, Taxonomy

CHOICES = ("left", "right", "tie", "both_bad")
MAX_NOTE = 4000
MAX_PROMPT = 20000


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    video_path: str | None = None
    video_hash: str | None = None


class TaskSpec(BaseModel):
    """What creating a task needs; `dimensions` None: every dimension the taxonomy's modes and gates allow."""

    model_config = ConfigDict(extra="forbid")

    case_key: str = Field(min_length=1)
    prompt: str = Field("", max_length=MAX_PROMPT)
    mode: TaskMode = TaskMode.t2v
    outputs: list[Output] = Field(min_length=2)
    reference: list[str] = []
    ground_truth: Any = None
    suite: str | None = None
    test_case_id: int | None = None
    dimensions: list[str] | None = None
    required: int = Field(3, ge=1, le=100)

    @field_validator("outputs")
    @classmethod
    def _distinct_models(cls, v: list[Output]) -> list[Output]:
        models = [o.model for o in v]
        if len(set(models)) != len(models):
            raise ValueError(f"each output must come from a different model; got {models}")
        return v


class Label(BaseModel):
    """One annotator's answer for one dimension, in display terms."""

    model_config = ConfigDict(extra="forbid")

    dimension: str
    ranking: list[int] | None = None  # display positions (0 = leftmost), best first
    choice: Literal["left", "right", "tie", "both_bad"] | None = None  # two outputs only
    note: str = Field("", max_length=MAX_NOTE)
    seconds: float | None = Field(None, ge=0)


def applicable_dimensions(taxonomy: Taxonomy, spec: TaskSpec, facts: list[Any] | None = None) -> list[str]:
    """Dimension ids that apply to the task, in taxonomy order: explicit `spec.dimensions` (checked), else
    those whose gates stay open for at least one output. `facts` are `judge.gating.GateFacts`, one per
    output, when evidence exists; without them only what the task itself says (mode, prompt, reference)
    can close a gate, and a gate that evidence would decide stays open."""
    if spec.dimensions is not None:
        ids = []
        for key in spec.dimensions:
            try:
                ids.append(taxonomy.dimension(key).id)
            except KeyError as exc:
                raise InputError(str(exc.args[0])) from None
        order = [d.id for d in taxonomy.dimensions]
        return sorted(set(ids), key=order.index)
    from evalverse.judge.gating import GateFacts, active_parts

    facts = facts or [GateFacts(prompt=spec.prompt or None, reference=bool(spec.reference), mode=spec.mode)]
    return [d.id for d in taxonomy.dimensions if any(not active_parts(d, f).gated for f in facts)]


def guidance(dim: Dimension) -> dict[str, Any]:
    """What the annotator reads for a dimension: its description and the expert questions (as guidance)."""
    return {
        "id": dim.id, "name": dim.name, "description": dim.description,
        "sub_dimensions": [{"id": s.id, "name": s.name, "description": s.description,
                            "questions": [q.text for q in s.questions]} for s in dim.sub_dimensions],
    }


def new_task_record(spec: TaskSpec, dimensions: list[str], rng: random.Random) -> tuple[dict, list[dict]]:
    """(task row, output rows) with a fresh uid and a random display order."""
    if not dimensions:
        raise InputError(f"no dimension applies to case {spec.case_key!r}; name them with `dimensions`")
    order = list(range(len(spec.outputs)))
    rng.shuffle(order)
    task = {
        "uid": uid_of("task", spec.suite, spec.case_key, *(o.model for o in spec.outputs), rng.random()),
        "suite": spec.suite, "case_key": spec.case_key, "test_case_id": spec.test_case_id, "prompt": spec.prompt,
        "mode": spec.mode.value, "reference": spec.reference, "ground_truth": spec.ground_truth,
        "dimensions": dimensions, "display_order": order, "required": spec.required,
    }
    outputs = [{"slot": i, **o.model_dump()} for i, o in enumerate(spec.outputs)]
    return task, outputs


def to_slots(label: Label, display_order: list[int]) -> tuple[list[int] | None, str | None]:
    """(slot ranking best first or None, outcome a/b/tie/both_bad or None) of a display-terms label;
    InputError when it is not a strict ranking of every output (or, for two, one of the four choices)."""
    k = len(display_order)
    if k == 2:
        if label.ranking is not None and label.choice is None:
            label = label.model_copy(update={"choice": "left" if label.ranking == [0, 1] else
                                             "right" if label.ranking == [1, 0] else "invalid"})
        if label.choice not in CHOICES:
            raise InputError(f"{label.dimension}: for two outputs choose one of {', '.join(CHOICES)}")
        if label.choice in ("tie", "both_bad"):
            return None, label.choice
        best = display_order[0 if label.choice == "left" else 1]
        return [best, 1 - best], "a" if best == 0 else "b"
    if label.choice is not None:
        raise InputError(f"{label.dimension}: {k} outputs need a strict ranking, not {label.choice!r}")
    if label.ranking is None or sorted(label.ranking) != list(range(k)):
        raise InputError(f"{label.dimension}: rank all {k} outputs, each once, best first "
                         f"(display positions 0..{k - 1}); got {label.ranking}")
    return [display_order[p] for p in label.ranking], None


def implied_pairwise(task: dict[str, Any], annotator: str, dimension: str, ranking: list[int] | None,
                     outcome: str | None, submission_uid: str, note: str, seconds: float | None) -> list[dict]:
    """The pairwise judgments a label implies: one per pair of slots i < j (a = slot i), with the side the
    `a` output was shown on."""
    outputs = {o["slot"]: o for o in task["outputs"]}
    position = {slot: pos for pos, slot in enumerate(task["display_order"])}
    rank = {slot: r for r, slot in enumerate(ranking)} if ranking is not None else {}
    rows = []
    for i in sorted(outputs):
        for j in (s for s in sorted(outputs) if s > i):
            winner = outcome if (outcome in ("tie", "both_bad")) else ("a" if rank[i] < rank[j] else "b")
            rows.append({
                "uid": uid_of(submission_uid, i, j), "source": "app", "suite": task.get("suite"),
                "case_key": task["case_key"], "test_case_id": task.get("test_case_id"), "dimension": dimension,
                "model_a": outputs[i]["model"], "model_b": outputs[j]["model"],
                "video_a": outputs[i].get("video_hash") or outputs[i].get("video_path"),
                "video_b": outputs[j].get("video_hash") or outputs[j].get("video_path"),
                "winner": winner, "annotator": annotator, "qa_status": "pending",
                "left_side": "a" if position[i] < position[j] else "b", "seconds": seconds, "note": note or None,
            })
    return rows
