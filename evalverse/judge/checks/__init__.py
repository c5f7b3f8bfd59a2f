"""Objective checks: the taxonomy's `check` names answered from operator evidence.

Three kinds, all named in one versioned data file, `evalverse/judge/checks.yaml`:

- data checks (`checks:`): measures compared with thresholds (with units and the reason for each number),
  preconditions and exemptions; answered by `data.answer` without check-specific code;
- code checks (`code:`): checks that need code (identity across shots, shot size or camera move against the
  prompt, palette consistency with its fallback, speech masking), CodeCheck components registered in the one
  registry (`evalverse.registry`, kind "check") by the modules of this package, split by evidence kind;
  their numbers and word lists are the `params` of their entry in checks.yaml;
- `unimplemented:`: checks no evidence can answer yet, with the reason.

`run_check(name, view)` gives yes/no ("yes" = the desirable outcome) with a basis citing the numbers, the
threshold and the unit, or no answer with the reason ("not answerable: ...").
"""
from __future__ import annotations

from evalverse.judge.checks.base import CheckResult, CheckView, CodeCheck, NotAnswerable, Params
from evalverse.judge.checks.data import CHECKS_PATH, Checks, load_checks
from evalverse.registry import REGISTRY

# importing the modules registers their code checks
from evalverse.judge.checks import audio, camera, colour, faces, people  # noqa: E402,F401

__all__ = ["CHECKS_PATH", "CheckResult", "CheckView", "Checks", "CodeCheck", "NotAnswerable", "Params", "code_checks",
           "load_checks", "run_check"]


def code_checks() -> dict[str, type[CodeCheck]]:
    """Every registered code check by name."""
    return {cls.name: cls for cls in REGISTRY.all("check")}  # type: ignore[misc]


def run_check(name: str, view: CheckView, checks: Checks | None = None) -> CheckResult:
    """Answer one check; unknown, unimplemented and unanswerable checks give answer None with the reason."""
    from evalverse.judge.checks import data

    checks = checks or load_checks()
    before = len(view.used)
    if name in checks.unimplemented:
        return CheckResult(None, f"not answerable: {checks.unimplemented[name]}")
    try:
        if name in checks.data:
            answer, basis = data.answer(checks.data[name], view)
        elif name in checks.code:
            cls = REGISTRY.get("check", name)
            answer, basis = cls.answer(view, checks.params(name))  # type: ignore[attr-defined]
        else:
            return CheckResult(None, f"not answerable: no check named {name!r} is defined")
    except NotAnswerable as exc:
        return CheckResult(None, f"not answerable: {exc}", view.used[before:])
    return CheckResult(bool(answer), basis, view.used[before:])
