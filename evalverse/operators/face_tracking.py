"""Pure functions behind the faces operator: tracklets, identity clustering, expression series.

Nothing here touches a model: detections and embeddings come in as arrays, summaries go out as plain
numbers, so each step can be tested on hand-made inputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

# A face-mesh (MediaPipe 478-point topology) landmark pair per measurement.
MESH_UPPER_LIP, MESH_LOWER_LIP = 13, 14
MESH_FOREHEAD, MESH_CHIN = 10, 152
MESH_LEFT_EYE = (159, 145, 33, 133)  # top, bottom, outer corner, inner corner
MESH_RIGHT_EYE = (386, 374, 263, 362)
MESH_LEFT_BROW, MESH_RIGHT_BROW = 105, 334  # mid-brow points, compared with the eye tops


@dataclass
class Detection:
    """One face in one frame: box in pixels (x1, y1, x2, y2), optional 5 key points and embedding."""

    frame: int
    time: float
    box: np.ndarray
    score: float
    kps: np.ndarray | None = None
    embedding: np.ndarray | None = None
    tracked: bool = False  # carried from the last detector frame by the mesh tracker, not detected here

    @property
    def area(self) -> float:
        return float(max(self.box[2] - self.box[0], 0) * max(self.box[3] - self.box[1], 0))

    @property
    def center(self) -> tuple[float, float]:
        return float((self.box[0] + self.box[2]) / 2), float((self.box[1] + self.box[3]) / 2)


@dataclass
class Track:
    id: int
    detections: list[Detection] = field(default_factory=list)
    shot: int | None = None

    @property
    def start(self) -> float:
        return self.detections[0].time

    @property
    def end(self) -> float:
        return self.detections[-1].time

    @property
    def embeddings(self) -> list[tuple[float, np.ndarray]]:
        return [(d.time, d.embedding) for d in self.detections if d.embedding is not None]


@dataclass(frozen=True)
class IdentityMetric:
    """How two embeddings are compared: `distance` below `threshold` means the same person."""

    name: str  # "euclidean" (dlib, 128-d) or "cosine" (ArcFace, 512-d: distance = 1 - cosine similarity)
    threshold: float

    def distance(self, a: np.ndarray, b: np.ndarray) -> float:
        if self.name == "euclidean":
            return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))
        return 1.0 - cosine(a, b)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    den = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / den) if den > 0 else 0.0


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(x2 - x1, 0.0) * max(y2 - y1, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def shot_of(time: float, shot_starts: Sequence[float]) -> int:
    """Index of the shot containing `time`, given sorted shot start times (the first is 0)."""
    return max(int(np.searchsorted(np.asarray(shot_starts), time, side="right")) - 1, 0)


def build_tracks(
    frames: list[list[Detection]],
    metric: IdentityMetric,
    shot_starts: Sequence[float] = (0.0,),
    min_iou: float = 0.2,
    max_gap_s: float = 0.5,
    w_embedding: float = 0.7,
) -> list[Track]:
    """Greedy tracklets: link each frame's faces to open tracks by 0.7·cosine + 0.3·IoU (IoU alone when
    either side has no embedding yet). A track closes at a shot boundary or after `max_gap_s` unseen.

    A link needs spatial overlap (IoU ≥ min_iou) or, without overlap, the same identity by `metric`;
    so a face that changes identity in place stays one track and is reported as an identity switch.
    """
    tracks: list[Track] = []
    open_tracks: list[Track] = []
    for dets in frames:
        if not dets:
            continue
        t = dets[0].time
        shot = shot_of(t, shot_starts)
        open_tracks = [tr for tr in open_tracks if tr.shot == shot and t - tr.end <= max_gap_s]
        pairs = []
        for ti, tr in enumerate(open_tracks):
            last = tr.detections[-1]
            ref = _last_embedding(tr)
            for di, d in enumerate(dets):
                overlap = iou(last.box, d.box)
                if ref is not None and d.embedding is not None:
                    same = metric.distance(ref, d.embedding) < metric.threshold
                    if overlap < min_iou and not same:
                        continue
                    score = w_embedding * cosine(ref, d.embedding) + (1 - w_embedding) * overlap
                else:
                    if overlap < min_iou:
                        continue
                    score = overlap
                pairs.append((score, ti, di))
        used_t, used_d = set(), set()
        for score, ti, di in sorted(pairs, reverse=True):
            if ti in used_t or di in used_d:
                continue
            used_t.add(ti)
            used_d.add(di)
            open_tracks[ti].detections.append(dets[di])
        for di, d in enumerate(dets):
            if di not in used_d:
                tr = Track(id=len(tracks), detections=[d], shot=shot)
                tracks.append(tr)
                open_tracks.append(tr)
    return tracks


def landmarks_box(points: np.ndarray) -> np.ndarray:
    """Bounding box (x1, y1, x2, y2) of mesh points (pixel x, y)."""
    return np.array([points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()], float)


def match_faces(before: Sequence[Detection], after: Sequence[Detection],
                min_iou: float = 0.2) -> tuple[list[tuple[Detection, Detection]], int]:
    """Faces of two detector frames paired greedily by overlap (IoU >= min_iou), and how many faces of
    either frame found no partner (came, went, or moved further than the overlap can follow)."""
    pairs = sorted(((iou(a.box, b.box), i, j) for i, a in enumerate(before) for j, b in enumerate(after)), reverse=True)
    used_a, used_b, matched = set(), set(), []
    for score, i, j in pairs:
        if score < min_iou or i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        matched.append((before[i], after[j]))
    return matched, len(before) + len(after) - 2 * len(matched)


def fill_between(before: Sequence[Detection], after: Sequence[Detection], frames: Sequence[tuple[int, float]],
                 min_iou: float = 0.2) -> list[list[Detection]]:
    """Faces for the frames between two detector frames of one shot: each face found at both ends
    (`match_faces`) is there in between, its box moved linearly in time; a face found at one end only is
    not carried. Returns one list per frame, marked `tracked`, without embeddings."""
    matched, _ = match_faces(before, after, min_iou)
    out = []
    for frame, time in frames:
        row = []
        for a, b in matched:
            w = (time - a.time) / (b.time - a.time) if b.time > a.time else 0.0
            row.append(Detection(frame, time, (1 - w) * a.box + w * b.box, min(a.score, b.score), tracked=True))
        out.append(row)
    return out


def embedding_plan(tracks: Sequence[Track], every_s: float = 1.0, cap: int = 24, min_looks: int = 2) -> list[Detection]:
    """Which detections to embed: in each track the detector saw at least `min_looks` times (a face seen
    once is a blip, given no identity), its first detector-frame face, then one each `every_s` seconds
    after the last one chosen (faces filled in between detector frames are not embedded: their box is an
    estimate). When more than `cap` are wanted, every track gets its first one before any track gets its
    second, and so on; among equals, longer tracks first."""
    ranked = []
    for tr in tracks:
        seen = [d for d in tr.detections if not d.tracked]
        if len(seen) < min_looks:
            continue
        last = None
        rank = 0
        for d in seen:
            if last is None or d.time - last >= every_s - 1e-6:
                ranked.append((rank, -(tr.end - tr.start), d.time, tr.id, d))
                last, rank = d.time, rank + 1
    ranked.sort(key=lambda r: r[:4])
    return [r[4] for r in ranked[:max(cap, 0)]]


def _last_embedding(track: Track) -> np.ndarray | None:
    for d in reversed(track.detections):
        if d.embedding is not None:
            return d.embedding
    return None


def identity_switches(track: Track, metric: IdentityMetric) -> list[dict]:
    """Points where consecutive embeddings of one track differ beyond the same-person threshold."""
    out = []
    embs = track.embeddings
    for (t0, e0), (t1, e1) in zip(embs, embs[1:]):
        dist = metric.distance(e0, e1)
        if dist >= metric.threshold:
            out.append({"track": track.id, "time": round((t0 + t1) / 2, 3), "distance": round(dist, 4)})
    return out


def split_at_switches(track: Track, metric: IdentityMetric) -> list[list[np.ndarray]]:
    """The track's embeddings cut into runs of one identity (a new run after each switch)."""
    runs: list[list[np.ndarray]] = []
    prev = None
    for _, e in track.embeddings:
        if prev is None or metric.distance(prev, e) >= metric.threshold:
            runs.append([])
        runs[-1].append(e)
        prev = e
    return runs


