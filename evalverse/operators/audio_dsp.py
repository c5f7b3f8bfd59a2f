"""Classical audio analysis on mono float signals (pure functions, numpy + scipy): BS.1770 loudness, peaks,
silences and dropouts, onset envelope and onsets, tempo and beats, speech/music/ambience heuristics,
cut-to-beat alignment.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ABSOLUTE_GATE_LUFS = -70.0


# ---------------------------------------------------------------- loudness (ITU-R BS.1770-4)

def k_weighting_sos(rate: int) -> np.ndarray:
    """The two K-weighting biquads (high shelf, then RLB high-pass) for any sample rate, from the analog
    prototype parameters behind BS.1770's 48 kHz coefficients (bilinear transform with pre-warping)."""
    # stage 1: high shelf (+4 dB above ~1.7 kHz: the head's acoustic effect)
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain_db / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
             1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    # stage 2: RLB high-pass at ~38 Hz
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    hp = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, hp])


def block_powers(x: np.ndarray, rate: int, block_s: float, step_s: float) -> np.ndarray:
    """Mean square of K-weighted x in blocks of block_s seconds every step_s seconds."""
    n, hop = int(round(block_s * rate)), int(round(step_s * rate))
    if len(x) < n:
        return np.array([float(np.mean(x ** 2))]) if len(x) else np.zeros(0)
    c = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    starts = np.arange(0, len(x) - n + 1, hop)
    return (c[starts + n] - c[starts]) / n


def to_lufs(power: np.ndarray | float) -> np.ndarray | float:
    return -0.691 + 10 * np.log10(np.maximum(power, 1e-20))


def integrated_loudness(x: np.ndarray, rate: int) -> dict[str, float | None]:
    """Gated integrated loudness (LUFS), loudness range (LU) and the K-weighted block series."""
    from scipy.signal import sosfilt

    y = sosfilt(k_weighting_sos(rate), x.astype(np.float64))
    z = block_powers(y, rate, 0.4, 0.1)  # momentary blocks: 400 ms, 75 % overlap
    lufs = None
    if len(z):
        gated = z[to_lufs(z) > ABSOLUTE_GATE_LUFS]
        if len(gated):
            relative = to_lufs(gated.mean()) - 10.0
            final = gated[to_lufs(gated) > relative]
            lufs = float(to_lufs(final.mean())) if len(final) else None
    # loudness range (EBU Tech 3342): short-term 3 s blocks, gates -70 LUFS absolute and -20 LU relative, p10..p95
    st = block_powers(y, rate, 3.0, 0.1) if len(y) >= 3 * rate else np.zeros(0)
    lra = None
    if len(st):
        g = st[to_lufs(st) > ABSOLUTE_GATE_LUFS]
        if len(g):
            g = g[to_lufs(g) > to_lufs(g.mean()) - 20.0]
            if len(g):
                lo, hi = np.percentile(to_lufs(g), [10, 95])
                lra = float(hi - lo)
    return {"lufs": lufs, "lra": lra, "momentary": to_lufs(z) if len(z) else np.zeros(0)}


def peaks(x: np.ndarray, clip_level: float = 0.995, min_run: int = 3) -> dict[str, float]:
    """Sample peak (dBFS), 4× oversampled 'true-ish' peak (dBTP), and clipping: the share of samples in flat
    tops (runs of >= min_run consecutive samples at the clip level; a sine merely touching full scale is not
    clipped), the number of such runs, and the raw share of samples at the clip level."""
    from scipy.signal import resample_poly

    a = np.abs(x)
    peak = float(a.max()) if len(a) else 0.0
    over = np.abs(resample_poly(x.astype(np.float64), 4, 1)) if len(x) > 16 else a
    at_level = a >= clip_level
    spans = runs(at_level)
    flat = [(s, e) for s, e in spans if e - s >= min_run]
    return {
        "sample_peak_dbfs": 20 * math.log10(max(peak, 1e-10)),
        "true_peak_dbtp": 20 * math.log10(max(float(over.max()) if len(over) else 0.0, 1e-10)),
        "clipped_share": float(sum(e - s for s, e in flat) / len(a)) if len(a) else 0.0,
        "clipped_runs": len(flat),
        "full_scale_share": float(at_level.mean()) if len(a) else 0.0,
    }


# ---------------------------------------------------------------- levels, silences, dropouts

@dataclass
class Levels:
    db: np.ndarray  # RMS level per frame, dBFS (sine at full scale = -3 dBFS)
    starts: np.ndarray  # frame start times, s
    win_s: float
    hop_s: float


