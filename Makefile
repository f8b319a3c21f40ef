# make demo : create .venv, install, reconstruct the example photo into out/camera
# make test : the same set-up, then the test suite
# make bench: stage seconds and memory, a 12-megapixel photo vs 640 px, body fit, detectors, object fitting (60 synthetic scenes), contacts, gravity and the floor (30 scenes), interaction modes (98 scenes of the 49 written recipes, then every one of the 87 categories once), the chair's makes (16 scenes)
# make clients: Blender + the Khronos glTF validator for tests/test_clients.py (where it can install them)
# make eval-photos: the real photos of ../shared/eval/photos (boxes only, then the true object masks) into BENCHMARKS.md
# make wheel-check: build the wheel, pip install it into a new venv (no make), run doctor and the example from it
# make batch-demo: 31 photos through `hoirecon batch` with --jobs 1 and 2 (images/minute, memory per worker)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.hoirecon-installed

.PHONY: setup demo test bench clean clients batch-demo eval-photos wheel-check

setup: $(STAMP)
	@bash scripts/system-deps.sh

# Re-installs only when the package definition or the pins change (a no-op re-run takes seconds).
$(STAMP): pyproject.toml constraints.txt
	@bash scripts/system-deps.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test,detect,ray,usd]'
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/hoirecon reconstruct examples/camera.png --out out/camera
	@echo "wrote out/camera: scene.glb scene.obj human.obj object.obj params.json overlay.png config.json human_contacts.png object_contacts.png"

test: setup clients
	$(PY) -m pytest -q

clients:
	@bash scripts/install-clients.sh

wheel-check:
	@bash scripts/system-deps.sh
	PYTHON=$(PYTHON) bash scripts/wheel_check.sh

batch-demo: setup
	$(PY) scripts/batch_demo.py

bench: setup
	$(PY) benchmarks/stages.py --runs 3
	$(PY) benchmarks/large_photo.py --runs 3 --write BENCHMARKS.md
	$(PY) benchmarks/body_fit.py --runs 3
	$(PY) benchmarks/detectors.py --runs 3
	$(PY) benchmarks/hoi_bench.py --scenes 60 --write BENCHMARKS.md
	$(PY) benchmarks/contact_bench.py --scenes 20 --write BENCHMARKS.md
	$(PY) benchmarks/gravity_bench.py --per-case 3 --write BENCHMARKS.md
	$(PY) benchmarks/mode_bench.py --per-recipe 2 --write BENCHMARKS.md
	$(PY) benchmarks/mode_bench.py --sample --write BENCHMARKS.md
	$(PY) benchmarks/make_bench.py --per-recipe 1 --write BENCHMARKS.md

eval-photos: setup
	$(PY) benchmarks/photos.py --write BENCHMARKS.md
	$(PY) benchmarks/photos.py --masks --write BENCHMARKS.md

clean:
	rm -rf out .pytest_cache