def centroid(embeddings: Sequence[np.ndarray]) -> np.ndarray:
    return np.mean(np.stack([np.asarray(e, float) for e in embeddings]), axis=0)


def cluster_identities(embeddings: Sequence[np.ndarray], metric: IdentityMetric) -> list[int]:
    """Average-linkage clustering cut at the same-person threshold; returns a label per embedding."""
    n = len(embeddings)
    if n == 0:
        return []
    if n == 1:
        return [0]
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    x = np.stack([np.asarray(e, float) for e in embeddings])
    dists = pdist(x, metric="euclidean" if metric.name == "euclidean" else "cosine")
    labels = fcluster(linkage(dists, method="average"), t=metric.threshold, criterion="distance")
    # relabel 0..k-1 in order of first appearance so results are stable
    order: dict[int, int] = {}
    return [order.setdefault(int(lab), len(order)) for lab in labels]


def consistency(embeddings: Sequence[np.ndarray]) -> tuple[float, float] | None:
    """Mean and minimum cosine similarity of embeddings to their centroid (None under two embeddings)."""
    if len(embeddings) < 2:
        return None
    c = centroid(embeddings)
    sims = [cosine(e, c) for e in embeddings]
    return float(np.mean(sims)), float(np.min(sims))


# ---- expression series from a 478-point mesh -------------------------------------------------------

