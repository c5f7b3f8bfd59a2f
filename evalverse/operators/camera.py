"""Camera movement evidence: pan, tilt, zoom, roll per shot, shake, smoothness and dynamic degree.

Global motion between consecutive analysis frames (downscaled to ~320 px wide) comes from sparse
Lucas–Kanade tracks with a forward–backward check and a RANSAC similarity fit about the frame centre;
the camera moves opposite to the content. Dynamic degree follows VBench's idea (top-5% dense flow
magnitude against a threshold scaled to resolution, frames sampled at ~8 fps) but reports the share of
frame pairs that move instead of a yes/no.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from evalverse.errors import InputError
from evalverse.operators.base import Operator, OperatorContext
from evalverse.operators.results import PerShot, Results, Series
from evalverse.operators.signal import Span, pair_mask, rnd, series, shot_spans
from evalverse.registry import Backend, register

ANALYSIS_WIDTH = 320
MIN_TRACKS = 8

Movement = Literal["pan_right", "pan_left", "tilt_up", "tilt_down", "zoom_in", "zoom_out",
                   "roll_clockwise", "roll_counterclockwise"]
CameraLabel = Literal["static", "handheld", "pan_right", "pan_left", "tilt_up", "tilt_down", "zoom_in", "zoom_out",
                      "roll_clockwise", "roll_counterclockwise"]


class CameraShot(PerShot):
    label: CameraLabel  # the dominant movement, else handheld or static
    movements: list[Movement] = []  # every movement over its threshold, strongest first
    handheld: bool
    pan_pct_w_s: float | None = None  # + right
    tilt_pct_w_s: float | None = None  # + up
    zoom_pct_s: float | None = None  # + in
    roll_deg_s: float | None = None  # + clockwise
    shake_pct_w: float | None = None
    smoothness: float | None = None
    valid_pair_share: float | None = None


class CameraResults(Results):
    shots: list[CameraShot]
    n_shots: int
    n_static_shots: int
    n_moving_shots: int  # every label but static (handheld counts as moving)
    n_handheld_shots: int
    dominant: CameraLabel  # the longest shot's label
    labels: list[CameraLabel] = []
    shake_pct_w: float | None = None
    smoothness: float | None = None
    handheld: bool
    valid_pair_share: float | None = None
    pan_series: Series = Series()
    tilt_series: Series = Series()
    zoom_series: Series = Series()
    roll_series: Series = Series()
    dynamic_degree: float | None = None
    dynamic_pairs: int = 0
    vbench_dynamic: bool | None = None
    flow_top5_series: Series = Series()
    analysis_size: list[int] = []  # [width, height] of the motion-analysis frames
    shots_source: str


@dataclass
class PairMotion:
    """Content motion between consecutive frames, in the downscaled frame's pixels (NaN where unreliable)."""

    dx: np.ndarray  # content shift of the frame centre, +right
    dy: np.ndarray  # content shift, +down
    log_scale: np.ndarray  # log of the content scale factor (>0: content grows)
    angle: np.ndarray  # content rotation in radians (+: clockwise on screen, y points down)
    inliers: np.ndarray  # RANSAC inlier count
    width: int
    height: int


def to_small_gray(frames: np.ndarray, width: int = ANALYSIS_WIDTH) -> np.ndarray:
    """Grey frames no wider than `width` (area-averaged), uint8."""
    import cv2

    n, h, w = frames.shape[:3]
    scale = min(1.0, width / float(w))
    size = (max(int(round(w * scale)), 16), max(int(round(h * scale)), 16))
    out = np.empty((n, size[1], size[0]), dtype=np.uint8)
    for i, f in enumerate(frames):
        g = cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY)
        out[i] = g if scale == 1.0 else cv2.resize(g, size, interpolation=cv2.INTER_AREA)
    return out


