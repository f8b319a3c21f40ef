#!/usr/bin/env bash
# `make wheel-check`: what a user does without make. Build the wheel, install it with plain `pip install`
# into a new virtual environment (no -e, no constraints file, outside the checkout), then run
# `hoirecon doctor` and a reconstruction of the example photo from that environment (with an empty
# hoirecon cache), and check the outputs. Takes a few minutes (pip resolves and installs torch and the rest into the new venv).
# WHEEL_CHECK_DIR=<folder> keeps the venv there (default: a temporary folder, removed at the end).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
work="${WHEEL_CHECK_DIR:-$(mktemp -d)}"
[ -n "${WHEEL_CHECK_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
echo "wheel-check: building the wheel" >&2
# Built from a copy of the checkout's files (tracked and untracked, not ignored): setuptools writes
# build/ and *.egg-info next to the sources, and the check must not leave files in the checkout.
rm -rf "$work/src" && mkdir -p "$work/src"
git -C "$repo" ls-files -co --exclude-standard -z | tar -C "$repo" --null -T - -cf - | tar -xf - -C "$work/src"
"$PYTHON" -m pip wheel -q --no-deps -w "$work/dist" "$work/src"
wheel=$(ls "$work"/dist/hoirecon-*.whl)
echo "wheel-check: pip install $(basename "$wheel") into a new venv ($work/venv)" >&2
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --upgrade pip
"$work/venv/bin/pip" install -q "$wheel"
cd "$work"  # not the checkout: the installed package must be the one that runs
export HOIRECON_HOME="$work/cache"  # a new user's empty cache: Anny's data is built from the wheel's install
"$work/venv/bin/python" - <<'PY'
import hoirecon, pathlib, sys
p = pathlib.Path(hoirecon.__file__).resolve()
assert "site-packages" in p.parts, f"hoirecon imported from {p}, not the installed wheel"
for rel in ("data/contacts.json", "data/viewer/viewer.js", "data/blender/import_scene.py", "data/schemas"):
    assert (p.parent / rel).exists(), f"the wheel lacks hoirecon/{rel}"
print(f"wheel-check: hoirecon {hoirecon.__version__} from {p.parent}", file=sys.stderr)
PY
"$work/venv/bin/hoirecon" doctor
"$work/venv/bin/hoirecon" reconstruct "$repo/examples/camera.png" --out "$work/out/camera" --quiet
"$work/venv/bin/hoirecon" view "$work/out/camera" --no-turntable
for f in scene.glb scene.obj params.json overlay.png index.html viewer.js scene.glb.js; do
  [ -s "$work/out/camera/$f" ] || { echo "wheel-check: $f missing" >&2; exit 1; }
done
"$work/venv/bin/python" -c "import json,sys; p=json.load(open(sys.argv[1])); assert p['object']['category']=='camera_tripod', p['object']" \
  "$work/out/camera/params.json"
echo "wheel-check: ok (the wheel installs with pip, doctor and a reconstruction run from it)" >&2
