"""Face checks that need code. (Identity stability within tracks, expression range and expression jumps are
data checks in checks.yaml.)"""
from __future__ import annotations

from typing import ClassVar

from evalverse.judge.checks.base import CheckView, CodeCheck, NotAnswerable, Params, fmt
from evalverse.registry import register


def faces_tracked(view: CheckView):
    """The faces results when at least one face was tracked; NotAnswerable otherwise."""
    f = view.typed("faces")
    if not f.n_tracks:
        raise NotAnswerable(f"no face was tracked (a face in {100 * f.frames_with_face_ratio:.0f}% of frames)")
    return f


@register
class IdentityAcrossShots(CodeCheck):
    """Yes when a face recurs across cuts (the operator clusters each shot's face embeddings into identities).
    Different faces in different shots may be different people or one face that changed beyond recognition:
    evidence cannot tell them apart, so there is no answer then (a VLM must tell)."""

    name: ClassVar[str] = "faces.identity_consistent_across_shots"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = "A face recognised in two or more shots keeps its identity across the cuts."
    reads: ClassVar[tuple[str, ...]] = ("faces.n_tracks", "faces.n_shots_with_faces", "faces.n_recurring_identities",
                                        "faces.identity_metric.threshold", "faces")

    @classmethod
    def answer(cls, view: CheckView, params: Params) -> tuple[bool, str]:
        f = faces_tracked(view)
        shots_with_faces = sorted({s for i in f.identities for s in i.shots})
        if len(shots_with_faces) < 2:
            raise NotAnswerable(f"faces appear in {len(shots_with_faces)} shot(s); nothing to compare across cuts")
        recurring = [i for i in f.identities if len(i.shots) >= 2]
        if not recurring:
            raise NotAnswerable(f"{len(f.identities)} different faces in shots {shots_with_faces} and none recurs: "
                                "different people, or one face that changed beyond recognition (a VLM must tell)")
        sims = [i.across_shot_similarity for i in recurring if i.across_shot_similarity is not None]
        metric = f.identity_metric
        basis = (f"{len(recurring)} face(s) recognised in several shots ("
                 + "; ".join(f"identity {i.id} in shots {i.shots}" for i in recurring[:3])
                 + f"); identities clustered with {metric.name} distance threshold {fmt(metric.threshold)}"
                 + (f"; across-shot embedding similarity {fmt(min(sims))}" if sims else ""))
        return True, basis