def estimate_pair_motion(gray: np.ndarray, valid_pairs: np.ndarray | None = None) -> PairMotion:
    """Similarity motion (shift, scale, rotation) of the content for every consecutive frame pair."""
    import cv2

    n, h, w = gray.shape
    m = max(n - 1, 0)
    dx, dy, ls, ang = (np.full(m, np.nan) for _ in range(4))
    inl = np.zeros(m, dtype=int)
    centre = np.array([(w - 1) / 2.0, (h - 1) / 2.0], dtype=np.float32)
    lk = dict(winSize=(15, 15), maxLevel=3, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))
    min_dist = max(5, int(round(w / 48)))
    for i in range(m):
        if valid_pairs is not None and not valid_pairs[i]:
            continue
        prev, cur = gray[i], gray[i + 1]
        pts = cv2.goodFeaturesToTrack(prev, maxCorners=200, qualityLevel=0.01, minDistance=min_dist, blockSize=7)
        if pts is None or len(pts) < MIN_TRACKS:
            continue
        nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, **lk)
        back, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, nxt, None, **lk)
        ok = (st.ravel() == 1) & (st2.ravel() == 1) & (np.linalg.norm((back - pts).reshape(-1, 2), axis=1) < 1.0)
        if ok.sum() < MIN_TRACKS:
            continue
        src = pts.reshape(-1, 2)[ok] - centre
        dst = nxt.reshape(-1, 2)[ok] - centre
        M, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=1.0,
                                              maxIters=500, confidence=0.99, refineIters=10)
        if M is None or mask is None or int(mask.sum()) < MIN_TRACKS:
            continue
        a, b = float(M[0, 0]), float(M[1, 0])
        dx[i], dy[i] = float(M[0, 2]), float(M[1, 2])
        ls[i] = np.log(max(np.hypot(a, b), 1e-6))
        ang[i] = np.arctan2(b, a)
        inl[i] = int(mask.sum())
    return PairMotion(dx, dy, ls, ang, inl, w, h)


