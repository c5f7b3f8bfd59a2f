"""File name suffixes EvalVerse treats as video (anything FFmpeg decodes; animated GIF included)."""

VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv", ".avi", ".mpg", ".mpeg", ".m4v", ".gif")