def frame_levels(x: np.ndarray, rate: int, win_s: float = 0.02, hop_s: float = 0.01) -> Levels:
    n, hop = int(round(win_s * rate)), int(round(hop_s * rate))
    if len(x) < n:
        x = np.pad(x, (0, n - len(x)))
    c = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    starts = np.arange(0, len(x) - n + 1, hop)
    ms = (c[starts + n] - c[starts]) / n
    return Levels(10 * np.log10(np.maximum(ms, 1e-12)), starts / rate, n / rate, hop / rate)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open [a, b) index runs where mask is True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def silences(levels: Levels, threshold_db: float = -50.0, min_s: float = 0.1, min_dropout_s: float = 0.05,
             abrupt_db: float = 20.0) -> dict:
    """Silent segments (level below threshold for >= min_s) and dropouts: silent gaps of >= min_dropout_s
    inside active audio whose level falls by >= abrupt_db from one frame to the next at the gap's start
    (a signal cut off, not a sound fading out)."""
    silent = levels.db < threshold_db
    segs, drops = [], []
    n = len(silent)
    for a, b in runs(silent):
        start, end = float(levels.starts[a]), float(levels.starts[b - 1] + levels.win_s)
        dur = end - start
        inner = a > 0 and b < n
        if dur >= min_s:
            segs.append({"start": start, "end": end})
        if inner and dur >= min_dropout_s and levels.db[a - 1] - max(levels.db[a], threshold_db) >= abrupt_db:
            drops.append({"start": start, "end": end, "duration": dur, "level_before_db": float(levels.db[a - 1])})
    total = levels.starts[-1] + levels.win_s if n else 0.0
    return {"silence_share": float(sum(s["end"] - s["start"] for s in segs) / total) if total else 0.0,
            "silences": segs, "dropouts": drops}


# ---------------------------------------------------------------- spectra, onsets, tempo, beats

