#!/usr/bin/env bash
# Rebuild the vendored viewer bundle: hoirecon/data/viewer/viewer.js (three.js, its GLTFLoader and
# OrbitControls, and src.js, as one minified classic script) and three.js's licence next to it.
# Needs Node.js and npm (the npm registry); the versions are pinned in package.json / package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --silent 2>&1 | grep -v 'Unknown user config' >&2 || true
out=../../hoirecon/data/viewer
mkdir -p "$out"
./node_modules/.bin/esbuild src.js --bundle --minify --format=iife --target=es2020 --legal-comments=none \
  --outfile="$out/viewer.js"
cp node_modules/three/LICENSE "$out/THREE_LICENSE"
echo "wrote $out/viewer.js ($(wc -c < "$out/viewer.js") bytes)"
