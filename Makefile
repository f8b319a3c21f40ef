# make demo : create .venv, install, reconstruct the example photo into out/camera
# make test : the same set-up, then the test suite
# make bench: per-stage seconds and peak memory on the examples (median of 3 runs)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.hoirecon-installed

.PHONY: setup demo test bench clean

setup: $(STAMP)
	@bash scripts/system-deps.sh

# Re-installs only when the package definition or the pins change (a no-op re-run takes seconds).
$(STAMP): pyproject.toml constraints.txt
	@bash scripts/system-deps.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test,detect]'
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/hoirecon reconstruct examples/camera.png --out out/camera
	@echo "wrote out/camera: scene.glb scene.obj human.obj object.obj params.json overlay.png config.json"

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) benchmarks/stages.py --runs 3
	$(PY) benchmarks/body_fit.py --runs 3
	$(PY) benchmarks/detectors.py --runs 3
	$(PY) benchmarks/hoi_bench.py --scenes 60 --write BENCHMARKS.md

clean:
	rm -rf out .pytest_cache
