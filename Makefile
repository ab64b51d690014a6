# One task runner. `make run` and `make test` work on a fresh machine (registries only).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: install run ingest test check lint format bench eval calibrate gaps clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned: the CPU build on the machine's disk (never an unpinned torch).
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

ingest: $(STAMP)
	$(PY) -m ingest

run: ingest
	$(PY) app.py

# The whole suite: what the README says and CI (.ci/run) runs.
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The inner loop: lint, then the tests not marked slow (no servers, browsers, app processes,
# crash or timeout tests). Target under 90 s on an idle machine (docs/benchmarks.md).
check: lint
	SUPPLE_TEST_REUSE_INDEX=1 $(PY) -m pytest -m "not slow" -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# make bench BENCH_ARGS="--quick --json bench.json" (--quick: under 3 min, what CI can afford)
bench: $(STAMP)
	$(PY) -m eval bench $(BENCH_ARGS)

# The eval sets CI runs, each with its pass-rate bar (docs/eval.md has the figures):
# the single-article core set on corpus/ (bar 0.90), and the fixture blog's dev set on
# tests/fixtures/blog (15 articles; the set's `corpus:` key) and blog3-dev on
# tests/fixtures/blog3. The held-out sets are reported, never a bar. Blog dev: 0.796 on 2026-12-01 evening (157 cases), blog3-dev 0.778
# (90 cases, a second blog of another writer's), bar 0.72 for both.
EVAL_FAIL_UNDER ?= 0.90
EVAL_BLOG_FAIL_UNDER ?= 0.72
eval: $(STAMP)
	$(PY) -m eval run eval/sets/core.yaml --compare --fail-under $(EVAL_FAIL_UNDER) \
		--json data/eval/core.json --html data/eval/core.html
	$(PY) -m eval run eval/sets/blog-dev.yaml --compare --fail-under $(EVAL_BLOG_FAIL_UNDER) \
		--json data/eval/blog-dev.json --html data/eval/blog-dev.html
	$(PY) -m eval run eval/sets/blog3-dev.yaml --compare --fail-under $(EVAL_BLOG_FAIL_UNDER) \
		--json data/eval/blog3-dev.json --html data/eval/blog3-dev.html

# Refit the not-covered decision and the fusion weight from the labelled sets (writes
# data/calibration.json beside the index; CALIBRATE_OUT=assistant/calibration.json refreshes
# the fit shipped with the package).
# The held-out sets not yet spent (any new one) never go in here. The fit is also scored
# leave one blog out, over the nine blogs these sets are written for.
CALIBRATE_SETS ?= eval/sets/blog-dev.yaml eval/sets/blog-heldout.yaml eval/sets/blog3-dev.yaml \
	eval/sets/core.yaml eval/sets/heldout.yaml eval/sets/heldout2.yaml \
	eval/sets/blog-heldout2.yaml eval/sets/blog2-heldout.yaml eval/sets/blog4-heldout.yaml \
	eval/sets/blog5-heldout.yaml eval/sets/blog6-heldout.yaml eval/sets/blog7-heldout.yaml \
	eval/sets/blog8-heldout.yaml
calibrate: $(STAMP)
	$(PY) -m eval calibrate $(CALIBRATE_SETS) $(if $(CALIBRATE_OUT),--out $(CALIBRATE_OUT))

gaps: $(STAMP)
	$(PY) -m eval gaps --html data/eval/gaps.html

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
