// Validate GLB/glTF files with the Khronos glTF validator (npm package `gltf-validator`).
//
//   node scripts/validate_gltf.mjs FILE.glb [FILE.glb ...]
//
// Prints one JSON line per file: {file, validatorVersion, errors, warnings, infos, hints, messages}
// (messages: the first 20 errors and warnings: code, pointer, message) and exits 1 when any file has
// an error (or cannot be read), else 0. The package is looked up in $HOIRECON_TOOLS/node_modules
// (default: <repo>/.tools/node_modules, where `make clients` installs it), then the usual node paths.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const tools = process.env.HOIRECON_TOOLS || path.join(here, "..", ".tools");

function loadValidator() {
  const attempts = [path.join(tools, "node_modules", "_"), import.meta.url];
  for (const base of attempts) {
    try {
      return createRequire(base)("gltf-validator");
    } catch (e) {
      if (e.code !== "MODULE_NOT_FOUND") throw e;
    }
  }
  console.error(`validate_gltf: npm package gltf-validator not found (looked in ${tools}/node_modules); run: make clients`);
  process.exit(2);
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/validate_gltf.mjs FILE.glb [FILE.glb ...]");
  process.exit(2);
}
const validator = loadValidator();
let failed = 0;
for (const file of files) {
  try {
    const data = new Uint8Array(await readFile(file));
    const report = await validator.validateBytes(data, {
      uri: path.basename(file),
      maxIssues: 200,
      externalResourceFunction: (uri) => readFile(path.resolve(path.dirname(file), decodeURIComponent(uri))).then((b) => new Uint8Array(b)),
    });
    const issues = report.issues;
    const messages = issues.messages
      .filter((m) => m.severity <= 1)
      .slice(0, 20)
      .map((m) => ({ code: m.code, severity: m.severity === 0 ? "error" : "warning", pointer: m.pointer, message: m.message }));
    const line = {
      file, validatorVersion: report.validatorVersion, errors: issues.numErrors, warnings: issues.numWarnings,
      infos: issues.numInfos, hints: issues.numHints, messages,
    };
    console.log(JSON.stringify(line));
    if (issues.numErrors > 0) failed++;
  } catch (e) {
    console.log(JSON.stringify({ file, errors: 1, messages: [{ code: "READ_FAILED", severity: "error", message: String(e) }] }));
    failed++;
  }
}
process.exit(failed ? 1 : 0);
