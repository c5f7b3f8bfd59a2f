# Two commands do all set-up on a fresh Debian machine with Python 3.11:
#   make run    - install (once) and start the app on http://127.0.0.1:7860
#   make test   - install (once) and run the whole test suite (what CI runs)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_DISABLE_TELEMETRY := 1
export HF_HUB_OFFLINE := 1
export YOLO_OFFLINE := 1
export PYTHONUNBUFFERED := 1

.PHONY: run test test-fast install bench clean

$(STAMP): pyproject.toml requirements/constraints.txt requirements/no-deps.txt scripts/bootstrap.sh
	bash scripts/bootstrap.sh

install: $(STAMP)

run: $(STAMP)
	$(PY) app.py

# Everything, slow and browser tests included (CI runs this). Artifacts (screenshots) go to test-artifacts/.
test: $(STAMP)
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

# Quick loop for development: skips tests marked slow or browser.
test-fast: $(STAMP)
	$(PY) -m pytest -p no:cacheprovider -m "not slow and not browser" $(PYTEST_ARGS)

# The evidence benchmark (benchmarks/README.md); BENCH_ARGS=--quick for talk10 only. Prints the tables and
# saves the full report (with the load average and commit) to BENCH_OUT.
BENCH_OUT ?= benchmarks/results/latest.json
bench: $(STAMP)
	$(PY) benchmarks/bench_evidence.py --out $(BENCH_OUT) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) test-artifacts