def top5_flow(gray: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    """Mean of the top 5% dense-flow magnitudes (DIS, fast preset) for each (i, j) frame pair, in pixels."""
    import cv2

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    out = np.full(len(pairs), np.nan)
    for k, (i, j) in enumerate(pairs):
        flow = dis.calc(gray[i], gray[j], None)
        mag = np.sqrt(flow[..., 0] ** 2 + flow[..., 1] ** 2).ravel()
        cut = max(int(mag.size * 0.05), 1)
        out[k] = float(np.partition(mag, mag.size - cut)[-cut:].mean())
    return out


def residual_rms(traj: np.ndarray, window: int) -> np.ndarray:
    """Trajectory minus its Savitzky–Golay smoothed version (keeps steady pans and ramps, removes jitter)."""
    from scipy.signal import savgol_filter

    window = min(window if window % 2 else window + 1, len(traj) if len(traj) % 2 else len(traj) - 1)
    if window < 5:
        return np.full_like(traj, np.nan)
    return traj - savgol_filter(traj, window, polyorder=2, mode="interp")


def smooth_share(v: np.ndarray, window: int, floor: float) -> float:
    """Share of velocity energy that is low-frequency; `floor` (energy per sample) keeps a still camera at 1."""
    from scipy.signal import savgol_filter

    window = min(window if window % 2 else window + 1, len(v) if len(v) % 2 else len(v) - 1)
    if window < 5:
        return float("nan")
    vs = savgol_filter(v, window, polyorder=2, mode="interp")
    eps = floor * len(v)
    return float(min(1.0, (np.sum(vs ** 2) + eps) / (np.sum(v ** 2) + eps)))


def subsample_frames(times: np.ndarray, spans: list[Span], max_fps: float) -> tuple[np.ndarray, list[Span]]:
    """Frame indices thinned to about max_fps, evenly inside each shot from its first frame (the trajectory
    filters assume even spacing), and the shots re-expressed as spans over the thinned sequence."""
    n = len(times)
    fps = (n - 1) / max(times[-1] - times[0], 1e-9) if n > 1 else max_fps
    step = max(1, int(round(fps / max_fps)))
    keep: set[int] = set()
    for s in spans:
        keep |= set(range(s.start_frame, s.end_frame, step))
    sub = np.array(sorted(k for k in keep if 0 <= k < n), dtype=int)
    out = [Span(s.index, int(np.searchsorted(sub, s.start_frame)), int(np.searchsorted(sub, s.end_frame)),
                s.start, s.end, s.transition) for s in spans]
    return sub, out


MOVES = {  # rate key -> (label when positive, label when negative)
    "pan": ("pan_right", "pan_left"),
    "tilt": ("tilt_up", "tilt_down"),
    "zoom": ("zoom_in", "zoom_out"),
    "roll": ("roll_clockwise", "roll_counterclockwise"),
}


def label_shot(rates: dict[str, float], shake: float, p: dict[str, Any],
               net: dict[str, float] | None = None) -> tuple[str, list[str], bool]:
    """Dominant movement, every movement over its threshold, and whether it looks hand-held.

    A pan or tilt also has to travel further than the jitter around it (net travel >= 3 × shake RMS), so a
    short shaky shot whose jitter does not cancel out is not read as a pan."""
    thresholds = {"pan": p["pan_threshold_pct_w_s"], "tilt": p["pan_threshold_pct_w_s"],
                  "zoom": p["zoom_threshold_pct_s"], "roll": p["roll_threshold_deg_s"]}
    strength = {k: abs(rates[k]) / thresholds[k] for k in MOVES if np.isfinite(rates[k])}
    if net is not None and np.isfinite(shake):
        for k, travelled in net.items():
            if k in strength and travelled < 3 * shake:
                strength[k] = min(strength[k], 0.99)
    moving = sorted((k for k, s in strength.items() if s >= 1.0), key=lambda k: -strength[k])
    labels = [MOVES[k][0] if rates[k] > 0 else MOVES[k][1] for k in moving]
    handheld = bool(np.isfinite(shake) and shake >= p["handheld_shake_pct_w"])
    if labels:
        return labels[0], labels, handheld
    return ("handheld" if handheld else "static"), [], handheld


@register
class CameraOperator(Operator):
    name: ClassVar[str] = "camera"
    version: ClassVar[str] = "1.1.0"
    description: ClassVar[str] = (
        "Camera movement from global optical flow: pan/tilt (% of width per s), zoom (% scale per s), roll (deg/s) "
        "and a dominant label per shot, shake (high-frequency trajectory residual), smoothness, dynamic degree."
    )
    evidence_kind: ClassVar[str] = "camera"
    cost = 0.54  # CPU seconds on talk10, warm, one worker (benchmarks/bench_evidence.py)
    needs: ClassVar[tuple[str, ...]] = ("frames", "shots")
    results_model = CameraResults
    backends: ClassVar[tuple[Backend, ...]] = (
        Backend(name="opencv", weights="none (classical: Lucas–Kanade + RANSAC, DIS flow)", licence="Apache-2.0",
                modules=("cv2", "scipy"), fix="pip install opencv-python-headless scipy"),
    )
    default_params: ClassVar[dict[str, Any]] = {
        "analysis_width": ANALYSIS_WIDTH,
        "max_fps": 15.0,  # global motion is estimated on frames thinned to at most this rate
        "pan_threshold_pct_w_s": 1.5,  # pan/tilt slower than this is "static"
        "zoom_threshold_pct_s": 1.5,
        "roll_threshold_deg_s": 1.5,
        "handheld_shake_pct_w": 0.15,  # RMS trajectory jitter that reads as hand-held
        "smoothing_s": 0.75,  # Savitzky–Golay window separating intended motion from shake
        "dynamic_fps": 8.0,  # VBench samples frames at ~8 fps for dynamic degree
        "dynamic_threshold": 6.0,  # VBench: px per 1/8 s at a 256-px short side
    }

    def run(self, ctx: OperatorContext) -> CameraResults:
        p = {**self.default_params, **ctx.params}
        video = ctx.video
        frames = video.frames
        if frames is None or len(frames) < 2:
            raise InputError(f"camera motion needs at least two frames; this video has {0 if frames is None else len(frames)}")
        all_times = np.asarray(video.times, dtype=np.float64)
        all_spans, source = shot_spans(video, ctx.evidence)
        gray_all = to_small_gray(frames, int(p["analysis_width"]))
        # global motion at <= max_fps: enough for pans and shake up to ~6 Hz, and half the work at 25 fps
        sub, spans = subsample_frames(all_times, all_spans, float(p["max_fps"]))
        gray, times = gray_all[sub], all_times[sub]
        n, h, w = gray.shape
        inside = pair_mask(n, spans)
        motion = estimate_pair_motion(gray, inside)
        dt = np.maximum(np.diff(times), 1e-6)
        # camera rates: opposite to the content's motion
        pan = -motion.dx / w * 100 / dt
        tilt = motion.dy / w * 100 / dt  # content moving down = camera tilting up
        zoom = motion.log_scale * 100 / dt
        roll = -np.degrees(motion.angle) / dt
        valid = np.isfinite(motion.dx)
        fps = (n - 1) / max(times[-1] - times[0], 1e-9)
        window = max(int(round(float(p["smoothing_s"]) * fps)), 5)

        shots_out, shakes, smooths, weights = [], [], [], []
        for s in spans:
            a, b = s.start_frame, s.end_frame - 1  # pairs a .. b-1 lie inside the shot
            sel = slice(a, max(b, a))
            ok = valid[sel]
            # mean rate over reliable pairs = net movement per second (jitter cancels out)
            rates = {k: (float(np.mean(v[sel][ok])) if ok.any() else float("nan"))
                     for k, v in (("pan", pan), ("tilt", tilt), ("zoom", zoom), ("roll", roll))}
            # trajectory in % of width: unreliable pairs count as no motion
            sx = np.concatenate([[0.0], np.cumsum(np.nan_to_num(-motion.dx[sel] / w * 100))])
            sy = np.concatenate([[0.0], np.cumsum(np.nan_to_num(motion.dy[sel] / w * 100))])
            rx, ry = residual_rms(sx, window), residual_rms(sy, window)
            shake = float(np.sqrt(np.mean(rx ** 2 + ry ** 2))) if np.isfinite(rx).all() and len(rx) else float("nan")
            vx, vy = np.nan_to_num(pan[sel]), np.nan_to_num(tilt[sel])
            smooth = (np.nanmean([smooth_share(vx, window, 4.0), smooth_share(vy, window, 4.0)])
                      if len(vx) >= 5 else float("nan"))
            net = {"pan": abs(sx[-1]), "tilt": abs(sy[-1])}  # % of width travelled over the shot
            label, labels, handheld = label_shot(rates, shake, p, net)
            shots_out.append({
                "index": s.index, "start": s.start, "end": s.end, "label": label, "movements": labels,
                "handheld": handheld, "pan_pct_w_s": rates["pan"], "tilt_pct_w_s": rates["tilt"],
                "zoom_pct_s": rates["zoom"], "roll_deg_s": rates["roll"], "shake_pct_w": shake,
                "smoothness": smooth, "valid_pair_share": float(ok.mean()) if len(ok) else None,
            })
            if np.isfinite(shake):
                shakes.append(shake)
                smooths.append(smooth)
                weights.append(max(s.end - s.start, 1e-3))

        dyn = self._dynamic_degree(gray_all, all_times, pair_mask(len(gray_all), all_spans), p)
        longest = max(shots_out, key=lambda r: r["end"] - r["start"])
        t_mid = (times[:-1] + times[1:]) / 2
        results = {
            "shots": shots_out,
            "n_shots": len(shots_out),
            "n_static_shots": sum(r["label"] == "static" for r in shots_out),
            "n_moving_shots": sum(r["label"] != "static" for r in shots_out),
            "n_handheld_shots": sum(bool(r["handheld"]) for r in shots_out),
            "dominant": longest["label"],
            "labels": sorted({r["label"] for r in shots_out}),
            "shake_pct_w": float(np.average(shakes, weights=weights)) if shakes else None,
            "smoothness": float(np.nanmean(np.where(np.isfinite(smooths), smooths, np.nan))) if smooths and np.isfinite(smooths).any() else None,
            "handheld": any(r["handheld"] for r in shots_out),
            "valid_pair_share": float(valid[inside].mean()) if inside.any() else None,
            "pan_series": series(t_mid, pan, 2), "tilt_series": series(t_mid, tilt, 2),
            "zoom_series": series(t_mid, zoom, 2), "roll_series": series(t_mid, roll, 2),
            **dyn,
            "analysis_size": [w, h],
            "shots_source": source,
        }
        return CameraResults.model_validate(rnd(results, 3))

    @staticmethod
    def _dynamic_degree(gray: np.ndarray, times: np.ndarray, inside: np.ndarray, p: dict[str, Any]) -> dict[str, Any]:
        n, h, w = gray.shape
        fps = (n - 1) / max(times[-1] - times[0], 1e-9)
        step = max(1, int(round(fps / float(p["dynamic_fps"]))))
        pairs = [(i, i + step) for i in range(0, n - step, step) if inside[i:i + step].all()]
        if not pairs:
            return {"dynamic_degree": None, "dynamic_pairs": 0, "flow_top5_series": {"times": [], "values": []}}
        mags = top5_flow(gray, pairs)
        dts = np.array([times[j] - times[i] for i, j in pairs])
        # in VBench units: pixels per 1/8 s at a 256-pixel short side
        norm = mags * (0.125 / np.maximum(dts, 1e-6)) * (256.0 / min(h, w))
        moving = norm > float(p["dynamic_threshold"])
        return {
            "dynamic_degree": float(moving.mean()),
            "dynamic_pairs": len(pairs),
            "vbench_dynamic": bool(moving.sum() >= round(4 * (len(pairs) + 1) / 16.0)),
            "flow_top5_series": series([times[i] for i, _ in pairs], norm, 2),
        }
