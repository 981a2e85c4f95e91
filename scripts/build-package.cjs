// Builds what the package ships (npm pack runs this as `prepack`): the library compiled to
// CommonJS with declarations in build/package/ (package.json `main`, `types`, `exports`), and the
// `sleap-roots` command's bundle in build/ (used as it is where esbuild is not installed).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ensureBundle, root } = require('./bundle.cjs');

const out = path.join(root, 'build', 'package');
fs.rmSync(out, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.package.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
ensureBundle(path.join(root, 'bin', 'cli-main.ts'), path.join(root, 'build', 'sleap-roots.js'));
