#!/usr/bin/env node
// The `sleap-roots` command (npx sleap-roots ...): runs bin/cli-main.ts as a cached esbuild
// bundle (see scripts/bundle.cjs; @kubernetes/client-node is loaded only when a command needs
// the cluster). No build step is needed before using it.
'use strict';
const path = require('node:path');

let bundle;
try {
  const { ensureBundle, root } = require('../scripts/bundle.cjs');
  bundle = ensureBundle(path.join(root, 'bin', 'cli-main.ts'), path.join(root, 'build', 'sleap-roots.js'));
} catch (e) {
  process.stderr.write(`error: ${e && e.message ? e.message : String(e)}\n`);
  process.exit(1);
}
require(bundle)
  .main(path.join(__dirname, '..'))
  .catch((e) => {
    process.stderr.write(`error: ${e && e.message ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
