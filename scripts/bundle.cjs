// Bundles a TypeScript entry point with esbuild into one CommonJS file (dependencies stay
// external), and rebuilds it only when one of the source files it was built from (as esbuild's
// metafile lists them) is newer than the bundle, like an incremental compiler. The bundle is
// written beside and renamed into place, so runs started at once never read half a file.
// Used by the cdk8s app (scripts/app.cjs), the `sleap-roots` command (bin/) and the benchmarks.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');

function mtimeMs(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return Infinity;
  }
}

/** True when `outfile` exists and neither this script nor any recorded input changed since. */
function isFresh(outfile, inputsFile) {
  const built = mtimeMs(outfile);
  if (built === Infinity || mtimeMs(__filename) > built) return false;
  let inputs;
  try {
    inputs = JSON.parse(fs.readFileSync(inputsFile, 'utf8'));
  } catch {
    return false;
  }
  return inputs.every((input) => mtimeMs(path.resolve(root, input)) <= built);
}

function writeAtomically(file, contents) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const staging = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(staging, contents);
  fs.renameSync(staging, file);
}

/**
 * Makes sure `outfile` is a current bundle of `entry`; returns `outfile`.
 * Without esbuild (an install without dev dependencies) an existing bundle is used as it is.
 */
function ensureBundle(entry, outfile) {
  const inputsFile = `${outfile}.inputs.json`;
  if (isFresh(outfile, inputsFile)) return outfile;
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch {
    if (fs.existsSync(outfile)) return outfile;
    throw new Error(`cannot build ${path.relative(root, outfile)}: esbuild (a dev dependency) is missing; run npm install`);
  }
  const result = esbuild.buildSync({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    packages: 'external',
    logLevel: 'warning',
    metafile: true,
    write: false,
  });
  // Bundle first, then its inputs: a reader that sees the new inputs sees the new bundle.
  writeAtomically(outfile, result.outputFiles[0].contents);
  writeAtomically(inputsFile, JSON.stringify(Object.keys(result.metafile.inputs)));
  return outfile;
}

module.exports = { ensureBundle, root };
