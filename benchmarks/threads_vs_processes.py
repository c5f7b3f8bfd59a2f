"""Threads or processes for running operators side by side? The same work split both ways, measured.

    .venv/bin/python benchmarks/threads_vs_processes.py [--clip talk10.mp4] [--reps 3]

The clip is decoded once and `shots` run in this process; then the other operators, split into two groups of
about equal CPU seconds, run side by side:
- threads: both groups in this process, one thread each (what evalverse.operators.scheduler does);
- processes: group A in this process, group B in a worker process kept warm between clips (spawned once,
  its models loaded by a first clip, as a process pool would), the frames handed over in shared memory
  (one copy), the evidence records sent back pickled.
Both are warmed up first (models loaded on both sides), then measured alternately `--reps` times. Reported:
median wall seconds, CPU seconds of this process and of the worker, the one-off cost of starting a warm worker
(spawn, imports, first clip) and the peak memory of each process. Wall times move with the machine's load:
compare the two modes within one run (they alternate) and read the CPU seconds.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context, shared_memory
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GROUP_A = ["faces", "camera", "colour", "features"]  # ~2.3 CPU s on talk10 (bench_evidence, one worker)
GROUP_B = ["speech", "people", "quality", "audio"]  # ~2.1 CPU s


def run_group(video, settings, names, evidence) -> dict:
    from evalverse.operators.runner import get_operator, run_one

    out = {}
    for name in names:
        cls = get_operator(name)
        out[name] = run_one(cls, video, settings, dict(cls.default_params), evidence)
    return out


def _worker(shm_name: str, shape, video_parts: dict, names: list[str], evidence: dict) -> dict:
    """In the worker process: map the frames, run the group, send back records and this process's CPU."""
    import numpy as np

    from evalverse.config import Settings
    from evalverse.media.types import DecodedVideo
    from evalverse.operators.base import EvidenceRecord

    cpu0 = time.process_time()
    shm = shared_memory.SharedMemory(name=shm_name)
    try:
        frames = np.ndarray(shape, dtype=np.uint8, buffer=shm.buf)
        video = DecodedVideo(frames=frames, **video_parts)
        ev = {k: EvidenceRecord.model_validate(v) for k, v in evidence.items()}
        records = run_group(video, Settings.from_env(), names, ev)
        del video, frames
    finally:
        shm.close()
    return {"records": {k: r.model_dump(mode="json") for k, r in records.items()}, "cpu_s": time.process_time() - cpu0,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", type=Path, help="the clip (default: bench_evidence's talk10, made in a temporary folder)")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    import tempfile

    from evalverse.config import Settings
    from evalverse.media import decode_video
    from evalverse.operators.runner import get_operator, run_one

    tmp = tempfile.TemporaryDirectory(prefix="evalverse-tvp-")
    if args.clip is None:
        sys.path.insert(0, str(REPO / "benchmarks"))
        from bench_evidence import make_clip

        args.clip = make_clip("talk10", Path(tmp.name))
    settings = Settings.from_env()
    video = decode_video(args.clip, settings)
    shots = run_one(get_operator("shots"), video, settings, dict(get_operator("shots").default_params), {})
    evidence = {"shots": shots}
    parts = {"meta": video.meta, "times": video.times, "stills": video.stills, "still_times": video.still_times,
             "audio": video.audio, "audio_rate": video.audio_rate, "path": video.path}

    def threads_once() -> dict:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = {}
        t = threading.Thread(target=lambda: result.update(run_group(video, settings, GROUP_B, evidence)))
        t.start()
        result.update(run_group(video, settings, GROUP_A, evidence))
        t.join()
        return {"wall_s": time.perf_counter() - wall0, "cpu_s": time.process_time() - cpu0, "worker_cpu_s": 0.0}

    def processes_once(pool) -> dict:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        shm = shared_memory.SharedMemory(create=True, size=video.frames.nbytes)
        try:
            np_frames = __import__("numpy").ndarray(video.frames.shape, dtype="uint8", buffer=shm.buf)
            np_frames[:] = video.frames  # the one copy the hand-over costs
            copy_s = time.perf_counter() - wall0
            fut = pool.submit(_worker, shm.name, video.frames.shape, parts, GROUP_B,
                              {k: r.model_dump(mode="json") for k, r in evidence.items()})
            run_group(video, settings, GROUP_A, evidence)
            got = fut.result()
            del np_frames
        finally:
            shm.close()
            shm.unlink()
        return {"wall_s": time.perf_counter() - wall0, "cpu_s": time.process_time() - cpu0,
                "worker_cpu_s": got["cpu_s"], "copy_s": copy_s, "worker_peak_rss_mb": got["peak_rss_mb"]}

    start = time.perf_counter()
    pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
    first = processes_once(pool)  # spawn + imports + model loads in the worker, models loaded here too
    warm_up_s = time.perf_counter() - start
    threads_once()  # the thread side warm as well
    runs: dict[str, list[dict]] = {"threads": [], "processes": []}
    for _ in range(max(1, args.reps)):
        runs["threads"].append(threads_once())
        runs["processes"].append(processes_once(pool))
    pool.shutdown()
    report = {"clip": Path(args.clip).name, "frames_mb": round(video.frames.nbytes / 2**20, 1),
              "groups": {"A (this process)": GROUP_A, "B (thread or worker)": GROUP_B},
              "first_process_run_s": round(first["wall_s"], 3), "warm_up_s": round(warm_up_s, 3),
              "parent_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    for mode, rs in runs.items():
        report[mode] = {k: round(statistics.median(r[k] for r in rs), 3) for k in rs[0]}
        report[mode]["walls"] = [round(r["wall_s"], 3) for r in rs]
    print(json.dumps(report, indent=2))
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
