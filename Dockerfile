# EvalVerse leaderboard app. Same install path as the README: `make install` runs scripts/bootstrap.sh,
# which apt-installs ffmpeg/chromium/espeak-ng/sox (as root, here at build time) and builds .venv.
#   docker build -t evalverse .
#   docker run --rm -p 7860:7860 -v evalverse-data:/data evalverse
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    HF_HUB_DISABLE_TELEMETRY=1 \
    HF_HUB_OFFLINE=1 \
    YOLO_OFFLINE=1 \
    YOLO_CONFIG_DIR=/data/.ultralytics \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    EVALVERSE_DATA=/data \
    EVALVERSE_DB=/data/evalverse.duckdb \
    EVALVERSE_MODELS=/data/models

# make is the only thing bootstrap.sh does not install itself.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends make \
 && rm -rf /var/lib/apt/lists/*

# Hugging Face Spaces runs containers as uid 1000; use the same id everywhere.
RUN useradd --create-home --uid 1000 evalverse \
 && mkdir -p /data /app \
 && chown evalverse:evalverse /data /app
WORKDIR /app

# Install layer first (only the files the install reads), so code edits do not reinstall everything.
COPY --chown=evalverse:evalverse pyproject.toml Makefile README.md ./
COPY --chown=evalverse:evalverse requirements/ requirements/
COPY --chown=evalverse:evalverse scripts/ scripts/
COPY --chown=evalverse:evalverse evalverse/__init__.py evalverse/__init__.py
# Root for the apt part of bootstrap.sh; then hand the tree to the app user.
# torch 2.13.0 must be the CPU build: a plain PyPI install would pull several GB of CUDA libraries.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV TORCH_INDEX_URL=${TORCH_INDEX_URL}
RUN make install \
 && rm -rf /var/lib/apt/lists/* /root/.cache \
 && chown -R evalverse:evalverse /app

COPY --chown=evalverse:evalverse . .
# The editable install points at /app/evalverse, so the full source tree is picked up as is.

USER evalverse
VOLUME ["/data"]
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD .venv/bin/python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:7860/', timeout=4); sys.exit(0)"
CMD [".venv/bin/python", "app.py"]
