"""Acceptance: on the shared AI clips, visibly degraded ones (8 fps judder, 256 px) score lower on
visual quality with the offline evidence judge than clean 24–25 fps clips."""
from __future__ import annotations

import pytest

from evalverse.pipeline import diagnose

DEGRADED = ["ai_cogvideox_car_tracking.mp4", "ai_cogvideox_kitten.mp4", "ai_videoscore_example_people_walking.mp4",
            "ai_sadtalker_talking_speech_japanese.mp4"]
CLEAN = ["ai_hunyuan_man_eating_noodles.mp4", "ai_hunyuan_woman_reading_bluelight.mp4",
         "ai_sadtalker_talking_speech_english.mp4"]


@pytest.mark.slow
def test_degraded_ai_clips_score_lower_on_visual_quality(shared_media, settings):
    scores = {}
    for name in DEGRADED + CLEAN:
        report = diagnose(shared_media / name, settings, dimensions=["visual_quality"])
        (result,) = [r for r in report["results"] if r["dimension"] == "visual_quality"]
        assert result["status"] == "scored", (name, result)
        scores[name] = result["score"]
    assert max(scores[n] for n in DEGRADED) < min(scores[n] for n in CLEAN), scores
