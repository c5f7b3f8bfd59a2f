"""Audio checks that need code: whether music leaves room for speech. (Clipping, dropouts, loudness,
ambience and cut-to-beat alignment are data checks in checks.yaml.)"""
from __future__ import annotations

from typing import ClassVar

from evalverse.judge.checks.base import CheckView, CodeCheck, NotAnswerable, Params
from evalverse.registry import register


@register
class SpeechNotMasked(CodeCheck):
    """Music's share of the speech-plus-music time, against a maximum."""

    name: ClassVar[str] = "audio.speech_not_masked"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = "Music takes no more than its share of the time speech needs."
    reads: ClassVar[tuple[str, ...]] = ("audio.speech_share", "audio.music_share")
    param_names: ClassVar[tuple[str, ...]] = ("music_ratio_max",)

    @classmethod
    def answer(cls, view: CheckView, params: Params) -> tuple[bool, str]:
        speech, music = view.number("audio.speech_share"), view.number("audio.music_share")
        if speech <= 0:
            raise NotAnswerable("no speech in the track (audio.speech_share = 0)")
        t = float(params["music_ratio_max"])
        ratio = music / (speech + music)
        return ratio <= t, (f"music takes {100 * ratio:.0f}% of the speech+music time ({view.cite('audio.speech_share')}, "
                            f"{view.cite('audio.music_share')}) vs maximum {100 * t:.0f}%")