def stft_mag(x: np.ndarray, n_fft: int, hop: int, chunk_frames: int = 4096) -> np.ndarray:
    """|STFT| (frames, bins) float32 with a Hann window; frame i starts at sample i·hop (no padding)."""
    if len(x) < n_fft:
        x = np.pad(x, (0, n_fft - len(x)))
    win = np.hanning(n_fft).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x.astype(np.float32), n_fft)[::hop]
    out = np.empty((len(frames), n_fft // 2 + 1), dtype=np.float32)
    for i in range(0, len(frames), chunk_frames):
        out[i:i + chunk_frames] = np.abs(np.fft.rfft(frames[i:i + chunk_frames] * win, axis=1))
    return out


def onset_envelope(x: np.ndarray, rate: int, hop_s: float = 0.005, n_fft: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Spectral flux (log-compressed magnitude, half-wave rectified, summed over bins) and the time of each
    value: the midpoint between the two frames' centres, where a step onset makes the flux peak.

    Flux counts only where the frame energy rises: the splatter of a sound stopping abruptly adds energy to
    quiet bins but is no onset. A 16 ms window keeps the timing bias of the log compression under ~5 ms."""
    hop = int(round(hop_s * rate))
    mag = stft_mag(x, n_fft, hop)
    logm = np.log1p(100.0 * mag)
    energy = (mag.astype(np.float64) ** 2).sum(axis=1)
    rising = np.diff(energy) > 0
    flux = np.maximum(np.diff(logm, axis=0), 0).sum(axis=1) * rising
    centres = (np.arange(len(mag)) * hop + n_fft / 2) / rate
    return flux, (centres[:-1] + centres[1:]) / 2


def pick_onsets(env: np.ndarray, times: np.ndarray, min_gap_s: float = 0.05, rel: float = 0.3) -> np.ndarray:
    """Onset times: flux peaks above median + rel·(p99.5 − median) and at least min_gap_s apart."""
    from scipy.signal import find_peaks

    if len(env) < 3 or env.max() <= 0:
        return np.zeros(0)
    med, top = np.median(env), np.percentile(env, 99.5)
    if top - med <= 1e-9:
        return np.zeros(0)
    dt = times[1] - times[0] if len(times) > 1 else 0.01
    idx, _ = find_peaks(env, height=med + rel * (top - med), distance=max(1, int(round(min_gap_s / dt))))
    return times[idx]


def estimate_tempo(env: np.ndarray, dt: float, min_bpm: float = 40.0, max_bpm: float = 240.0,
                   prior_bpm: float = 120.0) -> tuple[float | None, float]:
    """Tempo from the autocorrelation of the onset envelope, weighted by a log-normal prior (one octave wide)
    around prior_bpm to choose among metrical levels; returns (bpm, confidence 0–1)."""
    e = env - env.mean()
    if len(e) < 4 or not np.any(e):
        return None, 0.0
    nfft = 1 << int(np.ceil(np.log2(2 * len(e))))
    ac = np.fft.irfft(np.abs(np.fft.rfft(e, nfft)) ** 2)[: len(e)]
    ac /= max(ac[0], 1e-12)
    lo, hi = int(np.floor(60.0 / max_bpm / dt)), int(np.ceil(60.0 / min_bpm / dt))
    hi = min(hi, len(ac) - 2)
    if hi <= lo + 2:
        return None, 0.0
    lags = np.arange(max(lo, 1), hi + 1)
    bpm = 60.0 / (lags * dt)
    weighted = ac[lags] * np.exp(-0.5 * np.log2(bpm / prior_bpm) ** 2)
    k = int(lags[np.argmax(weighted)])
    # parabolic interpolation of the raw autocorrelation peak
    y0, y1, y2 = ac[k - 1], ac[k], ac[k + 1]
    denom = y0 - 2 * y1 + y2
    shift = 0.5 * (y0 - y2) / denom if abs(denom) > 1e-12 else 0.0
    lag = k + float(np.clip(shift, -0.5, 0.5))
    return 60.0 / (lag * dt), float(max(ac[k], 0.0))


def track_beats(env: np.ndarray, times: np.ndarray, bpm: float, tightness: float = 100.0) -> np.ndarray:
    """Beat times by dynamic programming (Ellis 2007): maximise onset strength at beats while keeping
    inter-beat intervals near the tempo period."""
    if len(env) < 3 or bpm is None:
        return np.zeros(0)
    dt = times[1] - times[0]
    period = 60.0 / bpm / dt
    o = env / (env.std() + 1e-12)
    n = len(o)
    score = o.copy()
    back = np.full(n, -1)
    lo, hi = int(round(period / 2)), int(round(2 * period))
    for t in range(lo, n):
        a, b = max(0, t - hi), t - lo + 1
        prev = np.arange(a, b)
        if len(prev) == 0:
            continue
        cand = score[prev] - tightness * np.log((t - prev) / period) ** 2
        j = int(np.argmax(cand))
        if cand[j] > 0:
            score[t] += cand[j]
            back[t] = prev[j]
    # end on the best-scoring frame within the last period
    tail = np.arange(max(0, n - int(round(period))), n)
    t = int(tail[np.argmax(score[tail])])
    beats = []
    while t >= 0:
        beats.append(t)
        t = int(back[t])
    beats = np.array(beats[::-1])
    # drop weak beats at the edges (silence before the first and after the last event)
    strong = o[beats] > 0.1 * np.median(o[beats]) if len(beats) else np.zeros(0, bool)
    if strong.any():
        first, last = np.flatnonzero(strong)[[0, -1]]
        beats = beats[first:last + 1]
    return times[beats]


def cut_beat_alignment(cuts: list[float], beats: np.ndarray, duration: float, tolerance_s: float = 0.08) -> dict:
    """For each cut, the distance to the nearest beat; the share within tolerance against the chance share
    (the fraction of the timeline lying within tolerance of some beat)."""
    beats = np.sort(np.asarray(beats, dtype=np.float64))
    if not cuts:
        return {"n_cuts": 0, "reason": "a single shot has no cuts"}
    if len(beats) == 0:
        return {"n_cuts": len(cuts), "reason": "no beats found"}
    c = np.asarray(cuts, dtype=np.float64)
    idx = np.clip(np.searchsorted(beats, c), 1, len(beats)) if len(beats) > 1 else np.zeros(len(c), int)
    near = np.minimum(np.abs(c - beats[np.maximum(idx - 1, 0)]), np.abs(c - beats[np.minimum(idx, len(beats) - 1)]))
    share = float((near <= tolerance_s).mean())
    # chance: measure of the union of ±tolerance windows around beats, clipped to [0, duration]
    lo, hi = np.clip(beats - tolerance_s, 0, duration), np.clip(beats + tolerance_s, 0, duration)
    covered, cur_lo, cur_hi = 0.0, lo[0], hi[0]
    for a, b in zip(lo[1:], hi[1:]):
        if a > cur_hi:
            covered += cur_hi - cur_lo
            cur_lo, cur_hi = a, b
        else:
            cur_hi = max(cur_hi, b)
    covered += cur_hi - cur_lo
    chance = float(min(1.0, covered / max(duration, 1e-9)))
    return {
        "n_cuts": len(cuts),
        "cut_beat_distance_ms": [float(d * 1000) for d in near],
        "aligned_share": share,
        "chance_share": chance,
        "lift": share / chance if chance > 0 else None,
        # 0 = as chance, 1 = every cut on a beat (negative: cuts avoid beats)
        "alignment_score": (share - chance) / (1 - chance) if chance < 1 else None,
        "tolerance_ms": tolerance_s * 1000,
    }


# ---------------------------------------------------------------- speech / music / ambience heuristics

PITCH_CLASS_MIN_HZ, PITCH_CLASS_MAX_HZ = 100.0, 4000.0


def content_features(x: np.ndarray, rate: int, window_s: float = 2.0, hop_s: float = 1.0) -> dict[str, np.ndarray]:
    """Per analysis window: level (dBFS), 4 Hz modulation share, low-energy frame share, spectral flatness,
    chroma stability. Frames: 64 ms Hann every 10 ms."""
    n_fft, hop = 1024, int(round(0.01 * rate))
    mag = stft_mag(x, n_fft, hop)
    power = mag.astype(np.float64) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1 / rate)
    band = (freqs >= 100) & (freqs <= 6000)
    p = power[:, band] + 1e-12
    flat = np.exp(np.mean(np.log(p), axis=1)) / np.mean(p, axis=1)
    energy = p.sum(axis=1)
    # chroma: band power folded onto 12 pitch classes
    pcb = (freqs >= PITCH_CLASS_MIN_HZ) & (freqs <= PITCH_CLASS_MAX_HZ)
    pc = np.round(12 * np.log2(freqs[pcb] / 440.0)).astype(int) % 12
    chroma = np.zeros((len(power), 12))
    for k in range(12):
        chroma[:, k] = power[:, pcb][:, pc == k].sum(axis=1)
    chroma /= np.linalg.norm(chroma, axis=1, keepdims=True) + 1e-12
    per_frame_s = hop / rate
    w, step = int(round(window_s / per_frame_s)), int(round(hop_s / per_frame_s))
    lag = 10  # chroma compared 100 ms apart
    starts = np.arange(0, max(len(power) - w, 0) + 1, step)
    feats = {k: np.zeros(len(starts)) for k in ("start", "level_db", "mod4", "low_energy", "flatness", "chroma_stability",
                                                "chroma_peak")}
    for i, s in enumerate(starts):
        e = energy[s:s + w]
        seg_x = x[int(s * hop):int(s * hop) + int(window_s * rate)]
        feats["start"][i] = s * per_frame_s
        feats["level_db"][i] = 10 * np.log10(max(float(np.mean(seg_x.astype(np.float64) ** 2)), 1e-12))
        env = np.log(e + 1e-9)
        env = env - env.mean()
        spec = np.abs(np.fft.rfft(env * np.hanning(len(env)))) ** 2
        mf = np.fft.rfftfreq(len(env), per_frame_s)
        total = spec[(mf >= 0.5) & (mf <= 20)].sum()
        feats["mod4"][i] = spec[(mf >= 2.5) & (mf <= 7)].sum() / total if total > 0 else 0.0
        feats["low_energy"][i] = float(np.mean(e < 0.5 * e.mean()))
        feats["flatness"][i] = float(np.median(flat[s:s + w]))
        c = chroma[s:s + w]
        loud = e[lag:] > 0.05 * e.max() if len(e) > lag else np.zeros(0, bool)
        sims = np.sum(c[lag:] * c[:-lag], axis=1)[loud] if len(c) > lag else np.zeros(0)
        feats["chroma_stability"][i] = float(np.mean(sims)) if len(sims) else 0.0
        # pitch-class concentration of the window's summed chroma: 1/12 for noise, high for a few notes
        tot = (c * e[:, None]).sum(axis=0)
        feats["chroma_peak"][i] = float(tot.max() / tot.sum()) if tot.sum() > 0 else 0.0
    return feats


def classify_windows(f: dict[str, np.ndarray], silence_db: float = -50.0) -> list[str]:
    """Heuristic label per window (not a trained classifier; thresholds set on espeak speech, tones, noise and
    the shared clips): silence by level; speech when many frames are low-energy (syllables and pauses) and the
    pitch classes keep changing; music when pitch classes persist and concentrate on a few notes; ambience
    otherwise (noise, engines, room tone: stationary but not tonal)."""
    labels = []
    for lvl, mod4, low, flat, stab, peak in zip(f["level_db"], f["mod4"], f["low_energy"], f["flatness"],
                                                f["chroma_stability"], f["chroma_peak"]):
        if lvl < silence_db:
            labels.append("silence")
        elif flat < 0.3 and stab < 0.72 and (low >= 0.3 or (mod4 >= 0.4 and low >= 0.2)):
            labels.append("speech")
        elif flat < 0.3 and stab >= 0.6 and peak >= 0.18:
            labels.append("music")
        else:
            labels.append("ambience")
    return labels