def _dist(p: np.ndarray, i: int, j: int) -> float:
    return float(np.linalg.norm(p[i, :2] - p[j, :2]))


def expression_measures(points: np.ndarray) -> dict[str, float]:
    """Mouth opening, eye openness and brow raise from one face's mesh points (pixel x, y).

    Mouth and brow are normalised by face height (forehead 10 to chin 152); eye openness is the
    lid gap over the eye width (an eye aspect ratio), averaged over both eyes.
    """
    face_h = max(_dist(points, MESH_FOREHEAD, MESH_CHIN), 1e-6)
    eyes = []
    for top, bottom, outer, inner in (MESH_LEFT_EYE, MESH_RIGHT_EYE):
        eyes.append(_dist(points, top, bottom) / max(_dist(points, outer, inner), 1e-6))
    brow = (_dist(points, MESH_LEFT_BROW, MESH_LEFT_EYE[0]) + _dist(points, MESH_RIGHT_BROW, MESH_RIGHT_EYE[0])) / 2
    return {
        "mouth_open": _dist(points, MESH_UPPER_LIP, MESH_LOWER_LIP) / face_h,
        "eye_open": float(np.mean(eyes)),
        "brow_raise": brow / face_h,
    }


def series_summary(times: Sequence[float], values: Sequence[float], jump_sigma: float = 6.0,
                   jump_share: float = 0.75) -> dict:
    """Variability and abrupt jumps of one series.

    A jump is a frame-to-frame change larger than `jump_sigma` robust standard deviations of all
    changes (1.4826·MAD) and larger than `jump_share` of the series' robust range (p95 - p5): pops
    and twitches rather than ordinary articulation (on real talking heads the largest mouth change per
    frame was 0.6-0.75 of that range). Blinks can count as eye-openness jumps.
    """
    t = np.asarray(times, float)
    v = np.asarray(values, float)
    out: dict = {"times": [round(float(x), 3) for x in t], "values": [round(float(x), 5) for x in v]}
    if len(v) == 0:
        return out | {"mean": None, "std": None, "range": None, "jumps": 0, "jump_times": [], "max_jump": None}
    out |= {"mean": float(np.mean(v)), "std": float(np.std(v)), "range": float(np.ptp(v))}
    if len(v) < 3:
        return out | {"jumps": 0, "jump_times": [], "max_jump": None}
    d = np.diff(v)
    mad = 1.4826 * float(np.median(np.abs(d - np.median(d))))
    robust_range = float(np.percentile(v, 95) - np.percentile(v, 5))
    limit = max(jump_sigma * max(mad, 1e-6), jump_share * robust_range)
    idx = np.flatnonzero(np.abs(d) > limit)
    return out | {
        "jumps": int(len(idx)),
        "jump_times": [round(float((t[i] + t[i + 1]) / 2), 3) for i in idx],
        "max_jump": float(np.max(np.abs(d))),
    }
