#!/usr/bin/env bash
# Real clients for the export checks (tests/test_clients.py): Blender (headless import of the GLB and
# OBJ), Chromium (the interactive index.html) and the Khronos glTF validator (npm package
# gltf-validator, into .tools/node_modules). Installs only what is missing, and only where it can:
# Blender and Chromium through apt-get when run as root,
# the validator when npm is present. Otherwise it says what is missing and exits 0: the tests then
# skip with that reason (CI sets HOIRECON_REQUIRE_CLIENTS=1, which turns those skips into failures).
set -uo pipefail
cd "$(dirname "$0")/.."
GLTF_VALIDATOR_VERSION="2.0.0-dev.3.10"

if command -v blender >/dev/null 2>&1; then
  :
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing the Debian packages blender and python3-numpy (headless Blender for the client checks)" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y -qq --no-install-recommends blender python3-numpy >/dev/null 2>&1) \
    || (apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends blender python3-numpy >/dev/null) \
    || echo "warning: could not install blender; tests/test_clients.py will skip its Blender checks" >&2
else
  echo "note: blender is not installed (needs root for apt-get install blender); the Blender client checks will skip" >&2
fi
# Headless Chromium for the viewer page test (index.html from file://, WebGL through SwiftShader).
if command -v chromium >/dev/null 2>&1; then
  :
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing the Debian package chromium (headless browser for the viewer page check)" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1) \
    || (apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends chromium >/dev/null) \
    || echo "warning: could not install chromium; tests/test_clients.py will skip its page checks" >&2
else
  echo "note: chromium is not installed (needs root for apt-get install chromium); the page checks will skip" >&2
fi
# Debian's blender takes NumPy from python3-numpy (its glTF importer needs it); it is only a recommends.
if command -v blender >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 && dpkg -s blender >/dev/null 2>&1 \
   && ! dpkg -s python3-numpy >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-numpy >/dev/null 2>&1 \
    || echo "warning: could not install python3-numpy for blender" >&2
fi

if [ -f .tools/node_modules/gltf-validator/package.json ] \
   && grep -q "\"version\": \"$GLTF_VALIDATOR_VERSION\"" .tools/node_modules/gltf-validator/package.json; then
  :
elif command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
  echo "installing the npm package gltf-validator@$GLTF_VALIDATOR_VERSION into .tools/" >&2
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --silent "gltf-validator@$GLTF_VALIDATOR_VERSION" 2>&1 \
    | grep -v 'Unknown user config' >&2
  [ -f .tools/node_modules/gltf-validator/package.json ] \
    || echo "warning: could not install gltf-validator; the glTF validator checks will skip" >&2
else
  echo "note: node/npm not found; the glTF validator checks will skip (install Node.js, then: make clients)" >&2
fi
exit 0
