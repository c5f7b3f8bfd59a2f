"""Objective checks: the taxonomy's `check` names answered from operator evidence.

Each check reads one or more operators' results and returns a yes/no answer ("yes" = the desirable
outcome; every checked question is phrased with positive polarity) with the basis: the numbers, the
threshold and where in the clip. When the evidence it needs is missing, failed, or does not apply,
it returns no answer and says why ("not answerable: ..."). Checks that cannot be computed from any
operator's results yet are listed in UNIMPLEMENTED with the reason, in this one place.

Thresholds live in THRESHOLDS with the reason for each value; they are first estimates on the units
the operators document, to be replaced by calibrated values (paper §7.1 (ii)).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

THRESHOLDS: dict[str, float] = {
    # quality (units from evalverse.operators.quality)
    "sharpness_min": 60.0,  # variance of the Laplacian at 720 p; below it detail is smeared (blur detectors use ~100 at native size)
    "sharpness_cv_max": 0.35,  # frame-to-frame sharpness variation beyond this is focus/detail pumping
    "noise_sigma_max": 3.0,  # Immerkaer sigma in 8-bit levels; ~3 is where grain becomes visible on flat areas
    "blockiness_max": 1.25,  # 8x8 boundary/inside gradient ratio, 1 = none; clean sources measured 0.98-1.15 on the shared clips
    "min_fps": 20.0,  # below ~20 fps motion judders visibly (CogVideoX renders 8 fps)
    "min_short_side_px": 480,  # below SD (e.g. 256x256) fine detail cannot be resolved at any sharpness
    "clipped_max": 0.05,  # share of pixels crushed to black or blown to white
    "dynamic_range_min": 120.0,  # p99 - p1 luma levels; below reads flat or washed out
    "cct_std_mired_max": 10.0,  # within-shot colour temperature wobble; ~5 mired is just noticeable
    # faces
    "expression_range_min": 0.03,  # range of mouth opening or brow raise (face-normalised) that reads as movement
    # features (per backend: DINOv2 cosine is higher than the classical histogram/SSIM mix for the same change)
    "consistency_dinov2": 0.85,
    "consistency_classical": 0.75,
    "cross_shot_dinov2": 0.45,
    "cross_shot_classical": 0.45,
    # people
    "prominence_min": 0.25,  # sqrt(area) x centrality weight; a centred subject filling ~6 % of the frame
    "head_cut_max": 0.2,  # share of frames with the head cut by the top edge
    # camera
    "smoothness_min": 0.7,
    # colour
    "harmony_min": 0.7,  # Matsuda template fit, 0-1
    "saturation_low": 0.08,  # mean HSV saturation below: washed out (unless black and white)
    "saturation_high": 0.75,  # above: garish
    "cast_max": 12.0,  # chroma of the share-weighted mean palette colour in CIELAB
    "palette_consistency_min": 0.6,  # 1 - mean adjacent-shot palette dE / 50
    "colourfulness_cv_max": 0.25,  # single shot: colourfulness variation over time
    # shots
    "shot_min_s": 0.5,  # shorter shots cannot be read
    "shot_mean_min_s": 1.0,
    "shot_cv_min": 0.25,  # coefficient of variation of shot lengths that reads as a varied tempo
    # speech / lipsync / audio
    "language_probability_min": 0.6,
    "wpm_low": 60.0,
    "wpm_high": 260.0,
    "lipsync_corr_min": 0.2,  # mouth opening vs speech envelope correlation at the best lag
    "clipped_share_max": 0.001,
    "lufs_low": -30.0,  # programme loudness window around the -23/-14 LUFS broadcast/streaming targets
    "lufs_high": -9.0,
    "ambience_share_min": 0.1,
    "beat_alignment_min": 0.2,  # (aligned share - chance) / (1 - chance)
    "speech_masking_music_max": 0.6,
}

UNIMPLEMENTED: dict[str, str] = {
    "faces.identity_matches_reference": "no operator embeds the reference image's face yet",
    "features.reference_similarity_high": "no operator embeds the reference image yet",
    "people.pose_motion_plausible": "the people operator reports pose energy, not biomechanical plausibility",
    "people.screen_positions_consistent": "needs per-shot positions of several tracked people; people follows the main person only",
    "camera.no_aimless_drift": "the camera operator does not separate intended slow moves from drift",
    "quality.subject_in_focus": "quality measures whole-frame sharpness, not sharpness on the subject",
    "audio.onsets_align_with_visual_events": "no operator detects visual events to align audio onsets with",
}


class NotAnswerable(Exception):
    """The evidence a check needs is missing or does not apply; the message says why."""


@dataclass
class CheckResult:
    answer: bool | None
    basis: str
    operators: list[str] = field(default_factory=list)


@dataclass
class EvidenceView:
    """What checks read: operator records, metadata, shots, prompt, reference."""

    records: Mapping[str, Any]
    meta: Any = None
    shots: list = field(default_factory=list)
    prompt: str | None = None
    reference: Path | None = None
    used: list[str] = field(default_factory=list)

    def results(self, operator: str) -> dict:
        rec = self.records.get(operator)
        if rec is None:
            raise NotAnswerable(f"the {operator} operator did not run")
        status = getattr(rec, "status", "ok")
        if status not in ("ok", "partial"):
            msg = getattr(rec, "message", None)
            raise NotAnswerable(f"{operator} evidence is {status}" + (f" ({msg})" if msg else ""))
        if operator not in self.used:
            self.used.append(operator)
        return getattr(rec, "results", None) or {}


CheckFn = Callable[[EvidenceView], tuple[bool, str]]
CHECKS: dict[str, CheckFn] = {}


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    def deco(fn: CheckFn) -> CheckFn:
        if name in CHECKS:
            raise ValueError(f"check {name!r} defined twice")
        CHECKS[name] = fn
        return fn
    return deco


def run_check(name: str, ev: EvidenceView) -> CheckResult:
    """Answer one check; unknown, unimplemented and unanswerable checks give answer None with the reason."""
    before = len(ev.used)
    if name in UNIMPLEMENTED:
        return CheckResult(None, f"not answerable: {UNIMPLEMENTED[name]}")
    fn = CHECKS.get(name)
    if fn is None:
        return CheckResult(None, f"not answerable: no check named {name!r} is implemented")
    try:
        answer, basis = fn(ev)
    except NotAnswerable as exc:
        return CheckResult(None, f"not answerable: {exc}", ev.used[before:])
    return CheckResult(bool(answer), basis, ev.used[before:])


def _num(d: Mapping | None, *path: str) -> float:
    """A number at `path` in `d`; NotAnswerable when absent or not finite."""
    node: Any = d
    for p in path:
        if not isinstance(node, Mapping) or node.get(p) is None:
            raise NotAnswerable(f"no {'.'.join(path)} in the evidence")
        node = node[p]
    if isinstance(node, bool) or not isinstance(node, (int, float)) or not math.isfinite(node):
        raise NotAnswerable(f"{'.'.join(path)} is not a number")
    return float(node)


def _t(x: float) -> str:
    return f"{x:.2f} s"


def _yn(ok: bool) -> str:
    return "yes" if ok else "no"


# ---- metadata ---------------------------------------------------------------------------------------

@check("metadata.frame_rate_adequate")
def _fps(ev: EvidenceView) -> tuple[bool, str]:
    """Judder: generators that emit 8–16 fps look stepped however sharp each frame is."""
    fps = getattr(ev.meta, "fps", None)
    if not isinstance(fps, (int, float)) or fps <= 0:
        raise NotAnswerable("no frame rate in the metadata")
    t = THRESHOLDS["min_fps"]
    return fps >= t, f"{fps:.3g} fps vs minimum {t:.0f} fps"


# ---- quality ---------------------------------------------------------------------------------------

@check("quality.sharpness_adequate")
def _sharp(ev: EvidenceView) -> tuple[bool, str]:
    q = ev.results("quality")
    v, t = _num(q, "sharpness"), THRESHOLDS["sharpness_min"]
    basis = f"sharpness {v:.0f} (Laplacian variance at 720 p, median of {q.get('n_stills', '?')} stills) vs minimum {t:.0f}"
    ok = v >= t
    if ev.meta is not None and getattr(ev.meta, "width", None):
        short, need = min(ev.meta.width, ev.meta.height), THRESHOLDS["min_short_side_px"]
        basis += f"; resolution {ev.meta.width}x{ev.meta.height} (short side {short} px vs minimum {need:.0f})"
        ok = ok and short >= need
    return ok, basis


@check("quality.sharpness_stable")
def _sharp_stable(ev: EvidenceView) -> tuple[bool, str]:
    v, t = _num(ev.results("quality"), "sharpness_cv"), THRESHOLDS["sharpness_cv_max"]
    return v <= t, f"sharpness varies by CV {v:.2f} over the clip vs maximum {t:.2f}"


@check("quality.noise_low")
def _noise(ev: EvidenceView) -> tuple[bool, str]:
    v, t = _num(ev.results("quality"), "noise_sigma"), THRESHOLDS["noise_sigma_max"]
    return v <= t, f"noise sigma {v:.2f} (8-bit levels) vs maximum {t:.1f}"


@check("quality.blockiness_low")
def _blocks(ev: EvidenceView) -> tuple[bool, str]:
    v, t = _num(ev.results("quality"), "blockiness"), THRESHOLDS["blockiness_max"]
    return v <= t, f"8x8 blockiness ratio {v:.2f} (1 = none) vs maximum {t:.2f}"


@check("quality.exposure_clipping_low")
def _clipping(ev: EvidenceView) -> tuple[bool, str]:
    q = ev.results("quality")
    lo, hi, t = _num(q, "exposure", "clipped_shadows"), _num(q, "exposure", "clipped_highlights"), THRESHOLDS["clipped_max"]
    return (lo <= t and hi <= t), f"crushed shadows {100 * lo:.1f}%, blown highlights {100 * hi:.1f}% vs maximum {100 * t:.0f}% each"


@check("quality.dynamic_range_adequate")
def _dyn_range(ev: EvidenceView) -> tuple[bool, str]:
    q = ev.results("quality")
    v, t = _num(q, "exposure", "dynamic_range"), THRESHOLDS["dynamic_range_min"]
    return v >= t, f"luma range p1-p99 {v:.0f} levels ({q['exposure'].get('key', '?')} key) vs minimum {t:.0f}"


@check("quality.no_exposure_flicker")
def _flicker(ev: EvidenceView) -> tuple[bool, str]:
    f = ev.results("quality").get("flicker") or {}
    if f.get("detected") is None:
        raise NotAnswerable(f.get("reason") or "flicker was not measured")
    idx = _num(f, "flicker_index")
    jump = f.get("luma_jump_max")
    return not f["detected"], (f"flicker index {idx:.4f} ({'above' if f['detected'] else 'below'} the operator's threshold)"
                               + (f", largest frame-to-frame luma jump {jump:.1f}" if isinstance(jump, (int, float)) else ""))


@check("quality.colour_temperature_stable")
def _cct(ev: EvidenceView) -> tuple[bool, str]:
    c = ev.results("quality").get("colour_temperature") or {}
    v, t = _num(c, "std_mired_within_shots"), THRESHOLDS["cct_std_mired_max"]
    cct = c.get("cct_k")
    return v <= t, (f"colour temperature {cct:.0f} K, " if isinstance(cct, (int, float)) else "") + \
        f"wobble {v:.1f} mired within shots vs maximum {t:.0f}"


# ---- faces -----------------------------------------------------------------------------------------

def _faces_tracked(ev: EvidenceView) -> dict:
    f = ev.results("faces")
    if not f.get("n_tracks"):
        raise NotAnswerable(f"no face was tracked (a face in {100 * float(f.get('frames_with_face_ratio') or 0):.0f}% of frames)")
    return f


@check("faces.identity_stable")
def _identity(ev: EvidenceView) -> tuple[bool, str]:
    f = _faces_tracked(ev)
    if not f.get("n_embedded"):
        raise NotAnswerable("no face embeddings were computed")
    switches = f.get("identity_switches") or []
    cons = (f.get("identity_consistency") or {}).get("within_track_mean")
    where = ", ".join(_t(float(s.get("time", 0))) for s in switches[:5] if isinstance(s, Mapping))
    basis = (f"{len(switches)} identity switch(es) inside {f['n_tracks']} face track(s)" + (f" at {where}" if where else "")
             + (f"; embedding consistency {cons:.2f}" if isinstance(cons, (int, float)) else "")
             + f" ({f.get('embedder', '?')}, {f['n_embedded']} embeddings)")
    return len(switches) == 0, basis


@check("faces.identity_consistent_across_shots")
def _identity_shots(ev: EvidenceView) -> tuple[bool, str]:
    """Yes when a face recurs across cuts and its shots' embeddings agree. Different faces in different
    shots may be different people or one face that changed: evidence cannot tell, so no answer then."""
    f = _faces_tracked(ev)
    idents = [i for i in f.get("identities") or [] if isinstance(i, Mapping)]
    shots_with_faces = sorted({s for i in idents for s in (i.get("shots") or [])})
    if len(shots_with_faces) < 2:
        raise NotAnswerable(f"faces appear in {len(shots_with_faces)} shot(s); nothing to compare across cuts")
    recurring = [i for i in idents if len(i.get("shots") or []) >= 2]
    if not recurring:
        raise NotAnswerable(f"{len(idents)} different faces in shots {shots_with_faces} and none recurs: different people, "
                            "or one face that changed beyond recognition (a VLM must tell)")
    metric = f.get("identity_metric") or {}
    sims = [i["across_shot_similarity"] for i in recurring if isinstance(i.get("across_shot_similarity"), (int, float))]
    basis = (f"{len(recurring)} face(s) recognised in several shots ("
             + "; ".join(f"identity {i.get('id')} in shots {i.get('shots')}" for i in recurring[:3])
             + f"); identities clustered with {metric.get('name', '?')} threshold {metric.get('threshold', '?')}"
             + (f"; across-shot embedding similarity {min(sims):.2f}" if sims else ""))
    return True, basis


def _expr(f: dict, key: str) -> dict:
    e = (f.get("expression") or {}).get(key) or {}
    if e.get("range") is None:
        raise NotAnswerable("no face mesh: expression was not measured")
    return e


@check("faces.expression_varies")
def _expr_varies(ev: EvidenceView) -> tuple[bool, str]:
    f = _faces_tracked(ev)
    mouth, brow = _expr(f, "mouth_open"), _expr(f, "brow_raise")
    t = THRESHOLDS["expression_range_min"]
    ok = mouth["range"] >= t or brow["range"] >= t
    return ok, f"mouth-opening range {mouth['range']:.3f}, brow-raise range {brow['range']:.3f} vs minimum {t:.3f} for either"


@check("faces.expression_transitions_smooth")
def _expr_smooth(ev: EvidenceView) -> tuple[bool, str]:
    f = _faces_tracked(ev)
    mouth, brow = _expr(f, "mouth_open"), _expr(f, "brow_raise")
    jumps = (mouth.get("jump_times") or []) + (brow.get("jump_times") or [])
    where = ", ".join(_t(float(x)) for x in sorted(jumps)[:5])
    return not jumps, f"{len(jumps)} abrupt mouth/brow jump(s)" + (f" at {where}" if where else "") + " (blinks excluded)"


# ---- features --------------------------------------------------------------------------------------

def _backend_threshold(f: dict, prefix: str) -> tuple[float, str]:
    backend = str(f.get("backend") or "classical")
    return THRESHOLDS.get(f"{prefix}_{backend}", THRESHOLDS[f"{prefix}_classical"]), backend


@check("features.subject_appearance_stable")
def _appearance(ev: EvidenceView) -> tuple[bool, str]:
    f = ev.results("features")
    changes = [c for c in f.get("abrupt_changes") or [] if isinstance(c, Mapping)]
    where = ", ".join(f"{_t(float(c['time']))} (similarity {c.get('similarity', float('nan')):.2f})" for c in changes[:4])
    low = f.get("min_to_previous_in_shot")
    return not changes, (f"{len(changes)} abrupt appearance change(s) inside shots" + (f" at {where}" if where else "")
                         + (f"; lowest frame-to-frame similarity {low:.2f}" if isinstance(low, (int, float)) else "")
                         + f" ({f.get('backend')})")


@check("features.temporal_consistency_high")
def _temporal(ev: EvidenceView) -> tuple[bool, str]:
    f = ev.results("features")
    v = _num(f, "mean_to_previous_in_shot")
    t, backend = _backend_threshold(f, "consistency")
    n = len(f.get("abrupt_changes") or [])
    return (v >= t and n == 0), f"mean frame-to-frame similarity {v:.2f} vs minimum {t:.2f} ({backend}), {n} abrupt change(s)"


@check("features.scene_consistent_across_shots")
def _scene_shots(ev: EvidenceView) -> tuple[bool, str]:
    f = ev.results("features")
    cross = f.get("cross_shot") or {}
    if cross.get("mean") is None:
        raise NotAnswerable("fewer than two shots: nothing to compare across cuts")
    v = _num(cross, "mean")
    t, backend = _backend_threshold(f, "cross_shot")
    return v >= t, f"mean keyframe similarity across {len(cross.get('shots') or [])} shots {v:.2f} (min {cross.get('min')}) vs minimum {t:.2f} ({backend})"


# ---- people ----------------------------------------------------------------------------------------

def _people_seen(ev: EvidenceView) -> dict:
    p = ev.results("people")
    if not p.get("person_fraction"):
        raise NotAnswerable(f"the people operator ({p.get('backend')}) saw no person in {p.get('sampled_frames', 0)} sampled frames")
    return p


@check("people.subject_prominent")
def _prominent(ev: EvidenceView) -> tuple[bool, str]:
    p = _people_seen(ev)
    v, t = _num(p, "subject_prominence"), THRESHOLDS["prominence_min"]
    return v >= t, (f"subject prominence {v:.2f} vs minimum {t:.2f} (person in {100 * p['person_fraction']:.0f}% of frames, "
                    f"mean area {100 * float(p.get('mean_area_fraction') or 0):.0f}%, centrality {p.get('mean_centrality')})")


@check("people.no_headroom_cutoff")
def _headroom(ev: EvidenceView) -> tuple[bool, str]:
    p = _people_seen(ev)
    v, t = _num(p, "head_cut_fraction"), THRESHOLDS["head_cut_max"]
    return v <= t, f"head cut by the top edge in {100 * v:.0f}% of frames with a person vs maximum {100 * t:.0f}% (shot size {p.get('shot_size')})"


SHOT_SIZE_WORDS = {
    "extreme_close_up": (r"extreme close[- ]?up", r"\becu\b", r"macro"),
    "close_up": (r"close[- ]?up", r"closeup", r"\bcu\b", r"portrait", r"headshot", r"head and shoulders"),
    "medium": (r"medium shot", r"mid[- ]shot", r"waist[- ]up", r"medium close", r"cowboy shot"),
    "wide": (r"wide shot", r"full[- ]body", r"full shot", r"long shot", r"establishing"),
    "extreme_wide": (r"extreme wide", r"aerial", r"bird'?s[- ]eye", r"panoram", r"landscape shot"),
}
NEIGHBOURS = ["extreme_close_up", "close_up", "medium", "wide", "extreme_wide"]


@check("people.shot_size_matches_prompt")
def _shot_size(ev: EvidenceView) -> tuple[bool, str]:
    wanted = [size for size, pats in SHOT_SIZE_WORDS.items() if any(re.search(p, (ev.prompt or "").lower()) for p in pats)]
    if not ev.prompt:
        raise NotAnswerable("no prompt given")
    if not wanted:
        raise NotAnswerable("the prompt names no shot size")
    want = wanted[0]
    p = _people_seen(ev)
    got = p.get("shot_size")
    if got not in NEIGHBOURS:
        raise NotAnswerable("the people operator estimated no shot size")
    ok = abs(NEIGHBOURS.index(got) - NEIGHBOURS.index(want)) <= 1 if want != got else True
    return ok, f"prompt asks for {want.replace('_', ' ')}, the framing measures {got.replace('_', ' ')} (one size either way passes)"


# ---- camera ----------------------------------------------------------------------------------------

@check("camera.no_unintended_shake")
def _shake(ev: EvidenceView) -> tuple[bool, str]:
    c = ev.results("camera")
    shake = _num(c, "shake_pct_w")
    wanted = bool(re.search(r"hand[- ]?held|shaky|found footage|documentary", (ev.prompt or "").lower()))
    shaky = [s for s in c.get("shots") or [] if isinstance(s, Mapping) and s.get("handheld")]
    where = ", ".join(f"shot {s.get('index')} ({_t(float(s.get('start', 0)))}-{_t(float(s.get('end', 0)))})" for s in shaky[:3])
    basis = f"shake {shake:.2f}% of width RMS; hand-held jitter in {len(shaky)} shot(s)" + (f": {where}" if where else "")
    if wanted:
        return True, basis + "; the prompt asks for a hand-held look"
    return not shaky, basis


@check("camera.motion_smooth")
def _smooth(ev: EvidenceView) -> tuple[bool, str]:
    c = ev.results("camera")
    v, t = _num(c, "smoothness"), THRESHOLDS["smoothness_min"]
    return v >= t, f"camera-path smoothness {v:.2f} vs minimum {t:.2f} (dominant move {c.get('dominant')})"


CAMERA_WORDS = {
    "pan": r"\bpan(s|ning|ned)?\b", "tilt": r"\btilt(s|ing|ed)?\b", "zoom": r"\bzoom(s|ing|ed)?\b|push(es|ing)? in|dolly in",
    "static": r"\bstatic\b|\bstill camera\b|locked[- ]off|tripod|fixed camera", "handheld": r"hand[- ]?held",
    "roll": r"\broll(s|ing)?\b|dutch",
}


@check("camera.motion_matches_prompt")
def _camera_prompt(ev: EvidenceView) -> tuple[bool, str]:
    if not ev.prompt:
        raise NotAnswerable("no prompt given")
    text = ev.prompt.lower()
    wanted = [k for k, pat in CAMERA_WORDS.items() if re.search(pat, text)]
    if not wanted:
        raise NotAnswerable("the prompt names no camera movement")
    c = ev.results("camera")
    labels = [str(s.get("label", "")) for s in c.get("shots") or [] if isinstance(s, Mapping)]
    moves = {m for s in c.get("shots") or [] if isinstance(s, Mapping) for m in (s.get("movements") or [])} | set(labels)
    hit = [w for w in wanted if any(w in m for m in moves)]
    if "static" in wanted and all(lab == "static" for lab in labels):
        hit.append("static")
    return bool(hit), f"prompt asks for {', '.join(wanted)}; measured shot labels {labels}, movements {sorted(moves)}"


@check("camera.static_dynamic_mix")
def _mix(ev: EvidenceView) -> tuple[bool, str]:
    c = ev.results("camera")
    labels = [str(s.get("label")) for s in c.get("shots") or [] if isinstance(s, Mapping)]
    if len(labels) < 2:
        raise NotAnswerable("a single shot: no mix of shots to judge")
    static = sum(lab == "static" for lab in labels)
    return 0 < static < len(labels), f"{static} static and {len(labels) - static} moving shot(s): {labels}"


# ---- colour ----------------------------------------------------------------------------------------

@check("colour.harmony_score")
def _harmony(ev: EvidenceView) -> tuple[bool, str]:
    c = ev.results("colour")
    h = c.get("harmony") or {}
    if c.get("grayscale"):
        return True, "black and white: no hue conflicts possible"
    if h.get("score") is None:
        raise NotAnswerable(h.get("reason") or "hue harmony was not measured")
    v, t = _num(h, "score"), THRESHOLDS["harmony_min"]
    return v >= t, f"hue harmony {v:.2f} with the {h.get('template_name', h.get('template'))} template vs minimum {t:.2f}"


@check("colour.saturation_balanced")
def _saturation(ev: EvidenceView) -> tuple[bool, str]:
    c = ev.results("colour")
    v = _num(c, "saturation_mean")
    lo, hi = THRESHOLDS["saturation_low"], THRESHOLDS["saturation_high"]
    if c.get("grayscale"):
        return True, f"black and white (mean saturation {v:.2f}) by design"
    return lo <= v <= hi, f"mean saturation {v:.2f} vs balanced band {lo:.2f}-{hi:.2f}; colourfulness {c.get('colourfulness')}"


@check("colour.no_colour_cast")
def _cast(ev: EvidenceView) -> tuple[bool, str]:
    c = ev.results("colour")
    pal = [p for p in c.get("palette") or [] if isinstance(p, Mapping) and p.get("lab")]
    if not pal:
        raise NotAnswerable("no palette in the colour evidence")
    total = sum(float(p.get("share", 0)) for p in pal) or 1.0
    a = sum(float(p["lab"][1]) * float(p.get("share", 0)) for p in pal) / total
    b = sum(float(p["lab"][2]) * float(p.get("share", 0)) for p in pal) / total
    cast, t = math.hypot(a, b), THRESHOLDS["cast_max"]
    hue = ("red/magenta" if a > 0 else "green") if abs(a) > abs(b) else ("yellow/orange" if b > 0 else "blue")
    return cast <= t, f"mean palette colour a*={a:.1f}, b*={b:.1f}: a {hue} lean of chroma {cast:.1f} vs maximum {t:.0f}"


@check("colour.palette_consistent")
def _palette(ev: EvidenceView) -> tuple[bool, str]:
    c = ev.results("colour")
    cons = c.get("palette_consistency") or {}
    if cons.get("score") is not None:
        v, t = _num(cons, "score"), THRESHOLDS["palette_consistency_min"]
        return v >= t, f"palette consistency {v:.2f} (mean adjacent-shot dE {cons.get('mean_delta_e')}) vs minimum {t:.2f}"
    series = (c.get("colourfulness_series") or {}).get("values") or []
    vals = [float(x) for x in series if isinstance(x, (int, float)) and math.isfinite(x)]
    if len(vals) < 3:
        raise NotAnswerable("one shot and too few colourfulness samples to compare")
    mean = sum(vals) / len(vals)
    cv = (sum((x - mean) ** 2 for x in vals) / len(vals)) ** 0.5 / max(mean, 1.0)
    t = THRESHOLDS["colourfulness_cv_max"]
    return cv <= t, f"one shot: colourfulness varies by CV {cv:.2f} over {len(vals)} samples vs maximum {t:.2f}"


# ---- shots -----------------------------------------------------------------------------------------

def _shot_lengths(ev: EvidenceView) -> list[float]:
    s = ev.results("shots")
    lengths = [float(x["end"]) - float(x["start"]) for x in s.get("shots") or [] if isinstance(x, Mapping)]
    if len(lengths) < 2:
        raise NotAnswerable("a single shot: no edit to judge")
    return lengths


@check("shots.shot_durations_reasonable")
def _durations(ev: EvidenceView) -> tuple[bool, str]:
    lengths = _shot_lengths(ev)
    lo, mean_min = THRESHOLDS["shot_min_s"], THRESHOLDS["shot_mean_min_s"]
    mean = sum(lengths) / len(lengths)
    short = [i for i, x in enumerate(lengths) if x < lo]
    return (not short and mean >= mean_min), (f"{len(lengths)} shots, mean {mean:.2f} s, shortest {min(lengths):.2f} s; "
                                              f"{len(short)} under {lo:.1f} s")


@check("shots.cut_tempo_varies")
def _tempo(ev: EvidenceView) -> tuple[bool, str]:
    lengths = _shot_lengths(ev)
    if len(lengths) < 3:
        raise NotAnswerable("two shots: too few to speak of a cutting tempo")
    mean = sum(lengths) / len(lengths)
    cv = (sum((x - mean) ** 2 for x in lengths) / len(lengths)) ** 0.5 / mean
    t = THRESHOLDS["shot_cv_min"]
    return cv >= t, f"shot lengths vary by CV {cv:.2f} ({', '.join(f'{x:.1f}' for x in lengths[:8])} s) vs minimum {t:.2f}"


# ---- speech, lip-sync, audio ------------------------------------------------------------------------

@check("speech.intelligible")
def _intelligible(ev: EvidenceView) -> tuple[bool, str]:
    s = ev.results("speech")
    if s.get("no_speech") or not s.get("n_words"):
        raise NotAnswerable(f"no words were transcribed ({s.get('voiced_s', 0)} s voiced)")
    prob, wpm = _num(s, "language_probability"), s.get("speaking_rate_wpm")
    pmin, lo, hi = THRESHOLDS["language_probability_min"], THRESHOLDS["wpm_low"], THRESHOLDS["wpm_high"]
    rate_ok = isinstance(wpm, (int, float)) and lo <= wpm <= hi
    return (prob >= pmin and rate_ok), (f"{s['n_words']} words in {s.get('voiced_s')} s voiced, language {s.get('language')} "
                                         f"p={prob:.2f} (min {pmin}), {wpm} words/min (natural {lo:.0f}-{hi:.0f})")


@check("lipsync.offset_small")
def _offset(ev: EvidenceView) -> tuple[bool, str]:
    s = ev.results("lipsync")
    if s.get("offset_ms") is None:
        raise NotAnswerable(s.get("message") or "no offset estimate")
    off = _num(s, "offset_ms")
    return not s.get("detectable", False), (f"A/V offset {off:+.0f} ms (positive = audio late; detectable beyond -45/+125 ms, "
                                            f"ITU-R BT.1359), confidence {s.get('confidence')} ({s.get('method')})")


@check("lipsync.mouth_tracks_loudness")
def _mouth(ev: EvidenceView) -> tuple[bool, str]:
    s = ev.results("lipsync")
    env = s.get("envelope") or {}
    v, t = _num(env, "peak_corr"), THRESHOLDS["lipsync_corr_min"]
    return v >= t, f"mouth opening vs speech loudness correlation {v:.2f} at the best lag (zero-lag {env.get('zero_lag_corr')}) vs minimum {t:.2f}"


@check("audio.no_clipping")
def _aclip(ev: EvidenceView) -> tuple[bool, str]:
    a = ev.results("audio")
    share, runs, t = _num(a, "clipped_share"), int(a.get("clipped_runs") or 0), THRESHOLDS["clipped_share_max"]
    return (share <= t and runs == 0), f"{100 * share:.3f}% samples at full scale, {runs} flat-topped run(s); peak {a.get('sample_peak_dbfs')} dBFS"


@check("audio.no_dropouts")
def _dropouts(ev: EvidenceView) -> tuple[bool, str]:
    a = ev.results("audio")
    drops = [d for d in a.get("dropouts") or [] if isinstance(d, Mapping)]
    where = ", ".join(f"{_t(float(d['start']))}-{_t(float(d['end']))}" for d in drops[:4])
    return not drops, f"{len(drops)} dropout(s)" + (f" at {where}" if where else "") + f"; silence {100 * float(a.get('silence_share') or 0):.0f}% of the track"


@check("audio.loudness_in_range")
def _lufs(ev: EvidenceView) -> tuple[bool, str]:
    v = _num(ev.results("audio"), "loudness_lufs")
    lo, hi = THRESHOLDS["lufs_low"], THRESHOLDS["lufs_high"]
    return lo <= v <= hi, f"integrated loudness {v:.1f} LUFS vs {lo:.0f} to {hi:.0f}"


@check("audio.ambience_present")
def _ambience(ev: EvidenceView) -> tuple[bool, str]:
    a = ev.results("audio")
    v, t = _num(a, "ambience_share"), THRESHOLDS["ambience_share_min"]
    music = float(a.get("music_share") or 0)
    ok = v >= t or music >= t
    return ok, f"ambience {100 * v:.0f}%, music {100 * music:.0f}%, speech {100 * float(a.get('speech_share') or 0):.0f}% of the track (heuristic) vs {100 * t:.0f}% bed"


@check("audio.cuts_align_with_beats")
def _beats(ev: EvidenceView) -> tuple[bool, str]:
    a = ev.results("audio")
    cb = a.get("cut_to_beat") or {}
    if cb.get("alignment_score") is None:
        raise NotAnswerable(cb.get("reason") or "no cut-to-beat alignment")
    v, t = _num(cb, "alignment_score"), THRESHOLDS["beat_alignment_min"]
    return v >= t, (f"{cb.get('n_cuts')} cut(s), {100 * float(cb.get('aligned_share') or 0):.0f}% on a beat vs {100 * float(cb.get('chance_share') or 0):.0f}% by chance "
                    f"(score {v:.2f}, minimum {t:.2f}; tempo {a.get('tempo_bpm')} bpm)")


@check("audio.speech_not_masked")
def _masking(ev: EvidenceView) -> tuple[bool, str]:
    a = ev.results("audio")
    speech, music = _num(a, "speech_share"), float(a.get("music_share") or 0)
    if speech <= 0:
        raise NotAnswerable("no speech in the track")
    t = THRESHOLDS["speech_masking_music_max"]
    ratio = music / (speech + music)
    return ratio <= t, f"music takes {100 * ratio:.0f}% of the speech+music time (speech {100 * speech:.0f}%, music {100 * music:.0f}%) vs maximum {100 * t:.0f}%"
