"""Bookkeeping of what the decoder could not render, so damage is reported instead of silently skipped.

Three things are counted while a file is decoded:
- undecodable frames: video packets (frames in the stream) minus the pictures that came out, after flushing;
- corrupt frames: pictures FFmpeg flags corrupt (errors concealed, e.g. grey or smeared blocks);
- decoder errors: packets the decoder rejected with an error (video and audio counted apart).

Where: each packet's timestamp is kept; the timestamps of packets that never came out as a picture, plus
those of corrupt pictures, are merged into `DamagedSpan`s on the decoded time axis. When the stream's
timestamps do not line up (raw streams without timestamps), damage is placed where the errors were.
"""
from __future__ import annotations

import av

from evalverse.media.types import DamagedSpan

MERGE_GAP_FRAMES = 1.5  # damaged frames closer than this many frame intervals belong to one span


class DamageLog:
    def __init__(self, step: float):
        self.step = step  # one frame interval, s
        self.packets = 0
        self.packet_times: dict[int, float] = {}  # pts -> time (s) of every video packet with a timestamp
        self.frame_pts: set[int] = set()
        self.decoded = 0
        self.corrupt_times: list[float] = []
        self.error_times: list[float] = []
        self.errors = 0
        self.audio_errors = 0

    def packet(self, packet: av.Packet) -> bool:
        """Count a video packet; False for packets that are no frame (flush, discard, empty)."""
        if not packet.size or packet.is_discard:
            return False
        if packet.pts is not None and packet.time_base:
            self.packet_times[packet.pts] = float(packet.pts * packet.time_base)
        self.packets += 1
        return True

    def error(self, packet: av.Packet) -> None:
        if packet.stream.type == "audio":
            self.audio_errors += 1
            return
        self.errors += 1
        if packet.pts is not None and packet.time_base:
            self.error_times.append(float(packet.pts * packet.time_base))
        else:
            self.error_times.append(max(self.packets - 1, 0) * self.step)

    def frame(self, frame: av.VideoFrame, t_abs: float) -> None:
        self.decoded += 1
        if frame.pts is not None:
            self.frame_pts.add(frame.pts)
        if frame.is_corrupt:
            self.corrupt_times.append(t_abs)

    @property
    def undecodable(self) -> int:
        return max(self.packets - self.decoded, 0)

    def spans(self, origin: float) -> list[DamagedSpan]:
        """Damaged stretches on the axis whose t = 0 is `origin` (the first decoded frame)."""
        missing: list[float] = []
        if self.undecodable:
            missing = [t for pts, t in self.packet_times.items() if pts not in self.frame_pts]
            if not missing or len(missing) > 2 * self.undecodable + 2:  # timestamps do not line up
                missing = list(self.error_times)
        marks = sorted([(t, "undecodable") for t in missing] + [(t, "corrupt") for t in self.corrupt_times])
        spans: list[DamagedSpan] = []
        for t, kind in marks:
            t = max(t - origin, 0.0)
            if spans and t <= spans[-1].end - self.step + MERGE_GAP_FRAMES * self.step:
                span = spans[-1]
                span.end = max(span.end, t + self.step)
            else:
                span = DamagedSpan(start=round(t, 4), end=t + self.step)
                spans.append(span)
            setattr(span, kind, getattr(span, kind) + 1)
        for span in spans:
            span.end = round(span.end, 4)
        return spans

    def facts(self, origin: float) -> dict:
        """The decode fields of `VideoMeta`."""
        return {
            "n_frames": self.packets, "decoded_frames": self.decoded, "undecodable_frames": self.undecodable,
            "corrupt_frames": len(self.corrupt_times), "decode_errors": self.errors,
            "audio_decode_errors": self.audio_errors, "damaged_spans": self.spans(origin),
        }
