// Runs a cdk8s app written in TypeScript fast: bundles it with esbuild (dependencies stay
// external) and runs the bundle in this process. As a script it runs main.ts, passing arguments
// through (this is cdk8s.yaml's `app`).
//
// The bundle is rebuilt only when one of the source files it was built from (as esbuild's
// metafile lists them) is newer than it, like an incremental compiler; it is written to a
// temporary file and renamed into place, so concurrent runs never read a half-written bundle.
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

/** True when `outfile` exists and no input recorded in its metafile changed since. */
function isFresh(outfile, metaFile) {
  if (!fs.existsSync(outfile) || !fs.existsSync(metaFile)) return false;
  const built = mtimeMs(outfile);
  let meta;
  try {
    meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
  } catch {
    return false;
  }
  if (mtimeMs(__filename) > built) return false;
  return Object.keys(meta.inputs).every((input) => mtimeMs(path.resolve(root, input)) <= built);
}

function writeAtomically(file, contents) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const staging = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(staging, contents);
  fs.renameSync(staging, file);
}

/** Bundles `entry` (a .ts file) to `outfile` unless it is fresh, and runs it. */
function runBundled(entry, outfile) {
  const metaFile = `${outfile}.meta.json`;
  if (!isFresh(outfile, metaFile)) {
    const { buildSync } = require('esbuild');
    const result = buildSync({
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
    // Bundle first, then its metafile: a reader that sees the new metafile sees the new bundle.
    writeAtomically(outfile, result.outputFiles[0].contents);
    writeAtomically(metaFile, JSON.stringify({ inputs: result.metafile.inputs }));
  }
  require(outfile);
}

module.exports = { runBundled };

if (require.main === module) runBundled(path.join(root, 'main.ts'), path.join(root, 'build', 'main.js'));
